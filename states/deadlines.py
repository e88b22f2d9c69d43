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
    """Recompute ``due`` and ``provisional`` from the anchor, then replay its suspensions,
    resumptions and extensions (:func:`replay`); other fields are kept."""
    if deadline.unit == "date" and not deadline.changes:
        deadline.provisional = False  # a given date: nothing to recompute
        return deadline
    due, provisional = base_due(deadline, calendar)
    if deadline.changes:
        due, provisional = replay(deadline, due, provisional, calendar)
    deadline.due = due
    deadline.provisional = provisional
    return deadline


def base_due(deadline: Deadline, calendar: WorkingDayCalendar) -> tuple[date, bool]:
    """The due day (and whether it is provisional) from the anchor and length alone, before any
    suspension or extension: its original window's end."""
    if deadline.unit == "working_days":
        result = calendar.add_working_days(deadline.anchor_on, deadline.length)
        due, provisional = result.date, result.provisional
        if deadline.cap_days is not None:
            capped = deadline.anchor_on + timedelta(days=deadline.cap_days)
            if capped < due:
                due, provisional = capped, False
        return due, provisional
    if deadline.unit == "calendar_months":
        result = calendar.next_working_day(add_months(deadline.anchor_on, deadline.length))
        return result.date, result.provisional
    # calendar days, or a given date (``fixed``, a correction: length = due − anchor in days)
    return deadline.anchor_on + timedelta(days=deadline.length), False


def replay(
    deadline: Deadline, due: date, provisional: bool, calendar: WorkingDayCalendar
) -> tuple[date, bool]:
    """Apply the deadline's changes in order to the due day ``due`` (中止计时、恢复计时、延长):

    - suspended on S: the clock keeps the working days after S up to and including the due day;
      the due day stays as it was while the clock is stopped;
    - resumed on R: the new due day is the remaining-th working day after R (R itself, or the
      next working day, when none remained);
    - extended by N: the N-th working day after the due day;
    - corrected: the due day given.

    Each change's ``working_days``, ``due_before`` and ``due_after`` and the deadline's
    ``suspended_on`` are set as computed. A remaining count rests on the years its span
    crosses: provisional when the due day it was counted to was. Returns the due day and
    whether it is provisional."""
    remaining, remaining_provisional = 0, False
    suspended_on: date | None = None
    for change in deadline.changes:
        change.due_before = due
        if change.kind == "suspended":
            remaining = max(0, calendar.working_days_between(change.on, due))
            remaining_provisional = provisional
            change.working_days, change.due_after = remaining, None
            suspended_on = change.on
            continue
        if change.kind == "resumed":
            result = calendar.add_working_days(change.on, remaining)
            change.working_days = remaining
            due, provisional = result.date, remaining_provisional or result.provisional
            suspended_on = None
        elif change.kind == "extended":
            result = calendar.add_working_days(due, change.working_days)
            due, provisional = result.date, provisional or result.provisional
        else:
            assert change.due_after is not None  # a correction names its due day
            due, provisional = change.due_after, False
        change.due_after = due
    deadline.suspended_on = suspended_on
    return due, provisional


def window_working_days(deadline: Deadline, calendar: WorkingDayCalendar) -> int:
    """The working days of the deadline's original window: after the anchor day, up to and
    including its original due day (a working-day deadline: its length)."""
    due, _ = base_due(deadline, calendar)
    return max(0, calendar.working_days_between(deadline.anchor_on, due))


def extended_working_days(deadline: Deadline) -> tuple[int, int]:
    """How many extensions the deadline had, and how many working days they added."""
    extensions = [c.working_days for c in deadline.changes if c.kind == "extended"]
    return len(extensions), sum(extensions)


def row_status(deadline: Deadline) -> str:
    """The status a deadline row and view show: ``suspended`` for an open deadline whose clock
    is stopped (the scheduler sends it nothing), else the deadline's own status."""
    if deadline.suspended_on is not None and deadline.status is DeadlineStatus.OPEN:
        return DeadlineStatus.SUSPENDED.value
    return deadline.status.value


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
    # met while its clock was stopped: not late (it was suspended on or before its due day)
    deadline.late = on > deadline.due and deadline.suspended_on is None


def cancel(deadline: Deadline, *, reason: str) -> None:
    deadline.status = DeadlineStatus.CANCELLED
    deadline.note = (deadline.note + "; " if deadline.note else "") + reason


#: R14: the key of the training before duty; periodic ones are ``training#1`` … ``training#n``
TRAINING_BEFORE_DUTY = f"{DeadlineKind.TRAINING.value}#0"


def training_before_duty(*, signed_on: date, n: int, calendar: WorkingDayCalendar) -> Deadline:
    """R14: the staff are trained before duty, within the dispatch's window (001 §七.5: 合同签订
    后15个工作日内，完成人员的招聘、培训和派遣); the contractor owns it."""
    return working_days(
        key=TRAINING_BEFORE_DUTY,
        kind=DeadlineKind.TRAINING.value,
        owner=Role.CONTRACTOR,
        rule="R14",
        anchor_event="sign_contract",
        anchor_on=signed_on,
        n=n,
        calendar=calendar,
    )


def trainings(
    *, dispatched_on: date, contract_end: date, months: int, calendar: WorkingDayCalendar
) -> list[Deadline]:
    """R14: one training per period of ``months`` counted from the dispatch (two a year: each
    half-year of service), for every period that begins within the term. Period ``n`` ends on
    dispatched_on + n × months, moved to the next working day if not one (as an evaluation
    period does); a period the term's end cuts short is due on the term's last day. The
    purchaser owns them (001 §八(三): 由区民政局主导，承接主体配合)."""
    out: list[Deadline] = []
    n = 1
    while add_months(dispatched_on, (n - 1) * months) <= contract_end:
        deadline = Deadline(
            key=f"{DeadlineKind.TRAINING.value}#{n}",
            kind=DeadlineKind.TRAINING.value,
            owner=Role.PURCHASER,
            rule="R14",
            anchor_event="dispatch_staff",
            anchor_on=dispatched_on,
            length=n * months,
            unit="calendar_months",
            due=dispatched_on,
        )
        recompute(deadline, calendar)
        if deadline.due > contract_end:
            deadline.unit = "date"
            deadline.length = (contract_end - dispatched_on).days
            deadline.due, deadline.provisional = contract_end, False
        out.append(deadline)
        n += 1
    return out
