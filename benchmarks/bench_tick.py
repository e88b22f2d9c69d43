"""`tick`: the cost follows the due work, not the table; and against a naive APScheduler design.

Run: .venv/bin/python benchmarks/bench_tick.py [--backend sqlite|postgresql|both] [--part a|b|both]
  (a) tick with ~1k due among 10k deadlines vs ~1k due among 1M (goal: within 3×), on a SQLite
      file (10k projects × 100 deadlines) and on PostgreSQL (100k projects × 10 deadlines)
  (b) 10k due deadlines drained into the inbox on a SQLite file: tick + relay vs one
      APScheduler 3 SQLAlchemyJobStore date job per deadline writing one inbox row
      (goal: ≥ 20× faster)

(a) builds both databases first (one facade-made project, then copies by SQL: `_setup.clone`),
then times `tick` on each in alternation, resetting the ticked rows between rounds, and reports
the medians.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _setup import at, clone, contracted_project, machine
from sqlalchemy import MetaData, Table, func, select, text

from workflow import Workflow

NAIVE_DB = ""
ROUNDS = 5


def write_inbox(deadline_id: int) -> None:
    """The naive design's job: one inbox row per deadline."""
    conn = sqlite3.connect(NAIVE_DB, timeout=30)
    with conn:
        conn.execute(
            "INSERT INTO inbox (deadline_id, created_at) VALUES (?, datetime('now'))",
            (deadline_id,),
        )
    conn.close()


class TickDb:
    """A database with ``projects × per_project`` deadlines, ~``due`` of them due now."""

    def __init__(self, url: str, projects: int, per_project: int, due: int) -> None:
        t0 = time.perf_counter()
        self.wf = Workflow.open(url)
        contracted_project(self.wf)
        clone(self.wf.engine, projects=projects, deadlines_per_project=per_project, due=due)
        self.build = time.perf_counter() - t0
        self.table = Table("gpw_deadline", MetaData(), autoload_with=self.wf.engine)
        d = self.table.c
        with self.wf.engine.connect() as conn:
            self.total = conn.execute(select(func.count()).select_from(self.table)).scalar_one()
            # the template's rows as they were (the copies are of its dispatch row)
            self.template = conn.execute(
                select(
                    d.id, d.key, d.stage_index, d.next_stage, d.next_fire_at, d.moved_from
                ).where(d.project_id == 1)
            ).all()
        self.times: list[float] = []
        self.created = 0

    def tick(self, now: datetime) -> None:
        t0 = time.perf_counter()
        created = self.wf.tick(now)
        self.times.append(time.perf_counter() - t0)
        self.created = len(created)
        self.reset()

    def reset(self) -> None:
        """Put the ticked rows back as they were and empty the outbox."""
        d = self.table.c
        dispatch = next(r for r in self.template if r.key == "dispatch")
        with self.wf.engine.begin() as conn:
            conn.execute(
                self.table.update()
                .where(d.stage_index >= 0, d.key.like("bench#%"))
                .values(
                    stage_index=dispatch.stage_index,
                    next_stage=dispatch.next_stage,
                    next_fire_at=dispatch.next_fire_at,
                    moved_from=None,
                )
            )
            for r in self.template:
                conn.execute(
                    self.table.update()
                    .where(d.id == r.id)
                    .values(
                        stage_index=r.stage_index,
                        next_stage=r.next_stage,
                        next_fire_at=r.next_fire_at,
                        moved_from=r.moved_from,
                    )
                )
            conn.execute(text("DELETE FROM gpw_notice"))


@contextmanager
def two_databases(backend: str) -> Iterator[tuple[str, str]]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 't10k.db'}", f"sqlite:///{Path(tmp) / 't1m.db'}"
    else:
        import pg

        with pg.running() as server:
            yield (
                server.url(server.create_database()),
                server.url(server.create_database()),
            )


