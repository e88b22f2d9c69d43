"""The contractor register (承接主体): registration with the R4 qualifications, bans (R12)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from sqlalchemy import Connection

from states import deadlines as dl
from states.enums import Role
from states.model import Actor, Ban
from states.payloads import BanContractor, RegisterContractor, check_dates, parse_model
from workflow import audit
from workflow.db import Database
from workflow.services.access import check_actor, require_role
from workflow.store import contractors as store
from workflow.views import ContractorView


def stream(contractor_id: int) -> str:
    """The contractor's audit stream."""
    return f"contractor:{contractor_id}"


class ContractorService:
    """Registers contractors, records bans in their credit record, reads the register."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def register(
        self,
        *,
        actor: Actor,
        name: str,
        org_type: str,
        sme: bool = False,
        qualifications: Mapping[str, bool],
        at: datetime | None = None,
        connection: Connection | None = None,
    ) -> int:
        """Register a contractor (承接主体) with its R4 qualifications. Returns its id."""
        at = self._db.record_at(at)
        check_actor(actor)
        reg = parse_model(
            RegisterContractor,
            {
                "name": name,
                "org_type": org_type,
                "sme": sme,
                "qualifications": qualifications,
            },
            what="登记承接主体 / register_contractor",
        )
        require_role(actor, {Role.PURCHASER, Role.ADMIN}, "登记承接主体 / register contractors")
        with self._db.transaction(connection) as conn:
            cid = store.insert(conn, reg, at)
            audit.log(
                conn,
                stream(cid),
                actor=actor,
                at=at,
                event="register_contractor",
                data=reg.model_dump(mode="json"),
            )
        return cid

    def get(self, contractor_id: int, *, connection: Connection | None = None) -> ContractorView:
        with self._db.read(connection) as conn:
            row = store.load(conn, contractor_id)
        return ContractorView.of(store.to_contractor(row), row.version)

    def ban(
        self,
        contractor_id: int,
        *,
        actor: Actor,
        until: date,
        reason: str,
        at: datetime | None = None,
        connection: Connection | None = None,
    ) -> ContractorView:
        """Enter a ban in the contractor's credit record, from ``at``'s date until ``until``
        (R12). A banned contractor cannot be awarded (R4)."""
        at = self._db.record_at(at)
        check_actor(actor)
        ban = parse_model(
            BanContractor,
            {"until": until, "reason": reason},
            what="禁入 / ban_contractor",
            rule="R12",
        )
        check_dates(ban, dl.business_date(at))
        require_role(
            actor,
            {Role.PURCHASER, Role.GOVERNMENT, Role.FINANCE, Role.ADMIN},
            "记录禁入 / ban contractors",
        )
        with self._db.transaction(connection) as conn:
            self.write_ban(
                conn,
                contractor_id,
                Ban(from_on=dl.business_date(at), until=ban.until, reason=ban.reason),
                actor,
                at,
            )
            # read back in the same transaction: a host's uncommitted ban is seen
            row = store.load(conn, contractor_id)
        return ContractorView.of(store.to_contractor(row), row.version)

    def write_ban(
        self, conn: Connection, contractor_id: int, ban: Ban, actor: Actor, at: datetime
    ) -> None:
        """Record ``ban`` and its audit entry in the caller's transaction ``conn``."""
        store.add_ban(conn, contractor_id, ban)
        audit.log(
            conn,
            stream(contractor_id),
            actor=actor,
            at=at,
            event="ban",
            data=ban.model_dump(mode="json"),
        )
