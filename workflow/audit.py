"""The audit trail: append-only, one hash chain per stream (全程留痕, R15, R16).

A stream is ``project:<id>``, ``contractor:<id>``, ``calendar``, ``directory`` or ``notices``.
Each entry's hash covers its content, the engine's clock when it was written (``recorded_at``)
and the previous entry's hash; the head (seq and hash of the last entry) is kept on the project
row, or in ``gpw_audit_head`` for other streams, so truncating a chain is found too.
``(stream, seq)`` is unique: two writers cannot both append entry n.

A project entry also carries, inside its hash, the project's ``version`` and ``digest`` (SHA-256
of the project's canonical JSON data) after its transaction, so the project row and its deadline
rows are tied to the chain: :func:`verify` replays them. An *anchor* (:func:`anchor`) is the head
of every stream and one digest over them, kept outside the database; ``verify(anchor=…)`` checks
that the log still extends it, so cutting a chain and rewriting its head is found as well.

Each entry says which formula hashed it (``hash_format``): 1, v0.1.0's (content and link, without
``recorded_at``, ``version`` or ``digest``), kept for entries that release wrote; 2, today's, for
every new entry. :func:`verify` recomputes each entry with its own format; a project's version and
digest are checked from its first format-2 entry on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from states import deadlines as dl
from states.errors import InvalidInput
from workflow.persistence import audit_t, deadline_t, head_t, project_t, utcnow

GENESIS = "0" * 64
ANCHOR_FORMAT = "gpw-anchor-1"
#: how far a recorded ``at`` may run ahead of the engine's clock
FUTURE_SLACK = timedelta(minutes=5)
#: ``conn.info`` key under which a writing transaction finds the engine's clock
CLOCK_KEY = "gpw_clock"
#: the hash formula of v0.1.0's entries (no recorded_at, version, digest) and today's
HASH_FORMAT_V1, HASH_FORMAT = 1, 2
HASH_FORMATS = (HASH_FORMAT_V1, HASH_FORMAT)


def canonical_json(value: Any) -> str:
    """Sorted keys, UTF-8 as is, no spaces: the one text a value is hashed as."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def data_digest(data: Any) -> str:
    """SHA-256 of a project's data (``Project.to_json()``) as canonical JSON."""
    return text_digest(canonical_json(data))


def text_digest(canonical: str) -> str:
    """SHA-256 of a canonical JSON text (:func:`canonical_json`), as :func:`data_digest`."""
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def recorded_now(conn: Connection) -> datetime:
    """The engine's clock for this transaction (the workflow puts it in ``conn.info``)."""
    clock: Callable[[], datetime] = conn.info.get(CLOCK_KEY) or utcnow
    now = clock()
    if not isinstance(now, datetime) or now.utcoffset() is None:
        raise InvalidInput(
            "时钟须返回带时区的 datetime", "the clock must return an aware datetime", field="clock"
        )
    return now


def check_not_future(at: datetime, now: datetime) -> None:
    """Refuse an ``at`` more than five minutes after the clock's ``now`` (R15)."""
    if at - now > FUTURE_SLACK:
        raise InvalidInput(
            f"字段 at（{at.isoformat()}）晚于当前时间 {now.isoformat()} 超过 5 分钟："
            "不能预先记录未来的事",
            f"field at ({at.isoformat()}) is more than 5 minutes after the clock's now "
            f"{now.isoformat()}: the future cannot be recorded",
            field="at",
            rule="R15",
        )


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat(timespec="microseconds")


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
    #: the engine's clock when written (``at`` is the caller's business time)
    recorded_at: datetime | None = None
    #: project streams: the project's version and data digest after the transaction
    version: int | None = None
    digest: str | None = None
    #: the formula that hashed it: 1 (v0.1.0's entries) or 2 (today's)
    hash_format: int = HASH_FORMAT

    def recompute_hash(self) -> str:
        """The hash this entry's content and link should have, by its own formula."""
        common: dict[str, Any] = {
            "stream": self.stream,
            "seq": self.seq,
            "at": self.at,
            "actor_id": self.actor_id,
            "role": self.role,
            "org": self.org,
            "event": self.event,
            "from_state": self.from_state,
            "to_state": self.to_state,
            "data": self.data,
            "prev_hash": self.prev_hash,
        }
        if self.hash_format == HASH_FORMAT_V1:
            return entry_hash_v1(**common)
        if self.hash_format != HASH_FORMAT:
            raise ValueError(f"unknown hash format {self.hash_format!r}")
        return entry_hash(
            **common, recorded_at=self.recorded_at, version=self.version, digest=self.digest
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "stream": self.stream,
            "seq": self.seq,
            "at": self.at.isoformat(),
            "recorded_at": self.recorded_at.isoformat() if self.recorded_at else None,
            "actor_id": self.actor_id,
            "role": self.role,
            "org": self.org,
            "event": self.event,
            "from_state": self.from_state,
            "to_state": self.to_state,
            "data": self.data,
            "version": self.version,
            "digest": self.digest,
            "hash": self.hash,
            "hash_format": self.hash_format,
        }


