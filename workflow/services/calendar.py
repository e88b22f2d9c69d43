"""The working-day calendar as a workflow sees it: official data plus the years operators load."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection

from states.calendar import WorkingDay, WorkingDayCalendar, YearSchedule
from states.enums import Role
from states.errors import InvalidInput
from states.model import Actor
from workflow import audit
from workflow.db import Database
from workflow.services.access import check_actor, require_role
from workflow.store import calendar as store
from workflow.store import lock_stream
from workflow.store.calendar import CALENDAR_STREAM

__all__ = ["CALENDAR_STREAM", "CalendarService", "YearLoaded", "read_schedule_file"]


class YearLoaded(Protocol):
    """Called inside the transaction that loads a year, with the new calendar: recompute what
    depends on it (open deadlines) and return the changes."""

    def __call__(
        self,
        conn: Connection,
        calendar: WorkingDayCalendar,
        *,
        actor: Actor,
        at: datetime,
        only_year: int,
        replace: bool,
    ) -> list[dict[str, Any]]: ...


class CalendarService:
    """The working-day calendar as this workflow sees it: official data (chinese-calendar) plus
    the years operators added to the database. Shared by every process through the database."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._calendar = WorkingDayCalendar.official()
        self._revision: tuple[int, str] | None = None
        self._on_year_loaded: list[YearLoaded] = []

    def on_year_loaded(self, subscriber: YearLoaded) -> None:
        """Call ``subscriber`` in the transaction of every :meth:`add_year`."""
        self._on_year_loaded.append(subscriber)

    def current(
        self,
        conn: Connection | None = None,
        *,
        connection: Connection | None = None,
        revision: tuple[int, str] | None = None,
    ) -> WorkingDayCalendar:
        """The calendar, reloaded when another process added a year (one indexed read).
        ``revision``: the calendar's revision as the caller already read it in ``conn``'s
        transaction (with a project's row: ``store.calendar.REVISION_COLUMNS``), so that
        nothing is read unless it changed."""
        conn = conn or connection
        if conn is None:
            with self._db.read() as c:
                return self.current(c)
        if revision is None:
            revision = store.revision(conn)
        if revision != self._revision:
            extra = [YearSchedule.from_dict(r.data, source=r.source) for r in store.years(conn)]
            with self._lock:
                self._calendar = WorkingDayCalendar.official(extra)
                self._revision = revision
        return self._calendar

    def add_working_days(self, day: date, n: int) -> WorkingDay:
        return self.current().add_working_days(day, n)

    def next_working_day(self, day: date) -> WorkingDay:
        return self.current().next_working_day(day)

    def is_working_day(self, day: date) -> bool:
        return self.current().is_working_day(day)

    def working_days_between(self, a: date, b: date) -> int:
        return self.current().working_days_between(a, b)

    def schedule(self, year: int) -> YearSchedule:
        return self.current().schedule(year)

    def known_years(self) -> list[int]:
        return sorted(self.current().known_years)

    def add_year(
        self,
        schedule: YearSchedule | Mapping[str, Any] | str | Path,
        *,
        actor: Actor,
        at: datetime | None = None,
        replace: bool = False,
        connection: Connection | None = None,
    ) -> list[dict[str, Any]]:
        """Load a year's official schedule (days off, make-up days, the notice) as data.

        Open provisional deadlines are recomputed in the same transaction, each change audited
        in its project's trail. Returns the changes: project, key, old and new due day.
        ``connection``: write inside a host's transaction (see ``Database.transaction``).
        """
        at = self._db.record_at(at)
        check_actor(actor)
        require_role(actor, {Role.ADMIN, Role.GOVERNMENT}, "维护工作日历 / maintain the calendar")
        if isinstance(schedule, str | Path):
            schedule = read_schedule_file(Path(schedule))
        if not isinstance(schedule, YearSchedule):
            schedule = YearSchedule.from_dict(schedule, source="operator")
        changes: list[dict[str, Any]] = []
        with self._db.transaction(connection) as conn:
            lock_stream(conn, CALENDAR_STREAM)
            exists = store.exists(conn, schedule.year)
            if exists and not replace:
                raise InvalidInput(
                    f"{schedule.year} 年的工作日安排已存在（如需更正请用 replace）",
                    f"the {schedule.year} schedule exists already (use replace to correct it)",
                    field="year",
                )
            if not exists and schedule.year in self.current(conn).known_years and not replace:
                raise InvalidInput(
                    f"{schedule.year} 年已有官方数据（如需更正请用 replace）",
                    f"{schedule.year} is covered by official data (use replace to correct it)",
                    field="year",
                )
            store.put(
                conn,
                {
                    "year": schedule.year,
                    "data": schedule.to_dict(),
                    "source": "operator",
                    "loaded_at": at,
                    "loaded_by": actor.id,
                },
                replace=exists,
            )
            audit.log(
                conn,
                CALENDAR_STREAM,
                actor=actor,
                at=at,
                event="add_year" if not exists else "replace_year",
                data={
                    "year": schedule.year,
                    "notice": schedule.notice,
                    "holidays": len(schedule.holidays),
                    "workdays": len(schedule.workdays),
                },
            )
            calendar = self.current(conn)
            for subscriber in self._on_year_loaded:
                changes.extend(
                    subscriber(
                        conn,
                        calendar,
                        actor=actor,
                        at=at,
                        only_year=schedule.year,
                        replace=replace,
                    )
                )
        return changes


def read_schedule_file(path: Path) -> YearSchedule:
    """A year's schedule from a JSON file (``InvalidInput`` naming the file if unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidInput(
            f"无法读取日历文件 {path}：{exc}",
            f"cannot read calendar file {path}: {exc}",
            field="file",
        ) from exc
    if not isinstance(data, dict):
        raise InvalidInput(
            "日历文件须为 JSON 对象", "a calendar file is a JSON object", field="file"
        )
    return YearSchedule.from_dict(data, source="operator")
