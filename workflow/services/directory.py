"""The directory service: people and how to reach them, by organisation and role; and the group
robots of organisations (issue #11: DingTalk and WeCom), which a notice to an organisation also
reaches."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection

from notifications.channels import Person
from notifications.outbound import postable
from notifications.robots import KINDS as ROBOT_KINDS
from notifications.robots import Robot, masked_url
from states.enums import Role
from states.errors import InvalidInput, NotFound
from states.model import SYSTEM_ACTOR, Actor
from workflow import audit
from workflow.db import Database
from workflow.services.access import check_actor, require_role
from workflow.store import directory as store
from workflow.store import lock_stream
from workflow.store import robots as robot_store

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
#: the audit stream of directory changes
DIRECTORY_STREAM = "directory"
#: the longest robot URL, secret and organisation name accepted
MAX_ROBOT_URL, MAX_ROBOT_SECRET, MAX_ORG = 2000, 200, 200


def _controls(value: str) -> bool:
    return any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co") for c in value)


def _robot_input(org: object, kind: object, url: object, secret: object) -> tuple[str, str, str]:
    """Check a robot's fields (refused naming the field; a URL or a secret is never echoed);
    returns the organisation stripped, the kind and the URL."""
    if not isinstance(org, str) or not org.strip():
        raise InvalidInput("群机器人：所属单位 org 不能为空", "robot: org is required", field="org")
    if len(org) > MAX_ORG or _controls(org):
        raise InvalidInput(
            f"群机器人：所属单位 org 须为一行、不超过 {MAX_ORG} 个字符",
            f"robot: org must be one line of at most {MAX_ORG} characters",
            field="org",
        )
    if kind not in ROBOT_KINDS:
        shown = repr(kind)[:40]
        raise InvalidInput(
            f"群机器人：类型 kind 须为 dingtalk（钉钉）或 wecom（企业微信），而不是 {shown}",
            f"robot: kind must be dingtalk or wecom, not {shown}",
            field="kind",
        )
    if not postable(url, limit=MAX_ROBOT_URL):  # it holds an access token: never echoed
        raise InvalidInput(
            "群机器人：url 须为机器人的 http(s) Webhook 地址"
            f"（一行、不超过 {MAX_ROBOT_URL} 个字符，有效端口，不含用户名或密码）",
            f"robot: url must be the robot's http(s) webhook address (one line, at most "
            f"{MAX_ROBOT_URL} characters, a valid port, no user or password)",
            field="url",
        )
    if secret is not None:
        if kind == "wecom":
            raise InvalidInput(
                "群机器人：企业微信群机器人没有加签密钥，请不要给出 secret",
                "robot: a WeCom robot has no signing secret; give none",
                field="secret",
            )
        if (
            not isinstance(secret, str)
            or not 0 < len(secret) <= MAX_ROBOT_SECRET
            or any(c.isspace() for c in secret)
            or _controls(secret)
        ):
            raise InvalidInput(
                f"群机器人：加签密钥 secret 须为不含空白的一串字符（不超过 {MAX_ROBOT_SECRET} 个）",
                f"robot: secret must be one word without spaces (at most {MAX_ROBOT_SECRET} "
                "characters)",
                field="secret",
            )
    return org.strip(), str(kind), str(url)


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
        # who is told what: a person added to another organisation reads its notices (by e-mail
        # or webhook), so the directory is the operator's, as the robots are
        require_role(
            check_actor(actor), {Role.ADMIN, Role.SYSTEM}, "修改通讯录 / change the directory"
        )
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
        require_role(
            check_actor(actor), {Role.ADMIN, Role.SYSTEM}, "修改通讯录 / change the directory"
        )
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

    # -- group robots (issue #11) ---------------------------------------------------------------

    def add_robot(
        self,
        *,
        org: str,
        kind: str,
        url: str,
        secret: str | None = None,
        actor: Actor = SYSTEM_ACTOR,
        at: datetime | None = None,
        connection: Connection | None = None,
    ) -> Robot:
        """Add a group robot to an organisation: ``kind`` ``dingtalk`` (钉钉; ``secret``: its
        加签 key, SEC…, if the robot signs) or ``wecom`` (企业微信; no secret). Notices to the
        organisation, any role, are posted to it where its channel is enabled. Audited on the
        directory stream with the URL masked and whether a secret is set (never the secret).
        Admin or system only: a robot reads every notice to its organisation."""
        check_actor(actor)
        require_role(actor, {Role.ADMIN, Role.SYSTEM}, "添加群机器人 / add a group robot")
        at = self._db.at(at)
        org, kind, url = _robot_input(org, kind, url, secret)
        with self._db.transaction(connection) as conn:
            lock_stream(conn, DIRECTORY_STREAM)
            if robot_store.active_with_url(conn, org=org, kind=kind, url=url) is not None:
                raise InvalidInput(
                    f"群机器人：{org} 已有该地址的 {kind} 机器人",
                    f"robot: {org} already has a {kind} robot at this url",
                    field="url",
                )
            rid = robot_store.insert(conn, org=org, kind=kind, url=url, secret=secret, at=at)
            audit.log(
                conn,
                DIRECTORY_STREAM,
                actor=actor,
                at=at,
                event="robot_add",
                data={
                    "id": rid,
                    "org": org,
                    "kind": kind,
                    "url": masked_url(url),
                    "secret_set": secret is not None,
                },
            )
        return Robot(id=rid, org=org, kind=kind, url=url, secret=secret)

    def remove_robot(
        self,
        robot_id: int,
        *,
        actor: Actor = SYSTEM_ACTOR,
        at: datetime | None = None,
        connection: Connection | None = None,
    ) -> None:
        """Remove a robot (kept, inactive: its deliveries keep their address); audited. Admin
        or system only."""
        check_actor(actor)
        require_role(actor, {Role.ADMIN, Role.SYSTEM}, "移除群机器人 / remove a group robot")
        at = self._db.at(at)
        if not isinstance(robot_id, int) or isinstance(robot_id, bool) or robot_id < 1:
            raise InvalidInput(
                "群机器人编号须为正整数", "robot id must be a positive integer", field="robot_id"
            )
        with self._db.transaction(connection) as conn:
            lock_stream(conn, DIRECTORY_STREAM)
            robot = robot_store.deactivate(conn, robot_id, at)
            if robot is None:
                raise NotFound(f"没有群机器人 {robot_id}", f"no robot {robot_id}", field="robot_id")
            audit.log(
                conn,
                DIRECTORY_STREAM,
                actor=actor,
                at=at,
                event="robot_remove",
                data={"id": robot_id, "org": robot.org, "kind": robot.kind},
            )

    def robots(
        self,
        org: str | None = None,
        *,
        limit: int | None = None,
        connection: Connection | None = None,
    ) -> list[Robot]:
        """The active robots (of ``org``), by id. A :class:`Robot`'s repr leaves out its URL and
        secret; its ``to_dict()`` masks them."""
        with self._db.read(connection) as conn:
            return robot_store.robots(conn, org=org, limit=limit)

    def robots_of(
        self, conn: Connection, orgs: Iterable[str], kinds: Iterable[str]
    ) -> dict[str, list[Robot]]:
        """The active robots of each organisation, of the given kinds, read in ``conn``."""
        return robot_store.of_orgs(conn, orgs, kinds)
