"""The mainland working-day calendar (工作日), as data.

Working days are Monday–Friday, minus the statutory holidays, plus the weekend make-up days
(调休上班) that the State Council announces each year. Official data for 2004–2026 comes from
``chinese-calendar``; an operator adds a new year's schedule as data
(:meth:`YearSchedule.from_dict`) without a release. A year with no schedule is *estimated* from
the statutory holidays (``holidays``, no make-up days) and everything computed from it is flagged
provisional (暂定).

Arithmetic is O(log n): the working days of the covered years are precomputed as sorted ordinals
and searched with ``bisect`` (DESIGN.md §2: 0.7 µs against 838 µs for a day-by-day loop).
"""

from __future__ import annotations

import threading
import warnings
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from states.errors import InvalidInput

#: first year of official data; earlier dates are refused, not guessed
FIRST_YEAR = 2004
#: how far ahead estimates may reach
LAST_ESTIMATED_YEAR = 2200
_SOURCES = frozenset({"official", "operator", "estimate"})
_KEYS = frozenset({"year", "holidays", "workdays", "notice", "notice_date", "source"})

#: notices known for official years (only ones actually published; others are left blank)
KNOWN_NOTICES = {2026: ("国办发明电〔2025〕7号", None)}


@dataclass(frozen=True, slots=True)
class WorkingDay:
    """A computed day, and whether it rests on an estimated (not yet published) year."""

    date: date
    provisional: bool


def _invalid(field: str, zh: str, en: str) -> InvalidInput:
    return InvalidInput(
        f"工作日安排：{field} {zh}", f"working-day schedule: {field}: {en}", field=field
    )


def _parse_date(value: Any, field: str) -> date:
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise _invalid(field, "须为 YYYY-MM-DD 日期", "must be a YYYY-MM-DD date")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise _invalid(field, "须为 YYYY-MM-DD 日期", "must be a YYYY-MM-DD date") from exc


@dataclass(frozen=True, slots=True)
class YearSchedule:
    """One year's days off and make-up working days, with the notice that set them."""

    year: int
    #: days off that would otherwise be working days (may include weekend days, harmless)
    holidays: frozenset[date]
    #: make-up working days on Saturdays or Sundays (调休上班)
    workdays: frozenset[date]
    notice: str = ""
    notice_date: date | None = None
    #: "official" (chinese-calendar), "operator" (loaded as data), "estimate" (provisional)
    source: str = "official"

    @property
    def provisional(self) -> bool:
        return self.source == "estimate"

    def to_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "holidays": sorted(d.isoformat() for d in self.holidays),
            "workdays": sorted(d.isoformat() for d in self.workdays),
            "notice": self.notice,
            "notice_date": self.notice_date.isoformat() if self.notice_date else None,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "operator") -> YearSchedule:
        """Validate a schedule given as data; errors name the field."""
        if not isinstance(data, Mapping):
            raise _invalid("schedule", "须为对象", "must be an object")
        unknown = sorted(set(data) - _KEYS)
        if unknown:
            raise _invalid(unknown[0], "是不认识的字段", "unknown field")
        year = data.get("year")
        if not isinstance(year, int) or isinstance(year, bool) or not 1900 <= year <= 2200:
            raise _invalid("year", "须为 1900–2200 的整数", "must be an integer 1900..2200")
        days: dict[str, frozenset[date]] = {}
        for name in ("holidays", "workdays"):
            raw = data.get(name, [])
            if not isinstance(raw, list | tuple | set | frozenset):
                raise _invalid(name, "须为日期列表", "must be a list of dates")
            parsed: set[date] = set()
            for i, value in enumerate(raw):
                day = _parse_date(value, f"{name}[{i}]")
                if day.year != year:
                    raise _invalid(
                        f"{name}[{i}]", f"{day} 不在 {year} 年内", f"{day} is not in {year}"
                    )
                if name == "workdays" and day.weekday() < 5:
                    raise _invalid(
                        f"{name}[{i}]",
                        f"{day} 不是周末，无需调休上班",
                        f"{day} is not a Saturday or Sunday",
                    )
                parsed.add(day)
            days[name] = frozenset(parsed)
        both = sorted(days["holidays"] & days["workdays"])
        if both:
            raise _invalid(
                "workdays",
                f"{both[0]} 同时出现在放假和调休上班中",
                f"{both[0]} is both a day off and a make-up working day",
            )
        notice = data.get("notice", "") or ""
        if not isinstance(notice, str):
            raise _invalid("notice", "须为文本", "must be text")
        raw_date = data.get("notice_date")
        notice_date = None if raw_date in (None, "") else _parse_date(raw_date, "notice_date")
        chosen = data.get("source", source)
        if chosen not in _SOURCES:
            raise _invalid(
                "source",
                "须为 official/operator/estimate",
                "must be official, operator or estimate",
            )
        return cls(
            year=year,
            holidays=days["holidays"],
            workdays=days["workdays"],
            notice=notice,
            notice_date=notice_date,
            source=chosen,
        )


