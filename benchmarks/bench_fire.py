"""`Workflow.fire` on a SQLite file vs a bare SQLAlchemy load-update-insert-commit of the same rows.

Run: .venv/bin/python benchmarks/bench_fire.py      (goal: ours / bare ≤ 1.5×)

Both sides use the same engine (WAL, synchronous=NORMAL, BEGIN IMMEDIATE) and the same tables;
rounds alternate between them so drift on the machine hits both alike.
"""

from __future__ import annotations

import hashlib
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from states.model import Actor
from workflow import Workflow
from workflow.persistence import audit_t, project_t

TZ = ZoneInfo("Asia/Shanghai")
CLERK = Actor(id="clerk", role="purchaser", org="大武口区民政局")
FINANCE = Actor(id="fin", role="finance", org="大武口区财政局")
PROJECTS, ROUNDS, PER_ROUND = 200, 10, 200


def setup(path: Path) -> tuple[Workflow, list[int]]:
    wf = Workflow.open(f"sqlite:///{path}")
    at = datetime(2025, 8, 1, 10, tzinfo=TZ)
    ids = []
    for i in range(PROJECTS):
        pid = wf.create_project(
            actor=CLERK,
            title=f"项目{i}",
            purchaser="大武口区民政局",
            budget="1000000.00",
            items=[{"name": "核查", "quantity": 1}],
            at=at,
        )
        wf.fire(pid, "submit", actor=CLERK, at=at)
        ids.append(pid)
    return wf, ids


def ours(wf: Workflow, ids: list[int], at: datetime) -> None:
    for i in range(PER_ROUND):
        wf.fire(
            ids[i % len(ids)],
            "review_budget",
            actor=FINANCE,
            at=at,
            approved=True,
            note="预算已审核",
        )


def bare(wf: Workflow, ids: list[int], at: datetime) -> None:
    for i in range(PER_ROUND):
        pid = ids[i % len(ids)]
        with wf.engine.begin() as conn:
            row = conn.execute(select(project_t).where(project_t.c.id == pid)).one()
            data = dict(row.data)
            data["budget_review"] = {
                "approved": True,
                "note": "预算已审核",
                "by": "fin",
                "at": at.isoformat(),
            }
            digest = hashlib.sha256(f"{pid}{row.audit_seq}{data}".encode()).hexdigest()
            conn.execute(
                project_t.update()
                .where(project_t.c.id == pid, project_t.c.version == row.version)
                .values(
                    state=row.state,
                    data=data,
                    version=row.version + 1,
                    audit_seq=row.audit_seq + 1,
                    audit_head=digest,
                    updated_at=at,
                )
            )
            conn.execute(
                audit_t.insert().values(
                    stream=f"bare:{pid}",
                    seq=row.audit_seq + 1,
                    project_id=pid,
                    actor_id="fin",
                    role="finance",
                    org="大武口区财政局",
                    at=at,
                    recorded_at=at,
                    event="review_budget",
                    from_state=row.state,
                    to_state=row.state,
                    data={"approved": True},
                    prev_hash=row.audit_head,
                    hash=digest,
                )
            )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        wf, ids = setup(Path(tmp) / "bench.db")
        at = datetime(2025, 8, 4, 10, tzinfo=TZ)
        ours(wf, ids, at)  # warm both paths
        bare(wf, ids, at)
        t_ours, t_bare = [], []
        for r in range(ROUNDS):
            at += timedelta(minutes=1)
            for fn, out in ((ours, t_ours), (bare, t_bare))[:: 1 if r % 2 == 0 else -1]:
                t0 = time.perf_counter()
                fn(wf, ids, at)
                out.append((time.perf_counter() - t0) / PER_ROUND)
        a, b = statistics.median(t_ours), statistics.median(t_bare)
        print(f"fire (review_budget), SQLite file: {a * 1e6:8.0f} µs/event  (median of {ROUNDS})")
        print(f"bare load-update-insert-commit:     {b * 1e6:8.0f} µs/op")
        print(f"ratio ours/bare: {a / b:.2f}×  (goal ≤ 1.5×)")
        if "--profile" in sys.argv:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.runcall(ours, wf, ids, at + timedelta(hours=1))
            pstats.Stats(prof).sort_stats("cumulative").print_stats(15)
        wf.close()


if __name__ == "__main__":
    main()
