"""Posting notices to organisations' group robots (issue #11), for the relay.

A notice addressed to an organisation, any role, goes to each of that organisation's robots of
an enabled kind once (``dingtalk``, ``wecom``): one delivery record per notice and robot, under
the address ``robot:<id>``, retried and dead-lettered with the notice like every channel's.

Each robot takes at most 20 messages a minute (both services' limit). Before it posts, a relay
takes a slot in ``gpw_robot_send`` under the robot row's lock, on its own clock (the relay's
``now``, running on in real time while the relay runs, as its leases do; never the wall clock):
several workers share the count. A robot whose minute is full makes its notices wait: they are
tried again when a slot frees, with no attempt counted and nothing dropped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from notifications.channels import Channel, Outgoing
from notifications.robots import Robot, RobotChannel, scrub
from workflow.db import Database
from workflow.store import robots as store

_LOGGER = logging.getLogger("gpw.notices")

#: records one delivery (notice id, channel, address, person, error, now, connection, lease):
#: False when the relay lost the notice to another (nothing recorded)
Record = Callable[[int, str, str, str, str | None, datetime, Connection | None, Any], bool]


class RobotPoster:
    """The relay's part for the group-robot channels among ``channels``."""

    def __init__(self, db: Database, channels: Sequence[Channel]) -> None:
        self._db = db
        self.channels = [c for c in channels if isinstance(c, RobotChannel)]
        #: the kinds of robot posted to (the enabled channels' names)
        self.kinds = tuple(c.name for c in self.channels)

    def post(
        self,
        notices: Sequence[Any],
        robots: Mapping[str, Sequence[Robot]],
        done: set[tuple[int, str, str]],
        now: datetime,
        results: dict[int, list[dict[str, Any]]],
        reachable: set[int],
        *,
        record: Record,
        connection: Connection | None = None,
        lease: Any = None,
    ) -> dict[int, datetime]:
        """Post each notice (an outbox row) to its organisations' robots: once per robot, not
        again where ``done`` has it, each send recorded at once (fenced by ``lease``) and
        added to ``results``; a notice with a robot is ``reachable``. Returns the notices a
        full robot made wait, with when to try them again."""
        deferred: dict[int, datetime] = {}
        if not self.channels or not robots:
            return deferred
        started = lease.started if lease is not None else time.monotonic()
        #: robots found full in this call: when their next slot frees
        full: dict[int, datetime] = {}
        for channel in self.channels:
            for n in notices:
                seen: set[int] = set()
                outgoing: Outgoing | None = None
                for org in dict.fromkeys(r["org"] for r in n.recipients):
                    for robot in robots.get(org, ()):
                        if robot.kind != channel.name or robot.id in seen:
                            continue
                        seen.add(robot.id)
                        reachable.add(n.id)
                        if (n.id, channel.name, robot.address) in done:
                            continue
                        if lease is not None and n.id not in lease.held:
                            continue  # another relay holds it now: it posts, not we
                        # the relay's clock, run on in real time since the relay began
                        at = now + timedelta(seconds=time.monotonic() - started)
                        free = full.get(robot.id)
                        if free is None or free <= at:
                            with self._db.transaction(connection) as conn:
                                free = store.take_slot(conn, robot.id, at, channel.per_minute)
                        if free is not None:
                            full[robot.id] = free
                            deferred[n.id] = min(free, deferred.get(n.id, free))
                            continue
                        if outgoing is None:
                            outgoing = Outgoing.of(n)
                        error = None
                        try:
                            channel.post(outgoing, robot, at)
                        except Exception as exc:  # recorded and retried; never the URL
                            error = scrub(f"{type(exc).__name__}: {exc}", robot)[:500]
                            _LOGGER.warning(
                                "delivery of %s to %s %s failed: %s",
                                n.key,
                                channel.name,
                                robot.address,
                                error,
                            )
                        if not record(
                            n.id,
                            channel.name,
                            robot.address,
                            robot.label(),
                            error,
                            now,
                            connection,
                            lease,
                        ):
                            if lease is not None:
                                lease.held.discard(n.id)
                            continue
                        results[n.id].append(
                            {"channel": channel.name, "address": robot.address, "error": error}
                        )
        return deferred

    @staticmethod
    def defer(conn: Connection, deferred: Sequence[tuple[int, datetime]], token: str) -> None:
        """Put notices back to wait for their robots (no attempt counted; see the store)."""
        store.defer_notices(conn, deferred, token)