def entry_hash(
    *,
    stream: str,
    seq: int,
    at: datetime,
    recorded_at: datetime | None,
    actor_id: str,
    role: str,
    org: str,
    event: str,
    from_state: str | None,
    to_state: str | None,
    data: dict[str, Any],
    prev_hash: str,
    version: int | None = None,
    digest: str | None = None,
) -> str:
    canonical = canonical_json(
        {
            "stream": stream,
            "seq": seq,
            "at": _iso(at),
            "recorded_at": _iso(recorded_at),
            "actor_id": actor_id,
            "role": role,
            "org": org,
            "event": event,
            "from": from_state,
            "to": to_state,
            "data": data,
            "version": version,
            "digest": digest,
            "prev": prev_hash,
        }
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def entry_hash_v1(
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
    """Format 1: how v0.1.0 hashed an entry (its content and link only). Never used to write;
    entries that release wrote are verified with it."""
    canonical = canonical_json(
        {
            "stream": stream,
            "seq": seq,
            "at": _iso(at),
            "actor_id": actor_id,
            "role": role,
            "org": org,
            "event": event,
            "from": from_state,
            "to": to_state,
            "data": data,
            "prev": prev_hash,
        }
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def build_entries(
    stream: str,
    head: tuple[int, str],
    records: Iterable[dict[str, Any]],
    project_id: int | None = None,
) -> list[dict[str, Any]]:
    """Chain ``records`` (dicts with at, recorded_at, actor_id, role, org, event, from_state,
    to_state, data and, for a project, version and digest) onto ``head`` and return the rows to
    insert; the last row's seq and hash are the new head. An ``at`` more than five minutes
    after its ``recorded_at`` is refused."""
    seq, prev = head
    rows: list[dict[str, Any]] = []
    for rec in records:
        check_not_future(rec["at"], rec["recorded_at"])
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
                "hash_format": HASH_FORMAT,
            }
        )
        prev = digest
    return rows


def append_to_stream(conn: Connection, stream: str, records: list[dict[str, Any]]) -> None:
    """Append to a non-project stream, moving its head in ``gpw_audit_head``. Each entry is
    stamped with the engine's clock (``recorded_at``)."""
    now = recorded_now(conn)
    records = [{**rec, "recorded_at": rec.get("recorded_at") or now} for rec in records]
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
        recorded_at=row.recorded_at,
        version=row.version,
        digest=row.digest,
        hash_format=row.hash_format,
    )


# -- anchors --------------------------------------------------------------------------------------


def heads_digest(heads: Mapping[str, Mapping[str, Any]]) -> str:
    """SHA-256 over the heads (sorted by stream) as canonical JSON."""
    plain = {s: {"seq": h["seq"], "hash": h["hash"]} for s, h in heads.items()}
    return hashlib.sha256(canonical_json(plain).encode("utf-8")).hexdigest()