def official_schedules() -> list[YearSchedule]:
    """Every year ``chinese-calendar`` covers, as schedules (source "official")."""
    from chinese_calendar import constants

    holidays: dict[int, set[date]] = {}
    workdays: dict[int, set[date]] = {}
    for day in constants.holidays:
        holidays.setdefault(day.year, set()).add(day)
    for day in constants.workdays:
        workdays.setdefault(day.year, set()).add(day)
    out = []
    for year in sorted(set(holidays) | set(workdays)):
        notice, notice_date = KNOWN_NOTICES.get(year, ("", None))
        out.append(
            YearSchedule(
                year=year,
                holidays=frozenset(holidays.get(year, ())),
                workdays=frozenset(workdays.get(year, ())),
                notice=notice,
                notice_date=notice_date,
                source="official",
            )
        )
    return out


def estimate_year(year: int) -> YearSchedule:
    """The statutory holidays of a year with no published schedule; no make-up days."""
    import holidays as holidays_lib

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        days = holidays_lib.country_holidays("CN", years=year)
        found = frozenset(d for d in days if d.year == year)
    return YearSchedule(year=year, holidays=found, workdays=frozenset(), source="estimate")


class WorkingDayCalendar:
    """Working days over the official years, operator years and (lazily) estimated years.

    Instances are immutable to callers: :meth:`with_year` returns a new calendar.
    """

    def __init__(
        self,
        schedules: Iterable[YearSchedule],
        *,
        estimator: Callable[[int], YearSchedule] | None = estimate_year,
    ) -> None:
        self._schedules: dict[int, YearSchedule] = {}
        for sched in schedules:
            self._schedules[sched.year] = sched
        self._estimator = estimator
        self._known = frozenset(y for y, s in self._schedules.items() if not s.provisional)
        self._lock = threading.RLock()
        self._first = min(self._schedules, default=FIRST_YEAR)
        self._last = self._first - 1  # last year whose days are in _ordinals
        self._ordinals: list[int] = []
        self._extend_to(max(self._schedules, default=self._first))

    @classmethod
    def official(cls, extra: Iterable[YearSchedule] = ()) -> WorkingDayCalendar:
        """chinese-calendar's data, with operator years (``extra``) on top."""
        return cls([*_official_cached(), *extra])

    def with_year(self, schedule: YearSchedule) -> WorkingDayCalendar:
        schedules = [s for y, s in self._schedules.items() if y != schedule.year]
        return WorkingDayCalendar([*schedules, schedule], estimator=self._estimator)

    @property
    def known_years(self) -> frozenset[int]:
        return self._known

    def is_provisional_year(self, year: int) -> bool:
        return year not in self._known

    def schedule(self, year: int) -> YearSchedule:
        found = self._schedules.get(year)
        if found is not None:
            return found
        self._check_year(year)
        assert self._estimator is not None
        with self._lock:
            found = self._schedules.get(year)
            if found is None:
                found = self._estimator(year)
                self._schedules[year] = found
        return found

    # -- internals ------------------------------------------------------------------------------

    def _check_year(self, year: int) -> None:
        if year < self._first:
            raise InvalidInput(
                f"日期早于工作日历的数据范围（{self._first} 年起）",
                f"date before the calendar's data (from {self._first})",
                field="date",
            )
        if year not in self._schedules and (self._estimator is None or year > LAST_ESTIMATED_YEAR):
            raise InvalidInput(
                f"{year} 年没有工作日安排", f"no working-day schedule for {year}", field="date"
            )

    def _year_days(self, year: int) -> list[int]:
        sched = self.schedule(year)
        day = date(year, 1, 1)
        out: list[int] = []
        while day.year == year:
            weekday = day.weekday() < 5
            if (weekday and day not in sched.holidays) or day in sched.workdays:
                out.append(day.toordinal())
            day += timedelta(days=1)
        return out

    def _extend_to(self, year: int) -> None:
        if year <= self._last:
            return
        self._check_year(year)
        with self._lock:
            if year <= self._last:
                return
            added: list[int] = []
            for y in range(self._last + 1, year + 1):
                added.extend(self._year_days(y))
            # swap in a new list: readers holding the old one stay consistent
            self._ordinals = self._ordinals + added
            self._last = year

    def _span_provisional(self, a: date, b: date) -> bool:
        lo, hi = (a, b) if a <= b else (b, a)
        return any(y not in self._known for y in range(lo.year, hi.year + 1))

    # -- queries --------------------------------------------------------------------------------

    def is_working_day(self, d: date) -> bool:
        self._extend_to(d.year)
        ords = self._ordinals
        i = bisect_left(ords, d.toordinal())
        return i < len(ords) and ords[i] == d.toordinal()

    def add_working_days(self, d: date, n: int) -> WorkingDay:
        """The n-th working day strictly after ``d`` (n ≥ 1; counting starts the day after, 民法典
        第二百零一条), strictly before it (n ≤ −1), or ``d`` / the next working day (n = 0)."""
        if n == 0:
            return self.next_working_day(d)
        self._check_year(d.year)
        self._extend_to(d.year)
        x = d.toordinal()
        while True:
            ords = self._ordinals
            if n > 0:
                i = bisect_right(ords, x) + n - 1
                if i < len(ords):
                    break
                self._extend_to(self._last + 1)
            else:
                i = bisect_left(ords, x) + n
                if i < 0:
                    raise InvalidInput(
                        "结果早于工作日历的数据范围",
                        "result before the calendar's data",
                        field="date",
                    )
                break
        result = date.fromordinal(ords[i])
        return WorkingDay(result, self._span_provisional(d, result))

    def next_working_day(self, d: date) -> WorkingDay:
        """``d`` itself if it is a working day, else the next one."""
        self._check_year(d.year)
        self._extend_to(d.year)
        x = d.toordinal()
        while True:
            ords = self._ordinals
            i = bisect_left(ords, x)
            if i < len(ords):
                break
            self._extend_to(self._last + 1)
        result = date.fromordinal(ords[i])
        return WorkingDay(result, self._span_provisional(d, result))

    def working_days_between(self, a: date, b: date) -> int:
        """Working days in (a, b]; negative of (b, a] when b < a."""
        if b < a:
            return -self.working_days_between(b, a)
        self._extend_to(b.year)
        ords = self._ordinals
        return bisect_right(ords, b.toordinal()) - bisect_right(ords, a.toordinal())


_OFFICIAL: list[YearSchedule] = []


def _official_cached() -> list[YearSchedule]:
    if not _OFFICIAL:
        _OFFICIAL.extend(official_schedules())
    return _OFFICIAL
