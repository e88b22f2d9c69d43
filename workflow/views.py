"""Read models returned by the facade: plain frozen dataclasses, JSON-ready via ``to_dict``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from states.model import Contractor, Deadline, Project


@dataclass(frozen=True, slots=True)
class DeadlineView:
    key: str
    kind: str
    owner: str
    rule: str
    due: date
    provisional: bool
    status: str
    met_on: date | None
    met_by: str | None
    late: bool
    anchor_event: str
    anchor_on: date
    length: int
    unit: str

    @classmethod
    def of(cls, d: Deadline) -> DeadlineView:
        return cls(
            key=d.key,
            kind=d.kind,
            owner=d.owner.value,
            rule=d.rule,
            due=d.due,
            provisional=d.provisional,
            status=d.status.value,
            met_on=d.met_on,
            met_by=d.met_by,
            late=d.late,
            anchor_event=d.anchor_event,
            anchor_on=d.anchor_on,
            length=d.length,
            unit=d.unit,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind,
            "owner": self.owner,
            "rule": self.rule,
            "due": self.due.isoformat(),
            "provisional": self.provisional,
            "status": self.status,
            "met_on": self.met_on.isoformat() if self.met_on else None,
            "met_by": self.met_by,
            "late": self.late,
            "anchor_event": self.anchor_event,
            "anchor_on": self.anchor_on.isoformat(),
            "length": self.length,
            "unit": self.unit,
        }


@dataclass(frozen=True, slots=True)
class PaymentView:
    tranche: int
    amount: Decimal
    on: date
    by: str
    late: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "tranche": self.tranche,
            "amount": str(self.amount),
            "on": self.on.isoformat(),
            "by": self.by,
            "late": self.late,
        }


@dataclass(frozen=True, slots=True)
class ProjectView:
    """A project as callers see it: state, version, its data, deadlines and payments."""

    id: int
    title: str
    purchaser: str
    policy: str
    state: str
    version: int
    contractor_id: int | None
    deadlines: tuple[DeadlineView, ...]
    payments: tuple[PaymentView, ...]
    subcontract_requests: tuple[dict[str, Any], ...]
    #: the whole project as JSON (plan, procurement, contract, staff, evaluations, …)
    data: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(
        cls,
        project: Project,
        *,
        version: int,
        created_at: datetime,
        updated_at: datetime,
        data: dict[str, Any] | None = None,
    ) -> ProjectView:
        """The view of ``project``; ``data``: its ``to_json()``, when the caller has it."""
        assert project.id is not None
        return cls(
            id=project.id,
            title=project.title,
            purchaser=project.purchaser,
            policy=project.policy,
            state=project.state.value,
            version=version,
            contractor_id=project.contractor_id,
            deadlines=tuple(DeadlineView.of(d) for d in project.deadlines),
            payments=tuple(
                PaymentView(tranche=p.tranche, amount=p.amount, on=p.on, by=p.by, late=p.late)
                for p in project.payments
            ),
            subcontract_requests=tuple(
                r.model_dump(mode="json") for r in project.subcontract_requests
            ),
            data=project.to_json() if data is None else data,
            created_at=created_at,
            updated_at=updated_at,
        )

    def deadline(self, key: str) -> DeadlineView | None:
        return next((d for d in self.deadlines if d.key == key), None)

    @property
    def open_deadlines(self) -> tuple[DeadlineView, ...]:
        return tuple(d for d in self.deadlines if d.status == "open")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "purchaser": self.purchaser,
            "policy": self.policy,
            "state": self.state,
            "version": self.version,
            "contractor_id": self.contractor_id,
            "deadlines": [d.to_dict() for d in self.deadlines],
            "payments": [p.to_dict() for p in self.payments],
            "subcontract_requests": list(self.subcontract_requests),
            "data": self.data,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class ContractorView:
    id: int
    name: str
    org_type: str
    sme: bool
    qualifications: dict[str, bool]
    bans: tuple[dict[str, Any], ...]
    version: int

    @classmethod
    def of(cls, c: Contractor, version: int) -> ContractorView:
        assert c.id is not None
        return cls(
            id=c.id,
            name=c.name,
            org_type=c.org_type.value,
            sme=c.sme,
            qualifications=dict(c.qualifications),
            bans=tuple(b.model_dump(mode="json") for b in c.bans),
            version=version,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "org_type": self.org_type,
            "sme": self.sme,
            "qualifications": self.qualifications,
            "bans": list(self.bans),
            "version": self.version,
        }


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list read by cursor: its items, and the cursor of the next page (None when
    this one is the last). The cursor is opaque: pass it back as it is."""

    items: tuple[T, ...]
    next_cursor: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "items": [item.to_dict() if hasattr(item, "to_dict") else item for item in self.items],
            "next_cursor": self.next_cursor,
        }
