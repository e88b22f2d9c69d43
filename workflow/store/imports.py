"""Imported workbook rows (issue #11): which row of which file (SHA-256) made which project."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from states.model import Contractor
from workflow.store.contractors import to_contractor
from workflow.tables import contractor_t, import_row_t, project_t

#: the first key of the import's advisory lock ("gpw" + 4; the other classes: workflow.store)
_IMPORT_LOCK_CLASS = 0x67707704


def lock(conn: Connection, sha256: str) -> None:
    """One import of a file at a time, until the transaction ends. PostgreSQL: a
    transaction-scoped advisory lock on the file's hash (a second import of the same file waits,
    then finds it imported). SQLite: ``BEGIN IMMEDIATE`` already serializes writers."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(_IMPORT_LOCK_CLASS, func.hashtext(sha256))))


def imported(conn: Connection, sha256: str) -> list[Any]:
    """The rows of the file imported before, in row order, with their projects' title and state
    (sheet_row, project_id, file_name, imported_at, title, state)."""
    query = (
        select(
            import_row_t.c.sheet_row,
            import_row_t.c.project_id,
            import_row_t.c.file_name,
            import_row_t.c.imported_at,
            project_t.c.title,
            project_t.c.state,
        )
        .select_from(import_row_t.outerjoin(project_t, project_t.c.id == import_row_t.c.project_id))
        .where(import_row_t.c.sha256 == sha256)
        .order_by(import_row_t.c.sheet_row)
    )
    return list(conn.execute(query))


def record(
    conn: Connection,
    sha256: str,
    rows: Sequence[tuple[int, int]],
    *,
    file_name: str,
    at: datetime,
) -> None:
    """Remember ``(sheet_row, project_id)`` of the file, in the import's transaction."""
    if rows:
        conn.execute(
            import_row_t.insert(),
            [
                {
                    "sha256": sha256,
                    "sheet_row": row,
                    "project_id": pid,
                    "file_name": file_name,
                    "imported_at": at,
                }
                for row, pid in rows
            ],
        )


def contractors_named(conn: Connection, names: Iterable[str]) -> dict[str, list[Contractor]]:
    """Registered contractors by name (a name may be registered more than once)."""
    wanted = sorted(set(names))
    found: dict[str, list[Contractor]] = {name: [] for name in wanted}
    if not wanted:
        return found
    rows = conn.execute(
        select(contractor_t).where(contractor_t.c.name.in_(wanted)).order_by(contractor_t.c.id)
    )
    for row in rows:
        found[row.name].append(to_contractor(row))
    return found
