"""The planned timeline against the actual (R19), as facts a list can sort by.

Pure. A project's milestones are the first day each was reached (立项, the procurement notice, the
signing, the first payment, the dispatch), read from its audit records as the project page reads
them (``workflow.services.details``). From them and the policy's planned timeline in the year the
project was created, :func:`slip_facts` keeps two numbers that do not change with the day they are
read on: the largest slip of a step done after its window (working days), and the last day of the
window of the earliest step not yet reached. The slip today is the larger of the first and the
working days from the second to today (:func:`slip_on`), so the projects slipping most are found
from two indexed orders, without replaying any trail.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from states.calendar import WorkingDayCalendar
from states.deadlines import business_date
from states.policy import Milestone, Policy


@dataclass(frozen=True, slots=True)
class SlipFacts:
    """What a project's timeline says, whatever the day (R19)."""

    #: the largest slip, in working days, of a step done after its window, and that step
    done_slip: int | None = None
    done_step: str | None = None
    #: the last day of the window of the earliest planned step not reached, and that step
    plan_to: date | None = None
    open_step: str | None = None


def _day(value: Any, at: datetime) -> date:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    if isinstance(value, date):
        return value
    return business_date(at)


def milestone_of(event: str, data: Mapping[str, Any], at: datetime) -> tuple[str, date] | None:
    """The milestone an audit record reaches, and its day: the business date the event records
    (``signed_on``, a payment's or a dispatch's ``on``), else the record's day."""
    if event == "create_project":
        return Milestone.CREATED.value, business_date(at)
    if event == "publish_notice":
        return Milestone.NOTICE_PUBLISHED.value, business_date(at)
    if event == "sign_contract":
        return Milestone.CONTRACT_SIGNED.value, _day(data.get("signed_on"), at)
    if event == "pay" and data.get("tranche") == 1:
        return Milestone.FIRST_PAYMENT.value, _day(data.get("on"), at)
    if event == "dispatch_staff":
        return Milestone.STAFF_DISPATCHED.value, _day(data.get("on"), at)
    return None


def milestones(records: Iterable[tuple[str, Mapping[str, Any], datetime]]) -> dict[str, date]:
    """The first day each milestone was reached, from (event, data, at) records, oldest first."""
    found: dict[str, date] = {}
    for event, data, at in records:
        reached = milestone_of(event, data, at)
        if reached is not None:
            found.setdefault(*reached)
    return found


def slip_facts(
    policy: Policy, calendar: WorkingDayCalendar, actual: Mapping[str, date], *, ended: bool
) -> SlipFacts:
    """The facts of a project's planned timeline (R19): none where the policy states no plan or
    the project's creation is not known; an ended project has no step still to reach."""
    created = actual.get(Milestone.CREATED.value)
    if not policy.planned_timeline or created is None:
        return SlipFacts()
    worst: tuple[int, str] | None = None
    plan_to: date | None = None
    open_step: str | None = None
    for step in policy.planned_timeline:
        _, last = step.window(created.year)
        done = actual.get(step.milestone.value)
        if done is not None:
            if done > last:
                slip = calendar.working_days_between(last, done)
                if worst is None or slip > worst[0]:
                    worst = (slip, step.milestone.value)
        elif not ended and (plan_to is None or last < plan_to):
            plan_to, open_step = last, step.milestone.value
    return SlipFacts(
        done_slip=worst[0] if worst else None,
        done_step=worst[1] if worst else None,
        plan_to=plan_to,
        open_step=open_step,
    )


def slip_on(
    facts: SlipFacts, today: date, calendar: WorkingDayCalendar
) -> tuple[int, str, str] | None:
    """The project's slip on ``today`` in working days, the step slipping most and whether it
    was done ``late`` or is ``overdue``; None when nothing slips."""
    best: tuple[int, str, str] | None = None
    if facts.done_slip is not None and facts.done_step is not None and facts.done_slip > 0:
        best = (facts.done_slip, facts.done_step, "late")
    if facts.plan_to is not None and facts.open_step is not None and today > facts.plan_to:
        slip = calendar.working_days_between(facts.plan_to, today)
        if slip > 0 and (best is None or slip > best[0]):
            best = (slip, facts.open_step, "overdue")
    return best
