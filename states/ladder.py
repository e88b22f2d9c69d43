"""The notice ladder of a deadline: when each stage fires and who it is addressed to.

Each open deadline walks the policy's stages (default: ``reminder`` 3 working days before the due
day, ``overdue`` on the first working day after it, ``escalation_1`` 2 and ``escalation_2`` 5
working days after it), each at the policy's hour, Asia/Shanghai. ``contract_end`` has a single
reminder a number of calendar days before the end of the term (R13). Pure: callers pass ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from states.calendar import WorkingDayCalendar
from states.deadlines import SHANGHAI
from states.enums import DeadlineKind
from states.policy import Policy


@dataclass(frozen=True, slots=True)
class StageTime:
    """One rung of a deadline's ladder."""

    index: int
    stage: str
    day: date
    fire_at: datetime
    #: the day rests on a year whose schedule is not yet published (暂定)
    provisional: bool


def kind_group(kind: str) -> str:
    """``payment_2`` → ``payment``; ``evaluation`` stays; the policy's recipients are by group."""
    return "payment" if kind.startswith("payment_") else kind


def ladder(kind: str, due: date, policy: Policy, calendar: WorkingDayCalendar) -> list[StageTime]:
    """Every stage of a deadline due on ``due``, in order."""
    notices = policy.notices
    at_hour = time(notices.hour)
    if kind == DeadlineKind.CONTRACT_END.value:
        day = due - timedelta(days=notices.contract_end_reminder_days)
        fire = datetime.combine(day, at_hour, tzinfo=SHANGHAI)
        return [StageTime(0, "reminder", day, fire, False)]
    out = []
    for index, stage in enumerate(notices.stages):
        result = calendar.add_working_days(due, stage.offset_working_days)
        fire = datetime.combine(result.date, at_hour, tzinfo=SHANGHAI)
        out.append(StageTime(index, stage.stage, result.date, fire, result.provisional))
    return out


def next_after(rungs: list[StageTime], sent_index: int) -> StageTime | None:
    """The first stage not yet sent (``sent_index`` −1: none sent)."""
    return next((r for r in rungs if r.index > sent_index), None)


def due_now(
    rungs: list[StageTime], sent_index: int, now: datetime, catch_up: str = "latest"
) -> list[StageTime]:
    """Stages to send at ``now``: after downtime only the most severe one due ("latest"), or
    every one not yet sent ("all"). Judged by the stored due time, never by when a job ran."""
    due = [r for r in rungs if r.index > sent_index and r.fire_at <= now]
    if not due:
        return []
    return due[-1:] if catch_up == "latest" else due


def recipients(kind: str, stage: str, policy: Policy) -> tuple[str, ...]:
    return policy.notices.recipients.get(kind_group(kind), {}).get(stage, ())