def part_a(backend: str) -> None:
    shape = {"sqlite": (10_000, 100), "postgresql": (100_000, 10)}[backend]
    with two_databases(backend) as (small_url, large_url):
        small = TickDb(small_url, projects=1_000, per_project=10, due=1_000)
        large = TickDb(large_url, projects=shape[0], per_project=shape[1], due=1_000)
        now = at("2025-10-22")
        small.tick(now)  # warm both (caches, plans); not counted
        large.tick(now)
        small.times.clear()
        large.times.clear()
        for r in range(ROUNDS):
            for db in (small, large)[:: 1 if r % 2 == 0 else -1]:
                db.tick(now)
        a, b = statistics.median(small.times), statistics.median(large.times)
        name = "SQLite file" if backend == "sqlite" else "PostgreSQL 15"
        print(f"(a) [{name}] median of {ROUNDS} ticks each")
        print(
            f"    tick: {small.created} due among {small.total:>9,} deadlines: {a:6.3f} s "
            f"(built in {small.build:.0f} s)"
        )
        print(
            f"    tick: {large.created} due among {large.total:>9,} deadlines: {b:6.3f} s "
            f"(built in {large.build:.0f} s: {shape[0]:,} projects × {shape[1]})"
        )
        print(f"    ratio 1M / 10k: {b / a:.2f}×  (goal: within 3×)")
        small.wf.close()
        large.wf.close()


def ours_drain(path: Path, n: int) -> tuple[float, float]:
    wf = Workflow.open(f"sqlite:///{path}")
    contracted_project(wf)
    clone(wf.engine, projects=n, deadlines_per_project=1, due=n)
    now = at("2025-10-22")
    t0 = time.perf_counter()
    wf.tick(now)
    t1 = time.perf_counter()
    wf.relay(now)
    t2 = time.perf_counter()
    with wf.engine.connect() as conn:
        rows = conn.execute(text("SELECT count(*) FROM gpw_inbox")).scalar_one()
    wf.close()
    assert rows >= n, rows
    return t1 - t0, t2 - t1


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
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            try:
                conn = sqlite3.connect(NAIVE_DB, timeout=30)
                done = conn.execute("SELECT count(*) FROM inbox").fetchone()[0]
                conn.close()
            except sqlite3.OperationalError:  # the jobs hold the lock: ask again
                done = 0
            if done >= n:
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - t0
    finally:
        scheduler.shutdown(wait=True)
    if done < n:
        raise RuntimeError(f"the naive design wrote {done} of {n} inbox rows in 600 s")
    return elapsed


def part_b() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        n = 10_000
        # three drains, each on a fresh database: the first in the process also compiles the
        # notice templates it needs (once per process, as in a worker)
        drains = sorted((ours_drain(d / f"ours{i}.db", n) for i in range(3)), key=sum)
        tick, relay = drains[1]
        ours = tick + relay
        naive_n = 2_000
        naive = naive_drain(d / "naive.db", naive_n) * n / naive_n
        print(
            f"(b) drain {n:,} due deadlines into the inbox (SQLite file): tick + relay "
            f"{ours:6.2f} s ({ours / n * 1e3:.3f} ms each; tick {tick:.2f} s, relay {relay:.2f} s;"
            f" median of 3, {min(map(sum, drains)):.2f}–{max(map(sum, drains)):.2f} s)"
        )
        print(
            f"    APScheduler SQLAlchemyJobStore, a date job per deadline: {naive:6.2f} s "
            f"({naive / n * 1e3:.2f} ms each; measured on {naive_n:,}, scaled)"
        )
        print(f"    speed-up: {naive / ours:.1f}×  (goal ≥ 20×)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--part", choices=("a", "b", "both"), default="both")
    args = parser.parse_args()
    print(machine())
    if args.part in ("a", "both"):
        for backend in ("sqlite", "postgresql") if args.backend == "both" else (args.backend,):
            part_a(backend)
    if args.part in ("b", "both"):
        part_b()


if __name__ == "__main__":
    main()
