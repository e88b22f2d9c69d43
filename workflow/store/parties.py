"""Who a project concerns (``gpw_project_party``): its purchaser, its awarded contractor and its
supervising bodies, one row per relation, written in the transaction that creates the project or
changes its contractor. The lists filter by these rows (:mod:`workflow.store.lists`).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection, bindparam

from workflow.tables import party_t

#: the relations a project's organisations stand in
PURCHASER = "purchaser"
CONTRACTOR = "contractor"
#: the supervising bodies recorded at 立项 (``states.model.Supervisors``' fields)
SUPERVISING = ("government", "finance", "audit", "leader")
RELATIONS = (PURCHASER, CONTRACTOR, *SUPERVISING)

_INSERT = party_t.insert()
_DELETE_CONTRACTOR = party_t.delete().where(
    party_t.c.project_id == bindparam("b_project_id"), party_t.c.relation == CONTRACTOR
)


def insert(
    conn: Connection, project_id: int, purchaser: str, supervisors: Mapping[str, str | None]
) -> None:
    """A new project's rows: its purchaser and its supervising bodies (one statement)."""
    rows = [{"project_id": project_id, "relation": PURCHASER, "org": purchaser}]
    rows.extend(
        {"project_id": project_id, "relation": relation, "org": org}
        for relation in SUPERVISING
        if (org := supervisors.get(relation))
    )
    conn.execute(_INSERT, rows)


def set_contractor(conn: Connection, project_id: int, name: str | None) -> None:
    """The project's awarded contractor is now ``name`` (a registered name), or none."""
    conn.execute(_DELETE_CONTRACTOR, {"b_project_id": project_id})
    if name:
        conn.execute(_INSERT, {"project_id": project_id, "relation": CONTRACTOR, "org": name})
