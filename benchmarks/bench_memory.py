"""Process memory with 100,000 projects stored against 1,000: flat, no per-project machine.

Run: .venv/bin/python benchmarks/bench_memory.py      (goal: 100k / 1k ≈ 1×)

Each measurement is a fresh process that opens a Workflow on the database and fires the same
2,000 events on random projects. The 100k database is made by copying one facade-made project's
row (plain INSERTs: the projects' audit chains are not built; the benchmark measures memory).
"""

from __future__ import annotations

import random
import resource
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, text

TZ = ZoneInfo("Asia/Shanghai")
EVENTS = 2000


def build(path: Path, n: int) -> None:
    from states.model import Actor
    from workflow import Workflow

    wf = Workflow.open(f"sqlite:///{path}")
    clerk = Actor(id="clerk", role="purchaser", org="大武口区民政局")
    wf.create_project(
        actor=clerk,
        title="模板",
        purchaser="大武口区民政局",
        budget="1000.00",
        items=[{"name": "核查", "quantity": 1}],
        at=datetime(2025, 8, 1, 10, tzinfo=TZ),
    )
    wf.close()
    engine = create_engine(f"sqlite:///{path}")
    cols = (
        "title, purchaser, policy, state, contractor_id, version, data, audit_seq, "
        "audit_head, created_at, updated_at"
    )
    with engine.begin() as conn:
        conn.execute(
            text(
                f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :k) "
                f"INSERT INTO gpw_project ({cols}) SELECT {cols} FROM gpw_project, n "
                f"WHERE gpw_project.id = 1"
            ),
            {"k": n - 1},
        )
    engine.dispose()


def child(path: str, n: int) -> None:
    from states.model import Actor
    from workflow import Workflow

    wf = Workflow.open(f"sqlite:///{path}")
    clerk = Actor(id="clerk", role="purchaser", org="大武口区民政局")
    fin = Actor(id="fin", role="finance", org="大武口区财政局")
    rng = random.Random(7)
    at = datetime(2025, 8, 2, 10, tzinfo=TZ)
    for _ in range(EVENTS):
        pid = rng.randint(1, n)
        state = wf.project(pid).state
        if state == "draft":
            wf.fire(pid, "submit", actor=clerk, at=at)
        else:
            wf.fire(pid, "review_budget", actor=fin, at=at, approved=True)
    rss = int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"{rss} {peak}")


def measure(path: Path, n: int) -> tuple[int, int]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(path), str(n)],
        capture_output=True,
        text=True,
        check=True,
    )
    rss, peak = out.stdout.split()
    return int(rss), int(peak)


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], int(sys.argv[3]))
        return
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for n in (1_000, 100_000):
            path = Path(tmp) / f"m{n}.db"
            build(path, n)
            results[n] = measure(path, n)
            size = path.stat().st_size / 1e6
            print(
                f"{n:>7} projects stored ({size:.0f} MB): RSS {results[n][0] / 2**20:.1f} MiB, "
                f"peak {results[n][1] / 2**20:.1f} MiB after {EVENTS} events"
            )
        ratio = results[100_000][1] / results[1_000][1]
        print(f"peak RSS 100k / 1k: {ratio:.2f}×  (goal: flat ≈ 1×, no per-project machine)")


if __name__ == "__main__":
    main()