def anchor(conn: Connection, at: datetime) -> dict[str, Any]:
    """The head (seq, hash) of every stream now in the log, and one digest over them. Kept
    outside the database, it lets :func:`verify` tell that the log still extends it."""
    last = (
        select(audit_t.c.stream, func.max(audit_t.c.seq).label("seq"))
        .group_by(audit_t.c.stream)
        .subquery()
    )
    query = select(audit_t.c.stream, audit_t.c.seq, audit_t.c.hash).join(
        last, (audit_t.c.stream == last.c.stream) & (audit_t.c.seq == last.c.seq)
    )
    heads = {
        r.stream: {"seq": int(r.seq), "hash": r.hash}
        for r in sorted(conn.execute(query), key=lambda r: str(r.stream))
    }
    return {
        "format": ANCHOR_FORMAT,
        "at": at.isoformat(),
        "heads": heads,
        "digest": heads_digest(heads),
    }


def _bad_anchor(zh: str, en: str, where: str = "anchor") -> InvalidInput:
    return InvalidInput(f"锚点无效：{zh}", f"invalid anchor: {en}", field=where, rule="R15")


def parse_anchor(value: object) -> dict[str, Any]:
    """Check an anchor's shape (as :func:`anchor` returns it); its digest is checked by
    :func:`verify`, which reports a mismatch rather than refusing."""
    if not isinstance(value, Mapping):
        raise _bad_anchor("须为 JSON 对象", "must be a JSON object")
    if value.get("format") != ANCHOR_FORMAT:
        raise _bad_anchor(
            f"format 须为 {ANCHOR_FORMAT}", f"format must be {ANCHOR_FORMAT}", "anchor.format"
        )
    heads = value.get("heads")
    if not isinstance(heads, Mapping):
        raise _bad_anchor("heads 须为对象", "heads must be an object", "anchor.heads")
    clean: dict[str, dict[str, Any]] = {}
    for stream, head in heads.items():
        where = f"anchor.heads.{stream}"
        seq = head.get("seq") if isinstance(head, Mapping) else None
        digest = head.get("hash") if isinstance(head, Mapping) else None
        if (
            not isinstance(stream, str)
            or not isinstance(seq, int)
            or isinstance(seq, bool)
            or seq < 1
            or not isinstance(digest, str)
            or len(digest) != 64
        ):
            raise _bad_anchor(
                f"{stream} 须为 {{seq: 正整数, hash: 64 位十六进制}}",
                f"{stream} must be {{seq: positive integer, hash: 64 hex digits}}",
                where,
            )
        clean[stream] = {"seq": seq, "hash": digest}
    digest = value.get("digest")
    if not isinstance(digest, str):
        raise _bad_anchor("缺少 digest", "digest is missing", "anchor.digest")
    return {"format": ANCHOR_FORMAT, "at": value.get("at"), "heads": clean, "digest": digest}


