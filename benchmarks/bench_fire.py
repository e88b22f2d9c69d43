"""`Workflow.fire` vs a lean bare transaction of the same writes, on SQLite and on PostgreSQL.

Run: .venv/bin/python benchmarks/bench_fire.py [--backend sqlite|postgresql|both] [--profile]
     (goal: ours / bare ≤ 1.5× on each backend; default: both)

The bare side is what a careful hand-written implementation does for the same event
(`review_budget`): one transaction on a raw DB-API connection taken from the same engine (so
the same pragmas: WAL, synchronous=NORMAL, BEGIN IMMEDIATE on SQLite), parameterized SQL
strings (sqlite3 caches its prepared statements, psycopg 3 prepares server-side after five
runs), load the row, parse its JSON, set the review, dump the JSON, SHA-256 of the data, update
the same eight columns of `gpw_project` gpw updates, insert one `gpw_audit` row with every
column gpw writes and a SHA-256 over the entry's canonical JSON and the previous hash, commit.
Both sides work on their own projects of the same shape (made through the facade); rounds
alternate between them so drift on the machine hits both alike. PostgreSQL is a throwaway
local server (tests/pg.py: loopback, fsync and synchronous_commit off), so both sides pay a
loopback round trip per statement and no disk flush.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _setup import machine
from sqlalchemy import MetaData, Table, bindparam, select

from states.model import Actor
from workflow import Workflow

TZ = ZoneInfo("Asia/Shanghai")
CLERK = Actor(id="clerk", role="purchaser", org="大武口区民政局")
FINANCE = Actor(id="fin", role="finance", org="大武口区财政局")
PROJECTS, ROUNDS, PER_ROUND = 200, 10, 200
DATA = {"approved": True, "note": "预算已审核"}

AUDIT_COLS = (
    "stream, seq, project_id, actor_id, role, org, at, event, from_state, to_state, data, "
    "recorded_at, version, digest, hash_format, prev_hash, hash"
)


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def setup(wf: Workflow) -> tuple[list[int], list[int]]:
    """Submitted projects: the first half for gpw, the second for the bare transaction."""
    at = datetime(2025, 8, 1, 10, tzinfo=TZ)
    ids = []
    for i in range(2 * PROJECTS):
        pid = wf.create_project(
            actor=CLERK,
            title=f"项目{i}",
            purchaser="大武口区民政局",
            budget="1000000.00",
            items=[{"name": "核查", "quantity": 1}],
            at=at,
        )
        wf.fire(pid, "submit", actor=CLERK, at=at)
        ids.append(pid)
    return ids[:PROJECTS], ids[PROJECTS:]


def ours(wf: Workflow, ids: list[int], at: datetime) -> None:
    for i in range(PER_ROUND):
        wf.fire(ids[i % len(ids)], "review_budget", actor=FINANCE, at=at, **DATA)


class CoreBare:
    """The lean transaction in SQLAlchemy Core on the same engine: statements built once with
    bind parameters (so SQLAlchemy compiles each once and reuses it), the table reflected from
    the database, one `engine.begin()` per event as any SQLAlchemy application opens."""

    def __init__(self, wf: Workflow) -> None:
        self.engine = wf.engine
        meta = MetaData()
        project = Table("gpw_project", meta, autoload_with=self.engine)
        audit = Table("gpw_audit", meta, autoload_with=self.engine)
        self.sqlite = self.engine.dialect.name == "sqlite"
        c = project.c
        self.select = select(c.state, c.version, c.data, c.audit_seq, c.audit_head).where(
            c.id == bindparam("pid")
        )
        self.update = (
            project.update()
            .where(c.id == bindparam("pid"), c.version == bindparam("old"))
            .values(
                state=bindparam("state"),
                title=bindparam("title"),
                contractor_id=bindparam("cid"),
                data=bindparam("data", type_=c.data.type),
                version=bindparam("new"),
                audit_seq=bindparam("seq"),
                audit_head=bindparam("head"),
                updated_at=bindparam("at", type_=c.updated_at.type),
            )
        )
        self.insert = audit.insert()

    def ts(self, d: datetime) -> datetime:
        # reflected SQLite DATETIME columns are naive: gpw stores UTC there
        return d.astimezone(UTC).replace(tzinfo=None) if self.sqlite else d

    def run(self, ids: list[int], at: datetime) -> None:
        for i in range(PER_ROUND):
            pid = ids[i % len(ids)]
            with self.engine.begin() as conn:
                state, version, data, seq, head = conn.execute(self.select, {"pid": pid}).one()
                data = dict(data)
                data["budget_review"] = {**DATA, "by": FINANCE.id, "at": at.isoformat()}
                digest = hashlib.sha256(canonical(data).encode()).hexdigest()
                recorded = datetime.now(UTC)
                entry_hash = hashlib.sha256(
                    canonical(entry(pid, seq, at, recorded, state, version, digest, head)).encode()
                ).hexdigest()
                done = conn.execute(
                    self.update,
                    {
                        "pid": pid,
                        "old": version,
                        "state": state,
                        "title": data["title"],
                        "cid": data.get("contractor_id"),
                        "data": data,
                        "new": version + 1,
                        "seq": seq + 1,
                        "head": entry_hash,
                        "at": self.ts(at),
                    },
                )
                if done.rowcount != 1:
                    raise RuntimeError("lost the compare-and-set")
                conn.execute(
                    self.insert,
                    {
                        "stream": f"project:{pid}",
                        "seq": seq + 1,
                        "project_id": pid,
                        "actor_id": FINANCE.id,
                        "role": FINANCE.role,
                        "org": FINANCE.org,
                        "at": self.ts(at),
                        "event": "review_budget",
                        "from_state": state,
                        "to_state": state,
                        "data": DATA,
                        "recorded_at": self.ts(recorded),
                        "version": version + 1,
                        "digest": digest,
                        "hash_format": 2,
                        "prev_hash": head,
                        "hash": entry_hash,
                    },
                )

    def close(self) -> None:
        pass


def entry(
    pid: int,
    seq: int,
    at: datetime,
    recorded: datetime,
    state: str,
    version: int,
    digest: str,
    head: str,
) -> dict[str, Any]:
    """The audit entry as hashed: its content, the project's version and digest, the link."""
    return {
        "stream": f"project:{pid}",
        "seq": seq + 1,
        "at": at.isoformat(),
        "recorded_at": recorded.isoformat(),
        "actor_id": FINANCE.id,
        "role": FINANCE.role,
        "org": FINANCE.org,
        "event": "review_budget",
        "from": state,
        "to": state,
        "data": DATA,
        "version": version + 1,
        "digest": digest,
        "prev": head,
    }


