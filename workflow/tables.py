"""gpw's tables (SQLModel over SQLAlchemy Core) and their metadata: storage, not the domain.

Every table is prefixed ``gpw_`` so a host's database can hold them beside its own. Datetimes are
stored in UTC and come back timezone-aware on SQLite and PostgreSQL alike. Alembic's target
(``workflow/schema.py``) is these tables as ``SQLModel.metadata`` holds them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    Dialect,
    Engine,
    Index,
    Integer,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class AwareDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; naive ones are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: timezone-aware required")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _aware(nullable: bool = False, index: bool = False) -> Any:
    return Field(sa_column=Column(AwareDateTime(), nullable=nullable, index=index))


#: JSON, stored as JSONB on PostgreSQL
JSON_TYPE = JSON().with_variant(postgresql.JSONB(), "postgresql")


def _json() -> Any:
    return Field(sa_column=Column(JSON_TYPE, nullable=False))


class ProjectRow(SQLModel, table=True):
    __tablename__ = "gpw_project"
    __table_args__ = (
        # the project list's sort keys, each with the id that breaks its ties (keyset pages)
        Index("ix_gpw_project_updated_at_id", "updated_at", "id"),
        Index("ix_gpw_project_created_at_id", "created_at", "id"),
        Index("ix_gpw_project_title_id", "title", "id"),
        Index("ix_gpw_project_state_id", "state", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    title: str
    purchaser: str = Field(index=True)
    policy: str
    state: str = Field(index=True)
    contractor_id: int | None = Field(default=None, index=True)
    #: optimistic lock: every accepted event increments it (compare-and-set update)
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    data: dict[str, Any] = _json()
    #: head of this project's audit chain: seq and hash of its last entry
    audit_seq: int = 0
    audit_head: str = ""
    created_at: datetime = _aware()
    updated_at: datetime = _aware()


class ProjectPartyRow(SQLModel, table=True):
    """Who a project concerns, one row per relation: its ``purchaser``, its awarded
    ``contractor`` (registered name) and its supervising bodies (``government``, ``finance``,
    ``audit``, ``leader``, recorded at 立项). Written with the project, in the same transaction;
    the lists filter by it (an organisation's projects, a reader's scope)."""

    __tablename__ = "gpw_project_party"
    __table_args__ = (
        Index("ix_gpw_project_party_org", "org", "relation", "project_id"),
        # SQLite: the rows live in the primary key's tree (a project's parties in one place)
        {"sqlite_with_rowid": False},
    )

    project_id: int = Field(foreign_key="gpw_project.id", primary_key=True)
    relation: str = Field(primary_key=True)
    org: str


class DeadlineRow(SQLModel, table=True):
    """A projection of each project's deadlines, indexed by due time for the scheduler."""

    __tablename__ = "gpw_deadline"
    __table_args__ = (
        UniqueConstraint("project_id", "key", name="uq_gpw_deadline_project_key"),
        # open deadlines by due time, ties by id: the deadline lists' order (keyset pages)
        Index("ix_gpw_deadline_status_due_at", "status", "due_at", "id"),
        # a tick touches only due rows: open deadlines by the time their next stage fires
        Index("ix_gpw_deadline_status_next_fire", "status", "next_fire_at"),
        # the dashboard's counts of open deadlines per project (open, overdue, provisional,
        # escalated) read this index alone, in project order
        Index(
            "ix_gpw_deadline_status_project",
            "status",
            "project_id",
            "due_at",
            "provisional",
            "kind",
            "stage_index",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="gpw_project.id", index=True)
    key: str
    kind: str
    owner: str
    rule: str
    due: date = Field(sa_column=Column(Date, nullable=False))
    #: the instant it passes: the end of the due day, Asia/Shanghai
    due_at: datetime = _aware()
    provisional: bool = False
    status: str
    met_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    late: bool = False
    #: bumped whenever due or status changes, so a notice can name the version it was sent for
    version: int = 1
    #: the notice ladder: index of the last stage sent (−1: none), the next one and when
    stage_index: int = -1
    next_stage: str | None = None
    next_fire_at: datetime | None = _aware(nullable=True)
    #: the due day before a recomputation, until the next notice has said so
    moved_from: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    updated_at: datetime = _aware()


class NoticeRow(SQLModel, table=True):
    """The outbox: one row per (deadline, stage, version), written by ``tick`` exactly once."""

    __tablename__ = "gpw_notice"
    __table_args__ = (Index("ix_gpw_notice_status_next_attempt", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    #: the unique key: ``{deadline_id}:{stage}:{version}`` (a resend adds ``:resend-n``)
    key: str = Field(unique=True)
    deadline_id: int | None = Field(default=None, index=True)
    project_id: int = Field(index=True)
    deadline_kind: str
    deadline_key: str
    stage: str
    recipients: list[dict[str, str]] = Field(sa_column=Column(JSON_TYPE, nullable=False))
    subject: str
    body: str
    html: str
    #: pending, sent, failed (will retry), dead (gave up)
    status: str = Field(default="pending")
    attempts: int = 0
    next_attempt_at: datetime = _aware()
    lease_owner: str | None = None
    lease_until: datetime | None = _aware(nullable=True)
    last_error: str | None = None
    created_at: datetime = _aware()
    sent_at: datetime | None = _aware(nullable=True)


class DeliveryRow(SQLModel, table=True):
    """One delivery of a notice to one address on one channel; sent at most once when it can."""

    __tablename__ = "gpw_delivery"
    __table_args__ = (UniqueConstraint("notice_id", "channel", "address", name="uq_gpw_delivery"),)

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="gpw_notice.id", index=True)
    channel: str
    address: str
    person: str = ""
    status: str = "pending"
    attempts: int = 0
    last_error: str | None = None
    sent_at: datetime | None = _aware(nullable=True)


class InboxRow(SQLModel, table=True):
    """The inbox channel: a notice visible to an organisation and role."""

    __tablename__ = "gpw_inbox"
    __table_args__ = (UniqueConstraint("notice_id", "org", "role", name="uq_gpw_inbox"),)

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="gpw_notice.id", index=True)
    org: str = Field(index=True)
    role: str
    created_at: datetime = _aware()
    read_at: datetime | None = _aware(nullable=True)
    #: who opened it first (a user's login), and who acknowledged it, when (the dashboard's inbox)
    read_by: str | None = None
    acknowledged_at: datetime | None = _aware(nullable=True)
    acknowledged_by: str | None = None


class PersonRow(SQLModel, table=True):
    """The directory: who holds a role in an organisation, and how to reach them."""

    __tablename__ = "gpw_person"

    id: int | None = Field(default=None, primary_key=True)
    org: str = Field(index=True)
    role: str
    name: str
    email: str | None = None
    webhook: str | None = None
    active: bool = True
    created_at: datetime = _aware()


class MetaRow(SQLModel, table=True):
    """Small facts about the engine itself (the last tick and relay), for health checks."""

    __tablename__ = "gpw_meta"

    key: str = Field(primary_key=True)
    value: str


class AuditRow(SQLModel, table=True):
    """Append-only audit trail; each stream is a hash chain (全程留痕, R15)."""

    __tablename__ = "gpw_audit"
    __table_args__ = (UniqueConstraint("stream", "seq", name="uq_gpw_audit_stream_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    stream: str = Field(index=True)
    seq: int
    project_id: int | None = Field(default=None, index=True)
    actor_id: str
    role: str
    org: str
    at: datetime = _aware()
    event: str
    from_state: str | None = None
    to_state: str | None = None
    data: dict[str, Any] = _json()
    #: the engine's clock when the entry was written (the business ``at`` is the caller's)
    recorded_at: datetime = _aware()
    #: project streams: the project's version and SHA-256 of its data after the transaction
    version: int | None = None
    digest: str | None = None
    #: the formula that hashed the entry: 1 (entries gpw 0.1.0 wrote), 2 (today's; the default)
    hash_format: int = Field(
        default=2, sa_column=Column(Integer, nullable=False, default=2, server_default="2")
    )
    prev_hash: str
    hash: str


class AuditHeadRow(SQLModel, table=True):
    """Heads of the audit streams that are not projects' (contractors, calendar)."""

    __tablename__ = "gpw_audit_head"

    stream: str = Field(primary_key=True)
    seq: int
    hash: str


class ContractorRow(SQLModel, table=True):
    __tablename__ = "gpw_contractor"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    org_type: str
    sme: bool = False
    #: qualifications and the credit record (bans)
    data: dict[str, Any] = _json()
    version: int = 1
    created_at: datetime = _aware()


class CalendarYearRow(SQLModel, table=True):
    """A year's working-day schedule added by an operator (no release needed)."""

    __tablename__ = "gpw_calendar_year"

    year: int = Field(primary_key=True)
    data: dict[str, Any] = _json()
    source: str
    loaded_at: datetime = _aware()
    loaded_by: str


class UserRow(SQLModel, table=True):
    """A person who logs in to the dashboard or calls the JSON API: one role, one organisation.

    ``region`` (supervisors and evaluators): the purchasers whose projects the user reads, as
    name prefixes (``大武口区`` reads 大武口区民政局's projects), or ``["*"]`` for all.
    """

    __tablename__ = "gpw_user"

    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(unique=True)
    name: str = ""
    role: str
    org: str
    region: list[str] = Field(sa_column=Column(JSON_TYPE, nullable=False))
    #: argon2id hash (argon2-cffi); never the password
    password_hash: str
    active: bool = True
    created_at: datetime = _aware()
    updated_at: datetime = _aware()


class ApiTokenRow(SQLModel, table=True):
    """An API token: only its SHA-256 is stored (the token is 256 random bits), revocable."""

    __tablename__ = "gpw_api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="gpw_user.id", index=True)
    token_hash: str = Field(unique=True)
    #: the token's first characters, to tell tokens apart in a list (not enough to use one)
    prefix: str
    label: str = ""
    created_at: datetime = _aware()
    last_used_at: datetime | None = _aware(nullable=True)
    revoked_at: datetime | None = _aware(nullable=True)


class AuthEventRow(SQLModel, table=True):
    """Logins, failed logins, throttling, token creation, use and revocation, logouts."""

    __tablename__ = "gpw_auth_event"
    __table_args__ = (
        Index("ix_gpw_auth_event_login_at", "login", "at"),
        Index("ix_gpw_auth_event_ip_at", "ip", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _aware()
    login: str
    #: login_ok, login_failed, login_throttled, logout, token_created, token_used, token_revoked,
    #: token_refused, user_added, user_changed
    kind: str
    ip: str = ""
    detail: str = ""


class ReleaseRow(SQLModel, table=True):
    """An OCDS release, published by the transaction of the audit entry it comes from (the
    outbox of disclosure, issue #9): a rolled-back event publishes nothing. One per public
    entry: ``(project_id, seq)`` is unique; ``release_id`` is ``<ocid>-<seq>``."""

    __tablename__ = "gpw_release"
    __table_args__ = (
        UniqueConstraint("project_id", "seq", name="uq_gpw_release_project_seq"),
        Index("ix_gpw_release_ocid_id", "ocid", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ocid: str
    release_id: str = Field(unique=True)
    project_id: int = Field(index=True)
    #: the audit entry's seq in its project's stream
    seq: int
    #: the release's tags, comma-separated (``tender``, ``contractTermination`` …)
    tag: str
    #: the release's ``date``: the event's time
    date: datetime = _aware()
    release: dict[str, Any] = _json()
    #: the engine's clock in the transaction that wrote it (visible from its commit)
    published_at: datetime = _aware(index=True)


class AnchorRow(SQLModel, table=True):
    """A published anchor: every audit stream's head and one digest over them (R15), for the
    public feed; the worker publishes one a day, ``gpw anchor --publish`` on demand."""

    __tablename__ = "gpw_anchor"

    id: int | None = Field(default=None, primary_key=True)
    #: the anchor's own ``at`` (when its heads were read)
    at: datetime = _aware()
    digest: str
    anchor: dict[str, Any] = _json()
    published_at: datetime = _aware(index=True)


class ProjectFactRow(SQLModel, table=True):
    """What the overview reads of each project, written with it by the events that change it
    (issue #10), so that no list replays trails: the purchaser's year and budgets (R18) and the
    planned timeline against the actual (R19). ``year`` is the year the project was created
    (Asia/Shanghai); money in fen (cents)."""

    __tablename__ = "gpw_project_fact"
    __table_args__ = (
        # R18: each purchaser's share of the year's funds, read from this index alone
        Index(
            "ix_gpw_project_fact_year_purchaser",
            "year",
            "counted",
            "purchaser",
            "budget_cents",
            "funds_cents",
        ),
        # R19: the active projects slipping most: by a done step's slip, by an open step's day
        Index("ix_gpw_project_fact_active_slip", "active", "done_slip"),
        Index("ix_gpw_project_fact_active_plan_to", "active", "plan_to"),
    )

    project_id: int = Field(foreign_key="gpw_project.id", primary_key=True)
    purchaser: str
    year: int
    state: str
    #: not closed or terminated
    active: bool
    #: R18: submitted or approved, not terminated: its budget counts toward the floor
    counted: bool
    budget_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    funds_cents: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    #: R19: the first day each milestone was reached (None: not yet)
    created_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    notice_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    signed_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    paid_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    dispatched_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    #: R19: the largest slip, in working days, of a step done after its window, and its step
    done_slip: int | None = None
    done_step: str | None = None
    #: R19: the last day of the window of the earliest planned step not reached, and its step
    plan_to: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    open_step: str | None = None


class RobotRow(SQLModel, table=True):
    """A group robot of an organisation (issue #11): DingTalk (``dingtalk``) or WeCom
    (``wecom``). Its ``url`` carries the robot's access token and ``secret`` DingTalk's signing
    key: both are secrets, never shown (listings mask them; deliveries say ``robot:<id>``). A
    removed robot stays (``active`` false), so the delivery records' ids keep their meaning."""

    __tablename__ = "gpw_robot"

    id: int | None = Field(default=None, primary_key=True)
    org: str = Field(index=True)
    kind: str
    url: str
    secret: str | None = None
    active: bool = True
    created_at: datetime = _aware()
    removed_at: datetime | None = _aware(nullable=True)


class RobotSendRow(SQLModel, table=True):
    """When a robot was last posted to (issue #11), on the relays' clock: both services take at
    most 20 messages a minute per robot, and several workers share the count through this table
    (a relay takes a slot, under the robot row's lock, before it posts). Rows older than a few
    minutes are pruned as slots are taken."""

    __tablename__ = "gpw_robot_send"
    __table_args__ = (Index("ix_gpw_robot_send_robot_sent", "robot_id", "sent_at"),)

    id: int | None = Field(default=None, primary_key=True)
    robot_id: int = Field(foreign_key="gpw_robot.id")
    sent_at: datetime = _aware()


class SubscriptionRow(SQLModel, table=True):
    """A host platform's event subscription (issue #11): the URL CloudEvents are POSTed to, the
    events it wants (``None``: every one) and the HMAC key of ``X-GPW-Signature``. A removed
    subscription stays (``active`` false), so the trail's ids keep their meaning."""

    __tablename__ = "gpw_subscription"

    id: int | None = Field(default=None, primary_key=True)
    url: str
    events: list[str] | None = Field(default=None, sa_column=Column(JSON_TYPE, nullable=True))
    secret: str
    active: bool = True
    created_at: datetime = _aware()
    removed_at: datetime | None = _aware(nullable=True)


class CloudEventRow(SQLModel, table=True):
    """The outbox of subscriptions (issue #11): one CloudEvents document per project audit entry
    some subscription wanted, written by that entry's transaction (a rolled-back event is never
    announced). ``body`` is the exact JSON text sent, so a redelivery is the same bytes."""

    __tablename__ = "gpw_cloudevent"
    __table_args__ = (UniqueConstraint("project_id", "seq", name="uq_gpw_cloudevent_project_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    #: the document's ``id`` attribute (the same on every redelivery)
    event_id: str = Field(unique=True)
    project_id: int
    #: the audit entry's seq in its project's stream (the document's ``gpwseq``)
    seq: int
    type: str
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = _aware()


class SubscriptionDeliveryRow(SQLModel, table=True):
    """One document to one subscriber. Delivered in ``seq`` order per (subscription, project):
    a row is tried only when no earlier row of its lane is undelivered (pending, failed, dead)."""

    __tablename__ = "gpw_subscription_delivery"
    __table_args__ = (
        UniqueConstraint("subscription_id", "cloudevent_id", name="uq_gpw_subscription_delivery"),
        # a lane: one subscriber's deliveries of one project, in order (head-of-line)
        Index("ix_gpw_subscription_delivery_lane", "subscription_id", "project_id", "seq"),
        Index("ix_gpw_subscription_delivery_status_next", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(foreign_key="gpw_subscription.id")
    cloudevent_id: int = Field(foreign_key="gpw_cloudevent.id")
    project_id: int
    seq: int
    #: pending, sent, failed (will retry), dead (gave up; blocks its lane until re-armed),
    #: cancelled (its subscription was removed)
    status: str = "pending"
    attempts: int = 0
    next_attempt_at: datetime = _aware()
    lease_owner: str | None = None
    lease_until: datetime | None = _aware(nullable=True)
    last_error: str | None = None
    created_at: datetime = _aware()
    sent_at: datetime | None = _aware(nullable=True)


class ImportRowRow(SQLModel, table=True):
    """A workbook row imported as a project (issue #11, ``gpw import``): the file's SHA-256 and
    the row's number on its first sheet key it, so importing the same file again creates
    nothing. Written by the import's own transaction, with the row's project."""

    __tablename__ = "gpw_import_row"

    sha256: str = Field(primary_key=True)
    #: the row's number as the spreadsheet shows it (the header is row 1)
    sheet_row: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    project_id: int = Field(index=True)
    #: the file's name when it was imported (information only: the SHA-256 is the key)
    file_name: str
    imported_at: datetime = _aware()


project_t = ProjectRow.__table__  # type: ignore[attr-defined]
party_t = ProjectPartyRow.__table__  # type: ignore[attr-defined]
deadline_t = DeadlineRow.__table__  # type: ignore[attr-defined]
audit_t = AuditRow.__table__  # type: ignore[attr-defined]
head_t = AuditHeadRow.__table__  # type: ignore[attr-defined]
contractor_t = ContractorRow.__table__  # type: ignore[attr-defined]
calendar_t = CalendarYearRow.__table__  # type: ignore[attr-defined]
notice_t = NoticeRow.__table__  # type: ignore[attr-defined]
delivery_t = DeliveryRow.__table__  # type: ignore[attr-defined]
inbox_t = InboxRow.__table__  # type: ignore[attr-defined]
person_t = PersonRow.__table__  # type: ignore[attr-defined]
meta_t = MetaRow.__table__  # type: ignore[attr-defined]
user_t = UserRow.__table__  # type: ignore[attr-defined]
token_t = ApiTokenRow.__table__  # type: ignore[attr-defined]
auth_event_t = AuthEventRow.__table__  # type: ignore[attr-defined]
release_t = ReleaseRow.__table__  # type: ignore[attr-defined]
anchor_t = AnchorRow.__table__  # type: ignore[attr-defined]
fact_t = ProjectFactRow.__table__  # type: ignore[attr-defined]
import_row_t = ImportRowRow.__table__  # type: ignore[attr-defined]
robot_t = RobotRow.__table__  # type: ignore[attr-defined]
robot_send_t = RobotSendRow.__table__  # type: ignore[attr-defined]
subscription_t = SubscriptionRow.__table__  # type: ignore[attr-defined]
cloudevent_t = CloudEventRow.__table__  # type: ignore[attr-defined]
subscription_delivery_t = SubscriptionDeliveryRow.__table__  # type: ignore[attr-defined]


def gpw_tables() -> list[Any]:
    """gpw's tables, in creation order."""
    return [
        project_t,
        party_t,
        deadline_t,
        audit_t,
        head_t,
        contractor_t,
        calendar_t,
        notice_t,
        delivery_t,
        inbox_t,
        person_t,
        meta_t,
        user_t,
        token_t,
        auth_event_t,
        release_t,
        anchor_t,
        fact_t,
        import_row_t,
        robot_t,
        robot_send_t,
        subscription_t,
        cloudevent_t,
        subscription_delivery_t,
    ]


def create_schema(engine: Engine) -> None:
    SQLModel.metadata.create_all(engine, tables=gpw_tables())


def drop_schema(engine: Engine) -> None:
    """Drop gpw's tables (and nothing else): ``gpw demo --replace`` on a server database."""
    SQLModel.metadata.drop_all(engine, tables=gpw_tables())
