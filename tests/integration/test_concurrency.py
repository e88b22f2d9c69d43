"""Many writers at once, on SQLite and on PostgreSQL (issue #7, "PostgreSQL semantics").

- without ``expected_version`` concurrent writers serialise and all succeed, in order;
- with the same ``expected_version`` exactly one wins, the others get ``ConcurrentUpdate`` — never a
  driver error;
- writers sharing an audit stream (the directory) all succeed;
- two processes as well as two threads.
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import queue
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from conftest import far_ahead
from support import CONTRACTOR, FINANCE, at, project_in

from workflow import ConcurrentUpdate, Workflow

WRITERS = 8


def _race(n: int, work: Callable[[int], Any]) -> tuple[list[Any], list[BaseException]]:
    """Run ``work(i)`` in ``n`` threads released together; collect results and errors."""
    barrier = threading.Barrier(n)
    results: queue.Queue[Any] = queue.Queue()
    errors: queue.Queue[BaseException] = queue.Queue()

    def run(i: int) -> None:
        barrier.wait()
        try:
            results.put(work(i))
        except BaseException as exc:
            errors.put(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return list(results.queue), list(errors.queue)


def test_writers_without_expected_version_serialise_and_all_succeed(
    wf: Workflow, db_url: str
) -> None:
    pid, _ = project_in(wf, "in_service")
    entries = len(wf.history(pid))
    version = wf.project(pid).version

    def request(i: int) -> int:
        own = Workflow.open(db_url, clock=far_ahead)
        try:
            view = own.fire(
                pid,
                "request_subcontract",
                actor=CONTRACTOR,
                at=at("2025-11-03"),
                part=f"部分{i}",
                to="乙",
                share="0.05",  # eight pieces, 0.40 in all: within R9's 0.5
            )
            return int(view.version)
        finally:
            own.close()

    versions, errors = _race(WRITERS, request)
    assert errors == []
    assert sorted(versions) == list(range(version + 1, version + WRITERS + 1))
    view = wf.project(pid)
    assert view.version == version + WRITERS
    assert sorted(r["id"] for r in view.subcontract_requests) == list(range(1, WRITERS + 1))
    assert len(wf.history(pid)) == entries + WRITERS
    assert wf.verify().ok


def test_writers_with_the_same_version_one_wins(wf: Workflow, db_url: str) -> None:
    pid, _ = project_in(wf, "contracted")
    version = wf.project(pid).version

    def pay(_: int) -> str:
        own = Workflow.open(db_url, clock=far_ahead)
        try:
            own.fire(
                pid,
                "pay",
                actor=FINANCE,
                at=at("2025-10-09"),
                tranche=1,
                amount="300000.00",
                on="2025-10-09",
                expected_version=version,
            )
            return "won"
        except ConcurrentUpdate:
            return "conflict"
        finally:
            own.close()

    outcomes, errors = _race(WRITERS, pay)
    assert errors == [], [repr(e) for e in errors]  # never a driver error
    assert sorted(outcomes) == ["conflict"] * (WRITERS - 1) + ["won"]
    assert len(wf.project(pid).payments) == 1
    assert wf.verify().ok


def test_writers_sharing_an_audit_stream_all_succeed(wf: Workflow, db_url: str) -> None:
    def add(i: int) -> int:
        own = Workflow.open(db_url, clock=far_ahead)
        try:
            return int(own.directory.add(org="大武口区民政局", role="purchaser", name=f"员{i}").id)
        finally:
            own.close()

    ids, errors = _race(WRITERS, add)
    assert errors == [], [repr(e) for e in errors]
    assert len(set(ids)) == WRITERS
    assert len(wf.directory.people(org="大武口区民政局")) == WRITERS
    assert wf.verify().ok


def _pay(url: str, pid: int, version: int, barrier: Any, results: Any) -> None:
    workflow = Workflow.open(url, clock=far_ahead)
    barrier.wait()
    try:
        workflow.fire(
            pid,
            "pay",
            actor=FINANCE,
            at=at("2025-10-09"),
            tranche=1,
            amount="300000.00",
            on="2025-10-09",
            expected_version=version,
        )
        results.put("won")
    except ConcurrentUpdate:
        results.put("conflict")
    except BaseException as exc:  # reported to the parent as a failure
        results.put(repr(exc))
    finally:
        workflow.close()


def test_two_processes_with_the_same_version_one_wins(wf: Workflow, db_url: str) -> None:
    pid, _ = project_in(wf, "contracted")
    version = wf.project(pid).version
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_pay, args=(db_url, pid, version, barrier, results)) for _ in range(2)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert sorted(results.get(timeout=5) for _ in range(2)) == ["conflict", "won"]
    assert len(wf.project(pid).payments) == 1


def test_writers_on_the_servers_clock_all_succeed(wf: Workflow, db_url: str) -> None:
    """Without ``at`` an event is dated when it gets the project: a writer that read the clock
    and then waited for the lock is not dated before the writer it waited for (which would be
    refused as backdated, R15). The clock advances on every reading, as a real one does."""
    pid, _ = project_in(wf, "in_service")
    version = wf.project(pid).version
    ticks = itertools.count()
    base = far_ahead()

    def advancing() -> datetime:
        return base + timedelta(microseconds=next(ticks))

    def request(i: int) -> int:
        own = Workflow.open(db_url, clock=advancing)
        try:
            view = own.fire(
                pid,
                "request_subcontract",
                actor=CONTRACTOR,
                part=f"部分{i}",
                to="乙",
                share="0.05",
            )
            return int(view.version)
        finally:
            own.close()

    versions, errors = _race(WRITERS, request)
    assert errors == []
    assert sorted(versions) == list(range(version + 1, version + WRITERS + 1))
    times = [e.at for e in wf.history(pid)]
    assert times == sorted(times)
    assert wf.verify().ok


def test_an_event_on_the_servers_clock_is_not_dated_before_the_last_entry(wf: Workflow) -> None:
    """A writer may date an event up to five minutes ahead of the clock (R15); an event fired
    after it without ``at`` is dated at that entry's time, not refused as backdated."""
    pid, _ = project_in(wf, "in_service")
    ahead = far_ahead() + timedelta(minutes=3)
    wf.fire(
        pid, "request_subcontract", actor=CONTRACTOR, at=ahead, part="甲", to="乙", share="0.05"
    )
    wf.fire(pid, "request_subcontract", actor=CONTRACTOR, part="丙", to="丁", share="0.05")
    last = wf.history(pid)[-1]
    assert last.at == ahead
    assert wf.verify().ok
