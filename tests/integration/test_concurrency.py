"""Two writers on one project: exactly one wins, the other gets ConcurrentUpdate; none is lost."""

from __future__ import annotations

import multiprocessing as mp
import threading
from pathlib import Path
from typing import Any

from support import FINANCE, at, project_in

from workflow import ConcurrentUpdate, Workflow


def _pay(url: str, pid: int, version: int, barrier: Any, results: Any) -> None:
    workflow = Workflow.open(url)
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
    finally:
        workflow.close()


def test_two_threads_with_the_same_version_one_wins(wf: Workflow, db_path: Path) -> None:
    pid, _ = project_in(wf, "contracted")
    version = wf.project(pid).version
    barrier = threading.Barrier(2)
    import queue

    results: queue.Queue[str] = queue.Queue()
    threads = [
        threading.Thread(target=_pay, args=(f"sqlite:///{db_path}", pid, version, barrier, results))
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    outcomes = sorted(results.get() for _ in range(2))
    assert outcomes == ["conflict", "won"]
    assert len(wf.project(pid).payments) == 1
    assert wf.verify().ok


def test_two_processes_with_the_same_version_one_wins(wf: Workflow, db_path: Path) -> None:
    pid, _ = project_in(wf, "contracted")
    version = wf.project(pid).version
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_pay, args=(f"sqlite:///{db_path}", pid, version, barrier, results))
        for _ in range(2)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert sorted(results.get(timeout=5) for _ in range(2)) == ["conflict", "won"]
    assert len(wf.project(pid).payments) == 1


def test_many_writers_without_expected_version_lose_nothing(wf: Workflow, db_path: Path) -> None:
    """Without expected_version writers serialize: every accepted event lands, in order."""
    pid, _ = project_in(wf, "in_service")
    from support import CONTRACTOR

    errors: list[BaseException] = []

    def request(i: int) -> None:
        workflow = Workflow.open(f"sqlite:///{db_path}")
        try:
            workflow.fire(
                pid,
                "request_subcontract",
                actor=CONTRACTOR,
                at=at("2025-11-03"),
                part=f"部分{i}",
                to="乙",
                share="0.05",  # eight pieces, 0.40 in all: within R9's 0.5
            )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            workflow.close()

    threads = [threading.Thread(target=request, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    view = wf.project(pid)
    assert sorted(r["id"] for r in view.subcontract_requests) == list(range(1, 9))
    assert len(wf.history(pid)) == 9 + 8
    assert wf.verify().ok