# -- verification ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What :func:`verify` found. ``ok`` is False when anything does not hold; ``problems``
    lists each finding (kind, stream, project_id, seq, reason); ``first_bad`` is the first."""

    ok: bool
    entries: int
    streams: int
    #: the first entry found altered, missing or out of order (stream, seq), with why
    first_bad: tuple[str, int] | None = None
    reason: str = ""
    audit_id: int | None = None
    #: every finding: {kind, stream, project_id, seq, reason[, audit_id, key]}
    problems: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "streams": self.streams,
            "first_bad": list(self.first_bad) if self.first_bad else None,
            "reason": self.reason,
            "audit_id": self.audit_id,
            "problems": [dict(p) for p in self.problems],
        }


def _project_id(stream: str) -> int | None:
    kind, _, rest = stream.partition(":")
    return int(rest) if kind == "project" and rest.isdigit() else None


class _Findings:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(
        self,
        kind: str,
        stream: str | None,
        seq: int | None,
        zh: str,
        en: str,
        *,
        audit_id: int | None = None,
        **extra: Any,
    ) -> None:
        self.items.append(
            {
                "kind": kind,
                "stream": stream,
                "project_id": _project_id(stream) if stream else None,
                "seq": seq,
                "reason": f"{zh} / {en}",
                "audit_id": audit_id,
                **extra,
            }
        )


@dataclass(slots=True)
class _Stream:
    seq: int = 0
    hash: str = GENESIS
    broken: bool = False
    to_state: str | None = None
    version: int | None = None
    digest: str | None = None
    at: datetime | None = None
    entries: int = 0
    #: the hash format of the last entry walked (None before the first)
    hash_format: int | None = None


def _chain(
    conn: Connection, found: _Findings, wanted: dict[str, int], stream: str | None = None
) -> tuple[dict[str, _Stream], dict[str, str], int]:
    """Walk every stream (or only ``stream``) in order: hash, link, sequence; for projects also
    the from-state and version order. Returns each stream's last state, the hashes at ``wanted``
    seqs, the count."""
    streams: dict[str, _Stream] = {}
    at_wanted: dict[str, str] = {}
    count = 0
    query = select(audit_t).order_by(audit_t.c.stream, audit_t.c.seq)
    if stream is not None:
        query = query.where(audit_t.c.stream == stream)
    for row in conn.execute(query):
        count += 1
        s = streams.setdefault(row.stream, _Stream())
        s.entries += 1
        if wanted.get(row.stream) == row.seq:
            at_wanted[row.stream] = row.hash
        if s.broken:
            s.seq, s.hash = row.seq, row.hash
            continue
        entry = row_to_entry(row)
        if row.seq != s.seq + 1:
            n = s.seq + 1
            found.add(
                "missing", row.stream, n, f"缺少第 {n} 条", f"entry {n} is missing", audit_id=row.id
            )
            s.broken = True
        elif row.prev_hash != s.hash:
            found.add(
                "link",
                row.stream,
                row.seq,
                "与上一条的链接被破坏",
                "link to the previous entry broken",
                audit_id=row.id,
            )
            s.broken = True
        elif row.hash_format not in HASH_FORMATS:
            found.add(
                "content",
                row.stream,
                row.seq,
                f"未知的哈希格式 {row.hash_format}",
                f"unknown hash format {row.hash_format}",
                audit_id=row.id,
            )
            s.broken = True
        elif row.hash_format == HASH_FORMAT_V1 and s.hash_format == HASH_FORMAT:
            # only entries v0.1.0 wrote are format 1: none can follow a format-2 entry
            found.add(
                "content",
                row.stream,
                row.seq,
                "旧格式（v0.1.0）的条目不能出现在新格式条目之后",
                "an entry of the old (v0.1.0) format cannot follow one of the current format",
                audit_id=row.id,
            )
            s.broken = True
        elif row.hash != entry.recompute_hash():
            found.add(
                "content", row.stream, row.seq, "内容被篡改", "content altered", audit_id=row.id
            )
            s.broken = True
        if not s.broken:
            _order(found, row, s)
        if row.recorded_at is not None and row.at - row.recorded_at > FUTURE_SLACK:
            found.add(
                "at",
                row.stream,
                row.seq,
                f"业务时间 at {row.at.isoformat()} 晚于写入时间 {row.recorded_at.isoformat()}",
                f"at {row.at.isoformat()} is after the time it was recorded "
                f"{row.recorded_at.isoformat()}",
                audit_id=row.id,
            )
        s.seq, s.hash = row.seq, row.hash
        s.to_state, s.version, s.digest, s.at = row.to_state, row.version, row.digest, row.at
        s.hash_format = row.hash_format
    return streams, at_wanted, count


def _order(found: _Findings, row: Any, s: _Stream) -> None:
    """A project entry starts where the previous one ended; versions go up one a transaction.
    A format-1 entry (written by v0.1.0) holds no version or digest: only its from-state is
    checked; versions are checked from the first format-2 entry on."""
    if _project_id(row.stream) is None:
        return
    expected = "draft" if row.seq == 1 else s.to_state
    if row.from_state != expected:
        found.add(
            "order",
            row.stream,
            row.seq,
            f"起始状态 {row.from_state} 不是上一条的结束状态 {expected}",
            f"from-state {row.from_state} is not the previous entry's to-state {expected}",
            audit_id=row.id,
        )
    if row.hash_format == HASH_FORMAT_V1:
        return
    if row.version is None or row.digest is None:
        found.add(
            "order",
            row.stream,
            row.seq,
            "缺少项目版本或数据摘要",
            "the project's version or data digest is missing",
            audit_id=row.id,
        )
        return
    if row.seq > 1 and s.hash_format == HASH_FORMAT_V1:
        return  # the first format-2 entry after v0.1.0's: there is no version to follow
    allowed = {1} if row.seq == 1 or s.version is None else {s.version, s.version + 1}
    if row.version not in allowed:
        found.add(
            "order",
            row.stream,
            row.seq,
            f"版本 {row.version} 不接续上一条的版本 {s.version}",
            f"version {row.version} does not follow the previous entry's {s.version}",
            audit_id=row.id,
        )


def _heads(
    conn: Connection, found: _Findings, streams: dict[str, _Stream], projects: dict[int, Any]
) -> None:
    """Each recorded head is its stream's last entry; every stream has one."""
    heads: dict[str, tuple[int, str]] = {
        f"project:{pid}": (r.audit_seq, r.audit_head) for pid, r in projects.items()
    }
    heads.update({r.stream: (r.seq, r.hash) for r in conn.execute(select(head_t))})
    for stream, head in heads.items():
        s = streams.get(stream)
        if s is None and _project_id(stream) is not None:
            found.add(
                "project",
                stream,
                1,
                "项目行没有任何留痕条目",
                "the project row has no audit entries",
            )
            continue
        if s is not None and s.broken:
            continue  # reported at the entry where the chain breaks
        last = (s.seq, s.hash) if s is not None else (0, GENESIS)
        if last != head:
            n = min(head[0], last[0]) + 1
            found.add(
                "head",
                stream,
                n,
                f"链头（第 {head[0]} 条）与最后一条（第 {last[0]} 条）不符："
                "此后条目被删除或链头被改写",
                f"the head (entry {head[0]}) does not match the last entry ({last[0]}): "
                "entries removed after this point, or the head rewritten",
            )
    for stream, s in streams.items():
        if stream in heads:
            continue
        if _project_id(stream) is not None:
            found.add(
                "project",
                stream,
                s.seq,
                "这些留痕条目所属的项目行已不存在",
                "the project these entries belong to has no row",
            )
        else:
            found.add(
                "head", stream, s.seq, "该链的链头记录缺失", "the stream's head row is missing"
            )


