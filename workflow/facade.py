"""The ``Workflow`` facade: the one door every face (library, CLI, web) goes through.

It builds the :class:`~workflow.db.Database` and the services and hands each call to the one that
does the job; it holds no SQL of its own. Every accepted event is one database transaction: the
project's new state and data, its deadline rows, and its audit entries (plus any ban it writes
into a contractor's credit record) commit together or not at all. A malformed call is refused
before the database is touched.

**A host's transaction.** Every call that writes takes ``connection=``: a SQLAlchemy
``Connection`` the host has begun. gpw then writes inside it (in a SAVEPOINT) and neither commits
nor rolls back; the host's rollback leaves no trace of the event, its audit entry, its deadlines
or its outbox rows, and :meth:`on_schedule` listeners hear only of what the host commits. Reads
take ``connection=`` too, to see the host's own uncommitted writes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, Engine

from notifications.channels import Channel, NoticeConfig, Person
from states.enums import Role
from states.errors import ConfigurationError, InvalidInput
from states.model import Actor
from states.ocds import DEFAULT_OCID_PREFIX
from states.policy import DEFAULT_POLICY, Policy
from states.redaction import Redaction
from states.staffing import Staffing, required_staff
from workflow import audit, schema
from workflow.db import Database, retrying
from workflow.persistence import PoolSettings, utcnow
from workflow.services import sandbox as sandboxes
from workflow.services.access import check_actor, require_role
from workflow.services.calendar import CalendarService
from workflow.services.contractors import ContractorService
from workflow.services.details import Details
from workflow.services.directory import Directory
from workflow.services.disclosure import Disclosure
from workflow.services.facts import Facts
from workflow.services.imports import ImportReport, ImportService
from workflow.services.ledger import Ledger, LedgerService
from workflow.services.lists import Lists
from workflow.services.notices import Notice, NoticeEngine, RelayReport
from workflow.services.policies import PolicyRegistry
from workflow.services.projects import ProjectService
from workflow.services.sme_report import SmeReport, SmeReports
from workflow.services.subscriptions import Subscriptions
from workflow.services.users import Users
from workflow.views import ContractorView, ProjectView


class Workflow:
    """Runs purchase projects: create, fire events, read, audit.

    Args:
        engine: a SQLAlchemy engine (SQLite or PostgreSQL). Nothing connects until used.
        policy: the default policy for new projects: a built-in name or a path to a JSON file.
        clock: returns the current aware datetime; used only where a call passes no ``at``.
        policies: further policies projects may name (built-ins are always known).
        create: give an empty database this release's schema (through the migrations). An
            existing one is never altered: an older schema is refused ("run gpw db upgrade").
        notices: channels, SMTP, webhook secret, language, templates (default: inbox only).
        channels: channel objects to use instead of the ones ``notices`` configures.
        mode: ``"write"`` (default) or ``"read"``: a reader never creates tables (and
            :meth:`open` opens an SQLite file read-only, refusing a missing or foreign one).
        sandbox: require a training sandbox's copy (``gpw sandbox``; refused on any other
            database). A marked copy runs as a sandbox whether asked or not: its clock is the
            mark's (one working day per N real seconds, ``clock`` ignored) and its notices go to
            the inbox only (a configuration naming e-mail, webhooks or the log is refused).
        instance: the URI naming this gpw instance, the ``source`` of the CloudEvents that
            subscriptions deliver (``wf.subscriptions``, issue #11; the CLI reads
            ``GPW_INSTANCE``). Default: a ``urn:uuid:`` made once and kept in the database.
    """

    def __init__(
        self,
        *,
        engine: Engine,
        policy: str | Path | Policy = DEFAULT_POLICY,
        clock: Callable[[], datetime] = utcnow,
        policies: Sequence[str | Path | Policy] = (),
        create: bool = True,
        notices: NoticeConfig | None = None,
        channels: Sequence[Channel] | None = None,
        mode: Literal["read", "write"] = "write",
        ocid_prefix: str = DEFAULT_OCID_PREFIX,
        redaction: str | Path | Redaction | None = None,
        sandbox: bool = False,
        instance: str | None = None,
    ) -> None:
        if mode not in ("read", "write"):
            raise InvalidInput(
                f"mode 须为 read 或 write：{mode!r}",
                f"mode is read or write: {mode!r}",
                field="mode",
            )
        self.mode = mode
        #: the engine, its transactions, the clock and the after-commit hooks
        self.db = Database(engine, clock=clock, mode=mode)
        self._policies = PolicyRegistry(policy)
        for extra in policies:
            self._policies.register(extra)
        # an empty database gets the schema (the migrations); an existing one is only checked
        schema.ensure_current(self.db.engine, create=create and mode == "write")
        self.calendar = CalendarService(self.db)
        #: a training sandbox's mark (issue #10): a marked copy always runs as a sandbox, on its
        #: accelerated clock, delivering to the inbox only; None for any other database
        self.sandbox = sandboxes.sandbox_of(self.db.engine)
        if sandbox and self.sandbox is None:
            raise ConfigurationError(
                "该数据库不是沙盒副本：请先用 gpw sandbox --copy 复制（沙盒从不在原库上运行）",
                "this database is not a sandbox copy: make one with gpw sandbox --copy (a "
                "sandbox never runs on the original)",
                field="db",
            )
        if self.sandbox is not None:
            sandboxes.check_channels(
                (notices or NoticeConfig()).channels
                if channels is None
                else [c.name for c in channels]
            )
            self.db.clock = sandboxes.SandboxClock(self.calendar.current(), self.sandbox)
        self.directory = Directory(self.db)
        self._contractors = ContractorService(self.db)
        #: users of the dashboard and the JSON API, their tokens and the log of logins
        self.users = Users(self.db)
        self._projects = ProjectService(self.db, self._policies, self.calendar, self._contractors)
        #: public disclosure: OCDS releases published on commit, records, anchors (issue #9)
        self.disclosure = Disclosure(self.db, ocid_prefix=ocid_prefix, redaction=redaction)
        self._projects.on_written(self.disclosure.on_written)
        #: what the overview reads of each project, kept by the events (R18 shares, R19 slips)
        self._facts = Facts(self.db, self._policies, self.calendar)
        self._projects.on_written(self._facts.on_written)
        #: event subscriptions of host platforms: CloudEvents written with each event, delivered
        #: by the worker (issue #11); ``instance`` is the documents' ``source``
        self.subscriptions = Subscriptions(
            self.db,
            instance=instance,
            redaction=self.disclosure.rules,
            sandbox=self.sandbox is not None,
        )
        self._projects.on_written(self.subscriptions.on_written)
        self._ledgers = LedgerService(self.db, self.calendar, self._policies)
        self._sme_reports = SmeReports(self.db, self._policies)
        #: read models of the dashboard and the JSON API: a project's page, the inbox, the
        #: contractor register (each project read checked against the reader's scope)
        self.details = Details(self.db, self._policies, self.calendar)
        config = notices or NoticeConfig()
        self._notices = NoticeEngine(
            self.db,
            self._policies,
            self.calendar,
            self.directory,
            config,
            config.build_channels() if channels is None else channels,
        )
        #: the dashboard's and the JSON API's lists (projects, deadlines, notices) and the
        #: overview, each within a reader's scope (workflow.services.lists)
        self.lists = Lists(self.db, self._policies, self.calendar, self._notices, self._facts)
        #: import of running projects from a 台账 workbook, through the events (issue #11)
        self._imports = ImportService(self.db, self._projects, self._policies)

    @classmethod
    def open(
        cls,
        url_or_engine: str | Engine,
        *,
        policy: str | Path | Policy = DEFAULT_POLICY,
        clock: Callable[[], datetime] = utcnow,
        policies: Sequence[str | Path | Policy] = (),
        create: bool = True,
        notices: NoticeConfig | None = None,
        channels: Sequence[Channel] | None = None,
        mode: Literal["read", "write"] = "write",
        pool: PoolSettings | None = None,
        ocid_prefix: str = DEFAULT_OCID_PREFIX,
        redaction: str | Path | Redaction | None = None,
        sandbox: bool = False,
        instance: str | None = None,
    ) -> Workflow:
        """Open a workflow on a database URL (``sqlite:///gpw.db``,
        ``postgresql+psycopg://user@host/db``; a plain ``postgresql://`` uses psycopg 3) or an
        existing engine. ``pool`` sizes a server database's connection pool and its timeouts
        (:class:`~workflow.persistence.PoolSettings`).

        The URL is checked before anything touches it (:func:`~workflow.persistence.
        check_database`): ``mode="read"`` needs an existing gpw database (``NotFound`` for a
        missing file, ``ConfigurationError`` for another kind of file) and opens an SQLite file
        read-only; ``mode="write"`` may create a new file but never writes into a file that is
        not SQLite, is damaged, read-only or another program's database (``ConfigurationError``).
        """
        db = Database.open(url_or_engine, clock=clock, mode=mode, pool=pool)
        try:
            return cls(
                engine=db.engine,
                policy=policy,
                clock=clock,
                policies=policies,
                create=create,
                notices=notices,
                channels=channels,
                mode=mode,
                ocid_prefix=ocid_prefix,
                redaction=redaction,
                sandbox=sandbox,
                instance=instance,
            )
        except BaseException:
            if isinstance(url_or_engine, str):  # the engine is ours: leave no connection open
                db.dispose()
            raise

    def close(self) -> None:
        self.db.dispose()

    # -- plumbing -------------------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        return self.db.engine

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.db.clock

    @clock.setter
    def clock(self, clock: Callable[[], datetime]) -> None:
        self.db.clock = clock

    @property
    def policy(self) -> Policy:
        """The default policy of new projects."""
        return self._policies.default

    @policy.setter
    def policy(self, policy: Policy) -> None:
        self._policies.default = self._policies.register(policy)

    def register_policy(self, policy: str | Path | Policy) -> Policy:
        return self._policies.register(policy)

    def policy_named(self, name: str) -> Policy:
        return self._policies.named(name)

    def staffing(
        self, *, policy: str | None = None, post: str | None = None, **counts: int
    ) -> Staffing:
        """R17: the staff a post needs under a policy's staffing rules (the default policy's
        without ``policy``), for its counts: ``wf.staffing(policy="jilin-2017",
        population=35000).required`` is 4; ``wf.staffing(policy="nanyang-2019", post="town",
        recipients=2500).required`` is 4. Counts: ``population``, ``recipients``,
        ``self_care``, ``semi_care``, ``full_care``, ``children``, ``open_beds`` (as the rule
        names them). Pure: nothing is read or written.

        Raises:
            InvalidInput: the policy has no rules, an unknown post or count, a bad count.
        """
        chosen = self._policies.default if policy is None else self._policies.named(policy)
        return required_staff(chosen, post, counts)

    def on_schedule(self, listener: Callable[[datetime], None]) -> None:
        """Call ``listener(fire_at)`` after a commit that scheduled a notice stage (the worker
        uses it to wake its scheduler early). A host's transaction calls it when the host
        commits, never when it rolls back."""
        self.db.on_schedule(listener)

    # -- projects -------------------------------------------------------------------------------

    def create_project(
        self,
        *,
        actor: Actor,
        title: str,
        purchaser: str,
        budget: Any,
        items: Sequence[Mapping[str, Any]] = (),
        policy: str | None = None,
        at: datetime | None = None,
        supervisors: Mapping[str, Any] | None = None,
        connection: Connection | None = None,
        assistance_funds: Any = None,
    ) -> int:
        """Draft a purchase plan (立项, R1). Returns the new project's id.

        ``supervisors`` names the bodies supervising the project at the purchaser's level
        (``government``, ``finance``, ``audit`` and optionally ``leader``, the organisation whose
        leader supervises the purchaser: by default the purchaser itself). Without it, the
        policy's default bodies are used where they apply to the purchaser; otherwise it is
        required (no default sends a county's escalation to a city or a province).
        ``assistance_funds``: the year's special assistance funds the purchase is paid from
        (R18; ``revise_plan`` sets it too): under a policy with a budget floor (Jilin: 1 %)
        approval needs it, and the purchaser's budgets of the year must reach the floor."""
        return self._projects.create(
            actor=actor,
            title=title,
            purchaser=purchaser,
            budget=budget,
            items=items,
            policy=policy,
            at=at,
            supervisors=supervisors,
            connection=connection,
            assistance_funds=assistance_funds,
        )

    def fire(
        self,
        project_id: int,
        event: str,
        *,
        actor: Actor,
        at: datetime | None = None,
        expected_version: int | None = None,
        connection: Connection | None = None,
        **data: Any,
    ) -> ProjectView:
        """Fire ``event`` on a project, in one transaction (``connection``: the host's).

        Raises:
            InvalidInput: malformed call (checked first, whatever the state); nothing is written.
            IllegalTransition, Forbidden, GuardRefused: in that order.
            ProjectNotFound: no such project.
            ConcurrentUpdate: ``expected_version`` is stale, or another writer won the race.
        """
        return retrying(
            lambda: self._projects.fire(
                project_id,
                event,
                actor=actor,
                at=at,
                expected_version=expected_version,
                connection=connection,
                **data,
            ),
            connection=connection,
        )

    def project(self, project_id: int, *, connection: Connection | None = None) -> ProjectView:
        """The project's state, version, data, deadlines and payments."""
        return self._projects.get(project_id, connection=connection)

    def projects(
        self,
        *,
        state: str | None = None,
        purchaser: str | None = None,
        limit: int = 1000,
        connection: Connection | None = None,
    ) -> list[dict[str, Any]]:
        """A summary line per project (id, title, purchaser, state, version), newest first."""
        return self._projects.summaries(
            state=state, purchaser=purchaser, limit=limit, connection=connection
        )

    def available_events(
        self,
        project_id: int,
        actor: Actor,
        at: datetime | None = None,
        *,
        connection: Connection | None = None,
    ) -> list[str]:
        """Events ``actor`` may fire on the project now (state, role and data-free guards)."""
        return self._projects.available_events(project_id, actor, at, connection=connection)

    def history(
        self, project_id: int, *, connection: Connection | None = None
    ) -> list[audit.AuditEntry]:
        """The project's audit trail, oldest first."""
        return self._projects.history(project_id, connection=connection)

    def verify(
        self, anchor: Mapping[str, Any] | None = None, *, connection: Connection | None = None
    ) -> audit.VerifyReport:
        """Recompute every audit chain and replay what it vouches for (project rows, deadline
        rows); with an ``anchor`` from :meth:`anchor`, also check that the log still extends it.
        ``report.problems`` lists every finding with its stream, project and entry."""
        with self.db.read(connection) as conn:
            return audit.verify(conn, anchor)

    def anchor(self, *, connection: Connection | None = None) -> dict[str, Any]:
        """The current head (seq, hash) of every audit stream and one digest over them, as a
        JSON-able dict to keep outside the database (R15): ``verify(anchor=…)`` then finds a
        chain cut back and its head rewritten."""
        with self.db.read(connection) as conn:
            return audit.anchor(conn, self.db.now())

    def import_projects(
        self,
        path: str | Path,
        *,
        dry_run: bool = False,
        policy: str | None = None,
        connection: Connection | None = None,
    ) -> ImportReport:
        """Import running projects (台账 migration, issue #11) from the first sheet of the .xlsx
        workbook at ``path``, one project a row, each brought to its ``目标状态`` by the same
        events and guards a clerk's would pass (README "Importing running projects"). Every
        audit entry carries ``data["imported"]``: the file's SHA-256 and the row's number.
        ``policy``: the projects' policy (default: the workflow's). ``dry_run``: check
        everything, write nothing. ``connection``: a host's transaction (gpw writes in a
        SAVEPOINT). A file imported before creates nothing: the report lists its projects.

        Raises:
            InvalidInput: a bad cell or a missing header (``details["errors"]`` lists every
                problem: row, column, value, rule, messages); nothing is written.
            GuardRefused: every problem is a rule's refusal (R1–R20), listed the same way.
            NotFound: no such file. ConfigurationError: not a readable .xlsx workbook.
        """
        return self._imports.import_projects(
            path, dry_run=dry_run, policy=policy, connection=connection
        )

    # -- disclosure and ledgers (issue #9) ------------------------------------------------------

    def disclose(
        self,
        project_id: int,
        *,
        ocid_prefix: str | None = None,
        connection: Connection | None = None,
    ) -> dict[str, Any]:
        """The project's OCDS release package: every release it published, oldest first
        (``ocid_prefix``: shown under another prefix than the engine's)."""
        return self.disclosure.package(project_id, ocid_prefix=ocid_prefix, connection=connection)

    def ledger(
        self,
        ids: Sequence[int] | None = None,
        *,
        date_from: date | str | None = None,
        date_to: date | str | None = None,
        connection: Connection | None = None,
    ) -> Ledger:
        """The ledger (台账, R16) of projects ``ids`` (all: ``None``) for the entries dated
        ``date_from``..``date_to``: one sheet per kind, every row tied to its audit entry;
        ``.write_xlsx(path)``, ``.write_csv_zip(path)``, ``.to_dict()``."""
        return self._ledgers.ledger(
            ids, date_from=date_from, date_to=date_to, connection=connection
        )

    def report_sme_payments(
        self,
        year: int,
        *,
        purchaser: str | None = None,
        now: datetime | None = None,
        connection: Connection | None = None,
    ) -> SmeReport:
        """The annual report of payments to small and medium enterprises that were late in
        ``year`` (R20, 保障中小企业款项支付条例 第十八条: published by 31 March of the next year):
        each part paid late or overdue and unpaid, with its days late and interest, and each
        purchaser's totals (contracts, amount unpaid, amount paid late, interest), as of 31
        December (or today, while ``year`` runs); ``purchaser``: one purchaser's only.
        ``.to_dict()``, ``.csv_text()``, ``.write_csv(path)``, ``.write_xlsx(path)``."""
        return self._sme_reports.report(year, purchaser=purchaser, now=now, connection=connection)

    # -- notices --------------------------------------------------------------------------------

    def tick(
        self, now: datetime | None = None, *, connection: Connection | None = None
    ) -> list[Notice]:
        """Write every notice now due into the outbox, once; returns those this call created."""
        return self._notices.tick(self.db.at(now), connection=connection)

    def relay(
        self,
        now: datetime | None = None,
        *,
        lease_seconds: int = 300,
        batch: int = 200,
        connection: Connection | None = None,
    ) -> RelayReport:
        """Deliver pending notices (lease, retry with backoff, dead letter after the limit).

        A relay that dies holding a lease delays those notices until the lease ends: keep
        ``lease_seconds`` above the slowest batch, and short where restarts are frequent.
        """
        return self._notices.relay(
            self.db.at(now), lease_seconds=lease_seconds, batch=batch, connection=connection
        )

    def health(
        self,
        now: datetime | None = None,
        *,
        connection: Connection | None = None,
        **thresholds: float,
    ) -> dict[str, Any]:
        """The engine's health: oldest due stage waiting, outbox by status, last tick/relay,
        and ``ok``/``problems`` against ``max_tick_age``, ``max_relay_age``, ``max_due_wait``
        (seconds; see :meth:`workflow.services.notices.NoticeEngine.health`)."""
        return self._notices.health(self.db.at(now), connection=connection, **thresholds)

    def notices(
        self,
        *,
        project_id: int | None = None,
        status: str | None = None,
        stage: str | None = None,
        limit: int = 1000,
        connection: Connection | None = None,
    ) -> list[Notice]:
        return self._notices.notices(
            project_id=project_id, status=status, stage=stage, limit=limit, connection=connection
        )

    def notice(self, notice_id: int, *, connection: Connection | None = None) -> Notice:
        return self._notices.notice(notice_id, connection=connection)

    def deliveries(
        self, notice_id: int, *, connection: Connection | None = None
    ) -> list[dict[str, Any]]:
        return self._notices.deliveries(notice_id, connection=connection)

    def inbox(
        self,
        person: Person | None = None,
        *,
        org: str | None = None,
        role: str | None = None,
        limit: int = 200,
        connection: Connection | None = None,
    ) -> list[Notice]:
        """Notices addressed to a person's organisation and role (or to ``org``/``role``)."""
        if person is not None:
            org, role = person.org, person.role
        if not org or not role:
            raise InvalidInput(
                "收件箱需要单位和角色", "the inbox needs an org and a role", field="org"
            )
        return self._notices.inbox(org, role, limit=limit, connection=connection)

    def resend(
        self,
        notice_id: int,
        *,
        actor: Actor,
        at: datetime | None = None,
        connection: Connection | None = None,
    ) -> Notice:
        check_actor(actor)
        require_role(actor, {Role.ADMIN, Role.PURCHASER}, "重发通知 / resend notices")
        return self._notices.resend(
            notice_id, actor=actor, at=self.db.record_at(at), connection=connection
        )

    # -- contractors ----------------------------------------------------------------------------

    def register_contractor(
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
        return self._contractors.register(
            actor=actor,
            name=name,
            org_type=org_type,
            sme=sme,
            qualifications=qualifications,
            at=at,
            connection=connection,
        )

    def contractor(
        self, contractor_id: int, *, connection: Connection | None = None
    ) -> ContractorView:
        return self._contractors.get(contractor_id, connection=connection)

    def ban_contractor(
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
        return self._contractors.ban(
            contractor_id, actor=actor, until=until, reason=reason, at=at, connection=connection
        )
