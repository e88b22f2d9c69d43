"""A training sandbox (issue #10): a copy of a database on an accelerated clock, for clerks.

:func:`copy_database` copies a gpw database and marks the copy (``gpw_meta`` row ``sandbox``: the
source, when it was made, the clock's start and pace). SQLite files are copied with SQLite's
online backup API (a consistent snapshot while other connections write); a PostgreSQL database
with ``CREATE DATABASE copy TEMPLATE source``, which PostgreSQL allows only while nobody else is
connected to the source: otherwise, or without the right to create databases, the copy is refused
with a message that says so and names the way out (``pg_dump`` the source, restore it into a new
database nobody uses, and copy that one). The original is only read.

A marked database always runs as a sandbox, whoever opens it (:func:`sandbox_of`): its clock is a
:class:`SandboxClock` shared by every process through the mark, and its notices go to the inbox
only. A configuration asking for e-mail, webhooks or the log is refused when the workflow opens
(``ConfigurationError``): a copy of real projects holds real people's addresses, and a drill must
never write to them.

The clock keeps working-day semantics: one working day of the calendar passes every
``seconds_per_working_day`` real seconds, and days that are not working days (weekends, holidays)
are skipped, so every reminder, overdue notice and escalation falls as it would, only sooner.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Connection, Engine, make_url

from states.calendar import WorkingDayCalendar
from states.deadlines import SHANGHAI
from states.errors import ConfigurationError, InvalidInput, NotFound
from workflow.persistence import check_database, make_engine, safe_url, sqlite_file
from workflow.store.outbox import upsert_meta
from workflow.tables import meta_t

#: the ``gpw_meta`` key that marks a sandbox copy
MARK = "sandbox"
#: the only channel a sandbox delivers on
SANDBOX_CHANNELS = ("inbox",)


@dataclass(frozen=True, slots=True)
class SandboxMark:
    """What the mark of a sandbox copy records."""

    #: the database it was copied from (password masked)
    source: str
    made_at: datetime
    #: the sandbox clock reads ``start`` at real Unix time ``since``
    start: datetime
    since: float
    seconds_per_working_day: float

    def to_json(self) -> str:
        return json.dumps(
            {
                "source": self.source,
                "made_at": self.made_at.isoformat(),
                "start": self.start.isoformat(),
                "since": self.since,
                "seconds_per_working_day": self.seconds_per_working_day,
            },
            ensure_ascii=False,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text_: str) -> SandboxMark:
        try:
            data = json.loads(text_)
            return cls(
                source=str(data["source"]),
                made_at=datetime.fromisoformat(data["made_at"]),
                start=datetime.fromisoformat(data["start"]),
                since=float(data["since"]),
                seconds_per_working_day=float(data["seconds_per_working_day"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigurationError(
                "沙盒标记已损坏（gpw_meta.sandbox）",
                "the sandbox mark is damaged (gpw_meta.sandbox)",
                field="db",
            ) from exc


class SandboxClock:
    """Business time in a sandbox: ``start`` at real time ``since``, then one working day every
    ``seconds_per_working_day`` real seconds. A day's time runs evenly over its share of real
    time; the days between two working days (weekends, holidays) are skipped."""

    def __init__(
        self,
        calendar: WorkingDayCalendar,
        mark: SandboxMark,
        *,
        real: Callable[[], float] = time.time,
    ) -> None:
        self.calendar = calendar
        self.mark = mark
        self._real = real
        local = mark.start.astimezone(SHANGHAI)
        self._day0 = local.date()
        midnight = datetime.combine(self._day0, datetime.min.time(), tzinfo=SHANGHAI)
        self._offset = (local - midnight).total_seconds() / 86400

    def at_elapsed(self, seconds: float) -> datetime:
        """The sandbox's time ``seconds`` real seconds after its start."""
        total = self._offset + max(0.0, seconds) / self.mark.seconds_per_working_day
        whole = math.floor(total)
        day: date = (
            self._day0 if whole == 0 else self.calendar.add_working_days(self._day0, whole).date
        )
        midnight = datetime.combine(day, datetime.min.time(), tzinfo=SHANGHAI)
        return midnight + timedelta(seconds=round((total - whole) * 86400, 3))

    def __call__(self) -> datetime:
        return self.at_elapsed(self._real() - self.mark.since)


