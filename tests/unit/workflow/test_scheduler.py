"""The worker: APScheduler only as the trigger; the database keeps the work; the injected clock
decides what is due.

Every workflow here runs on a fixed clock, so what a pass sends does not depend on the real date.
Real time appears only as a generous upper bound when waiting for a background pass to happen.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from support import CLERK, at, project_in, sign_data

from notifications.testing import RecordingChannel
from workflow import Workflow
from workflow.notices import Notice
from workflow.scheduler import Worker

HOUR = 3600.0


def _wait(predicate: Callable[[], bool], seconds: float = 20.0) -> bool:
    """Poll until ``predicate`` holds; the timeout only bounds a hung test, it asserts nothing."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def fixed(now: datetime) -> Callable[[], datetime]:
    return lambda: now


@pytest.fixture
def started() -> Iterator[list[Worker]]:
    """Workers started by a test, stopped whatever happens."""
    workers: list[Worker] = []
    yield workers
    for worker in workers:
        worker.stop()


def start(worker: Worker, started: list[Worker]) -> Worker:
    started.append(worker)
    worker.start()
    return worker


def kinds(wf: Workflow) -> set[tuple[str, str]]:
    return {(n.deadline_kind, n.stage) for n in wf.notices()}


def test_the_worker_ticks_and_relays_on_its_own(db_url: str, started: list[Worker]) -> None:
    now = at("2026-08-03")  # 2025-09-26's contract: end-of-term reminder sent 2026-07-27
    channel = RecordingChannel()
    wf = Workflow.open(db_url, channels=[channel], clock=fixed(now))
    project_in(wf, "contracted")
    wf.directory.add(org="大武口区人民政府", role="government", name="王区长")
    wf.directory.add(org="大武口区民政局", role="purchaser", name="张敏")
    worker = start(Worker(wf, tick_seconds=HOUR, relay_seconds=HOUR), started)
    assert _wait(lambda: worker.passes == 1)
    # after the outage only the latest stage of each went out (contract_end has one stage);
    # evaluation#2 (due 2026-09-28) is not due on this clock, whatever the real date
    assert kinds(wf) == {
        ("dispatch", "escalation_2"),
        ("payment_1", "escalation_2"),
        ("evaluation", "escalation_2"),
        ("contract_end", "reminder"),
    }
    assert {n.status for n in wf.notices()} == {"sent"}  # the same pass relayed them
    assert sorted(person.name for _, person, _ in channel.sent) == ["张敏"] + ["王区长"] * 3
    assert worker.last_tick == now
    wf.close()


def test_what_is_due_is_judged_by_the_injected_clock_not_the_real_one(
    db_url: str, started: list[Worker]
) -> None:
    # the real date is long past every stage; the clock says only the reminders are due
    now = at("2025-10-21")  # dispatch and payment_1 due 2025-10-23: reminders since 10-20 09:00
    wf = Workflow.open(db_url, clock=fixed(now))
    project_in(wf, "contracted")
    worker = start(Worker(wf, tick_seconds=HOUR, relay_seconds=HOUR), started)
    assert _wait(lambda: worker.passes == 1)
    assert kinds(wf) == {("dispatch", "reminder"), ("payment_1", "reminder")}
    assert worker.last_tick == now
    health = wf.health()  # tick and relay both stamped the clock's now, not the real time
    assert datetime.fromisoformat(health["last_tick"]) == now
    assert datetime.fromisoformat(health["last_relay"]) == now
    wf.close()


def test_a_new_deadline_already_due_by_the_clock_wakes_the_tick(
    db_url: str, started: list[Worker]
) -> None:
    wf = Workflow.open(db_url, clock=fixed(at("2025-11-30")))
    pid, _ = project_in(wf, "awarded")
    worker = start(Worker(wf, tick_seconds=HOUR, relay_seconds=HOUR), started)
    assert _wait(lambda: worker.passes == 1)
    assert wf.notices() == []
    # signing on 2025-09-26 opens deadlines whose stages the clock already has past: the tick,
    # planned an hour away, runs now
    wf.fire(pid, "sign_contract", actor=CLERK, at=at("2025-09-26"), **sign_data())
    assert _wait(lambda: worker.passes == 2)
    # R14: and the training before duty, due with the dispatch (none recorded)
    assert kinds(wf) == {
        ("dispatch", "escalation_2"),
        ("payment_1", "escalation_2"),
        ("training", "escalation_2"),
    }
    wf.close()


def test_a_stage_not_yet_due_by_the_clock_leaves_the_plan_alone(
    db_url: str, started: list[Worker]
) -> None:
    now = at("2025-09-26", 12)
    wf = Workflow.open(db_url, clock=fixed(now))
    pid, _ = project_in(wf, "awarded")
    worker = start(Worker(wf, tick_seconds=HOUR, relay_seconds=HOUR), started)
    assert _wait(lambda: worker.passes == 1)
    job = worker.scheduler.get_job("gpw-tick")
    assert job is not None
    planned = job.next_run_time
    # the first stage (dispatch reminder, 2025-10-20 09:00) is weeks away on the clock
    wf.fire(pid, "sign_contract", actor=CLERK, at=at("2025-09-26"), **sign_data())
    worker.wake(now + timedelta(days=1))
    assert job.next_run_time == planned == worker.scheduler.get_job("gpw-tick").next_run_time
    assert worker.passes == 1 and wf.notices() == []
    # a stage already past on the clock moves the run up
    worker.wake(now - timedelta(minutes=1))
    assert _wait(lambda: worker.passes == 2)
    assert wf.notices() == []  # the clock still says nothing is due
    wf.close()


def test_a_failing_pass_does_not_stop_the_worker(db_url: str, started: list[Worker]) -> None:
    now = at("2026-01-05")
    wf = Workflow.open(db_url, clock=fixed(now))
    errors: list[BaseException] = []
    seen: list[datetime | None] = []
    original = wf.tick

    def flaky(now: datetime | None = None) -> list[Notice]:
        seen.append(now)
        if len(seen) == 1:
            raise RuntimeError("database went away")
        return list(original(now))

    wf.tick = flaky  # type: ignore[method-assign]
    worker = start(
        Worker(wf, tick_seconds=0.2, relay_seconds=HOUR, on_error=errors.append), started
    )
    assert _wait(lambda: worker.passes >= 1)
    worker.stop()
    assert [str(e) for e in errors] == ["database went away"]
    assert worker.last_tick == now
    assert set(seen) == {now}  # every pass asked for the clock's now, never the real time
    wf.close()
