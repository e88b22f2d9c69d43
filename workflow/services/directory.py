"""The directory service: people and how to reach them, by organisation and role."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection

from notifications.channels import Person
from states.errors import InvalidInput, NotFound
from states.model import SYSTEM_ACTOR, Actor
from workflow import audit
from workflow.db import Database
from workflow.store import directory as store
from workflow.store import lock_stream

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
#: the audit stream of directory changes
DIRECTORY_STREAM = "directory"


class Directory:
    """People and how to reach them, by organisation and role; resolved when a notice is sent,
    so a changed leader gets the next escalation."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(
        self,
        *,
        org: str,
        role: str,
        name: str,
        email: str | None = None,
        webhook: str | None = None,
        actor: Actor = SYSTEM_ACTOR,
        at: datetime | None = None,
        connection: Connection | None = None,
    ) -> Person:
        at = self._db.at(at)
        for field_name, value in (("org", org), ("role", role), ("name", name)):
            if not isinstance(value, str) or not value.strip():
                raise InvalidInput(
                    f"通讯录：{field_name} 不能为空",
                    f"directory: {field_name} is required",
                    field=field_name,
                )
        if email is not None and not _EMAIL.match(email):
            raise InvalidInput(
                f"通讯录：邮箱地址无效 {email!r}",
                f"directory: not an e-mail address: {email!r}",
                field="email",
            )
        if webhook is not None and not webhook.startswith(("http://", "https://")):
            raise InvalidInput(
                f"通讯录：webhook 须为 http(s) 地址 {webhook!r}",
                f"directory: webhook must be an http(s) URL: {webhook!r}",
                field="webhook",
            )
        with self._db.transaction(connection) as conn:
            pid = store.insert(
                conn,
                org=org.strip(),
                role=role.strip(),
                name=name.strip(),
                email=email,
                webhook=webhook,
                at=at,
            )
            lock_stream(conn, DIRECTORY_STREAM)
            audit.log(
                conn,
                DIRECTORY_STREAM,
                actor=actor,
                at=at,
                event="directory_add",
                data={
                    "id": pid,
                    "org": org,
                    "role": role,
                    "name": name,
                    "email": email,
                    "webhook": webhook,
                },
            )
        return Person(
            id=pid,
            org=org.strip(),
            role=role.strip(),
            name=name.strip(),
            email=email,
            webhook=webhook,
        )

    def remove(
        self,
        person_id: int,
        *,
        actor: Actor = SYSTEM_ACTOR,
        at: datetime | None = None,
        connection: Connection | None = None,
    ) -> None:
        at = self._db.at(at)
        with self._db.transaction(connection) as conn:
            lock_stream(conn, DIRECTORY_STREAM)
            if not store.deactivate(conn, person_id):
                raise NotFound(
                    f"通讯录中没有 {person_id}", f"no person {person_id}", field="person_id"
                )
            audit.log(
                conn,
                DIRECTORY_STREAM,
                actor=actor,
                at=at,
                event="directory_remove",
                data={"id": person_id},
            )

    def people(
        self,
        *,
        org: str | None = None,
        role: str | None = None,
        limit: int | None = None,
        connection: Connection | None = None,
    ) -> list[Person]:
        with self._db.read(connection) as conn:
            return store.people(conn, org=org, role=role, limit=limit)

    def resolve(
        self, conn: Connection, pairs: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], list[Person]]:
        """The active people holding each (organisation, role), read in ``conn``."""
        return store.resolve(conn, pairs)
