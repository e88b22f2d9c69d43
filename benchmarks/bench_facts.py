"""The overview's R18 shares and R19 slips at 100k projects, from the stored facts, against the
bare SQL that feeds them and against replaying each project's trail.

Run: .venv/bin/python benchmarks/bench_facts.py [--backend sqlite|postgresql|both]
     [--projects 100000] [--rounds 7]   (goal: ours / bare ≤ 3×; default: both)

The database is bench_dashboard's (100,000 projects over 60 purchasers, copies by SQL) plus a fact
row a project (``gpw_project_fact``, as migration 0006 and the events keep it): two creation
years, budgets, funds stated by two plans in three, a done step's slip for one project in seven,
an open step's window ending on one of 400 days for one in three, closed ones inactive.

Timed, seen on 2026-06-15 by an admin and by a county supervisor: ``Facts.slipping`` and
``Facts.budget_shares`` as the overview calls them (the candidates, the exact slip of each on the
day, the read models), against the same three statements bare (rows fetched, nothing else); and,
for scale, the project page's plan against actual for 200 projects (a trail read and replayed per
project), extrapolated to every project: what a list without stored facts would cost.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import contracted_project
from bench_dashboard import NOW, build, database, machine
from sqlalchemy import text

from states.deadlines import business_date
from workflow import Workflow
from workflow.services.scope import Scope
from workflow.store import facts as store
from workflow.store import lists as lists_store


def _facts_sql(dialect: str) -> str:
    if dialect == "sqlite":
        year = "CAST(strftime('%Y', p.created_at) AS INTEGER)"
        created = "date(p.created_at)"
        plan_to = "date('2025-03-31', '+' || (p.id % 400) || ' days')"
    else:
        year = "CAST(EXTRACT(YEAR FROM p.created_at) AS INTEGER)"
        created = "CAST(p.created_at AS DATE)"
        plan_to = "DATE '2025-03-31' + (p.id % 400)"
    return (
        "INSERT INTO gpw_project_fact (project_id, purchaser, year, state, active, counted, "
        "budget_cents, funds_cents, created_on, done_slip, done_step, plan_to, open_step) "
        f"SELECT p.id, p.purchaser, {year}, p.state, p.state <> 'closed', p.state <> 'draft', "
        "120000000 + p.id % 1000 * 100, CASE WHEN p.id % 3 = 0 THEN NULL ELSE 10000000000 END, "
        f"{created}, CASE WHEN p.id % 7 = 0 THEN p.id % 40 END, "
        "CASE WHEN p.id % 7 = 0 THEN 'contract_signed' END, "
        f"CASE WHEN p.id % 3 = 0 THEN {plan_to} END, "
        "CASE WHEN p.id % 3 = 0 THEN 'first_payment' END "
        "FROM gpw_project p WHERE p.id <> 1"
    )


def median(fn: Callable[[], Any], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def run_backend(backend: str, projects: int, rounds: int) -> None:
    with database(backend) as url:
        wf = Workflow.open(url, clock=lambda: NOW)
        contracted_project(wf)
        build(wf.engine, projects)
        with wf.engine.begin() as conn:
            conn.execute(text(_facts_sql(wf.engine.dialect.name)))
        with wf.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE" if backend == "sqlite" else "VACUUM ANALYZE"))
        facts = wf.lists._facts
        calendar = wf.calendar.current()
        today = business_date(NOW)
        name = "SQLite file (WAL)" if backend == "sqlite" else "PostgreSQL (loopback)"
        print(f"[{name}] {projects:,} projects, a fact row each; medians of {rounds} rounds")
        for label, scope in (
            ("admin", Scope.all()),
            ("county supervisor", Scope.of("supervisor", "自治区民政厅", ["县7单位"])),
        ):
            with wf.engine.connect() as conn:
                seen = lists_store.resolve(conn, scope)

            def ours(seen: Any = seen) -> Any:
                with wf.db.read() as conn:
                    return (
                        facts.slipping(conn, seen, today, calendar),
                        facts.budget_shares(conn, seen, today.year),
                    )

            def bare(seen: Any = seen) -> Any:
                with wf.engine.connect() as conn:
                    return (
                        store.slip_candidates(conn, seen, today, 10),
                        store.shares(conn, seen, today.year),
                    )

            shown = ours()
            a, b = median(ours, rounds), median(bare, rounds)
            print(
                f"  slipping + shares ({label}): ours {a * 1e3:7.2f} ms   bare SQL "
                f"{b * 1e3:7.2f} ms   {a / b:5.2f}×   ({len(shown[0])} slipping, "
                f"{len(shown[1])} purchasers)"
            )
        sample = list(range(2, 202))
        t = time.perf_counter()
        for pid in sample:
            wf.details.project_detail(pid, Scope.all(), now=NOW).plan_vs_actual  # noqa: B018
        each = (time.perf_counter() - t) / len(sample)
        print(
            f"  replaying trails instead: {each * 1e3:.2f} ms a project, about "
            f"{each * projects:.0f} s for every project"
        )
        print("  (goal: ours / bare ≤ 3×)")
        wf.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--projects", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    print(machine())
    for backend in ("sqlite", "postgresql") if args.backend == "both" else (args.backend,):
        run_backend(backend, args.projects, args.rounds)


if __name__ == "__main__":
    main()
