"""APScheduler as the trigger, never the store of record nor the judge of time (DESIGN.md §3).

Two interval jobs in an in-memory job store call ``tick`` and ``relay``; ``coalesce=True`` and
``misfire_grace_time=None`` make a late run happen once rather than be dropped or repeated. The
database holds every deadline and notice, so a restarted worker simply catches up. A transaction
that schedules an earlier stage wakes the tick job early (same process; other processes are
covered by the interval). Cron users can call ``gpw tick`` and ``gpw relay`` instead.

Real time only decides *when a pass runs*. Every business decision (what is due, what a relay
retries, what ``last_tick`` says) reads the workflow's injected clock, ``wf.clock``: a worker on a
fixed or simulated clock sends exactly what that clock makes due, whatever the real date is.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from workflow.facade import Workflow

_LOGGER = logging.getLogger("gpw.worker")


class Worker:
    """Runs ``tick`` and ``relay`` (with the subscriptions' deliveries, issue #11) on
    intervals, and publishes the day's anchor (R15).

    Args:
        wf: the workflow.
        tick_seconds: how often to look for due deadlines.
        relay_seconds: how often to deliver pending notices.
        lease_seconds: how long a relay holds the notices it claimed.
        on_error: called with any exception a pass raised (the worker keeps running).
    """

    def __init__(
        self,
        wf: Workflow,
        *,
        tick_seconds: float = 60.0,
        relay_seconds: float = 15.0,
        lease_seconds: int = 300,
        on_error: Callable[[BaseException], Any] | None = None,
    ) -> None:
        self.wf = wf
        self.tick_seconds = tick_seconds
        self.relay_seconds = relay_seconds
        self.lease_seconds = lease_seconds
        self.on_error = on_error
        self.scheduler = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
            timezone=UTC,
        )
        self.passes = 0
        self.last_tick: datetime | None = None
        self._lock = threading.Lock()

    def _tick(self) -> None:
        try:
            with self._lock:
                now = self.wf.clock()  # one business instant for the whole pass
                self.wf.tick(now)
                self.last_tick = now
                self.wf.relay(now, lease_seconds=self.lease_seconds)
                # the subscriptions' CloudEvents (issue #11)
                self.wf.subscriptions.deliver(now, lease_seconds=self.lease_seconds)
                # the audit chains' heads, published once a day for the public feed (R15)
                self.wf.disclosure.publish_anchor_if_due(now)
                self.passes += 1
        except Exception as exc:  # keep the clock running; the database keeps the work
            _LOGGER.exception("tick failed")
            if self.on_error is not None:
                self.on_error(exc)

    def _relay(self) -> None:
        try:
            with self._lock:
                now = self.wf.clock()
                self.wf.relay(now, lease_seconds=self.lease_seconds)
                self.wf.subscriptions.deliver(now, lease_seconds=self.lease_seconds)
        except Exception as exc:
            _LOGGER.exception("relay failed")
            if self.on_error is not None:
                self.on_error(exc)

    def wake(self, fire_at: datetime) -> None:
        """Run the tick job early if a stage falls due, by the workflow's clock, before its next
        planned run: at once if ``fire_at`` is already past on ``wf.clock``, else after the time
        that clock still has to run (``fire_at`` − its now) in real time."""
        job = self.scheduler.get_job("gpw-tick")
        if job is None or job.next_run_time is None:
            return
        wait = max(fire_at - self.wf.clock(), timedelta(0))
        when = _real_now() + wait
        if when < job.next_run_time:
            job.modify(next_run_time=when)

    def start(self) -> None:
        self.scheduler.add_job(
            self._tick,
            "interval",
            seconds=self.tick_seconds,
            id="gpw-tick",
            next_run_time=_real_now(),  # the first pass at once
            replace_existing=True,
        )
        self.scheduler.add_job(
            self._relay,
            "interval",
            seconds=self.relay_seconds,
            id="gpw-relay",
            replace_existing=True,
        )
        self.wf.on_schedule(self.wake)
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)


def _real_now() -> datetime:
    """The real time, for APScheduler's triggers only (never for what is due)."""
    return datetime.now(UTC)
