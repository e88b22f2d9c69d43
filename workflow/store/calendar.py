"""The years of the working-day calendar that operators loaded, and the calendar's revision."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from workflow.tables import calendar_t, head_t

#: the audit stream of calendar changes; its head is the calendar's revision
CALENDAR_STREAM = "calendar"


_REVISION = select(head_t.c.seq, head_t.c.hash).where(head_t.c.stream == CALENDAR_STREAM)
#: the revision's row, to join to another query (outer: there is none before the first change),
#: so that a project event reads it with the project's row instead of in a statement of its own
REVISION_HEAD = head_t.alias("calendar_head")
REVISION_ON = REVISION_HEAD.c.stream == CALENDAR_STREAM
REVISION_COLUMNS = (
    REVISION_HEAD.c.seq.label("calendar_seq"),
    REVISION_HEAD.c.hash.label("calendar_hash"),
)


def revision(conn: Connection) -> tuple[int, str]:
    """The calendar's revision: the head (seq, hash) of its audit stream ((0, "") before any).
    The hash tells apart two changes that reached the same seq (one of them rolled back)."""
    found = conn.execute(_REVISION).first()
    return (int(found.seq), str(found.hash)) if found is not None else (0, "")


def revision_of(row: Any) -> tuple[int, str]:
    """The revision a row read with :data:`REVISION_COLUMNS` (joined on :data:`REVISION_ON`)
    carries."""
    if row.calendar_seq is None:
        return (0, "")
    return (int(row.calendar_seq), str(row.calendar_hash))


def years(conn: Connection) -> list[Any]:
    """Every loaded year's row (year, data, source, …), in order."""
    return list(conn.execute(select(calendar_t).order_by(calendar_t.c.year)))


def exists(conn: Connection, year: int) -> bool:
    found = conn.execute(select(calendar_t.c.year).where(calendar_t.c.year == year)).first()
    return found is not None


def put(conn: Connection, row: dict[str, Any], *, replace: bool) -> None:
    """Insert a year's row, or (``replace``) overwrite the one there."""
    if replace:
        conn.execute(calendar_t.update().where(calendar_t.c.year == row["year"]).values(**row))
    else:
        conn.execute(calendar_t.insert().values(**row))
