"""The worker: APScheduler only as the clock; the database keeps the work."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from support import CLERK, at, project_in, sign_data

from notifications.testing import RecordingChannel
from workflow import Workflow
from workflow.scheduler import Worker


def _wait(predicate, seconds: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_the_worker_ticks_and_relays_on_its_own(db_path: Path) -> None:
    channel = RecordingChannel()
    wf = Workflow.open(f"sqlite:///{db_path}", channels=[channel])
    project_in(wf, "contracted")  # 2025–26 deadlines: all passed by the real clock
    wf.directory.add(org="大武口区人民政府", role="government", name="王区长")
    worker = Worker(wf, tick_seconds=3600, relay_seconds=3600)
    worker.start()
    try:
        assert _wait(lambda: len(channel.sent) == 3)
    finally:
        worker.stop()
    # after the outage only the latest stage of each went out (contract_end has one stage)
    assert {(n.deadline_kind, n.stage) for n in wf.notices()} == {
        ("dispatch", "escalation_2"),
        ("payment_1", "escalation_2"),
        ("evaluation", "escalation_2"),
        ("contract_end", "reminder"),
    }
    assert {n.status for n in wf.notices()} == {"sent"}
    assert worker.passes >= 1 and worker.last_tick is not None
    wf.close()


def test_a_new_earlier_deadline_wakes_the_tick_early(db_path: Path) -> None:
    wf = Workflow.open(f"sqlite:///{db_path}", clock=lambda: datetime.now(UTC))
    pid, _ = project_in(wf, "awarded")
    worker = Worker(wf, tick_seconds=3600, relay_seconds=3600)
    worker.start()
    try:
        assert _wait(lambda: worker.passes == 1)
        job = worker.scheduler.get_job("gpw-tick")
        planned = job.next_run_time
        # signing long ago opens deadlines whose stages are already due: the tick moves up
        wf.fire(pid, "sign_contract", actor=CLERK, at=at("2025-09-26"), **sign_data())
        assert worker.scheduler.get_job("gpw-tick").next_run_time < planned
        assert _wait(lambda: worker.passes == 2)
        assert len(wf.notices()) == 4
    finally:
        worker.stop()
    wf.close()


def test_a_failing_pass_does_not_stop_the_worker(db_path: Path) -> None:
    wf = Workflow.open(f"sqlite:///{db_path}")
    errors: list[BaseException] = []
    calls = {"n": 0}
    original = wf.tick

    def flaky(now: datetime | None = None) -> list[object]:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database went away")
        return list(original(now))

    wf.tick = flaky  # type: ignore[method-assign]
    worker = Worker(wf, tick_seconds=0.2, relay_seconds=3600, on_error=errors.append)
    worker.start()
    try:
        assert _wait(lambda: worker.passes >= 1)
    finally:
        worker.stop()
    assert [str(e) for e in errors] == ["database went away"]
    assert timedelta(0) <= datetime.now(UTC) - worker.last_tick < timedelta(seconds=30)
    wf.close()
