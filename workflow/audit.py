"""The audit trail: append-only, one hash chain per stream (全程留痕, R15, R16).

A stream is ``project:<id>``, ``contractor:<id>`` or ``calendar``. Each entry's hash covers its
content and the previous entry's hash; the head (seq and hash of the last entry) is kept on the
project row, or in ``gpw_audit_head`` for other streams, so truncating a chain is found too.
``(stream, seq)`` is unique: two writers cannot both append entry n.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from workflow.persistence import audit_t, head_t, project_t

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One accepted event as the audit trail holds it."""

    stream: str
    seq: int
    at: datetime
    actor_id: str
    role: str
    org: str
    event: str
    from_state: str | None
    to_state: str | None
    data: dict[str, Any]
    prev_hash: str
    hash: str
    project_id: int | None = None
    id: int | None = None

    def recompute_hash(self) -> str:
        """The hash this entry's content and link should have."""
        return entry_hash(
            stream=self.stream,
            seq=self.seq,
            at=self.at,
            actor_id=self.actor_id,
            role=self.role,
            org=self.org,
            event=self.event,
            from_state=self.from_state,
            to_state=self.to_state,
            data=self.data,
            prev_hash=self.prev_hash,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "stream": self.stream,
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor_id": self.actor_id,
            "role": self.role,
            "org": self.org,
            "event": self.event,
            "from_state": self.from_state,
            "to_state": self.to_state,
            "data": self.data,
            "hash": self.hash,
        }


def entry_hash(
    *,
    stream: str,
    seq: int,
    at: datetime,
    actor_id: str,
    role: str,
    org: str,
    event: str,
    from_state: str | None,
    to_state: str | None,
    data: dict[str, Any],
    prev_hash: str,
) -> str:
    canonical = json.dumps(
        {
            "stream": stream,
            "seq": seq,
            "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor_id": actor_id,
            "role": role,
            "org": org,
            "event": event,
            "from": from_state,
            "to": to_state,
            "data": data,
            "prev": prev_hash,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def build_entries(
    stream: str,
    head: tuple[int, str],
    records: Iterable[dict[str, Any]],
    project_id: int | None = None,
) -> list[dict[str, Any]]:
    """Chain ``records`` (dicts with at, actor_id, role, org, event, from_state, to_state, data)
    onto ``head`` and return the rows to insert; the last row's seq and hash are the new head."""
    seq, prev = head
    rows: list[dict[str, Any]] = []
    for rec in records:
        seq += 1
        digest = entry_hash(stream=stream, seq=seq, prev_hash=prev, **rec)
        rows.append(
            {
                **rec,
                "stream": stream,
                "seq": seq,
                "project_id": project_id,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    return rows


def append_to_stream(conn: Connection, stream: str, records: list[dict[str, Any]]) -> None:
    """Append to a non-project stream, moving its head in ``gpw_audit_head``."""
    current = conn.execute(select(head_t.c.seq, head_t.c.hash).where(head_t.c.stream == stream))
    found = current.first()
    head = (found.seq, found.hash) if found else (0, GENESIS)
    rows = build_entries(stream, head, records)
    conn.execute(audit_t.insert(), rows)
    new = {"seq": rows[-1]["seq"], "hash": rows[-1]["hash"]}
    if found:
        conn.execute(
            head_t.update()
            .where(head_t.c.stream == stream, head_t.c.seq == found.seq)
            .values(**new)
        )
    else:
        conn.execute(head_t.insert().values(stream=stream, **new))


def log(
    conn: Connection,
    stream: str,
    *,
    actor: Any,
    at: datetime,
    event: str,
    data: dict[str, Any],
    from_state: str | None = None,
    to_state: str | None = None,
) -> None:
    """Append one entry by ``actor`` to a non-project stream (contractors, calendar, …)."""
    append_to_stream(
        conn,
        stream,
        [
            {
                "at": at,
                "actor_id": actor.id,
                "role": actor.role,
                "org": actor.org,
                "event": event,
                "from_state": from_state,
                "to_state": to_state,
                "data": data,
            }
        ],
    )


def row_to_entry(row: Any) -> AuditEntry:
    return AuditEntry(
        stream=row.stream,
        seq=row.seq,
        at=row.at,
        actor_id=row.actor_id,
        role=row.role,
        org=row.org,
        event=row.event,
        from_state=row.from_state,
        to_state=row.to_state,
        data=row.data,
        prev_hash=row.prev_hash,
        hash=row.hash,
        project_id=row.project_id,
        id=row.id,
    )


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What :func:`verify` found. ``ok`` is False from the first altered entry on."""

    ok: bool
    entries: int
    streams: int
    #: the first entry found altered, missing or out of order (stream, seq), with why
    first_bad: tuple[str, int] | None = None
    reason: str = ""
    audit_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "streams": self.streams,
            "first_bad": list(self.first_bad) if self.first_bad else None,
            "reason": self.reason,
            "audit_id": self.audit_id,
        }


def verify(conn: Connection) -> VerifyReport:
    """Recompute every chain; report the first entry (by audit id) whose hash, link or sequence
    does not hold, and any stream whose recorded head does not match its last entry."""
    heads: dict[str, tuple[int, str]] = {
        f"project:{r.id}": (r.audit_seq, r.audit_head)
        for r in conn.execute(select(project_t.c.id, project_t.c.audit_seq, project_t.c.audit_head))
    }
    heads.update({r.stream: (r.seq, r.hash) for r in conn.execute(select(head_t))})
    last: dict[str, tuple[int, str]] = {}
    bad: list[tuple[int, str, int, str]] = []
    count = 0
    for row in conn.execute(select(audit_t).order_by(audit_t.c.stream, audit_t.c.seq)):
        count += 1
        seq, prev = last.get(row.stream, (0, GENESIS))
        if row.stream in {b[1] for b in bad}:
            continue
        expected = row_to_entry(row).recompute_hash()
        reason, at_seq = "", row.seq
        if row.seq != seq + 1:
            at_seq = seq + 1
            reason = f"entry {seq + 1} is missing / 缺少第 {seq + 1} 条"
        elif row.prev_hash != prev:
            reason = "link to the previous entry broken / 与上一条的链接被破坏"
        elif row.hash != expected:
            reason = "content altered / 内容被篡改"
        if reason:
            bad.append((row.id, row.stream, at_seq, reason))
        last[row.stream] = (row.seq, row.hash)
    for stream, head in heads.items():
        if stream in {b[1] for b in bad}:
            continue
        if last.get(stream, (0, GENESIS)) != head and head != (0, ""):
            seq = min(head[0], last.get(stream, (0, ""))[0]) + 1
            bad.append((10**18, stream, seq, "entries removed after this point / 此后条目被删除"))
    if not bad:
        return VerifyReport(ok=True, entries=count, streams=len(last))
    audit_id, stream, seq, reason = min(bad)
    return VerifyReport(
        ok=False,
        entries=count,
        streams=len(last),
        first_bad=(stream, seq),
        reason=reason,
        audit_id=audit_id if audit_id < 10**18 else None,
    )
