"""A project in memory, fired on the pure domain exactly as the facade does (no database)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from support import ALL_EVALUATORS, EVALUATOR, FINANCE, ITEMS, QUALIFIED, SUPERVISORS, advance

from states.calendar import WorkingDayCalendar
from states.deadlines import business_date
from states.enums import OrgType
from states.errors import GuardRefused
from states.machine import Context, fire
from states.model import Actor, Contractor, Project
from states.payloads import check_dates, parse_payload
from states.policy import Policy, load_policy

CAL = WorkingDayCalendar.official()
POLICY = load_policy("dawukou-2019")


class Driver:
    """A project in memory; ``known`` holds further registered contractors (R4, R5)."""

    def __init__(
        self,
        contractor: Contractor | None = None,
        *,
        policy: Policy = POLICY,
        known: tuple[Contractor, ...] = (),
        **plan: Any,
    ) -> None:
        data: dict[str, Any] = {
            "title": "入户核查",
            "purchaser": "大武口区民政局",
            "policy": policy.name,
            "budget": Decimal("1200000"),
            "items": ITEMS,
            "supervisors": SUPERVISORS,
        }
        data.update(plan)
        self.policy = policy
        self.project = Project.model_validate(data)
        self.project.id = 1
        self.contractor = contractor or Contractor(
            id=7,
            name="星海社会工作服务中心",
            org_type=OrgType.SOCIAL_ORGANIZATION,
            qualifications=QUALIFIED,
        )
        self.known = {c.id: c for c in known if c.id is not None}
        self.records: list[Any] = []
        self.bans: list[Any] = []

    def fire(self, event: str, *, actor: Actor, at: datetime, **data: Any) -> Project:
        payload = parse_payload(event, data)
        check_dates(payload, business_date(at))
        known = {**self.known}
        if self.contractor is not None and self.contractor.id is not None:
            known.setdefault(self.contractor.id, self.contractor)
        cid = data.get("contractor_id") or self.project.contractor_id
        ctx = Context(
            policy=self.policy,
            calendar=CAL,
            contractor=known.get(cid) if cid is not None else None,
            contractors=known,
        )
        outcome = fire(self.project, event, payload, actor=actor, at=at, ctx=ctx)
        self.project = outcome.project
        self.records.extend(outcome.records)
        self.bans = outcome.bans
        return self.project

    def to(self, state: str) -> Driver:
        advance(self.fire, state, contractor_id=7)
        return self

    @property
    def state(self) -> str:
        return self.project.state.value


def refused(
    rule: str, driver: Driver, event: str, actor: Actor, when: datetime, **data: Any
) -> GuardRefused:
    """Assert the event is refused naming ``rule`` and leaves the project unchanged."""
    before = driver.project.model_copy(deep=True)
    with pytest.raises(GuardRefused) as err:
        driver.fire(event, actor=actor, at=when, **data)
    assert err.value.rule == rule, err.value.message
    assert driver.project == before  # a refusal changes nothing
    return err.value


def pay(d: Driver, tranche: int, amount: str, on: str, actor: Actor = FINANCE) -> None:
    from support import at

    d.fire("pay", actor=actor, at=at(on), tranche=tranche, amount=amount, on=on)


def evaluation(
    kind: str, on: str, score: int = 80, satisfaction: int = 80, evaluators: Any = None
) -> dict[str, Any]:
    """The data of an ``evaluate`` event (every kind of evaluator unless told otherwise)."""
    return {
        "kind": kind,
        "score": score,
        "satisfaction": satisfaction,
        "on": on,
        "evaluators": ALL_EVALUATORS if evaluators is None else evaluators,
    }


def evaluate(d: Driver, kind: str, on: str, score: int = 80, satisfaction: int = 80) -> None:
    from support import at

    d.fire(
        "evaluate",
        actor=EVALUATOR,
        at=at(on),
        kind=kind,
        score=score,
        satisfaction=satisfaction,
        on=on,
        evaluators=ALL_EVALUATORS,
    )