def _replay(found: _Findings, streams: dict[str, _Stream], projects: dict[int, Any]) -> None:
    """The project row (state, version, data, the columns copied from it, and ``updated_at``:
    the last entry's ``at``) is what its last audit entry says the transaction left."""
    for pid, row in projects.items():
        stream = f"project:{pid}"
        s = streams.get(stream)
        if s is None:
            continue
        data = row.data if isinstance(row.data, dict) else {}
        try:
            digest: str | None = data_digest(row.data)
        except (TypeError, ValueError):
            digest = None
        diffs: list[str] = []
        if s.to_state != row.state:
            diffs.append(f"state {row.state} ≠ {s.to_state}")
        # an entry v0.1.0 wrote (format 1) vouches for no version or data
        if s.hash_format != HASH_FORMAT_V1 and s.version != row.version:
            diffs.append(f"version {row.version} ≠ {s.version}")
        if s.hash_format != HASH_FORMAT_V1 and s.digest != digest:
            diffs.append("data")
        if s.at is not None and row.updated_at != s.at:
            diffs.append(f"updated_at ≠ at of entry {s.seq}")
        for column in ("title", "purchaser", "policy", "state", "contractor_id"):
            if data.get(column) != getattr(row, column):
                diffs.append(f"{column} ≠ data.{column}")
        if diffs:
            what = "; ".join(diffs)
            found.add(
                "project",
                stream,
                s.seq,
                f"项目行与其留痕条目重放的结果不符（{what}）",
                f"the project row differs from what its audit entries replay to ({what})",
            )


