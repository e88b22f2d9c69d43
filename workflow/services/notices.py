"""The deadline engine's durable half: ``tick`` writes notices into an outbox, ``relay`` delivers.

The database is the source of truth (DESIGN.md §3). ``tick(now)`` claims the open deadlines whose
next stage is due, writes one notice per (deadline, stage, version) under a unique key and advances
the stage, all in one transaction, and repeats until nothing is due (catch-up). ``relay(now)``
claims pending notices with a lease, resolves recipients through the directory at send time,
delivers on every channel, records each delivery, retries with exponential backoff and parks a
notice as a dead letter after the policy's attempts. Delivery is at least once; a redelivery
carries the same Message-ID / notice key so receivers can de-duplicate.

A notice none of whose recipients (organisation, role) resolves to anybody reachable on a
person-addressed channel (email, webhook, log, …) is ``undeliverable``, never ``sent``: it still
reaches the inbox, and ``health`` reports it until the directory is completed and it is resent.
With the inbox as the only channel the inbox *is* the delivery, so such a notice is ``sent``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from notifications.channels import Channel, NoticeConfig, Outgoing, Person
from notifications.render import Renderer, role_label
from states import ladder
from states.deadlines import business_date
from states.errors import InvalidInput, NotFound
from states.model import Actor
from workflow import audit
from workflow.db import Database
from workflow.services.calendar import CalendarService
from workflow.services.directory import Directory
from workflow.services.policies import PolicyRegistry
from workflow.services.robots import RobotPoster
from workflow.store import lock_stream, outbox
from workflow.store import subscriptions as subscription_store

_LOGGER = logging.getLogger("gpw.notices")

#: recipient key → (where the organisation comes from, role at that organisation)
_RECIPIENTS = {
    "contractor": ("contractor", "contractor"),
    "purchaser": ("purchaser", "purchaser"),
    "purchaser_leader": ("purchaser", "leader"),
    "finance": ("finance", "finance"),
    "finance_head": ("finance", "head"),
    "audit": ("audit", "audit"),
    "government": ("government", "government"),
}

#: the audit stream of operators' actions on notices (resend)
NOTICES_STREAM = "notices"
#: a notice's status: waiting, delivered, retrying, given up, nobody to deliver it to
NOTICE_STATUSES = ("pending", "sent", "failed", "dead", "undeliverable")
#: ``health`` thresholds (seconds): last tick, last relay, the oldest due stage's wait
DEFAULT_MAX_TICK_AGE = 600.0
DEFAULT_MAX_RELAY_AGE = 600.0
DEFAULT_MAX_DUE_WAIT = 900.0


@dataclass(frozen=True, slots=True)
class Notice:
    """A notice as the outbox holds it. ``status``: pending, sent, failed, dead or
    undeliverable (nobody in the directory to deliver it to)."""

    id: int
    key: str
    project_id: int
    deadline_kind: str
    deadline_key: str
    stage: str
    recipients: list[dict[str, str]]
    subject: str
    body: str
    html: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None

    @classmethod
    def of(cls, row: Any) -> Notice:
        return cls(
            id=row.id,
            key=row.key,
            project_id=row.project_id,
            deadline_kind=row.deadline_kind,
            deadline_key=row.deadline_key,
            stage=row.stage,
            recipients=list(row.recipients),
            subject=row.subject,
            body=row.body,
            html=row.html,
            status=row.status,
            attempts=row.attempts,
            last_error=row.last_error,
            created_at=row.created_at,
            sent_at=row.sent_at,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "key": self.key,
            "project_id": self.project_id,
            "deadline_kind": self.deadline_kind,
            "deadline_key": self.deadline_key,
            "stage": self.stage,
            "recipients": self.recipients,
            "subject": self.subject,
            "body": self.body,
            "status": self.status,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "created_at": self.created_at.isoformat(),
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
        }


@dataclass(frozen=True, slots=True)
class RelayReport:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    dead: int = 0
    undeliverable: int = 0
    #: waiting for a group robot's next free slot (its 20 a minute): tried again then
    deferred: int = 0

    def to_dict(self) -> dict[str, int]:
        return {
            "claimed": self.claimed,
            "sent": self.sent,
            "failed": self.failed,
            "dead": self.dead,
            "undeliverable": self.undeliverable,
            "deferred": self.deferred,
        }


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _nobody(recipients: Sequence[dict[str, str]]) -> str:
    who = ", ".join(f"{r['org']}/{r['role']}" for r in recipients) or "—"
    return (
        f"通讯录中没有可送达的收件人：{who} / no recipient in the directory can be reached: {who}"
    )[:2000]


class _Lease:
    """A relay's hold on the notices it claimed: a fencing token, renewed while it sends (every
    third of the lease), so a slow batch keeps its notices and a relay whose lease ran out stops
    recording and sending what another relay has taken over."""

    def __init__(self, token: str, seconds: int, ids: Sequence[int], started: float) -> None:
        self.token = token
        self.seconds = seconds
        self.ids = list(ids)
        self.held: set[int] = set(ids)
        #: when the relay began (monotonic): its ``now`` runs on in real time from there
        self.started = started
        self._renewed = time.monotonic()

    def until(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.seconds)

    def due(self) -> bool:
        """Time to renew every lease of the batch (a third of the lease has gone by)."""
        if time.monotonic() - self._renewed < self.seconds / 3:
            return False
        self._renewed = time.monotonic()
        return True


_RENDERERS: dict[tuple[str, str | None], Renderer] = {}
_RENDERERS_LOCK = threading.Lock()


def _renderer(lang: str, template_dir: str | Path | None) -> Renderer:
    """One checked renderer per language and template folder in a process: checking every
    template (a broken one is refused at start, not on the first send) and compiling them costs
    more than the rest of opening a workflow, so it is done once, not on every ``open``."""
    key = (lang, None if template_dir is None else str(Path(template_dir).resolve()))
    with _RENDERERS_LOCK:
        found = _RENDERERS.get(key)
        if found is None:
            found = Renderer(lang=lang, template_dir=template_dir)
            found.check()
            _RENDERERS[key] = found
        return found


class NoticeEngine:
    """``tick`` and ``relay`` for one workflow."""

    def __init__(
        self,
        db: Database,
        policies: PolicyRegistry,
        calendar: CalendarService,
        directory: Directory,
        config: NoticeConfig,
        channels: Sequence[Channel],
    ) -> None:
        self._db = db
        self._policies = policies
        self._calendar = calendar
        self._directory = directory
        self.config = config
        self.channels = list(channels)
        self.renderer = _renderer(config.lang, config.template_dir)
        #: the group-robot channels' part of a relay (issue #11)
        self._robots = RobotPoster(db, self.channels)

    # -- tick -----------------------------------------------------------------------------------

    def _recipients(
        self,
        keys: Iterable[str],
        supervisors: Mapping[str, str] | None,
        purchaser: str,
        contractor: str | None,
    ) -> list[dict[str, str]]:
        """Organisations and roles a stage is addressed to: the purchaser, the contractor, and
        the project's own supervising bodies (recorded at 立项, at the purchaser's level)."""
        out: list[dict[str, str]] = []
        bodies = supervisors or {}
        for key in keys:
            source, role = _RECIPIENTS[key]
            if source == "purchaser":
                org: str | None = bodies.get("leader", purchaser) if role == "leader" else purchaser
            elif source == "contractor":
                org = contractor
            else:
                org = bodies.get(source)
            if org:
                entry = {"org": org, "role": role, "name": role_label(role, "zh")}
                if entry not in out:
                    out.append(entry)
        return out

    def tick(
        self, now: datetime, *, batch: int = 500, connection: Connection | None = None
    ) -> list[Notice]:
        """Write every notice due at ``now`` into the outbox, once, batch by batch until nothing
        is due; returns those this call created. ``connection``: inside a host's transaction."""
        created: list[Notice] = []
        while True:
            with self._db.transaction(connection) as conn:
                rows = outbox.claim_due_deadlines(conn, now, batch)
                if not rows:
                    break
                created.extend(self._tick_rows(conn, rows, now))
            if len(rows) < batch:
                break
        self._stamp("last_tick", now, connection)
        return created

    def _tick_rows(self, conn: Connection, rows: Sequence[Any], now: datetime) -> list[Notice]:
        calendar = self._calendar.current(conn)
        projects = outbox.projects_of(conn, {r.project_id for r in rows})
        names = outbox.contractor_names(
            conn, {p.contractor_id for p in projects.values() if p.contractor_id}
        )
        # a moved deadline's notice tells its suspensions and extensions (read for those alone)
        clocks = outbox.clock_changes(conn, {r.project_id for r in rows if r.moved_from})
        today = business_date(now)
        created: list[Notice] = []
        pending: list[dict[str, Any]] = []
        contexts: list[dict[str, Any]] = []
        moves: list[dict[str, Any]] = []
        # deadlines due together mostly share a kind, a due day, a policy and the stage reached:
        # what their ladders say now (the stages to send, those folded in, the next one) and
        # the working days left are worked out once a batch
        plans: dict[tuple[str, Any, str, int], Any] = {}
        # and a stage's recipients are the same for the projects of one policy, purchaser,
        # contractor and supervising bodies (their "parties"; the bodies arrive as the database's
        # JSON text: parsed once); the notices of the batch share that list (each Notice
        # returned gets its own copy)
        addressed: dict[tuple[Any, ...], list[dict[str, str]]] = {}

        def recipients(kind: str, stage: str, parties: tuple[Any, ...]) -> Any:
            key = (kind, stage, parties)
            found = addressed.get(key)
            if found is None:
                policy_name, purchaser, contractor, supervisors = parties
                found = addressed[key] = self._recipients(
                    ladder.recipients(kind, stage, self._policies.named(policy_name)),
                    json.loads(supervisors) if supervisors else None,
                    purchaser,
                    contractor,
                )
            return found

        # what a stage says of the next one is alike for the same parties too (shared as well)
        following_steps: dict[tuple[Any, ...], dict[str, Any]] = {}

        def next_step(kind: str, stage: str, day: str, parties: tuple[Any, ...]) -> Any:
            key = (kind, stage, day, parties)
            found = following_steps.get(key)
            if found is None:
                found = following_steps[key] = {
                    "stage": stage,
                    "day": day,
                    "recipients": recipients(kind, stage, parties),
                }
            return found

        for row in rows:
            # (the claimed columns, in order: one unpacking instead of an attribute each; the
            # project's columns likewise)
            (
                deadline_id,
                project_id,
                deadline_key,
                kind,
                owner,
                rule,
                due_on,
                provisional,
                version,
                stage_index,
                moved_from,
            ) = row
            _, title, purchaser, policy_name, contractor_id, supervisors = projects[project_id]
            contractor = names.get(contractor_id) if contractor_id else None
            parties = (policy_name, purchaser, contractor, supervisors)
            plan_key = (kind, due_on, policy_name, stage_index)
            plan = plans.get(plan_key)
            if plan is None:
                policy = self._policies.named(policy_name)
                rungs = ladder.ladder(kind, due_on, policy, calendar)
                steps = []
                reached = stage_index
                for rung in ladder.due_now(rungs, reached, now, policy.notices.catch_up):
                    skipped = [r.stage for r in rungs if reached < r.index < rung.index]
                    following = ladder.next_after(rungs, rung.index)
                    day = following.day.isoformat() if following is not None else ""
                    steps.append((rung, skipped, following, day))
                    reached = rung.index
                plan = plans[plan_key] = (
                    steps,
                    reached,
                    ladder.next_after(rungs, reached),
                    due_on.isoformat(),
                    calendar.working_days_between(today, due_on),
                    max(0, (today - due_on).days),
                )
            steps, reached, after, due, left, late = plan
            for rung, skipped, following, next_day in steps:
                ctx = {
                    "key": f"{deadline_id}:{rung.stage}:{version}",
                    "stage": rung.stage,
                    "project": {"id": project_id, "title": title, "purchaser": purchaser},
                    "contractor": contractor or "",
                    "deadline": {
                        "kind": kind,
                        "key": deadline_key,
                        "due": due,
                        "provisional": bool(provisional),
                        "rule": rule,
                        "owner": owner,
                    },
                    "working_days_left": left,
                    "calendar_days_late": late,
                    "moved_from": moved_from.isoformat() if moved_from else None,
                    "clock": clocks.get((project_id, deadline_key), []) if moved_from else [],
                    "skipped": skipped,
                    "recipients": recipients(kind, rung.stage, parties),
                    "next_step": None
                    if following is None
                    else next_step(kind, following.stage, next_day, parties),
                }
                contexts.append(ctx)
                pending.append(
                    {
                        "key": ctx["key"],
                        "deadline_id": deadline_id,
                        "project_id": project_id,
                        "deadline_kind": kind,
                        "deadline_key": deadline_key,
                        "stage": rung.stage,
                        "recipients": ctx["recipients"],
                        "subject": "",
                        "body": "",
                        "html": "",
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                )
            moves.append(
                {
                    "b_id": deadline_id,
                    "b_stage_index": reached,
                    "b_next_stage": after.stage if after else None,
                    "b_next_fire_at": after.fire_at if after else None,
                    "b_moved_from": moved_from if not steps else None,
                }
            )
        # the batch's notices rendered together: those alike but for their key, project and
        # deadline key are rendered once (Renderer.render_many; the same texts)
        for values, rendered in zip(pending, self.renderer.render_many(contexts), strict=True):
            values["subject"] = rendered.subject
            values["body"] = rendered.text
            values["html"] = rendered.html
        # one statement each for the whole batch: the cost follows the due work
        if pending:
            inserted = outbox.insert_notices(conn, pending)
            created = [
                Notice(
                    id=inserted[v["key"]],
                    key=v["key"],
                    project_id=v["project_id"],
                    deadline_kind=v["deadline_kind"],
                    deadline_key=v["deadline_key"],
                    stage=v["stage"],
                    recipients=[dict(r) for r in v["recipients"]],
                    subject=v["subject"],
                    body=v["body"],
                    html=v["html"],
                    status="pending",
                    attempts=0,
                    last_error=None,
                    created_at=now,
                    sent_at=None,
                )
                for v in pending
                if v["key"] in inserted
            ]
        outbox.advance_deadlines(conn, moves)
        return created

    # -- relay ----------------------------------------------------------------------------------

    def relay(
        self,
        now: datetime,
        *,
        batch: int = 200,
        lease_seconds: int = 300,
        connection: Connection | None = None,
    ) -> RelayReport:
        """Deliver pending notices: claim with a lease, resolve recipients through the directory,
        send on every channel, record each delivery, retry with backoff, give up after the
        policy's attempts. ``connection``: the claims and records join a host's transaction (a
        host that rolls back leaves the notices to be sent again: at least once)."""
        if not self.channels:
            return self._relay_to_inbox(now, batch=batch, connection=connection)
        token = uuid.uuid4().hex
        started = time.monotonic()
        claimed = sent = failed = dead = undeliverable = deferred = 0
        while True:
            with self._db.transaction(connection) as conn:
                # leases are reckoned from ``now`` plus the time this relay has run, as each
                # batch is claimed: a long relay's later batches must not be born expired
                notices = outbox.claim_notices(
                    conn,
                    now + timedelta(seconds=time.monotonic() - started),
                    batch=batch,
                    token=token,
                    lease_seconds=lease_seconds,
                )
                if not notices:
                    break
                ids = [n.id for n in notices]
                people = self._directory.resolve(
                    conn, {(r["org"], r["role"]) for n in notices for r in n.recipients}
                )
                done = outbox.sent_deliveries(conn, ids)
                # the recipients' organisations' group robots, where their channels are enabled
                robots = self._directory.robots_of(
                    conn, {r["org"] for n in notices for r in n.recipients}, self._robots.kinds
                )
            claimed += len(notices)
            lease = _Lease(token, lease_seconds, ids, started)
            for outcome in self._deliver(
                notices, people, done, now, token, connection, lease, robots
            ):
                sent += outcome == "sent"
                failed += outcome == "failed"
                dead += outcome == "dead"
                undeliverable += outcome == "undeliverable"
                deferred += outcome == "deferred"
            if len(ids) < batch:
                break
        self._stamp("last_relay", now, connection)
        return RelayReport(
            claimed=claimed,
            sent=sent,
            failed=failed,
            dead=dead,
            undeliverable=undeliverable,
            deferred=deferred,
        )

    def _relay_to_inbox(
        self, now: datetime, *, batch: int, connection: Connection | None
    ) -> RelayReport:
        """``relay`` with the inbox as the only channel: the inbox is the delivery, so each batch
        is claimed, put in the inbox and marked sent in one transaction (no lease, no second
        transaction: nothing is sent outside the database)."""
        sent = 0
        while True:
            with self._db.transaction(connection) as conn:
                done = outbox.deliver_to_inbox(conn, now, batch=batch)
            sent += done
            if done < batch:
                break
        self._stamp("last_relay", now, connection)
        return RelayReport(claimed=sent, sent=sent)

    def _record_delivery(
        self,
        notice_id: int,
        channel: str,
        address: str,
        person: str,
        error: str | None,
        now: datetime,
        connection: Connection | None,
        lease: _Lease | None = None,
    ) -> bool:
        """Record one send, fenced by the lease: False (nothing recorded) when another relay
        took the notice over after this one's lease ran out."""
        with self._db.transaction(connection) as conn:
            if lease is None:
                return outbox.record_delivery(conn, notice_id, channel, address, person, error, now)
            until = lease.until(now + timedelta(seconds=time.monotonic() - lease.started))
            # (lease.started is when this relay began: ``now`` runs on in real time from there)
            if lease.due():
                lease.held = outbox.renew_leases(conn, lease.ids, lease.token, until)
            return outbox.record_delivery(
                conn,
                notice_id,
                channel,
                address,
                person,
                error,
                now,
                token=lease.token,
                until=until,
            )

    def _deliver(
        self,
        notices: Sequence[Any],
        people: dict[tuple[str, str], list[Person]],
        done: set[tuple[int, str, str]],
        now: datetime,
        token: str,
        connection: Connection | None = None,
        lease: _Lease | None = None,
        robots: Mapping[str, Sequence[Any]] | None = None,
    ) -> list[str]:
        results: dict[int, list[dict[str, Any]]] = {n.id: [] for n in notices}
        #: notices with at least one recipient reachable on a person-addressed channel
        reachable: set[int] = set()
        for channel in self.channels:
            with channel.session():
                for n in notices:
                    outgoing = Outgoing.of(n)
                    for r in n.recipients:
                        for person in people.get((r["org"], r["role"]), []):
                            address = channel.address(person)
                            if not address:
                                continue
                            reachable.add(n.id)
                            if (n.id, channel.name, address) in done:
                                continue
                            if lease is not None and n.id not in lease.held:
                                continue  # another relay holds it now: it sends, not we
                            error = None
                            try:
                                channel.send(outgoing, person, address)
                            except Exception as exc:  # any failure is recorded and retried
                                error = f"{type(exc).__name__}: {exc}"[:500]
                                _LOGGER.warning(
                                    "delivery of %s to %s failed: %s", n.key, channel.name, error
                                )
                            # record at once: a crash now doubles at most this one send
                            if (
                                not self._record_delivery(
                                    n.id,
                                    channel.name,
                                    address,
                                    person.name,
                                    error,
                                    now,
                                    connection,
                                    lease,
                                )
                                and lease is not None
                            ):
                                lease.held.discard(n.id)
                                continue
                            results[n.id].append(
                                {"channel": channel.name, "address": address, "error": error}
                            )
        # the group robots of the recipients' organisations (issue #11); a full robot's
        # notices wait for its next free slot
        waiting = self._robots.post(
            notices,
            robots or {},
            done,
            now,
            results,
            reachable,
            record=self._record_delivery,
            connection=connection,
            lease=lease,
        )
        deferrals: list[tuple[int, datetime]] = []
        outcomes: list[str] = []
        with self._db.transaction(connection) as conn:
            policies = {
                pid: self._policies.named(name)
                for pid, name in outbox.project_policies(
                    conn, {n.project_id for n in notices}
                ).items()
            }
            current = outbox.leases(conn, [n.id for n in notices])
            inbox: list[dict[str, Any]] = []
            updates: list[dict[str, Any]] = []
            sent_ids: list[int] = []
            for n in notices:
                if current[n.id].lease_owner != token:
                    continue  # our lease ran out and another relay took it over
                inbox.extend(
                    {"notice_id": n.id, "org": r["org"], "role": r["role"], "created_at": now}
                    for r in n.recipients
                )
                errors = [
                    f"{d['channel']} {d['address']}: {d['error']}"
                    for d in results[n.id]
                    if d["error"]
                ]
                attempts = current[n.id].attempts + 1
                values: dict[str, Any] = {"b_id": n.id, "b_attempts": attempts}
                if self.channels and n.id not in reachable:
                    # nobody to deliver it to: the inbox has it, health reports it
                    values.update(
                        b_status="undeliverable",
                        b_sent_at=None,
                        b_last_error=_nobody(n.recipients),
                        b_next_attempt_at=now,
                    )
                elif not errors and n.id in waiting:
                    # sent where it could be; a robot's minute is full: again when it frees
                    deferrals.append((n.id, waiting[n.id]))
                    outcomes.append("deferred")
                    continue
                elif not errors:
                    sent_ids.append(n.id)
                    outcomes.append("sent")
                    continue
                else:
                    notice_policy = policies[n.project_id].notices
                    status = "dead" if attempts >= notice_policy.max_attempts else "failed"
                    delay = notice_policy.backoff_seconds * 2 ** (attempts - 1)
                    values.update(
                        b_status=status,
                        b_sent_at=None,
                        b_last_error="; ".join(errors)[:2000],
                        b_next_attempt_at=now + timedelta(seconds=delay),
                    )
                outcomes.append(values["b_status"])
                updates.append(values)
            outbox.add_to_inbox(conn, inbox)
            outbox.mark_sent(conn, sent_ids, now, token)
            outbox.finish_notices(conn, updates)
            self._robots.defer(conn, deferrals, token)
        return outcomes

    def _stamp(self, key: str, now: datetime, connection: Connection | None = None) -> None:
        with self._db.transaction(connection) as conn:
            outbox.upsert_meta(conn, key, now.isoformat())

    def health(
        self,
        now: datetime,
        *,
        max_tick_age: float = DEFAULT_MAX_TICK_AGE,
        max_relay_age: float = DEFAULT_MAX_RELAY_AGE,
        max_due_wait: float = DEFAULT_MAX_DUE_WAIT,
        connection: Connection | None = None,
    ) -> dict[str, Any]:
        """What an operator watches: how long the oldest due stage has waited, the outbox by
        status, the oldest undelivered notice, and when tick and relay last ran.

        ``ok`` is False, and ``problems`` says why (each with a code and a message in Chinese
        then English), when a notice is dead or undeliverable, when tick or relay has never
        run or not within ``max_tick_age`` / ``max_relay_age`` seconds, or when a due stage has
        waited longer than ``max_due_wait`` seconds; also when an event subscription's delivery
        is dead (``subscriptions``: deliveries by status, issue #11).
        """
        for name, limit in (
            ("max_tick_age", max_tick_age),
            ("max_relay_age", max_relay_age),
            ("max_due_wait", max_due_wait),
        ):
            if not isinstance(limit, int | float) or isinstance(limit, bool) or limit <= 0:
                raise InvalidInput(
                    f"{name} 须为正数（秒）：{limit!r}",
                    f"{name} must be a positive number of seconds: {limit!r}",
                    field=name,
                )
        with self._db.read(connection) as conn:
            oldest_due = outbox.oldest_due_stage(conn, now)
            by_status = outbox.count_by_status(conn)
            oldest_unsent = outbox.oldest_undelivered(conn)
            meta = outbox.meta(conn)
            # event subscriptions' deliveries (issue #11): a dead letter blocks its lane
            subscribed = subscription_store.count_by_status(conn)

        def age(when: datetime | None) -> float | None:
            return None if when is None else round((now - _aware(when)).total_seconds(), 1)

        def stamp_age(key: str) -> float | None:
            value = meta.get(key)
            try:
                return age(datetime.fromisoformat(value)) if value else None
            except ValueError:
                return None

        counts = {s: int(by_status.get(s, 0)) for s in NOTICE_STATUSES}
        waiting = age(oldest_due)
        problems: list[dict[str, Any]] = []

        def problem(code: str, zh: str, en: str) -> None:
            problems.append({"code": code, "message_zh": zh, "message_en": en})

        if counts["dead"]:
            problem(
                "dead_notices",
                f"{counts['dead']} 条通知投递失败已放弃（dead），请检查后 gpw notices resend",
                f"{counts['dead']} notice(s) are dead (gave up); check and gpw notices resend",
            )
        dead_events = int(subscribed.get("dead", 0))
        if dead_events:
            problem(
                "dead_subscription_deliveries",
                f"{dead_events} 条事件订阅投递已放弃（dead），其后的同项目事件被阻塞；"
                "请检查订阅方后 gpw subscription retry ID",
                f"{dead_events} subscription deliveries are dead and hold back their projects' "
                "later events; check the subscriber, then gpw subscription retry ID",
            )
        if counts["undeliverable"]:
            problem(
                "undeliverable_notices",
                f"{counts['undeliverable']} 条通知在通讯录中找不到可送达的收件人（undeliverable）",
                f"{counts['undeliverable']} notice(s) are undeliverable: no recipient in the "
                "directory",
            )
        for key, limit, name in (
            ("last_tick", max_tick_age, "tick"),
            ("last_relay", max_relay_age, "relay"),
        ):
            ran = stamp_age(key)
            if ran is None:
                problem(f"{name}_never_ran", f"{name} 从未运行", f"{name} has never run")
            elif ran > limit:
                problem(
                    f"{name}_stale",
                    f"{name} 已 {ran:g} 秒未运行（阈值 {limit:g} 秒）",
                    f"{name} last ran {ran:g} s ago (threshold {limit:g} s)",
                )
        if waiting is not None and waiting > max_due_wait:
            problem(
                "due_stage_waiting",
                f"最早到期的通知阶段已等待 {waiting:g} 秒（阈值 {max_due_wait:g} 秒）",
                f"the oldest due notice stage has waited {waiting:g} s "
                f"(threshold {max_due_wait:g} s)",
            )
        return {
            "now": now.isoformat(),
            "oldest_due_stage_waiting_seconds": waiting,
            "notices": counts,
            "oldest_undelivered_seconds": age(oldest_unsent),
            "subscriptions": {
                s: int(subscribed.get(s, 0)) for s in ("pending", "failed", "dead", "sent")
            },
            "last_tick": meta.get("last_tick"),
            "last_relay": meta.get("last_relay"),
            "thresholds": {
                "max_tick_age": max_tick_age,
                "max_relay_age": max_relay_age,
                "max_due_wait": max_due_wait,
            },
            "ok": not problems,
            "problems": problems,
        }

    # -- reading and operator actions -----------------------------------------------------------

    def notices(
        self,
        *,
        project_id: int | None = None,
        status: str | None = None,
        stage: str | None = None,
        limit: int = 1000,
        connection: Connection | None = None,
    ) -> list[Notice]:
        if status is not None and status not in NOTICE_STATUSES:
            raise InvalidInput(
                f"未知的通知状态 {status!r}（可用：{', '.join(NOTICE_STATUSES)}）",
                f"unknown notice status {status!r}; allowed: {', '.join(NOTICE_STATUSES)}",
                field="status",
            )
        with self._db.read(connection) as conn:
            rows = outbox.notices(
                conn, project_id=project_id, status=status, stage=stage, limit=limit
            )
            return [Notice.of(r) for r in rows]

    def notice(self, notice_id: int, *, connection: Connection | None = None) -> Notice:
        with self._db.read(connection) as conn:
            row = outbox.notice(conn, notice_id)
        if row is None:
            raise NotFound(
                f"通知 {notice_id} 不存在", f"notice {notice_id} not found", field="notice_id"
            )
        return Notice.of(row)

    def deliveries(
        self, notice_id: int, *, connection: Connection | None = None
    ) -> list[dict[str, Any]]:
        with self._db.read(connection) as conn:
            return outbox.deliveries(conn, notice_id)

    def inbox(
        self, org: str, role: str, *, limit: int = 200, connection: Connection | None = None
    ) -> list[Notice]:
        with self._db.read(connection) as conn:
            return [Notice.of(r) for r in outbox.inbox(conn, org, role, limit=limit)]

    def resend(
        self,
        notice_id: int,
        *,
        actor: Actor,
        at: datetime,
        connection: Connection | None = None,
    ) -> Notice:
        """Send a notice again on every channel (audited); the inbox keeps one copy."""
        with self._db.transaction(connection) as conn:
            lock_stream(conn, NOTICES_STREAM)
            status = outbox.status_of(conn, notice_id)
            if status is None:
                raise NotFound(
                    f"通知 {notice_id} 不存在", f"notice {notice_id} not found", field="notice_id"
                )
            outbox.reset_for_resend(conn, notice_id, at)
            audit.log(
                conn,
                NOTICES_STREAM,
                actor=actor,
                at=at,
                event="resend",
                data={"notice_id": notice_id},
                from_state=status,
                to_state="pending",
            )
            row = outbox.notice(conn, notice_id)
        return Notice.of(row)
