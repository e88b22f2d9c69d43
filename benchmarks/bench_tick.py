"""`tick`: the cost follows the due work, not the table; and against a naive APScheduler design.

Run: .venv/bin/python benchmarks/bench_tick.py
  (a) tick with ~1k due among 10k deadlines vs ~1k due among 1M      (goal: within 3×)
  (b) 10k due deadlines drained into the inbox: tick + relay vs one APScheduler 3
      SQLAlchemyJobStore date job per deadline writing one inbox row   (goal: ≥ 10× faster)
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _setup import at, clone, contracted_project
from sqlalchemy import func, select

from workflow import Workflow
from workflow.persistence import deadline_t, inbox_t

NAIVE_DB = ""


def write_inbox(deadline_id: int) -> None:
    """The naive design's job: one inbox row per deadline."""
    conn = sqlite3.connect(NAIVE_DB, timeout=30)
    with conn:
        conn.execute(
            "INSERT INTO inbox (deadline_id, created_at) VALUES (?, datetime('now'))",
            (deadline_id,),
        )
    conn.close()


def tick_on(path: Path, projects: int, per_project: int, due: int) -> tuple[float, int, int]:
    wf = Workflow.open(f"sqlite:///{path}")
    contracted_project(wf)
    clone(wf.engine, projects=projects, deadlines_per_project=per_project, due=due)
    with wf.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(deadline_t)).scalar_one()
    now = at("2025-10-22")
    t0 = time.perf_counter()
    created = wf.tick(now)
    elapsed = time.perf_counter() - t0
    wf.close()
    return elapsed, len(created), int(total)


def ours_drain(path: Path, n: int) -> float:
    wf = Workflow.open(f"sqlite:///{path}")
    contracted_project(wf)
    clone(wf.engine, projects=n, deadlines_per_project=1, due=n)
    now = at("2025-10-22")
    t0 = time.perf_counter()
    wf.tick(now)
    wf.relay(now)
    elapsed = time.perf_counter() - t0
    with wf.engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(inbox_t)).scalar_one()
    wf.close()
    assert rows >= n, rows
    return elapsed


def naive_drain(path: Path, n: int) -> float:
    global NAIVE_DB
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    NAIVE_DB = str(path)
    with sqlite3.connect(NAIVE_DB) as conn:
        conn.execute("CREATE TABLE inbox (id INTEGER PRIMARY KEY, deadline_id INT, created_at)")
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{path}")},
        job_defaults={"misfire_grace_time": None, "coalesce": True},
        timezone=UTC,
    )
    scheduler.start(paused=True)
    past = datetime.now(UTC) - timedelta(seconds=1)
    for i in range(n):
        scheduler.add_job(
            f"{__name__}:write_inbox", "date", run_date=past, args=[i], id=f"deadline:{i}"
        )
    t0 = time.perf_counter()
    scheduler.resume()
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        with sqlite3.connect(NAIVE_DB) as conn:
            done = conn.execute("SELECT count(*) FROM inbox").fetchone()[0]
        if done >= n:
            break
        time.sleep(0.05)
    elapsed = time.perf_counter() - t0
    scheduler.shutdown(wait=True)
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        small, n1, t1 = tick_on(d / "t10k.db", projects=1_000, per_project=10, due=1_000)
        large, n2, t2 = tick_on(d / "t1m.db", projects=10_000, per_project=100, due=1_000)
        print(f"(a) tick: {n1} due among {t1:>9,} deadlines: {small:6.2f} s")
        print(f"    tick: {n2} due among {t2:>9,} deadlines: {large:6.2f} s")
        print(f"    ratio 1M / 10k: {large / small:.2f}×  (goal: within 3×)")
        n = 10_000
        ours = ours_drain(d / "ours.db", n)
        naive_n = 2_000
        naive = naive_drain(d / "naive.db", naive_n) * n / naive_n
        print(
            f"(b) drain {n:,} due deadlines into the inbox: tick + relay {ours:6.2f} s "
            f"({ours / n * 1e3:.2f} ms each)"
        )
        print(
            f"    APScheduler SQLAlchemyJobStore, a date job per deadline: {naive:6.2f} s "
            f"({naive / n * 1e3:.2f} ms each; measured on {naive_n:,}, scaled)"
        )
        print(f"    speed-up: {naive / ours:.1f}×  (goal ≥ 10×)")


if __name__ == "__main__":
    main()