class DbapiBare:
    """The same transaction on the driver itself: one DB-API connection from the engine, held
    for the whole run; the floor under any library."""

    def __init__(self, wf: Workflow) -> None:
        self.dialect = wf.engine.dialect.name
        self.raw = wf.engine.raw_connection()
        self.conn: Any = self.raw.driver_connection
        if self.dialect == "sqlite":
            p = "?"
            self.begin = "BEGIN IMMEDIATE"
            # gpw's SQLite datetimes: naive UTC text, always with microseconds
            self.ts: Callable[[datetime], Any] = lambda d: d.astimezone(UTC).strftime(
                "%Y-%m-%d %H:%M:%S.%f"
            )
            self.jsonb = p
        else:
            p = "%s"
            self.begin = ""  # psycopg opens the transaction at the first statement
            self.ts = lambda d: d
            self.jsonb = "%s::jsonb"
        self.select = (
            f"SELECT state, version, data, audit_seq, audit_head FROM gpw_project WHERE id = {p}"
        )
        self.update = (
            f"UPDATE gpw_project SET state = {p}, title = {p}, contractor_id = {p}, "
            f"data = {self.jsonb}, version = {p}, audit_seq = {p}, audit_head = {p}, "
            f"updated_at = {p} WHERE id = {p} AND version = {p}"
        )
        marks = [p] * 17
        marks[10] = self.jsonb
        self.insert = f"INSERT INTO gpw_audit ({AUDIT_COLS}) VALUES ({', '.join(marks)})"

    def close(self) -> None:
        self.raw.close()

    def run(self, ids: list[int], at: datetime) -> None:
        conn, ts = self.conn, self.ts
        cur = conn.cursor()
        for i in range(PER_ROUND):
            pid = ids[i % len(ids)]
            if self.begin:
                cur.execute(self.begin)
            cur.execute(self.select, (pid,))
            state, version, data, seq, head = cur.fetchone()
            if isinstance(data, str):  # SQLite: JSON text; psycopg parses JSONB itself
                data = json.loads(data)
            data["budget_review"] = {**DATA, "by": FINANCE.id, "at": at.isoformat()}
            text = canonical(data)
            digest = hashlib.sha256(text.encode()).hexdigest()
            recorded = datetime.now(UTC)
            entry_hash = hashlib.sha256(
                canonical(entry(pid, seq, at, recorded, state, version, digest, head)).encode()
            ).hexdigest()
            cur.execute(
                self.update,
                (
                    state,
                    data["title"],
                    data.get("contractor_id"),
                    text,
                    version + 1,
                    seq + 1,
                    entry_hash,
                    ts(at),
                    pid,
                    version,
                ),
            )
            if cur.rowcount != 1:
                raise RuntimeError("lost the compare-and-set")
            cur.execute(
                self.insert,
                (
                    f"project:{pid}",
                    seq + 1,
                    pid,
                    FINANCE.id,
                    FINANCE.role,
                    FINANCE.org,
                    ts(at),
                    "review_budget",
                    state,
                    state,
                    canonical(DATA),
                    ts(recorded),
                    version + 1,
                    digest,
                    2,
                    head,
                    entry_hash,
                ),
            )
            if self.begin:
                cur.execute("COMMIT")
            else:
                conn.commit()
        cur.close()


