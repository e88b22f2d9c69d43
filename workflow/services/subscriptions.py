"""Event subscriptions for host platforms (issue #11): every accepted project event, as a
CloudEvents 1.0 document (structured mode), POSTed to the platforms that subscribed.

**Written with the event.** :meth:`Subscriptions.on_written` runs inside each event's transaction
(a ``ProjectService.on_written`` listener) and writes one document per audit entry some active
subscription wants, plus one delivery per such subscriber, into the outbox: a refused event, a
lost race or a host's rolled-back transaction announces nothing. The subscription set is cached
per process and keyed by its revision, the head of the ``subscriptions`` audit stream, which an
event reads with its project's row: an event nobody subscribed to costs a tuple comparison.

**Delivered by the worker.** :meth:`Subscriptions.deliver` (the worker's passes, ``gpw relay``,
``gpw worker``) leases *lanes* (one subscriber's deliveries of one project) from their head,
POSTs each document in ``gpwseq`` order, signed ``X-GPW-Signature: sha256=<hex HMAC-SHA256 of
the body keyed with the secret>``, and records each attempt under its lease (a fencing token). A
failure ends the lane's turn: the head is retried after a backoff (60 s doubling, at most an
hour) and, after :data:`MAX_ATTEMPTS` attempts, is a dead letter that keeps blocking the lane's
later events (a subscriber never sees version 5 before 4) until an operator re-arms it
(:meth:`Subscriptions.retry`, ``gpw subscription retry ID``). Nothing is lost: at least once, the
same ``id`` and the same bytes on every redelivery.

**The document.** ``specversion`` 1.0; ``id`` a UUID derived from the source, the project and
the entry's seq; ``source`` the instance (``instance=``, ``GPW_INSTANCE``; by default a
``urn:uuid:`` kept in ``gpw_meta``); ``type`` ``gpw.project.<event>``; ``subject`` the project
id; ``time`` the event's time (RFC 3339, UTC); ``datacontenttype`` application/json; the
extension ``gpwseq`` (the entry's seq in the project's gap-free stream); ``data``: the project
id, the event, the state before and after, the project's version after the transaction and the
event's data with personal data removed by the disclosure rules (``states/redaction.py``),
checked where that data lands in the project (:data:`LANDS_AT`).

Secrets never leave the database except as the HMAC key: not in logs, reprs, listings (``****``),
errors or audit entries (which record that a secret is set).
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import http.client
import json
import logging
import re
import secrets
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import groupby
from typing import Any

from sqlalchemy import Connection

from notifications import outbound
from notifications.robots import masked_url
from states.enums import Role
from states.errors import InvalidInput, NotFound
from states.machine import EVENTS, Record
from states.model import SYSTEM_ACTOR, Actor, Contractor, Project
from states.redaction import Redaction, default_rules
from workflow import audit
from workflow.db import Database
from workflow.services.access import check_actor, require_role
from workflow.store import lock_stream
from workflow.store import subscriptions as store
from workflow.store.subscriptions import SUBSCRIPTIONS_STREAM

_LOGGER = logging.getLogger("gpw.subscriptions")

#: what a project's audit stream holds: every event of the machine, the creation, and the
#: deadlines a newly loaded calendar year moved
KNOWN_EVENTS = frozenset({*EVENTS, "create_project", "recompute_deadlines"})
#: attempts before a delivery is a dead letter (it then blocks its lane until re-armed)
MAX_ATTEMPTS = 10
#: the first retry's wait; each further one doubles, up to MAX_BACKOFF_SECONDS
BACKOFF_SECONDS = 60.0
MAX_BACKOFF_SECONDS = 3600.0
#: seconds one POST may take in all (connecting, sending, the answer): a deadline, not per read
TIMEOUT_SECONDS = 10.0
#: the most rows of one lane a worker leases at once
LANE_SIZE = 100
#: what ``list`` and ``to_dict`` show for a secret
MASK = "****"
CONTENT_TYPE = "application/cloudevents+json"
#: a delivery's status: waiting, delivered, retrying, given up (blocks its lane), its
#: subscription removed
DELIVERY_STATUSES = ("pending", "sent", "failed", "dead", "cancelled")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


@dataclass(frozen=True, slots=True)
class Subscription:
    """A host platform's subscription. ``events``: the event names it wants (None: all);
    ``deliveries``: its deliveries by status. The secret is never in the repr or ``to_dict``."""

    id: int
    #: where the documents go (with any token its query holds: shown masked, never in the repr)
    url: str = field(repr=False)
    events: tuple[str, ...] | None
    created_at: datetime
    deliveries: Mapping[str, int] = field(default_factory=dict)
    secret: str = field(default="", repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": masked_url(self.url),
            "events": None if self.events is None else list(self.events),
            "secret": MASK,
            "created_at": self.created_at.isoformat(),
            "deliveries": dict(self.deliveries),
        }


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """One :meth:`Subscriptions.deliver` pass: lanes leased, documents sent, attempts failed,
    deliveries given up (dead letters); ``sandbox``: nothing is sent from a training sandbox."""

    lanes: int = 0
    sent: int = 0
    failed: int = 0
    dead: int = 0
    sandbox: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "lanes": self.lanes,
            "sent": self.sent,
            "failed": self.failed,
            "dead": self.dead,
            "sandbox": self.sandbox,
        }


@dataclass(frozen=True, slots=True)
class _Wanted:
    id: int
    events: frozenset[str] | None


@dataclass(frozen=True, slots=True)
class _Cached:
    revision: tuple[int, str]
    wanted: tuple[_Wanted, ...]
    source: str


#: where an event's data lands in the project: the disclosure rules' ``never_public`` paths are
#: the project's (``budget_review.note``, ``disputes``), so an event's data is checked there
#: (``[]``: one item of a list); the rest of an event's data sits at the project's top level
LANDS_AT = {
    "review_budget": "budget_review",
    "record_review": "reviews[]",
    "dispute_payment": "disputes[]",
    "resolve_dispute": "disputes[]",
}


def public_data(rules: Redaction, event: str, data: Any, names: Sequence[str]) -> Any:
    """An entry's data as a subscriber gets it: without what the disclosure rules keep out of
    the project where it lands (``{}`` when the whole part is never public), every text
    redacted with the project's personal ``names``."""
    where = LANDS_AT.get(event)
    if where is None:
        public = rules.drop_private(data)
    else:
        key, many = where.removesuffix("[]"), where.endswith("[]")
        kept = rules.drop_private({key: [data] if many else data}).get(key)
        public = (kept[0] if kept else {}) if many else (kept if kept is not None else {})
    return rules.redact(public, names)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}" if value == value.quantize(Decimal("0.01")) else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def rfc3339(at: datetime) -> str:
    """An aware datetime as RFC 3339 in UTC (``2026-02-03T02:00:00Z``)."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def event_id(source: str, project_id: int, seq: int) -> str:
    """The document's ``id``: the same for the same source, project and seq (a redelivery),
    unique across instances (the source is in it)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{source}#project/{project_id}/seq/{seq}"))


