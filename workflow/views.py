"""Read models returned by the facade: plain frozen dataclasses, JSON-ready via ``to_dict``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from states.deadlines import row_status
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
    #: 中止计时: the day its clock stopped, while stopped (``status`` is then ``suspended``)
    suspended_on: date | None = None
    #: its suspensions, resumptions and extensions, oldest first: kind, on, working_days,
    #: due_before, due_after, reason, by, at (JSON-ready)
    changes: tuple[dict[str, Any], ...] = ()

    @classmethod
    def of(cls, d: Deadline) -> DeadlineView:
        return cls(
            key=d.key,
            kind=d.kind,
            owner=d.owner.value,
            rule=d.rule,
            due=d.due,
            provisional=d.provisional,
            status=row_status(d),
            met_on=d.met_on,
            met_by=d.met_by,
            late=d.late,
            anchor_event=d.anchor_event,
            anchor_on=d.anchor_on,
            length=d.length,
            unit=d.unit,
            suspended_on=d.suspended_on,
            changes=tuple(c.model_dump(mode="json") for c in d.changes),
        )

    @property
    def remaining_working_days(self) -> int | None:
        """While suspended: the working days it keeps for when its clock restarts."""
        if self.suspended_on is None or not self.changes:
            return None
        return int(self.changes[-1]["working_days"])

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
            "suspended_on": self.suspended_on.isoformat() if self.suspended_on else None,
            "remaining_working_days": self.remaining_working_days,
            "changes": [dict(c) for c in self.changes],
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


# -- the dashboard's lists (issue #8; workflow.services.lists) -----------------------------------


@dataclass(frozen=True, slots=True)
class ProjectSummary:
    """A project in the list: who, where it stands, and what of it is open or late.

    ``overdue``: its open deadlines past due (the due day is over, Asia/Shanghai);
    ``worst_overdue_working_days``: the working days the most overdue one is late, counted on the
    working-day calendar (0 when none is, or when only holidays have passed since)."""

    id: int
    title: str
    purchaser: str
    #: the awarded contractor's registered name
    contractor: str | None
    contractor_id: int | None
    policy: str
    state: str
    version: int
    updated_at: datetime
    created_at: datetime
    open_deadlines: int
    overdue: int
    worst_overdue_working_days: int
    #: an open deadline rests on a year whose working days are not yet published (暂定)
    provisional: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "purchaser": self.purchaser,
            "contractor": self.contractor,
            "contractor_id": self.contractor_id,
            "policy": self.policy,
            "state": self.state,
            "version": self.version,
            "updated_at": self.updated_at.isoformat(),
            "created_at": self.created_at.isoformat(),
            "open_deadlines": self.open_deadlines,
            "overdue": self.overdue,
            "worst_overdue_working_days": self.worst_overdue_working_days,
            "provisional": self.provisional,
        }


@dataclass(frozen=True, slots=True)
class DeadlineItem:
    """A deadline in a list, with its project and where it stands today (Asia/Shanghai).

    ``working_days_left``: working days from today to the due day (0: due today; negative: late
    by that many); None once met or cancelled. ``late_working_days``: working days after the due
    day up to today for an open overdue one, up to the day it was met for one met late; else 0.
    ``stage``: the last notice stage sent (``reminder``, ``overdue``, ``escalation_1``, …) or
    None; ``escalated``: open and its notices reached an escalation stage."""

    id: int
    project_id: int
    project_title: str
    purchaser: str
    contractor: str | None
    key: str
    kind: str
    owner: str
    rule: str
    due: date
    provisional: bool
    status: str
    overdue: bool
    working_days_left: int | None
    late_working_days: int
    stage: str | None
    escalated: bool
    met_on: date | None
    late: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "project_id": self.project_id,
            "project_title": self.project_title,
            "purchaser": self.purchaser,
            "contractor": self.contractor,
            "key": self.key,
            "kind": self.kind,
            "owner": self.owner,
            "rule": self.rule,
            "due": self.due.isoformat(),
            "provisional": self.provisional,
            "status": self.status,
            "overdue": self.overdue,
            "working_days_left": self.working_days_left,
            "late_working_days": self.late_working_days,
            "stage": self.stage,
            "escalated": self.escalated,
            "met_on": self.met_on.isoformat() if self.met_on else None,
            "late": self.late,
        }


@dataclass(frozen=True, slots=True)
class NoticeItem:
    """A notice in a list (without its text): who it was for and how its delivery stands."""

    id: int
    key: str
    project_id: int
    project_title: str
    deadline_key: str
    deadline_kind: str
    stage: str
    recipients: tuple[dict[str, str], ...]
    subject: str
    #: pending, sent, failed (will retry), dead (gave up), undeliverable (nobody to send it to)
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "key": self.key,
            "project_id": self.project_id,
            "project_title": self.project_title,
            "deadline_key": self.deadline_key,
            "deadline_kind": self.deadline_kind,
            "stage": self.stage,
            "recipients": [dict(r) for r in self.recipients],
            "subject": self.subject,
            "status": self.status,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "created_at": self.created_at.isoformat(),
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
        }


@dataclass(frozen=True, slots=True)
class LeagueRow:
    """An organisation's open deadlines in the overview's league table, as ``relation``
    (``purchaser`` or ``contractor``). ``overdue_working_days``: the working days late summed
    over its overdue deadlines; ``worst_overdue_working_days``: the largest of them.

    Its list: ``deadlines(scope, status=…, org=org, relation=relation)`` with status ``open``,
    ``overdue`` or ``escalated`` (:meth:`filters`)."""

    org: str
    relation: str
    open: int
    overdue: int
    escalated: int
    overdue_working_days: int
    worst_overdue_working_days: int

    def filters(self, status: str = "open") -> dict[str, Any]:
        """The ``Lists.deadlines`` arguments that list the deadlines behind a number."""
        return {"status": status, "org": self.org, "relation": self.relation}

    def to_dict(self) -> dict[str, Any]:
        return {
            "org": self.org,
            "relation": self.relation,
            "open": self.open,
            "overdue": self.overdue,
            "escalated": self.escalated,
            "overdue_working_days": self.overdue_working_days,
            "worst_overdue_working_days": self.worst_overdue_working_days,
        }


@dataclass(frozen=True, slots=True)
class BudgetShare:
    """R18: a purchaser's purchase budgets of a year (its plans submitted or approved, not
    terminated, that state the year's assistance funds) as a share of those funds: ``percent``
    = budgets ÷ funds × 100 (the largest funds its plans state; ``funds_differ``: they do not
    all state the same)."""

    purchaser: str
    year: int
    plans: int
    budgets: Decimal
    funds: Decimal
    funds_differ: bool
    percent: Decimal | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "purchaser": self.purchaser,
            "year": self.year,
            "plans": self.plans,
            "budgets": f"{self.budgets:.2f}",
            "funds": f"{self.funds:.2f}",
            "funds_differ": self.funds_differ,
            "percent": None if self.percent is None else f"{self.percent:.2f}",
            "rule": "R18",
        }


@dataclass(frozen=True, slots=True)
class SlipRow:
    """R19: an active project behind its planned timeline: the step slipping most, done ``late``
    or ``overdue`` (not reached, its window past), and by how many working days (the project's
    page shows every step: ``plan_vs_actual``)."""

    project_id: int
    title: str
    purchaser: str
    state: str
    step: str
    status: str
    slip_working_days: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "title": self.title,
            "purchaser": self.purchaser,
            "state": self.state,
            "step": self.step,
            "status": self.status,
            "slip_working_days": self.slip_working_days,
            "rule": "R19",
        }


@dataclass(frozen=True, slots=True)
class Overview:
    """The supervisor's overview, within a reader's scope, at ``now``. Every number is the length
    of a list (``Lists``' methods, same scope; the pages link each number to it):

    ============================  ===========================================================
    number                        the list behind it
    ============================  ===========================================================
    ``by_state[s]``               ``list_projects(state=s)``
    ``projects``                  ``list_projects()``
    ``open``                      ``deadlines(status="open")``
    ``overdue``                   ``deadlines(status="overdue")``
    ``escalated``                 ``deadlines(status="escalated")``
    ``overdue_projects``          ``list_projects(overdue=True)``
    ``provisional_projects``      ``list_projects(provisional=True)``
    ``due_soon_count``            ``deadlines(status="due_soon")`` (``due_soon``: its first)
    league row ``open``           ``deadlines(status="open", org=row.org, relation=row.relation)``
    league row ``overdue``        ``deadlines(status="overdue", org=…, relation=…)``
    league row ``escalated``      ``deadlines(status="escalated", org=…, relation=…)``
    ``notices_failing_count[s]``  ``notices(status=s)`` (``notices_failing``: the newest of
                                  ``notices(status="failing")``)
    ============================  ===========================================================

    ``overdue_working_days`` (and a league row's) is the sum of ``late_working_days`` over the
    ``deadlines(status="overdue", …)`` list, ``worst_overdue_working_days`` their largest.
    ``league`` is sorted worst first (working days late, then overdue, escalated, open) and cut
    to its first rows; ``league_total`` is how many organisations have open deadlines.
    """

    now: datetime
    today: date
    by_state: dict[str, int]
    projects: int
    open: int
    overdue: int
    escalated: int
    overdue_working_days: int
    worst_overdue_working_days: int
    overdue_projects: int
    provisional_projects: int
    league: tuple[LeagueRow, ...]
    league_total: int
    due_soon: tuple[DeadlineItem, ...]
    due_soon_count: int
    #: the last day ``due_soon`` reaches: the fifth working day after today
    due_soon_until: date
    notices_failing: tuple[NoticeItem, ...]
    notices_failing_count: dict[str, int]
    #: ``Workflow.health(now)``: last tick and relay, the oldest due stage waiting, dead letters
    health: dict[str, Any]
    #: R18: each purchaser's budgets of this year as a share of its assistance funds
    budget_shares: tuple[BudgetShare, ...] = ()
    #: R19: the active projects slipping most behind the planned timeline, worst first
    slipping: tuple[SlipRow, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "today": self.today.isoformat(),
            "by_state": dict(self.by_state),
            "projects": self.projects,
            "open": self.open,
            "overdue": self.overdue,
            "escalated": self.escalated,
            "overdue_working_days": self.overdue_working_days,
            "worst_overdue_working_days": self.worst_overdue_working_days,
            "overdue_projects": self.overdue_projects,
            "provisional_projects": self.provisional_projects,
            "league": [r.to_dict() for r in self.league],
            "league_total": self.league_total,
            "due_soon": [i.to_dict() for i in self.due_soon],
            "due_soon_count": self.due_soon_count,
            "due_soon_until": self.due_soon_until.isoformat(),
            "notices_failing": [i.to_dict() for i in self.notices_failing],
            "notices_failing_count": dict(self.notices_failing_count),
            "health": self.health,
            "budget_shares": [s.to_dict() for s in self.budget_shares],
            "slipping": [s.to_dict() for s in self.slipping],
        }
