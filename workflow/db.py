"""The ``Database``: gpw's engine, its transactions and its clock, in one place.

* The engine is built with :mod:`workflow.persistence`'s helpers (SQLite: WAL, busy timeout,
  ``BEGIN IMMEDIATE``; a read-only file for ``mode="read"``).
* :meth:`Database.transaction` is the unit of work. Without ``connection`` gpw begins and commits
  its own transaction. With a host's ``Connection`` gpw writes inside the host's transaction and
  never commits or rolls it back: when the host has begun one, gpw's writes go into a SAVEPOINT,
  so a refusal rolls back only gpw's writes and leaves the host's transaction usable.
* After-commit hooks run only once the writes are committed: after gpw's own commit, or when the
  host commits its transaction (SQLAlchemy's ``commit`` event on the host's connection). A
  rolled-back transaction wakes nobody.
* Driver errors that mean "someone else wrote first" (a duplicate ``(stream, seq)`` in the audit
  trail, a serialization failure or deadlock on PostgreSQL) become :class:`ConcurrentUpdate`.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Literal, TypeVar

from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import DBAPIError, IntegrityError

from states.errors import ConcurrentUpdate, WorkflowError
from states.payloads import check_aware
from workflow import audit
from workflow.persistence import (
    READ_ONLY,
    PoolSettings,
    create_schema,
    open_engine,
    prepare_engine,
    utcnow,
)

_LOGGER = logging.getLogger("gpw")

#: ``conn.info`` key: the earliest notice stage a transaction scheduled (for the worker's wake-up)
_EARLIEST = "gpw_earliest_fire"
#: ``conn.info`` key: the hooks a transaction runs once it is committed
_HOOKS = "gpw_after_commit"
#: PostgreSQL SQLSTATEs of a lost race: serialization failure, deadlock
_RACE_STATES = frozenset({"40001", "40P01"})
#: the unique keys two writers of one audit stream collide on (PostgreSQL names, SQLite columns)
_AUDIT_KEYS = (
    "uq_gpw_audit_stream_seq",
    "gpw_audit.stream, gpw_audit.seq",
    "gpw_audit_head_pkey",
    "gpw_audit_head.stream",
)

Hook = Callable[[], None]


def translate(exc: DBAPIError) -> WorkflowError | None:
    """gpw's error for a driver error that means another writer won, or None."""
    orig = exc.orig
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if state in _RACE_STATES:
        return ConcurrentUpdate(details={"retryable": True, "sqlstate": state})
    if isinstance(exc, IntegrityError):
        diag = getattr(orig, "diag", None)
        text = f"{getattr(diag, 'constraint_name', '') or ''} {orig}"
        if any(key in text for key in _AUDIT_KEYS):
            return ConcurrentUpdate(details={"retryable": True})
    return None


#: a transaction that lost a race (serialisation failure, deadlock) is tried this many times in
#: all before ``ConcurrentUpdate`` reaches the caller
RACE_ATTEMPTS = 4
T = TypeVar("T")


def retrying(work: Callable[[], T], *, connection: Connection | None = None) -> T:
    """Run ``work`` (one transaction of gpw's own) again when it lost a race, a bounded number of
    times with a short random back-off; then the ``ConcurrentUpdate`` surfaces. A host's
    transaction (``connection``) is never retried: the host decides."""
    for attempt in range(1, RACE_ATTEMPTS + 1):
        try:
            return work()
        except ConcurrentUpdate as exc:
            if connection is not None or not exc.details.get("retryable"):
                raise
            if attempt == RACE_ATTEMPTS:
                raise
            time.sleep(random.uniform(0, 0.005 * 2**attempt))
    raise AssertionError("unreachable")  # pragma: no cover


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except DBAPIError as exc:
        mine = translate(exc)
        if mine is None:
            raise
        raise mine from exc