def _parse_day(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else None


def _deadline_diff(expected: Mapping[str, Any], row: Any) -> list[str]:
    try:
        due, met_on = _parse_day(expected.get("due")), _parse_day(expected.get("met_on"))
    except ValueError:
        return ["due"]
    want = {
        "kind": expected.get("kind"),
        "owner": expected.get("owner"),
        "rule": expected.get("rule"),
        "due": due,
        "due_at": dl.end_of_day(due) if due is not None else None,
        "provisional": bool(expected.get("provisional", False)),
        # an open deadline whose clock is stopped has a ``suspended`` row (states.deadlines)
        "status": "suspended"
        if expected.get("status") == "open" and expected.get("suspended_on")
        else expected.get("status"),
        "met_on": met_on,
        "late": bool(expected.get("late", False)),
    }
    return [name for name, value in want.items() if getattr(row, name) != value]


def _deadlines(
    conn: Connection,
    found: _Findings,
    streams: dict[str, _Stream],
    projects: dict[int, Any],
    only: int | None = None,
) -> None:
    """Each deadline row is its project's deadline as the project data holds it, recomputed
    (due_at: the end of the due day, Asia/Shanghai); none missing, none extra. ``only``: the
    rows of that project alone."""
    rows: dict[int, dict[str, Any]] = {}
    query = select(deadline_t).order_by(deadline_t.c.project_id, deadline_t.c.key)
    if only is not None:
        query = query.where(deadline_t.c.project_id == only)
    for r in conn.execute(query):
        rows.setdefault(r.project_id, {})[r.key] = r
    for pid in sorted(rows.keys() - projects.keys()):
        for key in rows[pid]:
            found.add(
                "deadline",
                f"project:{pid}",
                None,
                f"期限行 {key} 所属的项目不存在",
                f"deadline row {key} belongs to no project",
                key=key,
            )
    for pid, project in projects.items():
        stream = f"project:{pid}"
        s = streams.get(stream)
        seq = s.seq if s is not None else None
        data = project.data if isinstance(project.data, dict) else {}
        listed = data.get("deadlines", [])
        expected = {
            d["key"]: d
            for d in (listed if isinstance(listed, list) else [])
            if isinstance(d, dict) and isinstance(d.get("key"), str)
        }
        actual = rows.get(pid, {})
        for key in sorted(expected.keys() | actual.keys()):
            want, got = expected.get(key), actual.get(key)
            if got is None:
                found.add(
                    "deadline",
                    stream,
                    seq,
                    f"项目数据中的期限 {key} 没有期限行",
                    f"the project's deadline {key} has no deadline row",
                    key=key,
                )
            elif want is None:
                found.add(
                    "deadline",
                    stream,
                    seq,
                    f"期限行 {key} 在项目数据中没有对应的期限",
                    f"deadline row {key} has no counterpart in the project's data",
                    key=key,
                )
            elif diffs := _deadline_diff(want, got):
                what = ", ".join(diffs)
                found.add(
                    "deadline",
                    stream,
                    seq,
                    f"期限行 {key} 与重新计算的结果不符（{what}）",
                    f"deadline row {key} differs from its recomputation ({what})",
                    key=key,
                )


def _anchored(
    found: _Findings,
    anchored: Mapping[str, Any],
    streams: dict[str, _Stream],
    at_wanted: dict[str, str],
) -> None:
    """The log still extends the anchor: each anchored entry is there with the same hash (the
    chain walk has checked the links from it to the head)."""
    if heads_digest(anchored["heads"]) != anchored["digest"]:
        found.add(
            "anchor_digest",
            None,
            None,
            "锚点的摘要与其链头不符：锚点文件被伪造或改动",
            "the anchor's digest does not match its heads: a forged or edited anchor",
        )
    for stream, head in sorted(anchored["heads"].items()):
        seq = head["seq"]
        if stream not in streams:
            found.add(
                "anchor",
                stream,
                seq,
                "锚点中的这条链已整条消失",
                "this stream of the anchor has vanished",
            )
        elif stream not in at_wanted:
            found.add(
                "anchor",
                stream,
                seq,
                f"日志已不再包含锚定的第 {seq} 条：链被截断",
                f"the log no longer holds anchored entry {seq}: the chain was cut",
            )
        elif at_wanted[stream] != head["hash"]:
            found.add(
                "anchor",
                stream,
                seq,
                f"锚定的第 {seq} 条已被改写：日志不再延续锚点",
                f"anchored entry {seq} was rewritten: the log no longer extends the anchor",
            )


def _report(found: _Findings, count: int, streams: int) -> VerifyReport:
    problems = found.items
    if not problems:
        return VerifyReport(ok=True, entries=count, streams=streams)
    first = min(
        enumerate(problems),
        key=lambda ip: (ip[1]["audit_id"] is None, ip[1]["audit_id"] or 0, ip[0]),
    )[1]
    return VerifyReport(
        ok=False,
        entries=count,
        streams=streams,
        first_bad=(first["stream"] or "anchor", first["seq"] or 0),
        reason=first["reason"],
        audit_id=first["audit_id"],
        problems=problems,
    )


def verify_project(conn: Connection, project_id: int) -> VerifyReport:
    """:func:`verify` for one project only, reading nothing else: its stream's entries (hash,
    link, sequence, from-state and version order, ``at``), its head on the project row, the row
    replayed from its last entry, and its deadline rows. What a project's page shows (R15); the
    other streams and an anchor are :func:`verify`'s."""
    stream = f"project:{project_id}"
    found = _Findings()
    streams, _, count = _chain(conn, found, {}, stream)
    row = conn.execute(select(project_t).where(project_t.c.id == project_id)).first()
    projects = {project_id: row} if row is not None else {}
    s = streams.get(stream)
    if row is None:
        if s is not None:
            found.add(
                "project",
                stream,
                s.seq,
                "这些留痕条目所属的项目行已不存在",
                "the project these entries belong to has no row",
            )
    elif s is None:
        found.add(
            "project", stream, 1, "项目行没有任何留痕条目", "the project row has no audit entries"
        )
    elif not s.broken and (s.seq, s.hash) != (row.audit_seq, row.audit_head):
        n = min(row.audit_seq, s.seq) + 1
        found.add(
            "head",
            stream,
            n,
            f"链头（第 {row.audit_seq} 条）与最后一条（第 {s.seq} 条）不符："
            "此后条目被删除或链头被改写",
            f"the head (entry {row.audit_seq}) does not match the last entry ({s.seq}): "
            "entries removed after this point, or the head rewritten",
        )
    _replay(found, streams, projects)
    _deadlines(conn, found, streams, projects, only=project_id)
    return _report(found, count, len(streams))


def verify(conn: Connection, anchor: Mapping[str, Any] | None = None) -> VerifyReport:
    """Recompute every chain and replay what the chains vouch for. Reports, each with its
    stream (and project) and entry: an entry altered, missing or unlinked; a project entry
    whose from-state is not the previous entry's to-state, or whose version does not follow; a
    head that is not its stream's last entry; a project row (state, version, data) that differs
    from what its entries replay to; a deadline row that differs from its recomputation or has
    no counterpart; an ``at`` after the time it was recorded; and, given an ``anchor``, a log
    that no longer extends it (or an anchor whose digest does not match its heads)."""
    anchored = parse_anchor(anchor) if anchor is not None else None
    wanted = {s: h["seq"] for s, h in anchored["heads"].items()} if anchored else {}
    found = _Findings()
    streams, at_wanted, count = _chain(conn, found, wanted)
    projects = {r.id: r for r in conn.execute(select(project_t).order_by(project_t.c.id))}
    _heads(conn, found, streams, projects)
    _replay(found, streams, projects)
    _deadlines(conn, found, streams, projects)
    if anchored is not None:
        _anchored(found, anchored, streams, at_wanted)
    return _report(found, count, len(streams))