def check_pace(seconds_per_working_day: float) -> float:
    if not (isinstance(seconds_per_working_day, int | float)) or not (
        1 <= seconds_per_working_day <= 86400
    ):
        raise InvalidInput(
            f"每个工作日的秒数须在 1 至 86400 之间：{seconds_per_working_day}",
            f"seconds per working day must be 1 to 86400: {seconds_per_working_day}",
            field="seconds_per_working_day",
        )
    return float(seconds_per_working_day)


def read_mark(conn: Connection) -> SandboxMark | None:
    value = conn.execute(select(meta_t.c.value).where(meta_t.c.key == MARK)).scalar()
    return None if value is None else SandboxMark.from_json(str(value))


def sandbox_of(engine: Engine) -> SandboxMark | None:
    """The mark of a sandbox copy, or None for any other database (one indexed read)."""
    with engine.connect() as conn:
        if not engine.dialect.has_table(conn, meta_t.name):
            return None
        return read_mark(conn)


def check_channels(names: Sequence[str]) -> None:
    """A sandbox delivers to the inbox only: every other channel (e-mail, webhooks, the log, the
    group-chat robots) is refused."""
    others = [n for n in names if n not in SANDBOX_CHANNELS]
    if others:
        raise ConfigurationError(
            f"沙盒只投递到站内收件箱，拒绝通知渠道：{', '.join(others)}（请从 GPW_CHANNELS、"
            "--notices 中去掉这些渠道，只留 inbox）",
            f"a sandbox delivers to the inbox only: channel(s) {', '.join(others)} refused "
            "(leave only inbox in GPW_CHANNELS or --notices)",
            field="channels",
        )


def mark(engine: Engine, mark_: SandboxMark) -> None:
    with engine.begin() as conn:
        upsert_meta(conn, MARK, mark_.to_json())


def _copy_sqlite(source: Path, dest: Path) -> None:
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(str(dest), timeout=30)
        try:
            src.backup(dst)  # SQLite's online backup: a consistent snapshot of the whole file
        finally:
            dst.close()
    finally:
        src.close()


def _pg_identifier(name: str) -> str:
    if not name or len(name) > 63 or "\x00" in name:
        raise InvalidInput(
            f"数据库名无效：{name!r}", f"not a database name: {name!r}", field="copy"
        )
    return '"' + name.replace('"', '""') + '"'


def _copy_postgresql(source_url: str, dest_url: str) -> None:
    source, dest = make_url(source_url), make_url(dest_url)
    if (source.host, source.port) != (dest.host, dest.port):
        raise InvalidInput(
            "PostgreSQL 副本须在同一服务器上（CREATE DATABASE … TEMPLATE）",
            "a PostgreSQL copy is made on the same server (CREATE DATABASE … TEMPLATE)",
            field="copy",
        )
    server = source.set(database="postgres")
    if server.drivername == "postgresql":
        server = server.set(drivername="postgresql+psycopg")
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    statement = (
        f"CREATE DATABASE {_pg_identifier(dest.database or '')} "
        f"TEMPLATE {_pg_identifier(source.database or '')}"
    )
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    except Exception as exc:  # the server's reason, with the way out
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise ConfigurationError(
            f"无法用 CREATE DATABASE … TEMPLATE 复制 {safe_url(source_url)}：{reason}。"
            "模板复制要求源库此时没有其他连接（先停止 gpw worker、gpw serve），且需 CREATEDB "
            "权限；否则请用 pg_dump 导出、导入一个新库，再从该新库复制"
            "（gpw --db 新库 sandbox --copy …）",
            f"cannot copy {safe_url(source_url)} with CREATE DATABASE … TEMPLATE: {reason}. "
            "A template copy needs the source to have no other connection (stop gpw worker and "
            "gpw serve first) and the CREATEDB privilege; otherwise pg_dump it, restore it into "
            "a new database nobody uses and copy that one (gpw --db NEW sandbox --copy …)",
            field="db",
        ) from exc
    finally:
        engine.dispose()


