"""Disclosing 10,000 projects' OCDS release packages against serialising the same rows with
``json.dumps`` alone (issue #9; goal ≤ 3×), and what publishing costs an event.

Run: .venv/bin/python benchmarks/bench_disclose.py [--projects N] [--backend sqlite|postgresql]

Set-up: one project walked through the facade to ``contracted`` (five releases: planning,
tender, tenderUpdate, award, contract); its row and releases copied to N projects (each copy's
ocid and release ids its own). Then, alternating, median of 5 rounds:

* gpw: ``wf.disclosure.packages()`` (every published release, by project and entry, in one
  release package) then ``json.dumps`` of the package — what ``gpw disclose --out`` writes;
* baseline: ``SELECT release FROM gpw_release`` on the same engine and ``json.dumps`` of the
  list of rows: the same rows serialized, nothing else;
* also, for the record: the same N packages one project at a time (``wf.disclose(id)``, a read
  transaction each), and what building one release costs inside an event's transaction
  (``states.ocds.release`` on an in-service project, redaction included).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _setup import clone, contracted_project, machine
from sqlalchemy import select

from states import ocds
from workflow import Workflow
from workflow.tables import release_t


def copy_releases(wf: Workflow, template: int) -> int:
    """Give every other project a copy of the template's releases; returns how many rows."""
    with wf.engine.begin() as conn:
        rows = list(conn.execute(select(release_t).where(release_t.c.project_id == template)))
        ids = [int(r[0]) for r in conn.execute(select(release_t.c.project_id).distinct())]
        from workflow.tables import project_t

        projects = [int(r[0]) for r in conn.execute(select(project_t.c.id))]
        batch: list[dict[str, Any]] = []
        made = 0
        prefix = wf.disclosure.ocid_prefix
        for pid in projects:
            if pid in ids:
                continue
            for r in rows:
                release = {
                    **r.release,
                    "ocid": ocds.ocid(prefix, pid),
                    "id": ocds.release_id(prefix, pid, r.seq),
                }
                batch.append(
                    {
                        "ocid": release["ocid"],
                        "release_id": release["id"],
                        "project_id": pid,
                        "seq": r.seq,
                        "tag": r.tag,
                        "date": r.date,
                        "release": release,
                        "published_at": r.published_at,
                    }
                )
            if len(batch) >= 5000:
                conn.execute(release_t.insert(), batch)
                made += len(batch)
                batch = []
        if batch:
            conn.execute(release_t.insert(), batch)
            made += len(batch)
    return made + len(rows)


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        if args.backend == "sqlite":
            run(f"sqlite:///{tmp}/bench.db", args)
        else:
            import pg

            with pg.running() as server:
                run(server.url(server.create_database()), args)


def run(url: str, args: argparse.Namespace) -> None:
    wf = Workflow.open(url)
    template = contracted_project(wf)
    clone(wf.engine, projects=args.projects - 1, deadlines_per_project=1, due=1, template=template)
    releases = copy_releases(wf, template)
    print(f"[{args.backend}] {args.projects} projects, {releases} releases")

    def ours() -> None:
        json.dumps(wf.disclosure.packages(), ensure_ascii=False)

    def baseline() -> None:
        with wf.engine.connect() as conn:
            rows = conn.execute(select(release_t.c.release)).all()
        json.dumps([r.release for r in rows], ensure_ascii=False)

    def one_by_one() -> None:
        for pid in range(1, args.projects + 1):
            json.dumps(wf.disclose(pid), ensure_ascii=False)

    ours(), baseline()  # warm: compiled statements, caches
    a, b = [], []
    for i in range(args.rounds):
        pair = [("ours", ours), ("base", baseline)]
        for name, fn in pair if i % 2 == 0 else reversed(pair):
            (a if name == "ours" else b).append(timed(fn))
    each = timed(one_by_one)
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"  disclosure.packages() + json.dumps: {ma:8.3f} s")
    print(f"  SELECT release + json.dumps:        {mb:8.3f} s")
    print(f"  ratio ours/baseline: {ma / mb:.2f}x  (goal <= 3x)")
    print(
        f"  one package a project (wf.disclose x {args.projects}): {each:8.3f} s "
        f"({each / mb:.2f}x the baseline)"
    )
    build_cost(wf)
    wf.close()


def build_cost(wf: Workflow) -> None:
    """What publishing costs an event: building one release (an in-service project), and
    ``fire`` of a public event (``record_review``, repeated on procuring projects) with its
    release published in its transaction against the same with publication switched off."""
    from drivers import Driver, pay
    from support import CLERK, FINANCE, GOV, at, contractor, new_project

    d = Driver().to("in_service")
    pay(d, 1, "300000.00", "2025-10-21")
    rec = d.records[-1]
    entry = {"seq": 9, "event": rec.event, "at": rec.at, "from_state": rec.from_state.value}
    data = d.project.to_json()
    n = 2000
    start = time.perf_counter()
    for _ in range(n):
        ocds.release(d.project, entry, data=data)
    per = (time.perf_counter() - start) / n * 1e6
    print(f"  building one release (in-service project, redacted): {per:.0f} µs")

    cid = contractor(wf, name="基准社工机构")
    projects = []
    for _ in range(100):
        pid = new_project(wf)
        wf.fire(pid, "submit", actor=CLERK, at=at("2025-08-01"))
        wf.fire(pid, "review_budget", actor=FINANCE, at=at("2025-08-04"), approved=True)
        wf.fire(pid, "approve", actor=GOV, at=at("2025-08-05"))
        wf.fire(
            pid,
            "publish_notice",
            actor=CLERK,
            at=at("2025-08-06"),
            method="open_tender",
            notice="公告",
        )
        projects.append(pid)
    review = {
        "reviewers": ["甲乙", "丙丁"],
        "criteria": {"quality": 70, "price": 30},
        "scores": {str(cid): 90},
    }
    listeners = list(wf._projects._written)

    def round_(publish: bool) -> float:
        wf._projects._written[:] = listeners if publish else []
        start = time.perf_counter()
        for pid in projects:
            wf.fire(pid, "record_review", actor=CLERK, at=at("2025-09-10"), **review)
        return (time.perf_counter() - start) / len(projects) * 1e6

    on, off = [], []
    for i in range(6):
        for publish in (True, False) if i % 2 == 0 else (False, True):
            (on if publish else off).append(round_(publish))
    wf._projects._written[:] = listeners
    a, b = statistics.median(on), statistics.median(off)
    print(
        f"  fire(record_review), release published: {a:6.0f} µs; without: {b:6.0f} µs "
        f"({a / b:.2f}x)"
    )


if __name__ == "__main__":
    main()