@contextmanager
def database(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
    else:
        import pg

        with pg.running() as server:
            yield server.url(server.create_database())


def measure(backend: str, profile: bool) -> float:
    with database(backend) as url:
        wf = Workflow.open(url)
        mine, theirs = setup(wf)
        # the two bare sides share their projects: each reads the version the other wrote
        core, dbapi = CoreBare(wf), DbapiBare(wf)
        at = datetime(2025, 8, 4, 10, tzinfo=TZ)
        times: dict[str, list[float]] = {"ours": [], "core": [], "dbapi": []}
        sides: list[tuple[str, Callable[[list[int], datetime], None], list[int]]] = [
            ("ours", lambda ids, when: ours(wf, ids, when), mine),
            ("core", core.run, theirs),
            ("dbapi", dbapi.run, theirs),
        ]
        for _, fn, ids in sides:  # warm every path (and let psycopg prepare its statements)
            fn(ids, at)
        for r in range(ROUNDS):
            at += timedelta(minutes=1)
            for name, fn, ids in sides[r % 3 :] + sides[: r % 3]:
                t0 = time.perf_counter()
                fn(ids, at)
                times[name].append((time.perf_counter() - t0) / PER_ROUND)
        a, b, c = (statistics.median(times[k]) for k in ("ours", "core", "dbapi"))
        name = "SQLite file (WAL)" if backend == "sqlite" else "PostgreSQL 15 (loopback)"
        print(f"[{name}] {PER_ROUND} events a round, median of {ROUNDS} rounds")
        print(f"  fire (review_budget):                  {a * 1e6:7.0f} µs/event")
        print(f"  lean bare transaction, SQLAlchemy Core: {b * 1e6:7.0f} µs/op")
        print(f"  the same on the DB-API driver:          {c * 1e6:7.0f} µs/op")
        print(f"  ratio ours/bare (Core): {a / b:.2f}×  (goal ≤ 1.5×);  ours/driver: {a / c:.2f}×")
        if profile:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.runcall(ours, wf, mine, at + timedelta(hours=1))
            pstats.Stats(prof).sort_stats(
                os.environ.get("GPW_PROFILE_SORT", "cumulative")
            ).print_stats(os.environ.get("GPW_PROFILE_FILTER", ""), 30)
        dbapi.close()
        wf.close()
        return a / b


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--profile", action="store_true", help="cProfile one round of fire")
    args = parser.parse_args()
    print(machine())
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    for backend in backends:
        measure(backend, args.profile)


if __name__ == "__main__":
    main()
