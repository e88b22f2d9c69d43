"""`wf.import_projects` (issue #11) of a 10,000-row workbook vs the same events fired through
`Workflow.fire` in a loop.

Run: .venv/bin/python benchmarks/bench_import.py [--rows 10000] [--chunks 5]
     [--backend sqlite|postgresql|both] [--target mixed|in_service]
     (goal: import / fire loop ≤ 1.2×; default: SQLite)

The workbook's rows cycle through the four target states (draft, approved, contracted,
in_service: 1, 4, 8 and 10 events a row; `--target in_service`: every row the longest path).
Each side has its own database with the same contractor registered. The import side reads the
workbook (openpyxl, every cell parsed) and runs every row's events in one transaction, a
SAVEPOINT a row (and one an event). The loop side fires exactly the events the import wrote,
read back from the import's audit trail (the same actors, times and data, without the mark):
`create_project`, then `fire` per event, each its own transaction, as a host bringing the
projects in by hand would. The rows are cut into `--chunks` workbooks; each chunk is imported,
then the same chunk replayed, so drift on the machine hits both sides alike.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _setup import machine
from openpyxl import Workbook as Xlsx

from states.enums import QUALIFICATIONS
from states.machine import EVENTS
from states.model import Actor
from workflow import Workflow
from workflow.services.import_workbook import read_workbook

TZ = ZoneInfo("Asia/Shanghai")
#: the clock of both sides: after every date in the workbook
NOW = datetime(2026, 12, 4, 10, tzinfo=TZ)
XINGHAI = "星海社会工作服务中心"
HEADERS = ["标题", "购买主体", "预算", "服务内容", "采购方式", "承接主体", "签订日期", "生效日期",
           "合同金额", "合同期限（月）", "合同形式", "目标状态", "派遣日期", "派遣人员", "培训日期",
           "培训学时"]  # fmt: skip
TARGETS = ("draft", "approved", "contracted", "in_service")
EVENTS_A_ROW = {"draft": 1, "approved": 4, "contracted": 8, "in_service": 10}


def sheet_row(i: int, target: str) -> list[Any]:
    plan = [f"入户核查员服务（{i}）", "大武口区民政局", 1200000 + i, "入户核查:16;回访:2"]
    contract: list[Any] = [None] * 7
    service: list[Any] = [None] * 4
    if target in ("contracted", "in_service"):
        signed = date(2025, 9, 26)
        contract = ["公开招标", XINGHAI, signed, "2025-10-01", 1000000.5, 12, "购买"]
    if target == "in_service":
        service = ["2025-10-15", "张三:本科;李四:大专", date(2025, 10, 10), 8]
    return [*plan, *contract, target, *service]


def write_book(path: Path, first: int, count: int, target: str) -> Path:
    book = Xlsx()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADERS)
    for i in range(first, first + count):
        sheet.append(sheet_row(i, TARGETS[i % 4] if target == "mixed" else target))
    book.save(path)
    return path


def opened(url: str) -> Workflow:
    wf = Workflow.open(url, clock=lambda: NOW)
    wf.register_contractor(
        actor=Actor(id="admin", role="admin"),
        name=XINGHAI,
        org_type="social_organization",
        qualifications=dict.fromkeys(QUALIFICATIONS, True),
        at=datetime(2025, 7, 1, 10, tzinfo=TZ),
    )
    return wf


Call = tuple[str, Actor, datetime, dict[str, Any]]


def calls_of(wf: Workflow, project_ids: list[int]) -> list[list[Call]]:
    """The events the import wrote, per project, as the loop fires them: the entry's actor,
    time and the event's own fields (the effect's extras and the import's mark left out)."""
    projects = []
    for pid in project_ids:
        calls: list[Call] = []
        for e in wf.history(pid):
            actor = Actor(id=e.actor_id, role=e.role, org=e.org)
            if e.event == "create_project":
                data = {k: v for k, v in e.data.items() if k != "imported"}
            else:
                fields = EVENTS[e.event].payload.model_fields
                data = {k: v for k, v in e.data.items() if k in fields}
            calls.append((e.event, actor, e.at, data))
        projects.append(calls)
    return projects


def replay(wf: Workflow, projects: list[list[Call]]) -> None:
    for calls in projects:
        (_, actor, at, data), *events = calls
        pid = wf.create_project(actor=actor, at=at, **data)
        for event, who, when, fields in events:
            wf.fire(pid, event, actor=who, at=when, **fields)


@contextmanager
def databases(backend: str) -> Iterator[tuple[str, str]]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'import.db'}", f"sqlite:///{Path(tmp) / 'fire.db'}"
    else:
        import pg

        with pg.running() as server:
            yield server.url(server.create_database()), server.url(server.create_database())


def measure(backend: str, rows: int, chunks: int, target: str) -> float:
    with databases(backend) as (url_a, url_b), tempfile.TemporaryDirectory() as tmp:
        ours, theirs = opened(url_a), opened(url_b)
        size = rows // chunks
        books = [
            write_book(Path(tmp) / f"chunk{k}.xlsx", k * size, size, target) for k in range(chunks)
        ]
        # warm both paths (templates, statements, psycopg's prepared statements) on 40 rows
        warm = ours.import_projects(write_book(Path(tmp) / "warm.xlsx", rows, 40, target))
        replay(theirs, calls_of(ours, [r.project_id for r in warm.rows]))
        t_import: list[float] = []
        t_read: list[float] = []
        t_loop: list[float] = []
        events = 0
        for book in books:
            t0 = time.perf_counter()
            read_workbook(book)
            t_read.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            report = ours.import_projects(book)
            t_import.append(time.perf_counter() - t0)
            assert report.created == size
            calls = calls_of(ours, [r.project_id for r in report.rows])
            events += sum(len(c) for c in calls)
            t0 = time.perf_counter()
            replay(theirs, calls)
            t_loop.append(time.perf_counter() - t0)
        assert ours.verify().ok and theirs.verify().ok
        a, b, r = sum(t_import), sum(t_loop), sum(t_read)
        name = "SQLite file (WAL)" if backend == "sqlite" else "PostgreSQL (loopback)"
        print(f"[{name}] {size * chunks} rows ({target}) in {chunks} workbooks, {events} events")
        print(f"  gpw import (read + events):     {a:8.2f} s   {a / events * 1e6:6.0f} µs/event")
        print(f"    of which reading the workbook: {r:7.2f} s")
        print(f"  Workflow.fire loop (same events): {b:6.2f} s   {b / events * 1e6:6.0f} µs/event")
        ratios = [x / y for x, y in zip(t_import, t_loop, strict=True)]
        print(
            f"  ratio import / fire loop: {a / b:.2f}×  (goal ≤ 1.2×); per chunk "
            + ", ".join(f"{x:.2f}" for x in ratios)
            + f" (median {statistics.median(ratios):.2f})"
        )
        ours.close()
        theirs.close()
        return a / b


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--chunks", type=int, default=5)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--target", choices=("mixed", "in_service"), default="mixed")
    args = parser.parse_args()
    print(machine())
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    for backend in backends:
        measure(backend, args.rows, args.chunks, args.target)


if __name__ == "__main__":
    main()