class Database:
    """gpw's engine, transactions, clock and after-commit hooks.

    Args:
        engine: a SQLAlchemy engine (SQLite or PostgreSQL); SQLite gets gpw's pragmas.
        clock: returns the current aware datetime (what audit entries record as ``recorded_at``).
        mode: ``"write"`` or ``"read"`` (informational here: a read engine is built read-only).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], datetime] = utcnow,
        mode: Literal["read", "write"] = "write",
    ) -> None:
        self.engine = prepare_engine(engine)
        self.clock = clock
        self.mode = mode
        self._schedule_listeners: list[Callable[[datetime], None]] = []
        #: hooks waiting for a host's commit, per host connection
        self._deferred: weakref.WeakKeyDictionary[Connection, list[Hook]] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    @classmethod
    def open(
        cls,
        url_or_engine: str | Engine,
        *,
        clock: Callable[[], datetime] = utcnow,
        mode: Literal["read", "write"] = "write",
        pool: PoolSettings | None = None,
    ) -> Database:
        """A database on a URL (checked first, see :func:`~workflow.persistence.open_engine`)
        or on an existing engine."""
        engine = (
            open_engine(url_or_engine, mode=mode, pool=pool)
            if isinstance(url_or_engine, str)
            else url_or_engine
        )
        return cls(engine, clock=clock, mode=mode)

    def create_schema(self) -> None:
        create_schema(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    # -- the clock ------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The clock, checked: what every audit entry records as ``recorded_at``."""
        return check_aware(self.clock(), "clock")

    def at(self, at: datetime | None) -> datetime:
        """A business time (default: the clock's now), aware."""
        return check_aware(self.clock() if at is None else at, "at")

    def record_at(self, at: datetime | None) -> datetime:
        """The business time of a write that records it (default: the clock's now). Aware, and
        at most five minutes after the clock's now: the future is not recorded (R15)."""
        now = self.now()
        at = now if at is None else check_aware(at, "at")
        audit.check_not_future(at, now)
        return at

    # -- transactions ---------------------------------------------------------------------------

    @contextmanager
    def transaction(self, connection: Connection | None = None) -> Iterator[Connection]:
        """A unit of work. Without ``connection``: gpw's own transaction, committed at the end
        (rolled back on an exception). With a host's ``connection``: inside the host's
        transaction, in a SAVEPOINT that an exception rolls back; the host commits or rolls back
        the whole. A connection with no transaction begun gets one that gpw commits.

        After-commit hooks (:meth:`after_commit`, :meth:`schedule`) run after the commit that
        makes the writes durable, and never after a rollback.
        """
        if connection is None:
            with _translated(), self.engine.begin() as conn, self._scope(conn) as hooks:
                yield conn
            self._run(hooks)
        elif connection.in_transaction():
            with _translated(), connection.begin_nested(), self._scope(connection) as hooks:
                yield connection
            self._defer(connection, hooks)
        else:
            with _translated(), connection.begin(), self._scope(connection) as hooks:
                yield connection
            self._run(hooks)

    @contextmanager
    def read(self, connection: Connection | None = None) -> Iterator[Connection]:
        """A read: a snapshot of its own (SQLite: a deferred BEGIN, no write lock), or the
        host's ``connection`` as it is (so a host sees its own uncommitted writes)."""
        if connection is not None:
            yield connection
            return
        with self.engine.connect().execution_options(**READ_ONLY) as conn, conn.begin():
            yield conn

    @contextmanager
    def _scope(self, conn: Connection) -> Iterator[list[Hook]]:
        """What a transaction carries in ``conn.info``: the clock for audit entries, the earliest
        stage it scheduled, its after-commit hooks. Yields the list the hooks end up in."""
        info = conn.info
        saved = {k: info.get(k) for k in (audit.CLOCK_KEY, _EARLIEST, _HOOKS)}
        info[audit.CLOCK_KEY] = self.now  # recorded_at of non-project entries
        info[_EARLIEST] = None
        info[_HOOKS] = []
        hooks: list[Hook] = []
        try:
            yield hooks
            earliest = info.get(_EARLIEST)
            hooks.extend(info.get(_HOOKS) or [])
            if earliest is not None:
                hooks.append(lambda: self._wake(earliest))
        finally:
            for key, value in saved.items():
                if value is None:
                    info.pop(key, None)
                else:
                    info[key] = value

    def after_commit(self, conn: Connection, hook: Hook) -> None:
        """Run ``hook()`` once the transaction ``conn`` is in commits (never on a rollback)."""
        conn.info.setdefault(_HOOKS, []).append(hook)

    def schedule(self, conn: Connection, fire_at: datetime) -> None:
        """Note that the transaction scheduled a notice stage at ``fire_at``: once committed,
        the :meth:`on_schedule` listeners hear of the earliest one."""
        earliest = conn.info.get(_EARLIEST)
        conn.info[_EARLIEST] = fire_at if earliest is None else min(earliest, fire_at)

    def on_schedule(self, listener: Callable[[datetime], None]) -> None:
        """Call ``listener(fire_at)`` after a commit that scheduled a notice stage."""
        self._schedule_listeners.append(listener)

    def _wake(self, fire_at: datetime) -> None:
        for listener in list(self._schedule_listeners):
            listener(fire_at)

    @staticmethod
    def _run(hooks: list[Hook]) -> None:
        for hook in hooks:
            hook()

    def _defer(self, connection: Connection, hooks: list[Hook]) -> None:
        """Keep ``hooks`` until the host's transaction ends: run them if it commits, drop them if
        it rolls back."""
        if not hooks:
            return
        with self._lock:
            waiting = self._deferred.get(connection)
            if waiting is None:
                waiting = self._deferred[connection] = []
                event.listen(connection, "commit", self._host_committed)
                event.listen(connection, "rollback", self._host_rolled_back)
            waiting.extend(hooks)

    def _take(self, connection: Any) -> list[Hook]:
        with self._lock:
            waiting = self._deferred.get(connection)
            if not waiting:
                return []
            taken = list(waiting)
            waiting.clear()
            return taken

    def _host_committed(self, connection: Connection) -> None:
        # SQLAlchemy calls this as the host commits: a failing hook must not undo the commit
        for hook in self._take(connection):
            try:
                hook()
            except Exception:
                _LOGGER.exception("after-commit hook failed")

    def _host_rolled_back(self, connection: Connection) -> None:
        self._take(connection)
