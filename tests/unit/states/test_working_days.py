"""The working-day calendar against chinese-calendar, worked examples, and provisional years."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from states.calendar import WorkingDayCalendar, YearSchedule, estimate_year
from states.errors import InvalidInput

CAL = WorkingDayCalendar.official()


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


@settings(max_examples=300, deadline=None)
@given(st.dates(date(2004, 1, 1), date(2026, 10, 31)), st.integers(-40, 40))
def test_addition_agrees_with_a_day_by_day_loop(d: date, n: int) -> None:
    if n == 0 or (n < 0 and d < date(2004, 3, 1)):
        return
    assert CAL.add_working_days(d, n).date == naive_add(d, n)


@settings(max_examples=200, deadline=None)
@given(st.dates(date(2004, 1, 1), date(2026, 10, 31)), st.integers(1, 40))
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
