"""Event subscriptions (issue #11): subscribers, the CloudEvents outbox and its deliveries.

A *lane* is one subscriber's deliveries of one project, in ``seq`` order. Only a lane's head (no
earlier delivery of the lane still pending, failed or dead) may be tried, so a subscriber never
sees a project's event before an earlier one; a worker claims heads ``FOR UPDATE SKIP LOCKED``
(PostgreSQL) and leases the head with the rows behind it under its fencing token, so two workers
never work one lane at once. SQLite's ``BEGIN IMMEDIATE`` serializes the claims.

The subscription set's *revision* is the head ``(seq, hash)`` of the ``subscriptions`` audit
stream (every add and remove is audited): an event reads it with its project's row
(:data:`REVISION_COLUMNS`, joined on :data:`REVISION_ON`), so a cached set costs it no statement.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, exists, func, or_, select, update

from workflow.store import new_id
from workflow.tables import (
    cloudevent_t,
    head_t,
    meta_t,
    subscription_delivery_t,
    subscription_t,
)

#: the audit stream of subscription changes; its head is the subscription set's revision
SUBSCRIPTIONS_STREAM = "subscriptions"
#: ``gpw_meta`` key of the instance's default CloudEvents ``source`` (``urn:uuid:…``)
INSTANCE_KEY = "instance_urn"
#: a delivery still owed to its subscriber (``dead`` too: it blocks its lane until re-armed)
UNDELIVERED = ("pending", "failed", "dead")

_REVISION = select(head_t.c.seq, head_t.c.hash).where(head_t.c.stream == SUBSCRIPTIONS_STREAM)
#: the revision's row, to join to a project's load (outer: none before the first subscription)
REVISION_HEAD = head_t.alias("subscriptions_head")
REVISION_ON = REVISION_HEAD.c.stream == SUBSCRIPTIONS_STREAM
REVISION_COLUMNS = (
    REVISION_HEAD.c.seq.label("subscriptions_seq"),
    REVISION_HEAD.c.hash.label("subscriptions_hash"),
)


def revision(conn: Connection) -> tuple[int, str]:
    """The subscription set's revision ((0, "") before any change)."""
    found = conn.execute(_REVISION).first()
    return (int(found.seq), str(found.hash)) if found is not None else (0, "")


def revision_of(row: Any) -> tuple[int, str] | None:
    """The revision a project row read with :data:`REVISION_COLUMNS` carries (None: the row was
    read without them)."""
    mapping = row._mapping
    if "subscriptions_seq" not in mapping:
        return None
    seq = mapping["subscriptions_seq"]
    return (0, "") if seq is None else (int(seq), str(mapping["subscriptions_hash"]))


# -- subscriptions ----------------------------------------------------------------------------


def insert(
    conn: Connection, *, url: str, events: list[str] | None, secret: str, at: datetime
) -> int:
    return new_id(
        conn.execute(
            subscription_t.insert().values(
                url=url, events=events, secret=secret, active=True, created_at=at
            )
        )
    )


def active(conn: Connection) -> list[Any]:
    """Every active subscription's row (id, url, events, secret), by id."""
    return list(
        conn.execute(
            select(
                subscription_t.c.id,
                subscription_t.c.url,
                subscription_t.c.events,
                subscription_t.c.secret,
                subscription_t.c.created_at,
            )
            .where(subscription_t.c.active.is_(True))
            .order_by(subscription_t.c.id)
        )
    )


def get(conn: Connection, subscription_id: int) -> Any:
    """A subscription's row, active or removed, or None."""
    return conn.execute(
        select(subscription_t).where(subscription_t.c.id == subscription_id)
    ).first()


def deactivate(conn: Connection, subscription_id: int, at: datetime) -> int:
    """Remove a subscription and cancel what it was still owed; returns how many deliveries
    were cancelled (False-y when it was not active: see the caller)."""
    conn.execute(
        subscription_t.update()
        .where(subscription_t.c.id == subscription_id)
        .values(active=False, removed_at=at)
    )
    done = conn.execute(
        subscription_delivery_t.update()
        .where(
            subscription_delivery_t.c.subscription_id == subscription_id,
            subscription_delivery_t.c.status.in_(UNDELIVERED),
        )
        .values(status="cancelled", lease_owner=None, lease_until=None)
    )
    return int(done.rowcount or 0)


