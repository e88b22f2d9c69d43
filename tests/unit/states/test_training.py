"""R14 training, pure: the training deadlines, record_training and the dispatch's guard.

Hand-worked on the State Council's calendar: 2026's Spring Festival (02-15..23 off, Saturdays
02-14 and 02-28 worked), National Day (10-01..07 off, 09-25 中秋 off, Sunday 09-20 and Saturday
10-10 worked) and a provisional 2027 (no schedule published: deadlines reaching it are 暂定).
Dawukou: 上岗之前必须培训 (001 §六) and 每年培训不得少于2次 (001 §六, §八(三)): a training before
duty within the dispatch's window (training#0, the contractor's), then one each half-year of service
counted from the dispatch (training#1 …, the purchaser's). Nanyang: once a year, none before duty.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from drivers import Driver, refused
from support import CLERK, CONTRACTOR, FINANCE, STAFF, at, sign_data, trained

from states.errors import Forbidden, IllegalTransition, InvalidInput
from states.model import Actor
from states.policy import load_policy

NANYANG = load_policy("nanyang-2019")


def signed(day: str, *, months: int = 12, **kw: Any) -> Driver:
    d = Driver(**kw).to("awarded")
    d.fire(
        "sign_contract",
        actor=CLERK,
        at=at(day),
        **sign_data(signed_on=day, effective_on=day, term_months=months),
    )
    return d


def deadline(d: Driver, key: str) -> Any:
    found = d.project.deadline(key)
    assert found is not None, key
    return found


def dues(d: Driver) -> dict[str, tuple[date, str, bool]]:
    return {
        x.key: (x.due, x.status.value, x.provisional)
        for x in d.project.deadlines
        if x.kind == "training"
    }


# -- the deadlines, worked by hand -----------------------------------------------------------------


def test_R14_across_the_2026_spring_festival_before_duty_then_each_half_year() -> None:
    # signed Fri 2026-01-30: the dispatch, and the training before duty, are due 15 working days
    # on: Feb 2-6 (5), 9-13 (10), Sat 02-14 (11, worked), 02-15..23 off, 24, 25, 26, 27 (15)
    d = signed("2026-01-30")
    before = deadline(d, "training#0")
    assert (before.due, before.owner.value, before.rule) == (date(2026, 2, 27), "contractor", "R14")
    assert before.due == deadline(d, "dispatch").due  # shown against the dispatch (001 §七.5)
    # trained on the first working day after the festival: met, not late
    d.fire("record_training", actor=CONTRACTOR, at=at("2026-02-24"), **trained("2026-02-24"))
    assert (before := deadline(d, "training#0")).status.value == "met" and not before.late
    assert d.project.trainings[0].meets == "training#0"
    d.fire("dispatch_staff", actor=CLERK, at=at("2026-02-26"), on="2026-02-26", staff=STAFF)
    assert d.records[-1].data["trained_on"] == "2026-02-24"
    # half a year from Thu 02-26: Wed 2026-08-26; a year: 2027-02-26, after the term's last day
    # (2027-01-29): the second half-year is cut short and due on that day (a given date, not 暂定)
    assert dues(d) == {
        "training#0": (date(2026, 2, 27), "met", False),
        "training#1": (date(2026, 8, 26), "open", False),
        "training#2": (date(2027, 1, 29), "open", False),
    }
    assert {deadline(d, k).owner.value for k in ("training#1", "training#2")} == {"purchaser"}


def test_R14_a_half_year_ending_in_the_festival_is_due_after_it() -> None:
    # dispatched Fri 2025-08-15: half a year on is Sun 2026-02-15, in the festival: Tue 02-24
    d = signed("2025-08-01")
    d.fire("record_training", actor=CLERK, at=at("2025-08-15"), **trained("2025-08-15"))
    d.fire("dispatch_staff", actor=CLERK, at=at("2025-08-15"), on="2025-08-15", staff=STAFF)
    assert dues(d)["training#1"] == (date(2026, 2, 24), "open", False)
    assert dues(d)["training#2"] == (date(2026, 7, 31), "open", False)  # the term's last day


def test_R14_across_the_2026_national_day_and_into_a_provisional_2027() -> None:
    # signed Mon 2026-09-14 for two years: 15 working days on: 15-18 (4), Sun 09-20 (5, worked),
    # 21-24 (9), 09-25 中秋 off, 28-30 (12), 10-01..07 off, Thu 08 (13), Fri 09 (14), Sat 10-10
    # (15, worked): the training before duty is due on a make-up Saturday
    d = signed("2026-09-14", months=24)
    assert deadline(d, "training#0").due == date(2026, 10, 10)
    # trained and dispatched on Fri 10-09: the same day counts as before duty
    d.fire("record_training", actor=CLERK, at=at("2026-10-09"), **trained("2026-10-09"))
    d.fire("dispatch_staff", actor=CLERK, at=at("2026-10-09"), on="2026-10-09", staff=STAFF)
    # 2027's schedule is not published: 2027-04-09 (Fri) and 2027-10-09 (Sat → Mon 10-11) are
    # 暂定; 2028-04-09 (Sun → Mon 04-10) too; the fourth half-year is cut by the term's end
    # (2028-09-13), a given date
    assert dues(d) == {
        "training#0": (date(2026, 10, 10), "met", False),
        "training#1": (date(2027, 4, 9), "open", True),
        "training#2": (date(2027, 10, 11), "open", True),
        "training#3": (date(2028, 4, 10), "open", True),
        "training#4": (date(2028, 9, 13), "open", False),
    }


def test_R14_nanyang_trains_once_a_year_and_not_before_duty() -> None:
    d = signed("2026-03-20", policy=NANYANG)
    assert "training#0" not in dues(d)
    # dispatched without a training: Nanyang's text asks for none before duty (003 第四十五条)
    d.fire("dispatch_staff", actor=CLERK, at=at("2026-04-01"), on="2026-04-01", staff=STAFF)
    # a year from Wed 04-01 lies after the term's last day (2027-03-19): due then
    assert dues(d) == {"training#1": (date(2027, 3, 19), "open", False)}


def test_R14_shanghai_trains_once_a_year_and_not_before_duty() -> None:
    # 002 二(五): 每年至少要轮训一次; nothing before duty. Signed 2026-03-20 for two years
    # (last day 2028-03-19), dispatched Wed 2026-04-01 untrained: a year on is Thu 2027-04-01
    # (2027 unpublished: 暂定); the second year is cut by the term's end, a given date
    d = signed("2026-03-20", months=24, policy=load_policy("shanghai"))
    assert "training#0" not in dues(d)
    d.fire("dispatch_staff", actor=CLERK, at=at("2026-04-01"), on="2026-04-01", staff=STAFF)
    assert dues(d) == {
        "training#1": (date(2027, 4, 1), "open", True),
        "training#2": (date(2028, 3, 19), "open", False),
    }


# -- the dispatch's guard --------------------------------------------------------------------------


def test_R14_no_dispatch_before_a_training_before_duty() -> None:
    d = signed("2026-01-30")
    err = refused("R14", d, "dispatch_staff", CLERK, at("2026-02-26"), on="2026-02-26", staff=STAFF)
    assert "上岗之前必须培训" in err.message and err.field == "on"
    # a training dated after the dispatch day does not count before it
    d.fire("record_training", actor=CLERK, at=at("2026-02-27"), **trained("2026-02-27"))
    refused("R14", d, "dispatch_staff", CLERK, at("2026-02-27"), on="2026-02-26", staff=STAFF)


def test_R14_everyone_dispatched_is_trained_before_duty() -> None:
    d = signed("2026-01-30")
    d.fire(
        "record_training", actor=CLERK, at=at("2026-02-24"), **trained("2026-02-24", attendees=1)
    )
    err = refused("R14", d, "dispatch_staff", CLERK, at("2026-02-26"), on="2026-02-26", staff=STAFF)
    assert err.details == {"trained": 1, "dispatched": 2}
    # a second session for the other caseworker: two attendees in all
    d.fire(
        "record_training",
        actor=CLERK,
        at=at("2026-02-25"),
        **trained("2026-02-25", attendees=1, topic="补训"),
    )
    d.fire("dispatch_staff", actor=CLERK, at=at("2026-02-26"), on="2026-02-26", staff=STAFF)
    assert d.state == "in_service"
    # the first session met the deadline before duty; the second met nothing more (not dispatched
    # yet, and training#0 met already)
    assert [t.meets for t in d.project.trainings] == ["training#0", None]


# -- which deadline a training meets ---------------------------------------------------------------


def in_service() -> Driver:
    d = signed("2026-01-30")
    d.fire("record_training", actor=CLERK, at=at("2026-02-24"), **trained("2026-02-24"))
    d.fire("dispatch_staff", actor=CLERK, at=at("2026-02-26"), on="2026-02-26", staff=STAFF)
    return d  # training#1 due 2026-08-26, training#2 due 2027-01-29


def test_R14_two_trainings_in_one_half_year_meet_it_once() -> None:
    d = in_service()
    d.fire("record_training", actor=CLERK, at=at("2026-04-10"), **trained("2026-04-10"))
    d.fire(
        "record_training",
        actor=CONTRACTOR,
        at=at("2026-05-11"),
        **trained("2026-05-11", topic="信息化操作"),
    )
    assert [t.meets for t in d.project.trainings[1:]] == ["training#1", None]
    # the second did not count for the next half-year, not begun (it begins 08-27)
    assert dues(d)["training#2"] == (date(2027, 1, 29), "open", False)
    assert d.records[-1].data["meets"] is None


def test_R14_a_late_training_makes_up_for_the_missed_half_year_late() -> None:
    d = in_service()
    # none in the first half-year (to 08-26); one on Fri 09-18 meets it, late
    d.fire("record_training", actor=CLERK, at=at("2026-09-18"), **trained("2026-09-18"))
    first = deadline(d, "training#1")
    assert (first.status.value, first.met_on, first.late) == ("met", date(2026, 9, 18), True)
    assert d.records[-1].data == {**d.records[-1].data, "meets": "training#1", "late": True}
    # the second half-year still needs its own
    assert dues(d)["training#2"][1] == "open"
    d.fire("record_training", actor=CLERK, at=at("2026-11-02"), **trained("2026-11-02"))
    second = deadline(d, "training#2")
    assert (second.status.value, second.late) == ("met", False)


def test_R14_removing_the_contractor_cancels_the_open_training_deadlines() -> None:
    d = in_service()
    d.fire("remove_contractor", actor=CLERK, at=at("2026-06-01"), reason="清退")
    assert {k: v[1] for k, v in dues(d).items()} == {
        "training#0": "met",
        "training#1": "cancelled",
        "training#2": "cancelled",
    }


def test_R14_a_new_contractor_trains_its_own_staff_before_duty() -> None:
    d = in_service()
    d.fire("remove_contractor", actor=CLERK, at=at("2026-06-01"), reason="清退")
    d.fire("reprocure", actor=CLERK, at=at("2026-06-02"), reason="重新采购")
    assert d.project.trainings == [] and d.project.prior_contracts[0].trainings[0].meets == (
        "training#0"
    )


# -- hostile input ---------------------------------------------------------------------------------


def test_R14_the_same_training_is_recorded_once() -> None:
    d = in_service()
    d.fire("record_training", actor=CLERK, at=at("2026-04-10"), **trained("2026-04-10"))
    # the same day and topic, however spaced or cased, by the other side
    again = trained("2026-04-10", topic="  岗前培训：政策与入户核查流程 ", attendees=5)
    err = refused("R14", d, "record_training", CONTRACTOR, at("2026-04-13"), **again)
    assert err.field == "topic"


def test_R14_a_training_before_the_signing_does_not_count() -> None:
    d = signed("2026-01-30")
    err = refused("R14", d, "record_training", CLERK, at("2026-02-02"), **trained("2026-01-29"))
    assert err.field == "on"


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"attendees": 0}, "attendees"),
        ({"attendees": -2}, "attendees"),
        ({"attendees": "2"}, "attendees"),
        ({"hours": 0}, "hours"),
        ({"hours": "-1"}, "hours"),
        ({"hours": 2.5}, "hours"),
        ({"hours": "1.234"}, "hours"),
        ({"topic": ""}, "topic"),
        ({"topic": "两行\n主题"}, "topic"),
        ({"on": "2026-02-25"}, "on"),  # after the day it is recorded (the clock's)
    ],
)
def test_R14_bad_data_is_refused_naming_the_field(over: dict[str, Any], field: str) -> None:
    d = signed("2026-01-30")
    before = d.project.model_copy(deep=True)
    with pytest.raises(InvalidInput) as err:
        d.fire("record_training", actor=CLERK, at=at("2026-02-24"), **trained("2026-02-24", **over))
    assert err.value.field == field
    assert d.project == before


def test_R14_another_organisation_and_the_wrong_role_are_refused() -> None:
    d = signed("2026-01-30")
    stranger = Actor(id="x", role="purchaser", org="卧龙区民政局")
    with pytest.raises(Forbidden) as err:
        d.fire("record_training", actor=stranger, at=at("2026-02-24"), **trained("2026-02-24"))
    assert err.value.field == "actor.org"
    other = Actor(id="y", role="contractor", org="另一家社工机构")
    with pytest.raises(Forbidden):
        d.fire("record_training", actor=other, at=at("2026-02-24"), **trained("2026-02-24"))
    with pytest.raises(Forbidden):
        d.fire("record_training", actor=FINANCE, at=at("2026-02-24"), **trained("2026-02-24"))


def test_R14_no_training_is_recorded_before_a_contract() -> None:
    d = Driver().to("awarded")
    with pytest.raises(IllegalTransition):
        d.fire("record_training", actor=CLERK, at=at("2025-09-20"), **trained("2025-09-20"))