def copy_database(
    source: str,
    dest: str,
    *,
    start: datetime,
    seconds_per_working_day: float = 60.0,
    made_at: datetime | None = None,
    real: Callable[[], float] = time.time,
) -> SandboxMark:
    """Copy the gpw database ``source`` to ``dest`` (a new SQLite file, or a new database on the
    same PostgreSQL server) and mark the copy as a sandbox whose clock reads ``start`` now and
    runs one working day per ``seconds_per_working_day`` real seconds. Returns the mark.

    Raises:
        NotFound: no such source. InvalidInput: ``dest`` exists or is the source, a bad pace.
        ConfigurationError: the source is not a gpw database; PostgreSQL refused the copy.
    """
    pace = check_pace(seconds_per_working_day)
    if start.tzinfo is None:
        raise InvalidInput("start 须带时区", "start must be timezone-aware", field="start")
    check_database(source, "read")  # an existing gpw database (else NotFound / refused)
    source_file, dest_file = sqlite_file(source), sqlite_file(dest)
    backend = make_url(source).get_backend_name()
    if backend != make_url(dest).get_backend_name():
        raise InvalidInput(
            "副本须与源库为同一种数据库（SQLite 或 PostgreSQL）",
            "the copy is the same kind of database as the source (SQLite or PostgreSQL)",
            field="copy",
        )
    if backend == "sqlite":
        if source_file is None or dest_file is None:
            raise InvalidInput(
                "SQLite 沙盒须从文件复制到文件",
                "an SQLite sandbox copies a file to a file",
                field="copy",
            )
        if dest_file.resolve() == source_file.resolve():
            raise InvalidInput("副本不能是源库本身", "the copy cannot be the source", field="copy")
        if dest_file.exists():
            raise InvalidInput(
                f"副本文件已存在：{dest_file}（沙盒从不覆盖文件）",
                f"the copy's file exists: {dest_file} (a sandbox never overwrites a file)",
                field="copy",
            )
        if not dest_file.parent.is_dir():
            raise NotFound(
                f"副本所在目录不存在：{dest_file.parent}",
                f"no such folder for the copy: {dest_file.parent}",
                field="copy",
            )
        _copy_sqlite(source_file, dest_file)
    elif backend == "postgresql":
        if make_url(dest).database == make_url(source).database:
            raise InvalidInput("副本不能是源库本身", "the copy cannot be the source", field="copy")
        _copy_postgresql(source, dest)
    else:
        raise ConfigurationError(
            f"不支持为该数据库制作沙盒：{backend}",
            f"no sandbox for this kind of database: {backend}",
            field="db",
        )
    made = SandboxMark(
        source=safe_url(source),
        made_at=made_at or start,
        start=start,
        since=real(),
        seconds_per_working_day=pace,
    )
    engine = make_engine(dest)
    try:
        mark(engine, made)
    finally:
        engine.dispose()
    return made


def pg_url_for(source: str, name: str) -> str:
    """The URL of database ``name`` on ``source``'s PostgreSQL server."""
    return make_url(source).set(database=name).render_as_string(hide_password=False)


def describe(mark_: SandboxMark) -> dict[str, Any]:
    return {
        "source": mark_.source,
        "made_at": mark_.made_at.isoformat(),
        "start": mark_.start.isoformat(),
        "seconds_per_working_day": mark_.seconds_per_working_day,
        "channels": list(SANDBOX_CHANNELS),
    }
