"""The demo's dates and people, without a database: where the clock puts the worker's day, and
that on every day of two years each demo project's events come in order, on working days, before
the clock's now (the end-to-end runs on a database are ``tests/e2e/test_demo.py``)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from states.calendar import WorkingDayCalendar
from states.enums import Role
from states.policy import load_policy
from workflow.demo import (
    CONTRACTORS,
    DEMO_PASSWORD,
    DEMO_USERS,
    FOR_THE_WORKER,
    OFFICES,
    Days,
    at,
    caseworker_items,
    echo_logins,
    plans,
)

TZ = ZoneInfo("Asia/Shanghai")
CALENDAR = WorkingDayCalendar.official()
HOUR = load_policy("dawukou-2019").notices.hour


def days(now: datetime) -> Days:
    return Days(now, CALENDAR, HOUR)


@pytest.mark.parametrize(
    ("now", "worker_day"),
    [
        (datetime(2026, 11, 24, 16, 8, tzinfo=TZ), date(2026, 11, 24)),  # Tuesday afternoon
        (datetime(2026, 11, 24, 9, 0, tzinfo=TZ), date(2026, 11, 24)),  # the notice hour itself
        (datetime(2026, 11, 24, 8, 59, tzinfo=TZ), date(2026, 11, 23)),  # just before it
        (datetime(2026, 11, 30, 8, 30, tzinfo=TZ), date(2026, 11, 27)),  # Monday, before 09:00
        (datetime(2026, 11, 28, 10, tzinfo=TZ), date(2026, 11, 27)),  # Saturday
        (datetime(2026, 10, 5, 12, tzinfo=TZ), date(2026, 9, 30)),  # in the National Day holidays
        (datetime(2026, 10, 10, 12, tzinfo=TZ), date(2026, 10, 10)),  # a make-up Saturday
        # a UTC clock: the business day is Shanghai's
        (datetime(2026, 11, 24, 1, 30, tzinfo=ZoneInfo("UTC")), date(2026, 11, 24)),
    ],
)
def test_the_worker_day_is_the_last_working_day_whose_notice_hour_has_come(
    now: datetime, worker_day: date
) -> None:
    d = days(now)
    assert d.worker_day == worker_day and CALENDAR.is_working_day(worker_day)
    assert d.cutoff == datetime.combine(worker_day, time(HOUR), tzinfo=TZ) <= now
    assert d.back(1) < worker_day and CALENDAR.is_working_day(d.back(1))


CLOCKS = [
    datetime(2026, 1, 1, 7, tzinfo=TZ) + timedelta(days=n, hours=(n * 7) % 17) for n in range(730)
]


@pytest.mark.parametrize("year", [2026, 2027])
def test_every_plan_is_in_order_on_working_days_before_the_clock(year: int) -> None:
    ids = {name: n for n, (name, _, _) in enumerate(CONTRACTORS, start=1)}
    for now in (c for c in CLOCKS if c.year == year):
        d = days(now)
        demo = plans(d, ids)
        assert len({p.key for p in demo}) == len(demo) == 16
        assert [p.key for p in demo][-2:] == list(FOR_THE_WORKER)
        for plan in demo:
            times = [at(plan.created, plan.hour)] + [at(s.day, s.hour) for s in plan.steps]
            assert times == sorted(times), (now, plan.key)
            assert all(t < d.cutoff for t in times), (now, plan.key)
            assert all(CALENDAR.is_working_day(t.date()) for t in times), (now, plan.key)


def test_the_caseworker_plan_is_dawukous_sixteen_by_office() -> None:
    items = caseworker_items()
    assert sum(i["quantity"] for i in items) == 16
    assert [(i["office"], i["quantity"]) for i in items][:3] == [
        ("区民政局", 3),
        ("星海镇", 2),
        ("人民路街道", 2),
    ]
    assert len(OFFICES) == 12 and all(q == 1 for _, q in OFFICES[3:])
    assert len({office for office, _ in OFFICES}) == 12


def test_one_demo_login_a_role_and_a_region_only_where_a_role_reads_one() -> None:
    roles = {u.role for u in DEMO_USERS}
    assert roles == {r.value for r in Role if r is not Role.SYSTEM}
    assert len({u.login for u in DEMO_USERS}) == len(DEMO_USERS)
    for user in DEMO_USERS:
        assert user.org and "/" in user.can
        assert bool(user.region) == (user.role in ("supervisor", "evaluator")), user.login
    contractors = {name for name, _, _ in CONTRACTORS}
    assert {u.org for u in DEMO_USERS if u.role == "contractor"} <= contractors


def test_the_logins_are_printed_with_their_password() -> None:
    lines: list[str] = []
    echo_logins(lines.append)
    assert DEMO_PASSWORD in lines[0]
    for user in DEMO_USERS:
        at_ = lines.index(f"  {user.login:<12} {user.role:<11} {user.org}")
        assert lines[at_ + 1].strip() == user.can