def counts(conn: Connection, ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Deliveries by subscription and status."""
    wanted = list(ids)
    out: dict[int, dict[str, int]] = {i: {} for i in wanted}
    if not wanted:
        return out
    query = (
        select(
            subscription_delivery_t.c.subscription_id,
            subscription_delivery_t.c.status,
            func.count(),
        )
        .where(subscription_delivery_t.c.subscription_id.in_(wanted))
        .group_by(subscription_delivery_t.c.subscription_id, subscription_delivery_t.c.status)
    )
    for sid, status, n in conn.execute(query):
        out[int(sid)][str(status)] = int(n)
    return out


def count_by_status(conn: Connection) -> dict[str, int]:
    """Every subscription delivery by status (health)."""
    return {
        str(s): int(n)
        for s, n in conn.execute(
            select(subscription_delivery_t.c.status, func.count()).group_by(
                subscription_delivery_t.c.status
            )
        )
    }


def rearm(
    conn: Connection, subscription_id: int, now: datetime, project_id: int | None = None
) -> int:
    """Make a subscription's dead deliveries (of one project, or all) pending again, due now,
    with their attempts counted afresh; returns how many."""
    query = (
        subscription_delivery_t.update()
        .where(
            subscription_delivery_t.c.subscription_id == subscription_id,
            subscription_delivery_t.c.status == "dead",
        )
        .values(
            status="pending",
            attempts=0,
            next_attempt_at=now,
            lease_owner=None,
            lease_until=None,
        )
    )
    if project_id is not None:
        query = query.where(subscription_delivery_t.c.project_id == project_id)
    return int(conn.execute(query).rowcount or 0)


def deliveries(
    conn: Connection,
    subscription_id: int,
    *,
    status: str | None = None,
    project_id: int | None = None,
    limit: int = 1000,
) -> list[Any]:
    """A subscription's deliveries with their document's id and type, oldest first."""
    d = subscription_delivery_t
    query = (
        select(
            d.c.id,
            d.c.subscription_id,
            d.c.project_id,
            d.c.seq,
            d.c.status,
            d.c.attempts,
            d.c.next_attempt_at,
            d.c.last_error,
            d.c.sent_at,
            cloudevent_t.c.event_id,
            cloudevent_t.c.type,
        )
        .join(cloudevent_t, cloudevent_t.c.id == d.c.cloudevent_id)
        .where(d.c.subscription_id == subscription_id)
        .order_by(d.c.id)
        .limit(limit)
    )
    if status is not None:
        query = query.where(d.c.status == status)
    if project_id is not None:
        query = query.where(d.c.project_id == project_id)
    return list(conn.execute(query))


# -- the instance -----------------------------------------------------------------------------


def instance_urn(conn: Connection) -> str | None:
    found = conn.execute(select(meta_t.c.value).where(meta_t.c.key == INSTANCE_KEY)).first()
    return None if found is None else str(found.value)


def keep_instance_urn(conn: Connection, urn: str) -> str:
    """Store ``urn`` as the instance's default source unless one is there; returns the one kept
    (every process on the database then names the instance alike)."""
    from workflow.store.outbox import insert_ignore_stmt

    conn.execute(insert_ignore_stmt(conn, meta_t, ["key"]).values(key=INSTANCE_KEY, value=urn))
    kept = instance_urn(conn)
    assert kept is not None
    return kept


# -- the outbox -------------------------------------------------------------------------------


def insert_event(
    conn: Connection,
    *,
    event_id: str,
    project_id: int,
    seq: int,
    type_: str,
    body: str,
    at: datetime,
) -> int:
    return new_id(
        conn.execute(
            cloudevent_t.insert().values(
                event_id=event_id,
                project_id=project_id,
                seq=seq,
                type=type_,
                body=body,
                created_at=at,
            )
        )
    )


def insert_deliveries(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Deliveries (subscription_id, cloudevent_id, project_id, seq), pending and due at ``at``."""
    if rows:
        conn.execute(subscription_delivery_t.insert(), list(rows))


_D = subscription_delivery_t
_EARLIER = _D.alias("earlier")
#: lane heads due at ``b_now`` and held by no live lease, oldest first, up to ``b_batch``
_HEADS = (
    select(_D.c.id, _D.c.subscription_id, _D.c.project_id, _D.c.seq)
    .where(
        _D.c.status.in_(("pending", "failed")),
        _D.c.next_attempt_at <= bindparam("b_now", type_=_D.c.next_attempt_at.type),
        (_D.c.lease_until.is_(None))
        | (_D.c.lease_until <= bindparam("b_now", type_=_D.c.lease_until.type)),
        # never to a removed subscription (see cancel_removed)
        exists().where(
            subscription_t.c.id == _D.c.subscription_id, subscription_t.c.active.is_(True)
        ),
        ~exists().where(
            _EARLIER.c.subscription_id == _D.c.subscription_id,
            _EARLIER.c.project_id == _D.c.project_id,
            _EARLIER.c.seq < _D.c.seq,
            _EARLIER.c.status.in_(UNDELIVERED),
        ),
    )
    .order_by(_D.c.next_attempt_at, _D.c.id)
    .limit(bindparam("b_batch"))
)
_HEADS_BY_SQLITE = {True: _HEADS, False: _HEADS.with_for_update(of=_D, skip_locked=True)}
#: lease a lane from its head on: its undelivered rows not held by a live lease, up to a seq
_LEASE_LANE = (
    update(_D)
    .where(
        _D.c.subscription_id == bindparam("b_sub"),
        _D.c.project_id == bindparam("b_project"),
        _D.c.seq >= bindparam("b_from"),
        _D.c.seq < bindparam("b_to"),
        # not ``in_``: an expanding parameter cannot be used with executemany
        or_(_D.c.status == "pending", _D.c.status == "failed"),
        (_D.c.lease_until.is_(None))
        | (_D.c.lease_until <= bindparam("b_now", type_=_D.c.lease_until.type)),
    )
    .values(
        lease_owner=bindparam("b_token"),
        lease_until=bindparam("b_until", type_=_D.c.lease_until.type),
    )
)


def cancel_removed(conn: Connection) -> int:
    """Cancel what removed subscriptions are still owed; returns how many. ``deactivate``
    cancels what it sees, but on PostgreSQL an event whose transaction was open when its
    subscription was removed had read the set before and commits its deliveries after."""
    removed = select(subscription_t.c.id).where(subscription_t.c.active.is_(False))
    done = conn.execute(
        _D.update()
        .where(_D.c.status.in_(UNDELIVERED), _D.c.subscription_id.in_(removed))
        .values(status="cancelled", lease_owner=None, lease_until=None)
    )
    return int(done.rowcount or 0)


def claim_lanes(
    conn: Connection,
    now: datetime,
    *,
    batch: int,
    lane_size: int,
    token: str,
    lease_seconds: float,
) -> list[Any]:
    """Lease up to ``batch`` lanes whose head is due, each from its head up to ``lane_size``
    rows on, to ``token``; returns the leased rows (delivery id, subscription id, project id,
    seq, attempts, the document's body, the subscriber's url and secret) in lane, then seq,
    order."""
    heads = list(
        conn.execute(
            _HEADS_BY_SQLITE[conn.dialect.name == "sqlite"], {"b_now": now, "b_batch": batch}
        )
    )
    if not heads:
        return []
    until = now + timedelta(seconds=lease_seconds)
    conn.execute(
        _LEASE_LANE,
        [
            {
                "b_sub": h.subscription_id,
                "b_project": h.project_id,
                "b_from": h.seq,
                "b_to": h.seq + lane_size,
                "b_now": now,
                "b_token": token,
                "b_until": until,
            }
            for h in heads
        ],
    )
    query = (
        select(
            _D.c.id,
            _D.c.subscription_id,
            _D.c.project_id,
            _D.c.seq,
            _D.c.attempts,
            cloudevent_t.c.event_id,
            cloudevent_t.c.body,
            subscription_t.c.url,
            subscription_t.c.secret,
        )
        .join(cloudevent_t, cloudevent_t.c.id == _D.c.cloudevent_id)
        .join(subscription_t, subscription_t.c.id == _D.c.subscription_id)
        .where(_D.c.lease_owner == token, _D.c.status.in_(("pending", "failed")))
        .order_by(_D.c.subscription_id, _D.c.project_id, _D.c.seq)
    )
    return list(conn.execute(query))


def renew_lane(
    conn: Connection, subscription_id: int, project_id: int, token: str, until: datetime
) -> None:
    """Extend ``token``'s leases on a lane's rows to ``until``."""
    conn.execute(
        _D.update()
        .where(
            _D.c.subscription_id == subscription_id,
            _D.c.project_id == project_id,
            _D.c.lease_owner == token,
        )
        .values(lease_until=until)
    )


def record(
    conn: Connection,
    delivery_id: int,
    token: str,
    *,
    status: str,
    attempts: int,
    now: datetime,
    error: str | None,
    next_attempt_at: datetime,
) -> bool:
    """One attempt's outcome, only while ``token`` still holds the delivery (fencing), its lease
    released; returns False, recording nothing, when another worker took it over."""
    done = conn.execute(
        _D.update()
        .where(and_(_D.c.id == delivery_id, _D.c.lease_owner == token))
        .values(
            status=status,
            attempts=attempts,
            last_error=error,
            next_attempt_at=next_attempt_at,
            sent_at=now if status == "sent" else None,
            lease_owner=None,
            lease_until=None,
        )
    )
    return done.rowcount == 1


def release(conn: Connection, token: str, ids: Sequence[int]) -> None:
    """Give back ``token``'s leases on ``ids`` (rows left behind a failed head)."""
    if ids:
        conn.execute(
            _D.update()
            .where(_D.c.id.in_(list(ids)), _D.c.lease_owner == token)
            .values(lease_owner=None, lease_until=None)
        )
