"""The working-day calendar against chinese-calendar, worked examples, and provisional years.

The property tests take their example counts from the Hypothesis profile (tests/conftest.py):
derandomized under ``make test``, random and many more under ``make fuzz``."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from states.calendar import WorkingDayCalendar, YearSchedule, estimate_year
from states.errors import InvalidInput

CAL = WorkingDayCalendar.official()
#: the first day of the official data; counting back may not cross it
FIRST_DAY = date(2004, 1, 1)
MAX_STEPS = 40


def first_working_days(count: int) -> list[date]:
    """The first ``count`` working days of the data, by chinese-calendar (the oracle)."""
    days: list[date] = []
    day = FIRST_DAY
    while len(days) < count:
        if chinese_calendar.is_workday(day):
            days.append(day)
        day += timedelta(days=1)
    return days


#: EARLIEST[k - 1] is the k-th working day of the data: counting k back needs a later start
EARLIEST = first_working_days(MAX_STEPS)


def naive_add(d: date, n: int) -> date:
    step = 1 if n > 0 else -1
    left, day = abs(n), d
    while left:
        day += timedelta(days=step)
        if chinese_calendar.is_workday(day):
            left -= 1
    return day


def test_every_covered_day_agrees_with_chinese_calendar() -> None:
    day, last = date(2004, 1, 1), date(2026, 12, 31)
    mismatches = []
    while day <= last:
        if CAL.is_working_day(day) != chinese_calendar.is_workday(day):
            mismatches.append(day)
        day += timedelta(days=1)
    assert mismatches == []


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2025, 9, 26), 15, date(2025, 10, 23)),  # DESIGN.md §2, across 国庆
        (date(2026, 9, 18), 15, date(2026, 10, 15)),  # across 中秋 + 国庆, Sun 09-20 worked
        (date(2026, 2, 13), 1, date(2026, 2, 14)),  # Sat 02-14 is a make-up working day
        (date(2026, 10, 7), 1, date(2026, 10, 8)),
        (date(2026, 10, 9), 1, date(2026, 10, 10)),  # Sat 10-10 is a make-up working day
    ],
)
def test_known_answers(start: date, n: int, expected: date) -> None:
    result = CAL.add_working_days(start, n)
    assert (result.date, result.provisional) == (expected, False)


def test_make_up_and_holiday_days_of_2026() -> None:
    assert CAL.is_working_day(date(2026, 2, 14))
    assert CAL.is_working_day(date(2026, 2, 28))
    assert CAL.is_working_day(date(2026, 10, 10))
    assert CAL.is_working_day(date(2026, 1, 4))
    assert not CAL.is_working_day(date(2026, 10, 7))
    assert not CAL.is_working_day(date(2026, 2, 16))


def test_counting_starts_the_day_after_even_from_a_rest_day() -> None:
    # chinese_calendar.find_workday counts one day too many from a rest day; we do not
    assert CAL.add_working_days(date(2026, 10, 3), 1).date == date(2026, 10, 8)
    assert CAL.add_working_days(date(2026, 10, 4), 1).date == naive_add(date(2026, 10, 4), 1)


def test_counting_back_stops_at_the_first_working_day_of_the_data() -> None:
    # January and February 2004 hold 38 working days (元旦 and 春节 off, make-up days worked)
    assert len(chinese_calendar.get_workdays(FIRST_DAY, date(2004, 2, 29))) == 38
    assert EARLIEST[0] == date(2004, 1, 2)
    assert CAL.add_working_days(date(2004, 3, 1), -38).date == date(2004, 1, 2)
    with pytest.raises(InvalidInput) as err:
        CAL.add_working_days(date(2004, 3, 1), -39)
    assert err.value.field == "date"


@given(st.dates(FIRST_DAY, date(2026, 10, 31)), st.integers(-MAX_STEPS, MAX_STEPS))
@example(date(2004, 3, 1), -38)  # lands on the data's first working day, 2004-01-02
@example(date(2004, 3, 1), -39)  # one too many: before the data, so not a case (issue #6)
@example(date(2004, 1, 5), -1)
def test_addition_agrees_with_a_day_by_day_loop(d: date, n: int) -> None:
    assume(n != 0)
    # counting n back needs n working days before d inside the data: bounded by working days
    assume(n > 0 or d > EARLIEST[-n - 1])
    assert CAL.add_working_days(d, n).date == naive_add(d, n)


@given(st.dates(FIRST_DAY, date(2026, 10, 31)), st.integers(1, MAX_STEPS))
def test_between_inverts_addition(d: date, n: int) -> None:
    assert CAL.working_days_between(d, CAL.add_working_days(d, n).date) == n
    assert CAL.working_days_between(CAL.add_working_days(d, n).date, d) == -n


def test_zero_is_the_day_itself_or_the_next_working_day() -> None:
    assert CAL.add_working_days(date(2026, 10, 1), 0).date == date(2026, 10, 8)
    assert CAL.add_working_days(date(2026, 10, 8), 0).date == date(2026, 10, 8)


def test_a_deadline_reaching_an_unpublished_year_is_provisional() -> None:
    result = CAL.add_working_days(date(2026, 12, 21), 15)
    assert result.provisional
    assert result.date.year == 2027
    assert CAL.is_provisional_year(2027) and not CAL.is_provisional_year(2026)
    assert CAL.schedule(2027).provisional


def test_estimates_use_statutory_holidays_without_make_up_days() -> None:
    est = estimate_year(2027)
    assert date(2027, 1, 1) in est.holidays and date(2027, 10, 1) in est.holidays
    assert est.workdays == frozenset() and est.provisional


def test_loading_a_year_makes_it_known_and_counts_its_make_up_days() -> None:
    sched = YearSchedule.from_dict(
        {
            "year": 2027,
            "holidays": ["2027-01-01"],
            "workdays": ["2027-01-09"],
            "notice": "示例",
            "notice_date": "2026-11-20",
        }
    )
    cal = CAL.with_year(sched)
    assert not cal.add_working_days(date(2026, 12, 21), 15).provisional
    assert cal.is_working_day(date(2027, 1, 9))  # a Saturday made a working day
    assert not CAL.is_working_day(date(2027, 1, 9))  # the old calendar is unchanged
    assert CAL.is_provisional_year(2027) and not cal.is_provisional_year(2027)
    assert sched.to_dict()["workdays"] == ["2027-01-09"]
    assert YearSchedule.from_dict(sched.to_dict()) == sched


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"year": "2027", "holidays": [], "workdays": []}, "year"),
        ({"year": 2027, "holidays": ["2028-01-01"], "workdays": []}, "holidays[0]"),
        ({"year": 2027, "holidays": ["2027-13-01"], "workdays": []}, "holidays[0]"),
        ({"year": 2027, "holidays": [], "workdays": ["2027-01-04"]}, "workdays[0]"),
        ({"year": 2027, "holidays": ["2027-01-09"], "workdays": ["2027-01-09"]}, "workdays"),
        ({"year": 2027, "holidays": "2027-01-01", "workdays": []}, "holidays"),
        ({"year": 2027, "holidays": [], "workdays": [], "days": []}, "days"),
        ({"year": 2027, "holidays": [], "workdays": [], "notice_date": "soon"}, "notice_date"),
    ],
)
def test_a_bad_schedule_names_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        YearSchedule.from_dict(data)
    assert err.value.field == field


def test_dates_before_the_data_are_refused() -> None:
    with pytest.raises(InvalidInput) as err:
        CAL.add_working_days(date(2003, 12, 1), 5)
    assert err.value.field == "date"


def test_a_calendar_without_estimator_refuses_unknown_years() -> None:
    cal = WorkingDayCalendar([CAL.schedule(2026)], estimator=None)
    assert cal.add_working_days(date(2026, 9, 18), 15).date == date(2026, 10, 15)
    with pytest.raises(InvalidInput):
        cal.add_working_days(date(2026, 12, 21), 15)
