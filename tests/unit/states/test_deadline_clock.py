"""中止计时、恢复计时、延长: a deadline's clock stopped, restarted and extended (issue #10), in the
pure domain, against hand-worked dates across the 2026 Spring Festival and National Day and a
provisional 2027.

The 2026 calendar (国务院办公厅 2025 notice): 春节 02-15..23 off, Saturdays 02-14 and 02-28
worked; 中秋 09-25 off; 国庆 10-01..07 off, Sunday 09-20 and Saturday 10-10 worked. 2027 has no
published schedule: its days are estimated (New Year's Day 01-01 off) and provisional (暂定).
"Within N working days of D" counts the working days after D.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from drivers import CAL, POLICY, Driver, refused
from support import CLERK, CONTRACTOR, FINANCE, at, sign_data

from states import deadlines as dl
from states.calendar import WorkingDayCalendar, YearSchedule
from states.errors import Forbidden, GuardRefused, IllegalTransition, InvalidInput
from states.machine import Context, available_events
from states.model import Actor, Deadline, DeadlineChange
from states.policy import Policy, policy_from_mapping

#: 2027 as an operator might load it: 01-01, 01-04 and 01-05 off (a made-up schedule)
YEAR_2027 = YearSchedule.from_dict(
    {"year": 2027, "holidays": ["2027-01-01", "2027-01-04", "2027-01-05"], "workdays": []}
)
CAL_2027 = WorkingDayCalendar.official([YEAR_2027])
#: a clerk of another purchaser (acting for an organisation)
IMPOSTOR = Actor(id="imp", role="purchaser", org="南阳市民政局")


def signed(day: str, policy: Policy = POLICY, **over: Any) -> Driver:
    """A project whose contract is signed and takes effect on ``day``."""
    d = Driver(policy=policy).to("awarded")
    d.fire("sign_contract", actor=CLERK, at=at(day), **sign_data(signed_on=day, effective_on=day))
    return d


def deadline(d: Driver, key: str) -> Deadline:
    found = d.project.deadline(key)
    assert found is not None
    return found


def suspend(d: Driver, key: str, on: str, day: str | None = None, **over: Any) -> Any:
    data = {"key": key, "reason": "疫情封控，无法入户", "on": on, **over}
    return d.fire("suspend_deadline", actor=CLERK, at=at(day or on), **data)


def resume(d: Driver, key: str, on: str, day: str | None = None) -> Any:
    return d.fire("resume_deadline", actor=CLERK, at=at(day or on), key=key, on=on)


def extend(d: Driver, key: str, n: Any, day: str) -> Any:
    data = {"key": key, "working_days": n, "reason": "双方协商"}
    return d.fire("extend_deadline", actor=CLERK, at=at(day), **data)


def clock_policy(**values: Any) -> Policy:
    """Dawukou's profile with other extension limits (a host's own file)."""
    return policy_from_mapping(
        {
            "name": "clock-test",
            "inherits": "dawukou-2019",
            **values,
            "provenance": dict.fromkeys(values, "default (a test's own limits)"),
        }
    )


# -- 春节 2026: the dispatch deadline stopped, restarted, extended ---------------------------------


def test_the_spring_festival_dispatch_suspended_resumed_and_extended() -> None:
    d = signed("2026-02-02")
    # 15 working days after Mon 02-02: 02-03..06 (4), 02-09..13 (9), Sat 02-14 (10), 02-15..23
    # off, 02-24..27 (14), Sat 02-28 (15): due on a make-up Saturday
    assert deadline(d, "dispatch").due == date(2026, 2, 28)
    suspend(d, "dispatch", "2026-02-11")
    stopped = deadline(d, "dispatch")
    # kept: 02-12, 02-13, Sat 02-14, 02-24..27, Sat 02-28 = 8 working days; the due day stays
    assert stopped.suspended_on == date(2026, 2, 11)
    assert [c.working_days for c in stopped.changes] == [8]
    assert stopped.due == date(2026, 2, 28) and dl.row_status(stopped) == "suspended"
    assert stopped.status.value == "open"  # still an open obligation: it can be met
    assert d.records[-1].data == {
        "key": "dispatch",
        "reason": "疫情封控，无法入户",
        "on": "2026-02-11",
        "due": "2026-02-28",
        "remaining": 8,
    }
    resume(d, "dispatch", "2026-03-10")
    # the 8th working day after Tue 03-10: 03-11, 12, 13, 16, 17, 18, 19, 20
    running = deadline(d, "dispatch")
    assert running.due == date(2026, 3, 20) and running.suspended_on is None
    assert dl.row_status(running) == "open"
    assert d.records[-1].data["old_due"] == "2026-02-28"
    assert d.records[-1].data["new_due"] == "2026-03-20"
    # on its due day it may still be extended: 5 working days after Fri 03-20 → Fri 03-27
    extend(d, "dispatch", 5, "2026-03-20")
    moved = deadline(d, "dispatch")
    assert moved.due == date(2026, 3, 27)
    assert [(c.kind, c.on, c.due_before, c.due_after) for c in moved.changes] == [
        ("suspended", date(2026, 2, 11), date(2026, 2, 28), None),
        ("resumed", date(2026, 3, 10), date(2026, 2, 28), date(2026, 3, 20)),
        ("extended", date(2026, 3, 20), date(2026, 3, 20), date(2026, 3, 27)),
    ]
    assert d.records[-1].data["extensions"] == 1
    assert d.records[-1].data["extended_working_days"] == 5


def test_suspended_across_the_festival_keeps_what_the_festival_would_have_used() -> None:
    d = signed("2026-02-02")
    # stopped the Friday before the festival: kept Sat 02-14, 02-24..27, Sat 02-28 = 6
    suspend(d, "dispatch", "2026-02-13")
    assert deadline(d, "dispatch").changes[-1].working_days == 6
    resume(d, "dispatch", "2026-02-24")
    # the 6th working day after Tue 02-24: 02-25, 26, 27, Sat 28, 03-02, 03-03
    assert deadline(d, "dispatch").due == date(2026, 3, 3)


# -- 国庆 2026: a payment suspended and resumed across the holiday ---------------------------------


def test_national_day_payment_resumed_counts_the_make_up_saturday() -> None:
    d = signed("2026-09-18")
    # 15 working days after Fri 09-18: Sun 09-20 (1), 09-21..24 (5), 09-25 中秋 off, 09-28..30
    # (8), 10-01..07 off, 10-08, 09 (10), Sat 10-10 (11), 10-12..15 (15)
    assert deadline(d, "payment_1").due == date(2026, 10, 15)
    suspend(d, "payment_1", "2026-09-29")
    # kept: 09-30, 10-08, 10-09, Sat 10-10, 10-12..15 = 8
    assert deadline(d, "payment_1").changes[-1].working_days == 8
    resume(d, "payment_1", "2026-10-09")
    # the 8th working day after Fri 10-09: Sat 10-10, 10-12..16, 10-19, 10-20
    assert deadline(d, "payment_1").due == date(2026, 10, 20)


def test_paid_while_suspended_is_met_and_not_late() -> None:
    d = signed("2026-09-18")
    suspend(d, "payment_1", "2026-09-29")
    d.fire(
        "pay", actor=FINANCE, at=at("2026-11-02"), tranche=1, amount="300000.00", on="2026-11-02"
    )
    met = deadline(d, "payment_1")
    assert met.status.value == "met" and not met.late  # its clock was stopped on 09-29
    assert dl.row_status(met) == "met"
    assert d.project.payments[0].late is False  # the payment agrees with its deadline
    refused("R7", d, "resume_deadline", CLERK, at("2026-11-03"), key="payment_1", on="2026-11-03")


def test_resumed_on_the_day_it_stopped_keeps_its_due_day() -> None:
    d = signed("2026-09-18")
    suspend(d, "payment_1", "2026-09-29", day="2026-09-29")
    resume(d, "payment_1", "2026-09-29", day="2026-09-29")
    assert deadline(d, "payment_1").due == date(2026, 10, 15)


def test_stopped_on_its_due_day_it_is_due_on_the_day_it_resumes() -> None:
    d = signed("2026-09-18")
    suspend(d, "payment_1", "2026-10-15")
    assert deadline(d, "payment_1").changes[-1].working_days == 0
    resume(d, "payment_1", "2026-10-17")  # a Saturday: the next working day, Mon 10-19
    assert deadline(d, "payment_1").due == date(2026, 10, 19)


# -- a provisional 2027 ----------------------------------------------------------------------------


def test_resumed_into_2027_is_provisional_and_moves_when_2027_is_loaded() -> None:
    d = signed("2026-12-10")
    # 15 working days after Thu 12-10: 12-11, 12-14..18, 12-21..25, 12-28..31
    assert deadline(d, "dispatch").due == date(2026, 12, 31)
    suspend(d, "dispatch", "2026-12-21")  # kept: 12-22..25, 12-28..31 = 8
    resume(d, "dispatch", "2026-12-28")
    # 8th after Mon 12-28: 12-29, 30, 31, (01-01 off, estimated) 01-04..08 → 01-08, provisional
    estimated = deadline(d, "dispatch")
    assert (estimated.due, estimated.provisional) == (date(2027, 1, 8), True)
    # 2027 loaded with 01-04 and 01-05 off too: 12-29, 30, 31, 01-06, 07, 08, 11, 12
    loaded = dl.recompute(estimated.model_copy(deep=True), CAL_2027)
    assert (loaded.due, loaded.provisional) == (date(2027, 1, 12), False)
    assert [c.due_after for c in loaded.changes] == [None, date(2027, 1, 12)]


def test_suspended_with_a_provisional_count_stays_suspended_across_a_reload() -> None:
    d = signed("2026-12-21")
    # 15 after Mon 12-21: 12-22..25 (4), 12-28..31 (8), (01-01 off) 01-04..08 (13), 01-11, 12
    assert (deadline(d, "dispatch").due, deadline(d, "dispatch").provisional) == (
        date(2027, 1, 12),
        True,
    )
    suspend(d, "dispatch", "2026-12-24")  # worked 12-22, 23, 24: 12 kept, counted into 2027
    stopped = deadline(d, "dispatch")
    assert stopped.changes[-1].working_days == 12 and stopped.provisional
    loaded = dl.recompute(stopped.model_copy(deep=True), CAL_2027)
    # the original due day moves (01-06..08, 01-11..14 → 01-14) but 12 are kept still
    assert loaded.suspended_on == date(2026, 12, 24) and not loaded.provisional
    assert (loaded.due, loaded.changes[-1].working_days) == (date(2027, 1, 14), 12)
    # restarted on 01-04, a day off in the loaded year: 01-06..08, 01-11..15, 01-18..21 → 01-21
    # (the driver's calendar is the estimated one: the change is replayed here by hand)
    loaded.changes.append(
        DeadlineChange(
            kind="resumed",
            on=date(2027, 1, 4),
            due_before=loaded.due,
            by="clerk",
            at=at("2027-01-04"),
        )
    )
    assert dl.recompute(loaded, CAL_2027).due == date(2027, 1, 21)
    # on the estimated 2027 (01-01 off only): 01-05..08, 01-11..15, 01-18..20 → 01-20
    estimated = dl.recompute(loaded.model_copy(deep=True), CAL)
    assert (estimated.due, estimated.provisional) == (date(2027, 1, 20), True)


def test_an_extension_into_2027_is_provisional_until_2027_is_loaded() -> None:
    d = signed("2026-12-10")
    extend(d, "dispatch", 5, "2026-12-30")
    # 5 after Thu 12-31: (01-01 off) 01-04..08 → 01-08, provisional
    moved = deadline(d, "dispatch")
    assert (moved.due, moved.provisional) == (date(2027, 1, 8), True)
    loaded = dl.recompute(moved.model_copy(deep=True), CAL_2027)
    assert (loaded.due, loaded.provisional) == (date(2027, 1, 12), False)  # 01-06..08, 11, 12


def test_recomputing_twice_changes_nothing() -> None:
    d = signed("2026-02-02")
    suspend(d, "dispatch", "2026-02-11")
    resume(d, "dispatch", "2026-03-10")
    extend(d, "dispatch", 3, "2026-03-12")
    once = dl.recompute(deadline(d, "dispatch").model_copy(deep=True), CAL)
    assert once == deadline(d, "dispatch")
    assert dl.recompute(once.model_copy(deep=True), CAL) == once


# -- the policy's limits ---------------------------------------------------------------------------


def test_one_extension_of_at_most_the_window_by_default() -> None:
    assert (POLICY.max_deadline_extensions, POLICY.max_extension_percent_of_window) == (1, 100)
    assert POLICY.source_of("max_deadline_extensions").startswith("default")
    d = signed("2026-02-02")
    err = refused("R8", d, "extend_deadline", CLERK, at("2026-02-10"), **ext("dispatch", 16))
    assert err.field == "working_days" and err.details["allowed"] == 15
    extend(d, "dispatch", 15, "2026-02-10")
    err = refused("R8", d, "extend_deadline", CLERK, at("2026-02-11"), **ext("dispatch", 1))
    assert err.field == "working_days" and err.details["max_deadline_extensions"] == 1


def ext(key: str, n: Any) -> dict[str, Any]:
    return {"key": key, "working_days": n, "reason": "双方协商"}


def test_splitting_a_big_extension_into_small_ones_does_not_beat_the_total() -> None:
    d = signed("2026-02-02", policy=clock_policy(max_deadline_extensions=5))
    extend(d, "dispatch", 6, "2026-02-10")
    extend(d, "dispatch", 6, "2026-02-11")
    err = refused("R8", d, "extend_deadline", CLERK, at("2026-02-12"), **ext("dispatch", 6))
    assert (err.details["used"], err.details["allowed"]) == (12, 15)
    extend(d, "dispatch", 3, "2026-02-12")  # 15 in all: allowed
    refused("R8", d, "extend_deadline", CLERK, at("2026-02-13"), **ext("dispatch", 1))


def test_a_policy_may_allow_half_the_window_or_none() -> None:
    half = signed("2026-02-02", policy=clock_policy(max_extension_percent_of_window="50"))
    refused("R8", half, "extend_deadline", CLERK, at("2026-02-10"), **ext("dispatch", 8))
    extend(half, "dispatch", 7, "2026-02-10")  # 15 × 50 % = 7.5: 7
    none = signed("2026-02-02", policy=clock_policy(max_deadline_extensions=0))
    refused("R8", none, "extend_deadline", CLERK, at("2026-02-10"), **ext("dispatch", 1))


@pytest.mark.parametrize("n", [0, -3, 1001, "5", 2.0, True])
def test_a_malformed_number_of_working_days_is_invalid(n: Any) -> None:
    d = signed("2026-02-02")
    with pytest.raises(InvalidInput) as err:
        extend(d, "dispatch", n, "2026-02-10")
    assert err.value.field == "working_days"


def test_a_huge_extension_is_refused_by_the_rule_not_computed() -> None:
    d = signed("2026-02-02")
    err = refused("R8", d, "extend_deadline", CLERK, at("2026-02-10"), **ext("dispatch", 1000))
    assert err.details["allowed"] == 15


def test_the_rule_is_the_deadline_kinds() -> None:
    d = signed("2026-09-18")
    refused("R7", d, "extend_deadline", CLERK, at("2026-09-21"), **ext("payment_1", 16))
    extend(d, "payment_1", 15, "2026-09-21")
    assert deadline(d, "payment_1").due == date(2026, 11, 5)  # 15 after 10-15: 10-16..11-05
    e = Driver().to("in_service")
    # a rectification (a given date): its window is the working days after the order
    e.fire(
        "order_rectification",
        actor=CLERK,
        at=at("2026-09-28"),
        due="2026-10-09",
        findings="入户记录不全",
    )
    # after Mon 09-28: 09-29, 09-30, (国庆) 10-08, 10-09: a window of 4
    refused("R11", e, "extend_deadline", CLERK, at("2026-09-29"), **ext("rectification#1", 5))
    extend(e, "rectification#1", 4, "2026-09-29")
    assert deadline(e, "rectification#1").due == date(2026, 10, 14)  # Sat 10-10, 12, 13, 14


def test_an_sme_is_never_paid_later_than_60_days_extension_or_not() -> None:
    sme = Driver().contractor.model_copy(update={"sme": True})
    d = Driver(sme).to("awarded")
    d.fire(
        "sign_contract",
        actor=CLERK,
        at=at("2026-09-18"),
        **sign_data(signed_on="2026-09-18", effective_on="2026-09-18", sme_payment_days=55),
    )
    # R7's 15 working days (10-15) come before 55 calendar days (11-12)
    assert deadline(d, "payment_1").due == date(2026, 10, 15)
    # 15 more working days would be 11-05; 60 days after 09-18 is 11-17: allowed
    extend(d, "payment_1", 15, "2026-10-14")
    assert deadline(d, "payment_1").due == date(2026, 11, 5)
    e = Driver(sme).to("awarded")
    e.fire(
        "sign_contract",
        actor=CLERK,
        at=at("2026-09-18"),
        **sign_data(signed_on="2026-09-18", effective_on="2026-09-18", sme_payment_days=55),
    )
    e.fire("suspend_deadline", actor=CLERK, at=at("2026-09-21"), **stop("payment_1", "2026-09-21"))
    e.fire("resume_deadline", actor=CLERK, at=at("2026-10-30"), key="payment_1", on="2026-10-30")
    # the 13 kept after 09-21 from 10-30: 11-02..06, 09..13, 16..18 → 11-18
    assert deadline(e, "payment_1").due == date(2026, 11, 18)
    err = refused("R20", e, "extend_deadline", CLERK, at("2026-11-02"), **ext("payment_1", 1))
    assert err.details["latest"] == "2026-11-17"


def stop(key: str, on: str) -> dict[str, Any]:
    return {"key": key, "reason": "疫情封控", "on": on}


# -- hostile cases ---------------------------------------------------------------------------------


def test_suspending_twice_is_refused() -> None:
    d = signed("2026-02-02")
    suspend(d, "dispatch", "2026-02-11")
    err = refused(
        "R8", d, "suspend_deadline", CLERK, at("2026-02-12"), **stop("dispatch", "2026-02-12")
    )
    assert err.field == "on" and err.details["key"] == "dispatch"


def test_stopping_and_restarting_cannot_put_the_dispatch_off_for_ever() -> None:
    # a stop dated back to the last change and restarted at once on the due day gives the whole
    # window again each time, with no day really stopped: counted, two by default
    assert POLICY.max_deadline_suspensions == 2
    assert POLICY.source_of("max_deadline_suspensions").startswith("default")
    d = signed("2026-02-02")  # dispatch due Sat 2026-02-28
    suspend(d, "dispatch", "2026-02-02", day="2026-02-28")  # kept: all 15
    resume(d, "dispatch", "2026-02-28")
    # the 15th working day after Sat 02-28: 03-02..06, 03-09..13, 03-16..20
    assert deadline(d, "dispatch").due == date(2026, 3, 20)
    suspend(d, "dispatch", "2026-02-28", day="2026-03-20")  # kept: 15 again
    resume(d, "dispatch", "2026-03-20")
    # 03-23..27, 03-30..04-03, (清明 04-04..06 off) 04-07..10, 04-13
    assert deadline(d, "dispatch").due == date(2026, 4, 13)
    err = refused(  # (and nothing written: ``refused`` checks)
        "R8", d, "suspend_deadline", CLERK, at("2026-04-13"), **stop("dispatch", "2026-03-20")
    )
    assert err.field == "key" and err.details["max_deadline_suspensions"] == 2
    assert "中止计时 2 次" in err.message_zh and "suspended 2 time(s)" in err.message_en
    assert "max_deadline_suspensions" in err.message_en  # the value's provenance follows it
    # another deadline has its own count
    suspend(d, "payment_1", "2026-02-03", day="2026-02-03")


def test_a_policy_may_allow_more_stops_or_none() -> None:
    none = signed("2026-02-02", policy=clock_policy(max_deadline_suspensions=0))
    refused(
        "R8", none, "suspend_deadline", CLERK, at("2026-02-11"), **stop("dispatch", "2026-02-11")
    )
    three = signed("2026-02-02", policy=clock_policy(max_deadline_suspensions=3))
    for day in ("2026-02-03", "2026-02-04", "2026-02-05"):
        suspend(three, "dispatch", day)
        resume(three, "dispatch", day)
    assert deadline(three, "dispatch").due == date(2026, 2, 28)  # stopped and restarted same day
    refused(
        "R8", three, "suspend_deadline", CLERK, at("2026-02-06"), **stop("dispatch", "2026-02-06")
    )


def test_resuming_what_is_not_suspended_is_refused() -> None:
    d = signed("2026-02-02")
    err = refused(
        "R8", d, "resume_deadline", CLERK, at("2026-02-12"), key="dispatch", on="2026-02-12"
    )
    assert err.field == "key"


def test_resuming_before_the_suspension_day_is_refused() -> None:
    d = signed("2026-02-02")
    suspend(d, "dispatch", "2026-02-11")
    err = refused(
        "R8", d, "resume_deadline", CLERK, at("2026-02-12"), key="dispatch", on="2026-02-10"
    )
    assert err.field == "on"


def test_a_met_or_cancelled_deadline_has_no_clock() -> None:
    d = Driver().to("in_service")  # dispatch met on 2025-10-20
    err = refused(
        "R8", d, "suspend_deadline", CLERK, at("2025-10-21"), **stop("dispatch", "2025-10-21")
    )
    assert err.field == "key" and "met" in err.message_en
    refused("R8", d, "extend_deadline", CLERK, at("2025-10-21"), **ext("dispatch", 1))
    d.fire("remove_contractor", actor=CLERK, at=at("2025-10-22"), reason="无法履约")
    # takeover: the evaluation deadlines were cancelled with the contractor
    assert deadline(d, "evaluation#1").status.value == "cancelled"
    refused(
        "R10", d, "suspend_deadline", CLERK, at("2025-10-23"), **stop("evaluation#1", "2025-10-23")
    )


def test_an_unknown_deadline_and_the_end_of_term_are_refused() -> None:
    d = signed("2026-02-02")
    err = refused(
        "R15", d, "suspend_deadline", CLERK, at("2026-02-03"), **stop("nope", "2026-02-03")
    )
    assert err.field == "key"
    refused(
        "R13", d, "suspend_deadline", CLERK, at("2026-02-03"), **stop("contract_end", "2026-02-03")
    )
    refused("R13", d, "extend_deadline", CLERK, at("2026-02-03"), **ext("contract_end", 5))


def test_backdating_before_the_anchor_or_after_the_clock_is_refused() -> None:
    d = signed("2026-02-02")
    err = refused(
        "R8", d, "suspend_deadline", CLERK, at("2026-02-11"), **stop("dispatch", "2026-02-01")
    )
    assert err.field == "on"
    with pytest.raises(InvalidInput) as bad:
        suspend(d, "dispatch", "2026-02-12", day="2026-02-11")  # after the day it is recorded
    assert bad.value.field == "on"
    suspend(d, "dispatch", "2026-02-11")
    with pytest.raises(InvalidInput) as bad:
        resume(d, "dispatch", "2026-03-11", day="2026-03-10")
    assert bad.value.field == "on"


def test_a_suspension_before_the_last_change_is_refused() -> None:
    d = signed("2026-02-02")
    suspend(d, "dispatch", "2026-02-11")
    resume(d, "dispatch", "2026-02-26")
    err = refused(
        "R8", d, "suspend_deadline", CLERK, at("2026-02-27"), **stop("dispatch", "2026-02-25")
    )
    assert err.field == "on"
    suspend(d, "dispatch", "2026-02-26", day="2026-02-27")  # the day it resumed: allowed


def test_after_its_due_day_it_is_neither_suspended_nor_extended() -> None:
    d = signed("2026-02-02")  # dispatch due Sat 02-28
    refused("R8", d, "extend_deadline", CLERK, at("2026-03-02"), **ext("dispatch", 1))
    # backdated to before the due day, but recorded after it: refused too
    err = refused(
        "R8", d, "suspend_deadline", CLERK, at("2026-03-02"), **stop("dispatch", "2026-02-27")
    )
    assert err.details["due"] == "2026-02-28"
    extend(d, "dispatch", 1, "2026-02-28")  # on the due day itself: allowed


def test_a_suspended_deadline_is_neither_extended_nor_corrected() -> None:
    d = signed("2026-02-02")
    suspend(d, "dispatch", "2026-02-11")
    refused("R8", d, "extend_deadline", CLERK, at("2026-02-12"), **ext("dispatch", 1))
    refused(
        "R8",
        d,
        "correct_deadline",
        CLERK,
        at("2026-02-12"),
        key="dispatch",
        reason="更正",
        due="2026-03-31",
    )


def test_a_correction_after_an_extension_sets_the_day_and_survives_a_recompute() -> None:
    d = signed("2026-02-02")
    extend(d, "dispatch", 5, "2026-02-10")
    extended = deadline(d, "dispatch").due
    d.fire(
        "correct_deadline",
        actor=CLERK,
        at=at("2026-02-11"),
        key="dispatch",
        reason="合同补充协议：提前派遣",
        due="2026-03-02",
    )
    fixed = deadline(d, "dispatch")
    assert extended > date(2026, 3, 2)
    assert fixed.due == date(2026, 3, 2) and [c.kind for c in fixed.changes] == [
        "extended",
        "corrected",
    ]
    assert dl.recompute(fixed.model_copy(deep=True), CAL_2027).due == date(2026, 3, 2)
    refused("R8", d, "extend_deadline", CLERK, at("2026-02-12"), **ext("dispatch", 1))  # once


def test_a_correction_never_pushes_a_working_day_window_later() -> None:
    """R8's fifteen working days are the policy's: a "correction" to a later due day would be an
    unlimited extension (the policy allows one, of at most the window). Refused, before and
    after an extension; earlier is allowed, and an agreed date (an evaluation's, counted in
    months) may be set anew either way."""
    d = signed("2026-02-02")
    due = deadline(d, "dispatch").due
    for later in ("2026-12-31", (due + timedelta(days=1)).isoformat()):
        err = refused(
            "R8",
            d,
            "correct_deadline",
            CLERK,
            at("2026-02-10"),
            key="dispatch",
            reason="双方协商延期",
            due=later,
        )
        assert err.field == "due" and err.details["due"] == later
        assert "extend_deadline" in err.message_en and "延长" in err.message
    assert deadline(d, "dispatch").due == due
    extend(d, "dispatch", 5, "2026-02-10")
    refused(
        "R8",
        d,
        "correct_deadline",
        CLERK,
        at("2026-02-11"),
        key="dispatch",
        reason="再延",
        due=(deadline(d, "dispatch").due + timedelta(days=1)).isoformat(),
    )


def test_only_the_projects_own_purchaser_stops_the_clock() -> None:
    d = signed("2026-02-02")
    with pytest.raises(Forbidden) as err:
        d.fire(
            "suspend_deadline",
            actor=CONTRACTOR,
            at=at("2026-02-11"),
            **stop("dispatch", "2026-02-11"),
        )
    assert err.value.field == "actor.role"
    for event, data in [
        ("suspend_deadline", stop("dispatch", "2026-02-11")),
        ("extend_deadline", ext("dispatch", 1)),
        ("resume_deadline", {"key": "dispatch", "on": "2026-02-11"}),
    ]:
        with pytest.raises(Forbidden) as err:
            d.fire(event, actor=IMPOSTOR, at=at("2026-02-11"), **data)
        assert err.value.field == "actor.org"


def test_the_clock_runs_only_after_signing() -> None:
    d = Driver().to("procuring")
    with pytest.raises(IllegalTransition):
        d.fire(
            "suspend_deadline", actor=CLERK, at=at("2025-09-01"), **stop("dispatch", "2025-09-01")
        )


def test_the_purchaser_may_stop_restart_and_extend_after_signing() -> None:
    d = signed("2026-02-02")
    events = available_events(d.project, CLERK, Context(POLICY, CAL), at("2026-02-03"))
    assert {"suspend_deadline", "resume_deadline", "extend_deadline"} <= set(events)
    assert "suspend_deadline" not in available_events(
        d.project, CONTRACTOR, Context(POLICY, CAL), at("2026-02-03")
    )


def test_a_refusal_is_a_guard_refusal_in_both_languages() -> None:
    d = signed("2026-02-02")
    suspend(d, "dispatch", "2026-02-11")
    with pytest.raises(GuardRefused) as err:
        suspend(d, "dispatch", "2026-02-12")
    assert "中止" in err.value.message_zh and "suspended" in err.value.message_en
    assert err.value.message.startswith("[R8] ")
