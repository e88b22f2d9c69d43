"""The contractor register (承接主体): qualifications and the credit record (bans)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from states.errors import ConcurrentUpdate, ContractorNotFound
from states.model import Ban, Contractor
from states.payloads import RegisterContractor
from workflow.store import new_id
from workflow.tables import contractor_t


def to_contractor(row: Any) -> Contractor:
    return Contractor.model_validate(
        {"id": row.id, "name": row.name, "org_type": row.org_type, "sme": row.sme, **row.data}
    )


def load(conn: Connection, contractor_id: int) -> Any:
    """The contractor's row; ``ContractorNotFound`` if there is none."""
    row = conn.execute(select(contractor_t).where(contractor_t.c.id == contractor_id)).first()
    if row is None:
        raise ContractorNotFound(
            f"承接主体 {contractor_id} 不存在",
            f"contractor {contractor_id} not found",
            field="contractor_id",
        )
    return row


def load_many(conn: Connection, ids: Iterable[int]) -> dict[int, Contractor]:
    """The register entries with these ids (those that exist)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = conn.execute(select(contractor_t).where(contractor_t.c.id.in_(wanted)))
    return {r.id: to_contractor(r) for r in rows}


def insert(conn: Connection, reg: RegisterContractor, at: datetime) -> int:
    return new_id(
        conn.execute(
            contractor_t.insert().values(
                name=reg.name,
                org_type=reg.org_type.value,
                sme=reg.sme,
                data={"qualifications": reg.qualifications, "bans": []},
                version=1,
                created_at=at,
            )
        )
    )


def add_ban(conn: Connection, contractor_id: int, ban: Ban) -> None:
    """Append ``ban`` to the credit record (compare-and-set on the row's version)."""
    row = load(conn, contractor_id)
    data = dict(row.data)
    data["bans"] = [*data.get("bans", []), ban.model_dump(mode="json")]
    done = conn.execute(
        contractor_t.update()
        .where(contractor_t.c.id == contractor_id, contractor_t.c.version == row.version)
        .values(data=data, version=row.version + 1)
    )
    if done.rowcount != 1:
        raise ConcurrentUpdate()