def sign(secret: str, body: bytes) -> str:
    """``X-GPW-Signature``'s value: ``sha256=`` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def check_instance(instance: str) -> str:
    """A CloudEvents ``source``: a non-empty URI reference without spaces or control
    characters (an absolute URI such as ``https://gpw.example.gov.cn`` is best)."""
    if not isinstance(instance, str) or not instance or _CONTROL.search(instance):
        raise InvalidInput(
            f"instance 须为不含空白的 URI（如 https://gpw.example.gov.cn）：{instance!r}",
            f"instance must be a URI without spaces (e.g. https://gpw.example.gov.cn): "
            f"{instance!r}",
            field="instance",
        )
    if len(instance) > 500:
        raise InvalidInput(
            "instance 过长（至多 500 个字符）",
            "instance is too long (500 characters at most)",
            field="instance",
        )
    return instance


def _check_url(url: Any) -> str:
    """An address gpw may POST to (:func:`notifications.outbound.postable`); an error shows the
    URL masked (a token in its query)."""
    if not outbound.postable(url):
        shown = masked_url(url) if isinstance(url, str) and len(url) <= 200 else type(url).__name__
        raise InvalidInput(
            f"订阅地址 url 须为 http(s) 地址（主机名、有效端口，不含用户名或密码、不含空白，"
            f"至多 2000 个字符；令牌可放在查询参数中，显示时隐去）：{shown!r}",
            f"the subscription url must be an http(s) URL (a host, a valid port, no user or "
            f"password, no spaces, 2000 characters at most; a token may go in the query, it is "
            f"shown masked): {shown!r}",
            field="url",
        )
    return str(url)


def _check_events(events: Any) -> tuple[str, ...] | None:
    if events is None:
        return None
    if isinstance(events, str) or not isinstance(events, Sequence | set | frozenset):
        raise InvalidInput(
            "events 须为事件名列表，或不给出（订阅全部事件）",
            "events must be a list of event names, or left out (every event)",
            field="events",
        )
    names = list(dict.fromkeys(events))
    if not names:
        raise InvalidInput(
            "events 为空：不给出即订阅全部事件",
            "events is empty: leave it out to subscribe to every event",
            field="events",
        )
    unknown = [n for n in names if not isinstance(n, str) or n not in KNOWN_EVENTS]
    if unknown:
        shown = ", ".join(repr(n) for n in unknown[:5])
        raise InvalidInput(
            f"events 中有未知事件 {shown}（可用的事件见 gpw events；另有 create_project、"
            "recompute_deadlines）",
            f"events names unknown event(s) {shown} (gpw events lists them; also "
            "create_project, recompute_deadlines)",
            field="events",
        )
    return tuple(names)


def _check_secret(secret: Any) -> str:
    if secret is None:
        return secrets.token_urlsafe(32)
    # the value itself is never shown, not even in this error
    if not isinstance(secret, str) or not 16 <= len(secret) <= 256 or _CONTROL.search(secret):
        raise InvalidInput(
            "secret 须为 16 至 256 个可见字符（不给出则随机生成）",
            "secret must be 16 to 256 visible characters (left out: a random one is made)",
            field="secret",
        )
    return secret


def _check_id(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value < 2**63:
        raise InvalidInput(f"{name} 须为正整数", f"{name} must be a positive integer", field=name)
    return value


class Subscriptions:
    """Subscriptions of host platforms, their outbox and its delivery (see the module).

    Args:
        db: the database.
        instance: the CloudEvents ``source`` naming this gpw instance (default: a
            ``urn:uuid:`` made once and kept in ``gpw_meta``, shared by every process).
        redaction: the disclosure rules that take personal data out of event data.
        sandbox: a training sandbox announces nothing (``deliver`` sends nothing).
        max_attempts, backoff_seconds, timeout: the retry limit, the first retry's wait
            (doubling, at most an hour) and the seconds one POST may take in all.
    """

    def __init__(
        self,
        db: Database,
        *,
        instance: str | None = None,
        redaction: Redaction | None = None,
        sandbox: bool = False,
        max_attempts: int = MAX_ATTEMPTS,
        backoff_seconds: float = BACKOFF_SECONDS,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self._db = db
        self.instance = None if instance is None else check_instance(instance)
        self.rules = redaction or default_rules()
        self.sandbox = sandbox
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.timeout = timeout
        self._cache: _Cached | None = None

    # -- the subscriptions ------------------------------------------------------------------------

    def add(
        self,
        *,
        url: str,
        events: Sequence[str] | None = None,
        secret: str | None = None,
        actor: Actor = SYSTEM_ACTOR,
        at: datetime | None = None,
        connection: Connection | None = None,
    ) -> Subscription:
        """Subscribe ``url`` to ``events`` (None: every event of every project). ``secret``
        keys the signature (None: a random one, readable once on the returned value's
        ``secret``). Audited (that a secret is set, never its value); admin or system."""
        check_actor(actor)
        require_role(actor, {Role.ADMIN, Role.SYSTEM}, "订阅事件 / add a subscription")
        url = _check_url(url)
        wanted = _check_events(events)
        key = _check_secret(secret)
        at = self._db.record_at(at)
        with self._db.transaction(connection) as conn:
            lock_stream(conn, SUBSCRIPTIONS_STREAM)
            sid = store.insert(
                conn,
                url=url,
                events=None if wanted is None else list(wanted),
                secret=key,
                at=at,
            )
            if self.instance is None:
                store.keep_instance_urn(conn, f"urn:uuid:{uuid.uuid4()}")
            audit.log(
                conn,
                SUBSCRIPTIONS_STREAM,
                actor=actor,
                at=at,
                event="subscription_add",
                data={
                    "id": sid,
                    "url": masked_url(url),
                    "events": None if wanted is None else list(wanted),
                    "secret": "set",
                },
            )
        return Subscription(id=sid, url=url, events=wanted, created_at=at, secret=key)

    def list(self, *, connection: Connection | None = None) -> list[Subscription]:
        """The active subscriptions, by id, with their deliveries by status."""
        with self._db.read(connection) as conn:
            rows = store.active(conn)
            counts = store.counts(conn, [r.id for r in rows])
        return [
            Subscription(
                id=int(r.id),
                url=str(r.url),
                events=None if r.events is None else tuple(r.events),
                created_at=r.created_at,
                deliveries=counts.get(int(r.id), {}),
            )
            for r in rows
        ]

    def remove(
        self,
        subscription_id: int,
        *,
        actor: Actor = SYSTEM_ACTOR,
        at: datetime | None = None,
        connection: Connection | None = None,
    ) -> int:
        """Stop a subscription: nothing more is written for it and what it was still owed is
        cancelled (returned: how many). Audited; admin or system."""
        check_actor(actor)
        require_role(actor, {Role.ADMIN, Role.SYSTEM}, "取消订阅 / remove a subscription")
        _check_id(subscription_id, "subscription_id")
        at = self._db.record_at(at)
        with self._db.transaction(connection) as conn:
            lock_stream(conn, SUBSCRIPTIONS_STREAM)
            row = store.get(conn, subscription_id)
            if row is None or not row.active:
                raise self._not_found(subscription_id)
            cancelled = store.deactivate(conn, subscription_id, at)
            audit.log(
                conn,
                SUBSCRIPTIONS_STREAM,
                actor=actor,
                at=at,
                event="subscription_remove",
                data={"id": subscription_id, "cancelled": cancelled},
            )
        return cancelled

    def retry(
        self,
        subscription_id: int,
        *,
        project_id: int | None = None,
        actor: Actor = SYSTEM_ACTOR,
        at: datetime | None = None,
        connection: Connection | None = None,
    ) -> int:
        """Re-arm a subscription's dead letters (of one project, or all): pending again, due
        now, attempts counted afresh; their lanes move on once they are delivered. Returns how
        many. Audited; admin or system."""
        check_actor(actor)
        require_role(actor, {Role.ADMIN, Role.SYSTEM}, "重投订阅事件 / re-arm deliveries")
        _check_id(subscription_id, "subscription_id")
        if project_id is not None:
            _check_id(project_id, "project_id")
        at = self._db.record_at(at)
        with self._db.transaction(connection) as conn:
            lock_stream(conn, SUBSCRIPTIONS_STREAM)
            row = store.get(conn, subscription_id)
            if row is None or not row.active:
                raise self._not_found(subscription_id)
            rearmed = store.rearm(conn, subscription_id, at, project_id)
            audit.log(
                conn,
                SUBSCRIPTIONS_STREAM,
                actor=actor,
                at=at,
                event="subscription_retry",
                data={"id": subscription_id, "project_id": project_id, "rearmed": rearmed},
            )
        return rearmed

    def deliveries(
        self,
        subscription_id: int,
        *,
        status: str | None = None,
        project_id: int | None = None,
        limit: int = 1000,
        connection: Connection | None = None,
    ) -> builtins.list[dict[str, Any]]:
        """A subscription's deliveries, oldest first: the document's ``event_id`` and ``type``,
        ``project_id``, ``seq``, ``status``, ``attempts``, ``next_attempt_at``, ``last_error``,
        ``sent_at``."""
        _check_id(subscription_id, "subscription_id")
        if project_id is not None:
            _check_id(project_id, "project_id")
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 1_000_000:
            raise InvalidInput(
                "limit 须为 1 至 1000000 的整数",
                "limit must be an integer from 1 to 1000000",
                field="limit",
            )
        if status is not None and status not in DELIVERY_STATUSES:
            raise InvalidInput(
                f"未知的投递状态 {status!r}（可用：{', '.join(DELIVERY_STATUSES)}）",
                f"unknown delivery status {status!r}; allowed: {', '.join(DELIVERY_STATUSES)}",
                field="status",
            )
        with self._db.read(connection) as conn:
            rows = store.deliveries(
                conn, subscription_id, status=status, project_id=project_id, limit=limit
            )
        return [dict(r._mapping) for r in rows]

    @staticmethod
    def _not_found(subscription_id: int) -> NotFound:
        return NotFound(
            f"订阅 {subscription_id} 不存在或已取消",
            f"subscription {subscription_id} does not exist or was removed",
            field="subscription_id",
        )

    # -- written with the event -----------------------------------------------------------------

    def _current(self, conn: Connection, known: tuple[int, str] | None) -> _Cached:
        """The subscription set as the transaction sees it: the cached one while its revision
        stands (``known``: read with the project's row), else read again."""
        cached = self._cache
        if known is not None and cached is not None and cached.revision == known:
            return cached
        revision = known if known is not None else store.revision(conn)
        if cached is not None and cached.revision == revision:
            return cached
        wanted = tuple(
            _Wanted(int(r.id), None if r.events is None else frozenset(r.events))
            for r in store.active(conn)
        )
        source = self.instance
        if source is None and wanted:
            source = store.instance_urn(conn) or store.keep_instance_urn(
                conn, f"urn:uuid:{uuid.uuid4()}"
            )
        cached = _Cached(revision=revision, wanted=wanted, source=source or "")
        self._cache = cached
        return cached

    def on_written(
        self,
        conn: Connection,
        project: Project,
        records: Sequence[Record],
        first_seq: int,
        contractors: Mapping[int, Contractor] | None = None,
        data: Mapping[str, Any] | None = None,
        *,
        version: int,
        row: Any = None,
    ) -> None:
        """Write the documents of an event's entries that some subscription wants, and their
        deliveries, in the event's transaction (nothing for an event nobody subscribed to)."""
        known = None if row is None else store.revision_of(row)
        current = self._current(conn, known)
        if not current.wanted:
            return
        assert project.id is not None
        names: tuple[str, ...] | None = None
        now = self._db.now()
        deliveries: list[dict[str, Any]] = []
        for i, rec in enumerate(records):
            subscribers = [
                w.id for w in current.wanted if w.events is None or rec.event in w.events
            ]
            if not subscribers:
                continue
            if names is None:  # the project's personal names, masked in every text
                names = self.rules.names_in(project.to_json() if data is None else data)
            seq = first_seq + i
            ident = event_id(current.source, project.id, seq)
            kind = f"gpw.project.{rec.event}"
            document: dict[str, Any] = {
                "specversion": "1.0",
                "id": ident,
                "source": current.source,
                "type": kind,
                "subject": str(project.id),
                "time": rfc3339(rec.at),
                "datacontenttype": "application/json",
                "gpwseq": seq,
                "data": {
                    "project_id": project.id,
                    "event": rec.event,
                    "state_before": rec.from_state.value,
                    "state_after": rec.to_state.value,
                    "version": version,
                    "data": public_data(self.rules, rec.event, rec.data, names),
                },
            }
            body = json.dumps(
                document, ensure_ascii=False, separators=(",", ":"), default=_json_default
            )
            cid = store.insert_event(
                conn,
                event_id=ident,
                project_id=project.id,
                seq=seq,
                type_=kind,
                body=body,
                at=now,
            )
            deliveries.extend(
                {
                    "subscription_id": sid,
                    "cloudevent_id": cid,
                    "project_id": project.id,
                    "seq": seq,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for sid in subscribers
            )
        if deliveries:
            store.insert_deliveries(conn, deliveries)
            self._db.schedule(conn, now)  # wakes an in-process worker once committed

    # -- delivered by the worker ----------------------------------------------------------------

    def backoff(self, attempts: int) -> float:
        """Seconds before the next try after ``attempts`` failed ones."""
        return float(min(self.backoff_seconds * 2 ** (attempts - 1), MAX_BACKOFF_SECONDS))

    def deliver(
        self,
        now: datetime | None = None,
        *,
        batch: int = 100,
        lease_seconds: int = 300,
        max_seconds: float | None = None,
    ) -> DeliveryReport:
        """Deliver what is due at ``now`` (default: the workflow's clock; what is due and every
        backoff are reckoned on it, leases on it plus the real time the pass has run).
        ``batch``: lanes leased at a time; ``lease_seconds`` must exceed one POST's timeout.
        ``max_seconds`` (default: half the lease): past it the pass starts no more POSTs and
        releases what it leased, so a slow subscriber never holds the worker's other jobs for
        long nor lets a lane's lease run out before its turn; the next pass goes on."""
        if self.sandbox:
            return DeliveryReport(sandbox=True)
        now = self._db.at(now)
        token = uuid.uuid4().hex
        started = time.monotonic()
        budget = lease_seconds / 2 if max_seconds is None else max_seconds
        lanes = sent = failed = dead = 0

        def clock() -> datetime:
            return now + timedelta(seconds=time.monotonic() - started)

        def spent() -> bool:
            return time.monotonic() - started >= budget

        first = True
        while True:
            with self._db.transaction() as conn:
                if first:  # an event committed after its subscription's removal (PostgreSQL)
                    store.cancel_removed(conn)
                    first = False
                rows = store.claim_lanes(
                    conn,
                    clock(),
                    batch=batch,
                    lane_size=LANE_SIZE,
                    token=token,
                    lease_seconds=lease_seconds,
                )
            if not rows:
                break
            leased = [
                list(lane)
                for _, lane in groupby(rows, key=lambda r: (r.subscription_id, r.project_id))
            ]
            for index, lane in enumerate(leased):
                if spent():  # out of time: the lanes not begun go back, free at once
                    with self._db.transaction() as conn:
                        store.release(conn, token, [r.id for rest in leased[index:] for r in rest])
                    break
                lanes += 1
                outcome = self._lane(lane, now, token, clock, lease_seconds, spent)
                sent += outcome[0]
                failed += outcome[1]
                dead += outcome[2]
            if len(leased) < batch or spent():
                break
        return DeliveryReport(lanes=lanes, sent=sent, failed=failed, dead=dead)

    def _lane(
        self,
        lane: builtins.list[Any],
        now: datetime,
        token: str,
        clock: Any,
        lease_seconds: int,
        spent: Callable[[], bool],
    ) -> tuple[int, int, int]:
        """POST a lane's documents in order until one fails, the lease is lost or the pass is
        out of time (``spent``: the rest is released)."""
        sent = failed = dead = 0
        for i, row in enumerate(lane):
            error = self._post(row.url, row.secret, row.body.encode("utf-8"))
            attempts = int(row.attempts) + 1
            if error is None:
                status, due = "sent", now
            else:
                status = "dead" if attempts >= self.max_attempts else "failed"
                due = now + timedelta(seconds=self.backoff(attempts))
                _LOGGER.warning(
                    "subscription %s: delivery of %s (project %s, gpwseq %s) failed, attempt "
                    "%s: %s",
                    row.subscription_id,
                    row.event_id,
                    row.project_id,
                    row.seq,
                    attempts,
                    error,
                )
            with self._db.transaction() as conn:
                held = store.record(
                    conn,
                    row.id,
                    token,
                    status=status,
                    attempts=attempts,
                    now=now,
                    error=error,
                    next_attempt_at=due,
                )
                more = held and error is None and i + 1 < len(lane)
                stop = more and spent()
                if more and not stop:
                    until = clock() + timedelta(seconds=lease_seconds)
                    store.renew_lane(conn, row.subscription_id, row.project_id, token, until)
                if held and (error is not None or stop):
                    store.release(conn, token, [r.id for r in lane[i + 1 :]])
            if not held:  # our lease ran out and another worker has the lane: it goes on
                break
            if error is None:
                sent += 1
                if stop:
                    break
                continue
            failed += status == "failed"
            dead += status == "dead"
            break
        return sent, failed, dead

    def _post(self, url: str, secret: str, body: bytes) -> str | None:
        """POST one document; None when the subscriber answered 2xx, else why not (no URL,
        no secret in it). The whole exchange within ``timeout`` seconds, no redirect followed,
        the answer's body not read (:mod:`notifications.outbound`)."""
        headers = {
            "Content-Type": CONTENT_TYPE,
            "X-GPW-Signature": sign(secret, body),
            "User-Agent": "gpw-subscriptions",
        }
        try:
            answer = outbound.post(url, body, headers, timeout=self.timeout, max_answer=0)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            return f"{type(exc).__name__}: {reason}"[:500]
        return None if 200 <= answer.status < 300 else f"HTTP {answer.status}"

    def health(self, *, connection: Connection | None = None) -> dict[str, int]:
        """Deliveries by status (pending, failed, dead, sent, cancelled)."""
        with self._db.read(connection) as conn:
            found = store.count_by_status(conn)
        return {s: int(found.get(s, 0)) for s in DELIVERY_STATUSES}
