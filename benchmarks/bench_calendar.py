"""Working-day addition: bisect over precomputed ordinals vs a chinese_calendar.is_workday loop.

Run: .venv/bin/python benchmarks/bench_calendar.py   (goal: ≥ 100× faster)
"""

from __future__ import annotations

import random
import time
from datetime import date, timedelta

import chinese_calendar

from states.calendar import WorkingDayCalendar


def naive_add(d: date, n: int) -> date:
    day, left = d, n
    while left:
        day += timedelta(days=1)
        if chinese_calendar.is_workday(day):
            left -= 1
    return day


def main() -> None:
    t0 = time.perf_counter()
    cal = WorkingDayCalendar.official()
    cal.add_working_days(date(2026, 1, 5), 1)
    build = time.perf_counter() - t0
    rng = random.Random(2026)
    start, span = date(2004, 1, 1), (date(2026, 11, 30) - date(2004, 1, 1)).days
    days = [start + timedelta(days=rng.randrange(span)) for _ in range(2000)]
    assert all(cal.add_working_days(d, 15).date == naive_add(d, 15) for d in days[:200])

    t0 = time.perf_counter()
    for _ in range(5):
        for d in days:
            cal.add_working_days(d, 15)
    ours = (time.perf_counter() - t0) / (5 * len(days))
    t0 = time.perf_counter()
    for d in days:
        naive_add(d, 15)
    naive = (time.perf_counter() - t0) / len(days)
    print(f"calendar build (official 2004–2026): {build * 1000:.1f} ms")
    print(f"add_working_days(d, 15): {ours * 1e6:.2f} µs/call")
    print(f"is_workday loop:         {naive * 1e6:.1f} µs/call")
    print(f"speed-up: {naive / ours:.0f}×  (goal ≥ 100×)")


if __name__ == "__main__":
    main()
