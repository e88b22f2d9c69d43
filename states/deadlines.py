"""Deadline rules: when each legal deadline falls, from its anchor, on the working-day calendar.

"Within N working days of E" counts from the day after E; the deadline is the end of the N-th
working day (DOMAIN.md "Working days"). Every deadline keeps its anchor (event and date) and length,
so a calendar update, an anchor correction or a suspension can recompute it (DESIGN.md §5).
"""

from __future__ import annotations

import calendar as _stdcal
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from states.calendar import WorkingDayCalendar
from states.enums import DeadlineKind, DeadlineStatus, Role
from states.model import Deadline

SHANGHAI = ZoneInfo("Asia/Shanghai")


def business_date(at: datetime) -> date:
    """The Asia/Shanghai date of an aware datetime: the day an event is recorded on."""
    return at.astimezone(SHANGHAI).date()


def end_of_day(day: date) -> datetime:
    """The instant a deadline on ``day`` passes: midnight after it, Asia/Shanghai."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=SHANGHAI)


def add_months(day: date, months: int) -> date:
    """Calendar months, clamped to the month's last day (2026-08-31 + 6 → 2027-02-28)."""
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    return date(year, month, min(day.day, _stdcal.monthrange(year, month)[1]))


def working_days(
    *,
    key: str,
    kind: str,
    owner: Role,
    rule: str,
    anchor_event: str,
    anchor_on: date,
    n: int,
    calendar: WorkingDayCalendar,
    cap_days: int | None = None,
) -> Deadline:
    """``n`` working days after ``anchor_on``; ``cap_days`` calendar days caps it (R20)."""
    deadline = Deadline(
        key=key,
        kind=kind,
        owner=owner,
        rule=rule,
        anchor_event=anchor_event,
        anchor_on=anchor_on,
        length=n,
        unit="working_days",
        cap_days=cap_days,
        due=anchor_on,
    )
    return recompute(deadline, calendar)


def recompute(deadline: Deadline, calendar: WorkingDayCalendar) -> Deadline:
    """Recompute ``due`` and ``provisional`` from the anchor; other fields are kept."""
    if deadline.unit == "working_days":
        result = calendar.add_working_days(deadline.anchor_on, deadline.length)
        due, provisional = result.date, result.provisional
        if deadline.cap_days is not None:
            capped = deadline.anchor_on + timedelta(days=deadline.cap_days)
            if capped < due:
                due, provisional = capped, False
    elif deadline.unit == "calendar_months":
        result = calendar.next_working_day(add_months(deadline.anchor_on, deadline.length))
        due, provisional = result.date, result.provisional
    elif deadline.unit == "calendar_days":
        due, provisional = deadline.anchor_on + timedelta(days=deadline.length), False
    else:
        due, provisional = deadline.due, False
    deadline.due = due
    deadline.provisional = provisional
    return deadline


def evaluation(
    *, seq: int, effective_on: date, interval_months: int, calendar: WorkingDayCalendar
) -> Deadline:
    """The ``seq``-th periodic evaluation: effective_on + seq × interval months, moved to the
    next working day when that day is not one (R10)."""
    deadline = Deadline(
        key=f"{DeadlineKind.EVALUATION.value}#{seq}",
        kind=DeadlineKind.EVALUATION.value,
        owner=Role.PURCHASER,
        rule="R10",
        anchor_event="contract_effective",
        anchor_on=effective_on,
        length=seq * interval_months,
        unit="calendar_months",
        due=effective_on,
    )
    return recompute(deadline, calendar)


def period_ends(
    *, effective_on: date, term_months: int, interval_months: int, calendar: WorkingDayCalendar
) -> list[date]:
    """The last day of each evaluation period (R10): effective_on + n × interval, moved to the
    next working day as its ``evaluation#n`` deadline is; the last period runs to the term's end
    (effective_on + term − 1 day) if that is later."""
    count = max(1, -(-term_months // interval_months))
    ends = [
        calendar.next_working_day(add_months(effective_on, n * interval_months)).date
        for n in range(1, count + 1)
    ]
    ends[-1] = max(ends[-1], add_months(effective_on, term_months) - timedelta(days=1))
    return ends


def fixed(
    *, key: str, kind: str, owner: Role, rule: str, anchor_event: str, anchor_on: date, due: date
) -> Deadline:
    return Deadline(
        key=key,
        kind=kind,
        owner=owner,
        rule=rule,
        anchor_event=anchor_event,
        anchor_on=anchor_on,
        length=(due - anchor_on).days,
        unit="date",
        due=due,
    )


def contract_end(*, effective_on: date, term_months: int) -> Deadline:
    """The last day of the term: effective_on + term months − 1 day (R6, R13)."""
    return fixed(
        key=DeadlineKind.CONTRACT_END.value,
        kind=DeadlineKind.CONTRACT_END.value,
        owner=Role.PURCHASER,
        rule="R13",
        anchor_event="contract_effective",
        anchor_on=effective_on,
        due=add_months(effective_on, term_months) - timedelta(days=1),
    )


def meet(deadline: Deadline, *, on: date, by: str) -> None:
    """Record that the obligation was met; one met after its day stays visible as late."""
    deadline.status = DeadlineStatus.MET
    deadline.met_on = on
    deadline.met_by = by
    deadline.late = on > deadline.due


def cancel(deadline: Deadline, *, reason: str) -> None:
    deadline.status = DeadlineStatus.CANCELLED
    deadline.note = (deadline.note + "; " if deadline.note else "") + reason
