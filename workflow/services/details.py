"""Read models of the dashboard and the JSON API (issue #8): a project's page, the inbox, the
contractor register.

Every read of a project takes the reader's :class:`~workflow.services.scope.Scope` and refuses a
project outside it (``Forbidden``, field ``project``); an unknown one is ``ProjectNotFound``.
Working days are counted on the workflow's working-day calendar (调休 included), from today's
Asia/Shanghai date. Nothing here writes except the inbox's read and acknowledged marks (the
acknowledgement with an audit entry on the ``inbox`` stream, R15).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection

from states import deadlines as dl
from states import payments as pm
from states.calendar import WorkingDayCalendar
from states.enums import FINAL_STATES, QUALIFICATIONS, EvaluationKind, ProjectState
from states.errors import Forbidden, InvalidInput, NotFound
from states.machine import EVENTS
from states.model import Actor, Contractor, Project
from states.policy import Milestone, Policy, Unlock
from workflow import audit
from workflow.db import Database
from workflow.services.calendar import CalendarService
from workflow.services.policies import PolicyRegistry
from workflow.services.scope import Scope, project_parties
from workflow.store import contractors as contractor_store
from workflow.store import details as store
from workflow.store import lock_stream
from workflow.store import projects as project_store
from workflow.views import DeadlineView, Page, ProjectView

#: the audit stream of inbox acknowledgements (R15)
INBOX_STREAM = "inbox"
#: the most items a page may hold
MAX_LIMIT = 500
CENT = Decimal("0.01")

#: 项目状态 / state labels, Chinese and English (states.enums.ProjectState)
STATE_LABELS: dict[str, tuple[str, str]] = {
    "draft": ("草拟", "draft"),
    "pending_approval": ("待审批", "pending approval"),
    "approved": ("已批准", "approved"),
    "procuring": ("采购中", "procuring"),
    "awarded": ("已确定承接主体", "awarded"),
    "contracted": ("已签约", "contracted"),
    "in_service": ("服务中", "in service"),
    "rectifying": ("限期整改", "rectifying"),
    "takeover": ("临时接管", "takeover"),
    "accepted": ("已验收", "accepted"),
    "closed": ("已结项", "closed"),
    "terminated": ("已终止", "terminated"),
}
#: R4: the nine conditions of 003 第九条, by ``qualifications`` key
QUALIFICATION_LABELS: dict[str, tuple[str, str]] = {
    "civil_liability": ("具有独立承担民事责任的能力", "independent civil liability"),
    "governance": ("治理结构、内部管理和监督制度完善", "sound governance and supervision"),
    "finance": (
        "具有独立、健全的财务管理、会计核算和资产管理制度，有独立的银行账号",
        "independent finance and accounting, its own bank account",
    ),
    "capacity": (
        "具备提供社会救助服务所必需的设施、人员和专业技术的能力",
        "the facilities, staff and skills the service needs",
    ),
    "experience": ("有开展社会服务项目的经验，具有良好信誉", "service experience, good reputation"),
    "tax_social_insurance": (
        "具有依法缴纳税收和社会保险的良好记录",
        "a clean tax and social-insurance record",
    ),
    "clean_record": (
        "三年内无重大违法记录，信用状况良好，未被列入经营异常名录或者严重违法企业名单",
        "no major violation in three years, not on an abnormal-operation list",
    ),
    "separated_from_government": (
        "符合政事分开、政社分开、政企分开的要求",
        "separated from government",
    ),
    "legal_other": ("法律、法规规定的其他条件", "other conditions set by law"),
}
#: 承接主体类型 (R4)
ORG_TYPE_LABELS: dict[str, tuple[str, str]] = {
    "social_organization": ("社会组织", "social organisation"),
    "public_institution": ("公益二类事业单位", "class-II public institution"),
    "enterprise": ("企业", "enterprise"),
}
#: what unlocks a tranche (R7)
UNLOCK_LABELS: dict[str, tuple[str, str]] = {
    Unlock.CONTRACT_EFFECTIVE.value: ("合同生效", "the contract takes effect"),
    Unlock.MIDTERM_PASSED.value: ("中期评估合格", "the mid-term evaluation is passed"),
    Unlock.FINAL_PASSED.value: ("末期评估合格", "the final evaluation is passed"),
}


# -- JSON -----------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A value as JSON: a read model's ``to_dict()``, Decimals as strings (money is kept with
    two places, so ``"1200.00"``), dates and datetimes ISO."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _fields(obj: Any) -> dict[str, Any]:
    return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}


def _labels(table: Mapping[str, tuple[str, str]], key: str) -> dict[str, str]:
    zh, en = table.get(key, (key, key))
    return {"zh": zh, "en": en}


def money(value: Decimal) -> Decimal:
    """An amount with two places (half up): what is shown and serialized."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# -- secrets stay out ---------------------------------------------------------------------------

_URL = re.compile(r"https?://[^\s'\"<>]+")


def _bare_url(url: str) -> str:
    """A URL without what may hold a secret: its user and password, path, query and fragment
    (``https://open.feishu.cn/…``: Feishu's and Slack's hooks carry their token in the path,
    DingTalk's and WeCom's in the query)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "***"
    if not parts.scheme or not host:
        return "***"
    path = "/…" if parts.path not in ("", "/") else parts.path
    return f"{parts.scheme}://{host}{port}{path}"


def redact(text: str | None) -> str | None:
    """An address or an error with every URL bared (:func:`_bare_url`): a webhook's address may
    carry a token in its path, query or user part."""
    if text is None:
        return None
    return _URL.sub(lambda m: _bare_url(m.group(0)), text)


# -- the state diagram --------------------------------------------------------------------------


@cache
def _diagram_base() -> str:
    """The machine of :data:`states.machine.EVENTS` as Mermaid ``stateDiagram-v2`` text, built
    once per process: every state (labelled in Chinese and English), every transition labelled
    with its events, the events that keep the state as one loop, the final states ending."""
    lines = [
        "stateDiagram-v2",
        "  direction LR",
        "  classDef current fill:#fde68a,stroke:#b45309,stroke-width:3px,color:#111",
        "  classDef final fill:#e5e7eb,color:#111",
    ]
    for state in ProjectState:
        zh, en = STATE_LABELS[state.value]
        lines.append(f'  state "{zh} {en}" as {state.value}')
    lines.append(f"  [*] --> {ProjectState.DRAFT.value}")
    edges: dict[tuple[str, str], list[str]] = {}
    for spec in EVENTS.values():
        for source in spec.sources:
            dest = spec.dest if spec.dest is not None else source
            edges.setdefault((source.value, dest.value), []).append(spec.name)
    for (src, dst), names in edges.items():
        lines.append(f"  {src} --> {dst}: {' / '.join(names)}")
    for final in sorted(FINAL_STATES, key=list(ProjectState).index):
        lines.append(f"  {final.value} --> [*]")
        lines.append(f"  class {final.value} final")
    return "\n".join(lines) + "\n"


def state_diagram(current: str | None = None) -> str:
    """The state machine as Mermaid ``stateDiagram-v2`` text; ``current`` (a state) is marked
    with the ``current`` class. The text is built once per process."""
    base = _diagram_base()
    if current is None:
        return base
    if current not in STATE_LABELS:
        raise InvalidInput(f"未知的状态 {current!r}", f"unknown state {current!r}", field="state")
    return f"{base}  class {current} current\n"


# -- the project page ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class ContractorRef:
    """The awarded contractor as the register holds it."""

    id: int
    name: str
    org_type: str
    sme: bool

    def to_dict(self) -> dict[str, Any]:
        return {**_fields(self), "org_type_label": _labels(ORG_TYPE_LABELS, self.org_type)}


@dataclasses.dataclass(frozen=True, slots=True)
class DeliveryDetail:
    """One delivery of a notice: channel, address (URLs bared of any secret), person."""

    channel: str
    address: str
    person: str
    status: str
    attempts: int
    sent_at: datetime | None
    last_error: str | None

    def to_dict(self) -> dict[str, Any]:
        return _fields(self)


@dataclasses.dataclass(frozen=True, slots=True)
class NoticeDetail:
    """A notice of a deadline: its stage, status, recipients and deliveries."""

    id: int
    stage: str
    status: str
    subject: str
    recipients: tuple[dict[str, str], ...]
    created_at: datetime
    sent_at: datetime | None
    attempts: int
    last_error: str | None
    deliveries: tuple[DeliveryDetail, ...]

    def to_dict(self) -> dict[str, Any]:
        return _fields(self)


@dataclasses.dataclass(frozen=True, slots=True)
class DeadlineDetail:
    """A deadline with the working days left until its due day or late after it (R7–R13), and
    who was told (its notices).

    Attributes:
        working_days_left: open and not yet past: working days after today up to the due day
            (0: due today).
        working_days_late: open and past: working days after the due day up to today; met
            late: up to the day it was met.
        overdue: open and its due day has passed.
        provisional: its due day rests on a year whose schedule is not yet published (暂定).
    """

    deadline: DeadlineView
    working_days_left: int | None
    working_days_late: int | None
    overdue: bool
    provisional: bool
    next_stage: str | None
    next_fire_at: datetime | None
    notices: tuple[NoticeDetail, ...]

    @property
    def key(self) -> str:
        return self.deadline.key

    def to_dict(self) -> dict[str, Any]:
        out = self.deadline.to_dict()
        out.update({k: v for k, v in _fields(self).items() if k != "deadline"})
        return out


@dataclasses.dataclass(frozen=True, slots=True)
class TrancheLine:
    """One tranche of the policy (R7): what is due, what unlocks it, its deadline, its payment.

    ``status``: ``paid``, ``overdue`` (unlocked, its deadline passed), ``due`` (unlocked) or
    ``locked``."""

    tranche: int
    share_percent: Decimal
    amount_due: Decimal | None
    unlocked_by: str
    unlocked: bool
    window_working_days: int
    deadline_key: str
    due: date | None
    provisional: bool
    paid_amount: Decimal | None
    paid_on: date | None
    paid_by: str | None
    late: bool
    status: str
    #: R20: the tranche's dispute (id, amount, status, found due, waived), if any
    dispute: dict[str, Any] | None = None
    #: R20: each part (the tranche, or its undisputed part and the part found due): amount, due,
    #: paid on, calendar days late and, for a small or medium enterprise, the interest
    parts: tuple[dict[str, Any], ...] = ()
    #: R20: calendar days late (the latest part's, to the day paid or to today while unpaid)
    days_late: int | None = None
    #: R20: late-payment interest owed to a small or medium enterprise (None: not one)
    interest: Decimal | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**_fields(self), "unlocked_by_label": _labels(UNLOCK_LABELS, self.unlocked_by)}


@dataclasses.dataclass(frozen=True, slots=True)
class PaymentLedger:
    """The payment ledger (R7, R12, R16): each tranche, settlements after a removal, totals.
    ``paid`` counts tranches and settlements under the live contract; ``prior_paid`` what was
    paid under contracts ended by ``reprocure``."""

    tranches: tuple[TrancheLine, ...]
    settlements: tuple[dict[str, Any], ...]
    contract_price: Decimal | None
    paid: Decimal
    remaining: Decimal | None
    prior_paid: Decimal
    #: R20: the contractor is a small or medium enterprise (interest runs on late payments)
    sme: bool = False
    #: R20: the daily rate of late-payment interest (the contract's, else 0.0005; SMEs only)
    late_interest_rate_per_day: Decimal | None = None
    #: R20: the late-payment interest owed, all tranches together (SMEs only)
    interest: Decimal | None = None

    def to_dict(self) -> dict[str, Any]:
        return _fields(self)


@dataclasses.dataclass(frozen=True, slots=True)
class EvaluationLine:
    kind: str
    score: Decimal
    satisfaction: Decimal
    on: date
    evaluators: tuple[str, ...]
    passed: bool
    low: bool
    by: str
    period: int | None

    def to_dict(self) -> dict[str, Any]:
        return _fields(self)


@dataclasses.dataclass(frozen=True, slots=True)
class RectificationLine:
    """A rectification ordered (R11): ``late`` when completed after its due day, or still open
    after it."""

    number: int
    ordered_on: date
    due: date
    findings: str
    completed_on: date | None
    completed: bool
    late: bool

    def to_dict(self) -> dict[str, Any]:
        return _fields(self)


@dataclasses.dataclass(frozen=True, slots=True)
class EvaluationPeriod:
    """Evaluation period ``number`` (R10): from ``starts`` to ``ends`` (its ``evaluation#n``
    deadline's day), the evaluations held in it and the rectifications ordered in it."""

    number: int
    starts: date
    ends: date
    deadline: DeadlineDetail | None
    evaluations: tuple[EvaluationLine, ...]
    rectifications: tuple[RectificationLine, ...]

    def to_dict(self) -> dict[str, Any]:
        return _fields(self)


@dataclasses.dataclass(frozen=True, slots=True)
class EvaluationsDetail:
    """Evaluations by period (R10, R11); ``held``: the kinds the policy holds, each with the
    evaluators who must take part; ``consecutive_low``: low reviews in periods in a row."""

    periods: tuple[EvaluationPeriod, ...]
    held: dict[str, tuple[str, ...]]
    consecutive_low: int
    consecutive_low_limit: int

    def to_dict(self) -> dict[str, Any]:
        return _fields(self)


@dataclasses.dataclass(frozen=True, slots=True)
class SubcontractsDetail:
    """Subcontract requests and shares against the policy's limit (R9): ``pending``
    (requested), ``approved`` (approved or executed), ``total`` (both), ``limit``
    (``max_subcontract_share``), ``headroom`` (limit − total)."""

    requests: tuple[dict[str, Any], ...]
    pending: Decimal
    approved: Decimal
    total: Decimal
    limit: Decimal
    headroom: Decimal

    def to_dict(self) -> dict[str, Any]:
        return {**_fields(self), "rule": "R9"}


@dataclasses.dataclass(frozen=True, slots=True)
class PlanStepLine:
    """A step of the planned timeline against what happened (R19).

    ``status``: ``on_time`` (done within the planned window), ``late``, ``early``,
    ``pending`` (not done, the window not past), ``overdue`` (not done, the window past) or
    ``not_reached`` (the project ended without it). ``slip_working_days``: working days after
    the window's last day (negative: before its first day); for an overdue step, so far."""

    milestone: str
    name_zh: str
    name_en: str
    month: int
    part: str
    planned_from: date
    planned_to: date
    actual: date | None
    slip_working_days: int | None
    status: str

    def to_dict(self) -> dict[str, Any]:
        return _fields(self)


@dataclasses.dataclass(frozen=True, slots=True)
class PlanVsActual:
    """The policy's planned timeline (R19) in the year the project was initiated (``year``),
    each step with its actual date from the audit trail; ``source``: the plan's provenance."""

    year: int | None
    steps: tuple[PlanStepLine, ...]
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {**_fields(self), "rule": "R19"}


@dataclasses.dataclass(frozen=True, slots=True)
class ProjectDetail:
    """Everything the project page shows, read in one snapshot on ``today`` (Asia/Shanghai)."""

    project: ProjectView
    contractor: ContractorRef | None
    today: date
    deadlines: tuple[DeadlineDetail, ...]
    payments: PaymentLedger
    evaluations: EvaluationsDetail
    subcontracts: SubcontractsDetail
    plan_vs_actual: PlanVsActual
    trail: tuple[audit.AuditEntry, ...]
    verify: audit.VerifyReport
    #: the state machine as Mermaid ``stateDiagram-v2`` text, the current state marked
    diagram: str

    def deadline(self, key: str) -> DeadlineDetail | None:
        return next((d for d in self.deadlines if d.key == key), None)

    def to_dict(self) -> dict[str, Any]:
        out = _fields(self)
        out["state_label"] = _labels(STATE_LABELS, self.project.state)
        return out


# -- the inbox and the register -----------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class InboxItem:
    """A notice in an organisation's and role's inbox, with who read it first and who
    acknowledged it, when."""

    id: int
    notice_id: int
    org: str
    role: str
    project_id: int
    project_title: str | None
    deadline_key: str
    deadline_kind: str
    stage: str
    subject: str
    body: str
    created_at: datetime
    read_at: datetime | None
    read_by: str | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None

    @classmethod
    def of(cls, row: Any) -> InboxItem:
        return cls(
            id=row.id,
            notice_id=row.notice_id,
            org=row.org,
            role=row.role,
            project_id=row.project_id,
            project_title=row.project_title,
            deadline_key=row.deadline_key,
            deadline_kind=row.deadline_kind,
            stage=row.stage,
            subject=row.subject,
            body=row.body,
            created_at=row.created_at,
            read_at=row.read_at,
            read_by=row.read_by,
            acknowledged_at=row.acknowledged_at,
            acknowledged_by=row.acknowledged_by,
        )

    @property
    def read(self) -> bool:
        return self.read_at is not None

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None

    def to_dict(self) -> dict[str, Any]:
        return {**_fields(self), "read": self.read, "acknowledged": self.acknowledged}


@dataclasses.dataclass(frozen=True, slots=True)
class ContractorSummary:
    """A line of the contractor register: ``qualified`` when all nine R4 conditions hold,
    ``banned_until`` the end of a ban in force today (R12)."""

    id: int
    name: str
    org_type: str
    sme: bool
    qualified: bool
    banned_until: date | None

    @property
    def banned(self) -> bool:
        return self.banned_until is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            **_fields(self),
            "banned": self.banned,
            "org_type_label": _labels(ORG_TYPE_LABELS, self.org_type),
        }


@dataclasses.dataclass(frozen=True, slots=True)
class QualificationLine:
    key: str
    zh: str
    en: str
    met: bool

    def to_dict(self) -> dict[str, Any]:
        return _fields(self)


@dataclasses.dataclass(frozen=True, slots=True)
class BanLine:
    """A ban in the credit record (R12); ``status`` against today: ``current``, ``expired`` or
    ``future``."""

    from_on: date
    until: date
    reason: str
    project_id: int | None
    status: str

    def to_dict(self) -> dict[str, Any]:
        return _fields(self)


@dataclasses.dataclass(frozen=True, slots=True)
class ContractorProject:
    id: int
    title: str
    purchaser: str
    policy: str
    state: str
    version: int
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {**_fields(self), "state_label": _labels(STATE_LABELS, self.state)}


@dataclasses.dataclass(frozen=True, slots=True)
class ContractorDetail:
    """A contractor's page: the nine R4 conditions, its credit record (bans, R12, and its audit
    entries), SME, and the projects awarded to it that the reader may see."""

    id: int
    name: str
    org_type: str
    sme: bool
    version: int
    today: date
    qualifications: tuple[QualificationLine, ...]
    qualified: bool
    bans: tuple[BanLine, ...]
    banned: bool
    credit_record: tuple[audit.AuditEntry, ...]
    projects: tuple[ContractorProject, ...]

    def to_dict(self) -> dict[str, Any]:
        return {**_fields(self), "org_type_label": _labels(ORG_TYPE_LABELS, self.org_type)}


# -- checks -------------------------------------------------------------------------------------


def _text(value: object, name: str, *, limit: int = 200) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise InvalidInput(
            f"{name} 须为 1 至 {limit} 个字符的文本",
            f"{name} must be a text of 1 to {limit} characters",
            field=name,
        )
    if any(ch in value for ch in "\r\n\t\x00"):
        raise InvalidInput(f"{name} 须为单行文本", f"{name} must be one line of text", field=name)
    return value


def _identifier(value: object, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**63:
        raise InvalidInput(f"{name} 须为正整数", f"{name} must be a positive integer", field=name)
    return value


def _limit(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_LIMIT:
        raise InvalidInput(
            f"limit 须为 1 至 {MAX_LIMIT} 的整数",
            f"limit must be an integer from 1 to {MAX_LIMIT}",
            field="limit",
        )
    return value


def _cursor(value: object) -> int | None:
    """A cursor as this module hands it out (an id, as text), or None."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or len(value) > 18:
        raise InvalidInput(
            "cursor 无效：请原样传回上一页给出的 next_cursor",
            "invalid cursor: pass back the previous page's next_cursor as it is",
            field="cursor",
        )
    return int(value)


def _parties(row: Any) -> frozenset[str]:
    data = row.data if isinstance(row.data, Mapping) else {}
    supervisors = data.get("supervisors")
    return project_parties(
        row.purchaser,
        data.get("contractor_name"),
        supervisors if isinstance(supervisors, Mapping) else None,
    )


def check_scope(scope: Scope, project_id: int, purchaser: str, parties: Iterable[str]) -> None:
    """Refuse a project outside the reader's scope (``Forbidden``, field ``project``)."""
    if not scope.allows(purchaser, parties):
        raise Forbidden(
            f"无权查看项目 {project_id}：它不在您的单位或辖区范围内",
            f"project {project_id} is outside your organisation's or region's scope",
            field="project",
        )


# -- the service --------------------------------------------------------------------------------


class Details:
    """The read models of the dashboard and the JSON API: a project's page, the inbox, the
    contractor register. Reads run in one snapshot (``Database.read``), or in a host's
    ``connection``."""

    def __init__(self, db: Database, policies: PolicyRegistry, calendar: CalendarService) -> None:
        self._db = db
        self._policies = policies
        self._calendar = calendar

    # -- the project page ---------------------------------------------------------------------

    def project_detail(
        self,
        project_id: int,
        scope: Scope,
        *,
        now: datetime | None = None,
        connection: Connection | None = None,
    ) -> ProjectDetail:
        """Everything the project page shows: the project and its contractor, deadlines with
        working days left or late and their notices and deliveries, the payment ledger,
        evaluations by period, subcontract shares, the planned timeline against what happened
        (R19), the audit trail and its verification for this project alone (R15), and the state
        diagram with the current state marked.

        Raises:
            InvalidInput: ``project_id`` is not a positive integer.
            ProjectNotFound: no such project.
            Forbidden: the project is outside ``scope``.
        """
        today = dl.business_date(self._db.at(now))
        _identifier(project_id, "project_id")
        with self._db.read(connection) as conn:
            row = project_store.load(conn, project_id)
            check_scope(scope, project_id, row.purchaser, _parties(row))
            project = project_store.to_project(row)
            view = ProjectView.of(
                project,
                version=row.version,
                created_at=row.created_at,
                updated_at=row.updated_at,
                data=row.data,
            )
            policy = self._policies.named(row.policy)
            calendar = self._calendar.current(conn)
            contractor = None
            if project.contractor_id is not None:
                found = contractor_store.load_many(conn, [project.contractor_id])
                contractor = found.get(project.contractor_id)
            notices = store.notices_of_project(conn, project_id)
            deliveries = store.deliveries_of(conn, [n.id for n in notices])
            ladders = store.ladders(conn, project_id)
            trail = tuple(
                audit.row_to_entry(r) for r in store.stream(conn, f"project:{project_id}")
            )
            report = audit.verify_project(conn, project_id)
        deadlines = _deadlines(view, today, calendar, notices, deliveries, ladders)
        return ProjectDetail(
            project=view,
            contractor=None
            if contractor is None or contractor.id is None
            else ContractorRef(
                id=contractor.id,
                name=contractor.name,
                org_type=contractor.org_type.value,
                sme=contractor.sme,
            ),
            today=today,
            deadlines=deadlines,
            payments=_ledger(project, policy, today),
            evaluations=_evaluations(project, policy, calendar, today, deadlines),
            subcontracts=_subcontracts(project, policy),
            plan_vs_actual=_plan_vs_actual(project, policy, calendar, today, trail),
            trail=trail,
            verify=report,
            diagram=state_diagram(project.state.value),
        )

    # -- the inbox ------------------------------------------------------------------------------

    def inbox(
        self,
        org: str,
        role: str,
        *,
        login: str,
        unread_only: bool = False,
        cursor: str | None = None,
        limit: int = 50,
        connection: Connection | None = None,
    ) -> Page[InboxItem]:
        """The notices in an organisation's and role's inbox, newest first, a page at a time
        (``cursor``: the previous page's ``next_cursor``)."""
        _text(org, "org")
        _text(role, "role")
        _text(login, "login")
        limit = _limit(limit)
        before = _cursor(cursor)
        with self._db.read(connection) as conn:
            rows = store.inbox_page(
                conn, org, role, unread_only=bool(unread_only), before=before, limit=limit + 1
            )
        items = tuple(InboxItem.of(r) for r in rows[:limit])
        more = len(rows) > limit
        return Page(items=items, next_cursor=str(items[-1].id) if more and items else None)

    def open_inbox_item(
        self,
        inbox_id: int,
        *,
        org: str,
        role: str,
        login: str,
        at: datetime | None = None,
        connection: Connection | None = None,
    ) -> InboxItem:
        """Open an inbox entry: the first opening is recorded (``read_at``, ``read_by``) and
        kept; later ones change nothing.

        Raises:
            NotFound: no such entry.
            Forbidden: the entry belongs to another organisation or role.
        """
        at = self._db.record_at(at)
        _identifier(inbox_id, "inbox_id")
        _text(org, "org")
        _text(role, "role")
        _text(login, "login")
        with self._db.transaction(connection) as conn:
            self._own_entry(conn, inbox_id, org, role)
            store.mark_read(conn, inbox_id, at, login)
            return InboxItem.of(store.inbox_entry(conn, inbox_id))

    def acknowledge(
        self,
        inbox_id: int,
        *,
        org: str,
        role: str,
        login: str,
        at: datetime | None = None,
        connection: Connection | None = None,
    ) -> InboxItem:
        """Acknowledge an inbox entry, once: the first acknowledgement is recorded
        (``acknowledged_at``, ``acknowledged_by``; opened too, if it was not) with an audit
        entry on the ``inbox`` stream (R15); a later one keeps it and returns the entry.

        Raises:
            NotFound: no such entry.
            Forbidden: the entry belongs to another organisation or role.
        """
        at = self._db.record_at(at)
        _identifier(inbox_id, "inbox_id")
        _text(org, "org")
        _text(role, "role")
        _text(login, "login")
        with self._db.transaction(connection) as conn:
            entry = self._own_entry(conn, inbox_id, org, role)
            if entry.acknowledged_at is None:
                lock_stream(conn, INBOX_STREAM)
                if store.mark_acknowledged(conn, inbox_id, at, login):
                    store.mark_read(conn, inbox_id, at, login)
                    audit.log(
                        conn,
                        INBOX_STREAM,
                        actor=Actor(id=login, role=role, org=org),
                        at=at,
                        event="acknowledge",
                        data={
                            "inbox_id": inbox_id,
                            "notice_id": entry.notice_id,
                            "project_id": entry.project_id,
                            "deadline_key": entry.deadline_key,
                            "stage": entry.stage,
                        },
                    )
            return InboxItem.of(store.inbox_entry(conn, inbox_id))

    @staticmethod
    def _own_entry(conn: Connection, inbox_id: int, org: str, role: str) -> Any:
        entry = store.inbox_entry(conn, inbox_id)
        if entry is None:
            raise NotFound(
                f"收件箱条目 {inbox_id} 不存在",
                f"inbox entry {inbox_id} not found",
                field="inbox_id",
            )
        if (entry.org, entry.role) != (org, role):
            raise Forbidden(
                f"收件箱条目 {inbox_id} 属于其他单位或角色",
                f"inbox entry {inbox_id} belongs to another organisation or role",
                field="org",
            )
        return entry

    # -- the contractor register ----------------------------------------------------------------

    def contractors(
        self,
        *,
        q: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
        now: datetime | None = None,
        connection: Connection | None = None,
    ) -> Page[ContractorSummary]:
        """The contractor register by id, a page at a time; ``q``: a part of the name."""
        today = dl.business_date(self._db.at(now))
        if q is not None and (not isinstance(q, str) or len(q) > 100):
            raise InvalidInput(
                "q 须为不超过 100 个字符的文本",
                "q must be a text of at most 100 characters",
                field="q",
            )
        limit = _limit(limit)
        after = _cursor(cursor)
        with self._db.read(connection) as conn:
            rows = store.contractor_page(conn, q=q or None, after=after, limit=limit + 1)
        items = []
        for row in rows[:limit]:
            c = contractor_store.to_contractor(row)
            ban = c.ban_on(today)
            items.append(
                ContractorSummary(
                    id=row.id,
                    name=c.name,
                    org_type=c.org_type.value,
                    sme=c.sme,
                    qualified=_qualified(c),
                    banned_until=ban.until if ban is not None else None,
                )
            )
        more = len(rows) > limit
        return Page(items=tuple(items), next_cursor=str(items[-1].id) if more and items else None)

    def contractor_detail(
        self,
        contractor_id: int,
        scope: Scope,
        *,
        now: datetime | None = None,
        connection: Connection | None = None,
    ) -> ContractorDetail:
        """A contractor's page: the nine R4 conditions, bans (current, expired or future
        against today, R12) and its audit entries, SME, and the projects awarded to it that
        ``scope`` opens (the register itself is public).

        Raises:
            ContractorNotFound: no such contractor.
        """
        today = dl.business_date(self._db.at(now))
        _identifier(contractor_id, "contractor_id")
        with self._db.read(connection) as conn:
            row = contractor_store.load(conn, contractor_id)
            projects = store.projects_of_contractor(conn, contractor_id)
            record = store.stream(conn, f"contractor:{contractor_id}")
        c = contractor_store.to_contractor(row)
        visible = []
        for p in projects:
            supervisors = json.loads(p.supervisors) if p.supervisors else None
            parties = project_parties(
                p.purchaser,
                p.contractor_name,
                supervisors if isinstance(supervisors, Mapping) else None,
            )
            if scope.allows(p.purchaser, parties):
                visible.append(
                    ContractorProject(
                        id=p.id,
                        title=p.title,
                        purchaser=p.purchaser,
                        policy=p.policy,
                        state=p.state,
                        version=p.version,
                        updated_at=p.updated_at,
                    )
                )
        bans = tuple(
            BanLine(
                from_on=b.from_on,
                until=b.until,
                reason=b.reason,
                project_id=b.project_id,
                status="current"
                if b.from_on <= today <= b.until
                else ("expired" if b.until < today else "future"),
            )
            for b in c.bans
        )
        return ContractorDetail(
            id=row.id,
            name=c.name,
            org_type=c.org_type.value,
            sme=c.sme,
            version=row.version,
            today=today,
            qualifications=tuple(
                QualificationLine(
                    key=key,
                    zh=QUALIFICATION_LABELS[key][0],
                    en=QUALIFICATION_LABELS[key][1],
                    met=bool(c.qualifications.get(key, False)),
                )
                for key in QUALIFICATIONS
            ),
            qualified=_qualified(c),
            bans=bans,
            banned=any(b.status == "current" for b in bans),
            credit_record=tuple(audit.row_to_entry(r) for r in record),
            projects=tuple(visible),
        )


def _qualified(c: Contractor) -> bool:
    return all(c.qualifications.get(key, False) for key in QUALIFICATIONS)


# -- the project page, piece by piece -----------------------------------------------------------


def _deadlines(
    view: ProjectView,
    today: date,
    calendar: WorkingDayCalendar,
    notices: Sequence[Any],
    deliveries: Sequence[Any],
    ladders: Mapping[str, Any],
) -> tuple[DeadlineDetail, ...]:
    by_notice: dict[int, list[DeliveryDetail]] = {}
    for d in deliveries:
        by_notice.setdefault(d.notice_id, []).append(
            DeliveryDetail(
                channel=d.channel,
                address=redact(d.address) or "",
                person=d.person,
                status=d.status,
                attempts=d.attempts,
                sent_at=d.sent_at,
                last_error=redact(d.last_error),
            )
        )
    by_deadline: dict[str, list[NoticeDetail]] = {}
    for n in notices:
        by_deadline.setdefault(n.deadline_key, []).append(
            NoticeDetail(
                id=n.id,
                stage=n.stage,
                status=n.status,
                subject=n.subject,
                recipients=tuple(dict(r) for r in n.recipients),
                created_at=n.created_at,
                sent_at=n.sent_at,
                attempts=n.attempts,
                last_error=redact(n.last_error),
                deliveries=tuple(by_notice.get(n.id, ())),
            )
        )
    out = []
    for d in view.deadlines:
        left = late = None
        overdue = False
        if d.status == "open":
            if today <= d.due:
                left = calendar.working_days_between(today, d.due)
            else:
                late = calendar.working_days_between(d.due, today)
                overdue = True
        elif d.status == "met" and d.met_on is not None and d.met_on > d.due:
            late = calendar.working_days_between(d.due, d.met_on)
        ladder = ladders.get(d.key) if d.status == "open" else None
        out.append(
            DeadlineDetail(
                deadline=d,
                working_days_left=left,
                working_days_late=late,
                overdue=overdue,
                provisional=d.provisional,
                next_stage=ladder.next_stage if ladder is not None else None,
                next_fire_at=ladder.next_fire_at if ladder is not None else None,
                notices=tuple(by_deadline.get(d.key, ())),
            )
        )
    return tuple(out)


def _passed(project: Project, kind: EvaluationKind) -> bool:
    return any(e.kind is kind and e.passed for e in project.evaluations)


def _ledger(project: Project, policy: Policy, today: date) -> PaymentLedger:
    contract = project.contract
    price = contract.price if contract is not None else None
    lines = []
    owed = Decimal(0)
    accounts: list[pm.TrancheAccount] = []
    late: dict[str, pm.LateLine] = {}
    if contract is not None:
        accounts = pm.accounts(
            contract,
            policy,
            payments=project.payments,
            settlements=project.settlements,
            disputes=project.disputes,
            deadlines=project.deadlines,
        )
        late = {x.part.key: x for x in pm.late_lines(contract, accounts, today)}
    for n, tranche in enumerate(policy.tranches, start=1):
        if price is None:
            due_amount = None
        elif n == len(policy.tranches):
            due_amount = money(price - owed)
        else:
            due_amount = money(price * tranche.share_percent / 100)
            owed += due_amount
        unlocked = (
            contract is not None
            and {
                Unlock.CONTRACT_EFFECTIVE: contract.effective_on <= today,
                Unlock.MIDTERM_PASSED: _passed(project, EvaluationKind.MIDTERM),
                Unlock.FINAL_PASSED: _passed(project, EvaluationKind.FINAL),
            }[tranche.unlocked_by]
        )
        paid_n = [p for p in project.payments if p.tranche == n]
        payment = paid_n[-1] if paid_n else None
        deadline = project.deadline(f"payment_{n}")
        account = accounts[n - 1] if accounts else None
        lines_n = [late[p.key] for p in account.parts if p.key in late] if account else []
        if account is not None and account.complete:
            status = "paid"
        elif unlocked and any(x.part.owed and today > x.part.due for x in lines_n if x.part.due):
            status = "overdue"
        elif account is not None and account.held and not account.payable_amounts():
            status = "disputed"  # R20: only the disputed part is left, waiting for its resolution
        else:
            status = "due" if unlocked else "locked"
        dispute = account.dispute if account is not None else None
        interest = [x.interest for x in lines_n if x.interest is not None]
        lines.append(
            TrancheLine(
                tranche=n,
                share_percent=tranche.share_percent,
                amount_due=due_amount,
                unlocked_by=tranche.unlocked_by.value,
                unlocked=unlocked,
                window_working_days=tranche.window_working_days,
                deadline_key=f"payment_{n}",
                due=deadline.due if deadline is not None else None,
                provisional=deadline.provisional if deadline is not None else False,
                paid_amount=money(sum((p.amount for p in paid_n), Decimal(0))) if paid_n else None,
                paid_on=payment.on if payment is not None else None,
                paid_by=payment.by if payment is not None else None,
                late=any(p.late for p in paid_n) or status == "overdue",
                status=status,
                dispute=None
                if dispute is None
                else {
                    "id": dispute.id,
                    "amount": money(dispute.amount),
                    "reason": dispute.reason,
                    "on": dispute.on,
                    "status": dispute.status,
                    "found_due": None if dispute.found_due is None else money(dispute.found_due),
                    "waived": money(dispute.waived),
                    "resolved_on": dispute.resolved_on,
                },
                parts=tuple(
                    {
                        "key": part.key,
                        "kind": part.kind,
                        "amount": money(part.amount),
                        "due": part.due,
                        "paid_on": part.paid_on,
                        "days_late": late[part.key].days_late if part.key in late else None,
                        "interest": late[part.key].interest if part.key in late else None,
                    }
                    for part in (account.parts if account is not None else ())
                ),
                days_late=max((x.days_late for x in lines_n), default=None),
                interest=money(sum(interest, Decimal(0))) if interest else None,
            )
        )
    paid = money(project.paid_total())
    return PaymentLedger(
        tranches=tuple(lines),
        settlements=tuple(
            {"amount": money(s.amount), "reason": s.reason, "by": s.by, "at": s.at}
            for s in project.settlements
        ),
        contract_price=money(price) if price is not None else None,
        paid=paid,
        remaining=money(price - paid) if price is not None else None,
        prior_paid=money(project.prior_paid()),
        sme=bool(contract is not None and contract.sme),
        late_interest_rate_per_day=pm.rate_of(contract)
        if contract is not None and contract.sme
        else None,
        interest=money(sum((x.interest for x in late.values() if x.interest), Decimal(0)))
        if contract is not None and contract.sme
        else None,
    )


def _evaluations(
    project: Project,
    policy: Policy,
    calendar: WorkingDayCalendar,
    today: date,
    deadlines: Sequence[DeadlineDetail],
) -> EvaluationsDetail:
    held = {
        kind.value: tuple(r.value for r in rule.evaluators)
        for kind, rule in policy.evaluations.items()
    }
    periods: list[EvaluationPeriod] = []
    contract = project.contract
    if contract is not None:
        ends = dl.period_ends(
            effective_on=contract.effective_on,
            term_months=contract.term_months,
            interval_months=policy.evaluation_interval_months,
            calendar=calendar,
        )
        by_key = {d.key: d for d in deadlines}
        rectifications = [
            RectificationLine(
                number=i,
                ordered_on=r.ordered_on,
                due=r.due,
                findings=r.findings,
                completed_on=r.completed_on,
                completed=r.completed_on is not None,
                late=(r.completed_on or today) > r.due,
            )
            for i, r in enumerate(project.rectifications, start=1)
        ]
        starts = contract.effective_on
        for n, end in enumerate(ends, start=1):
            last = n == len(ends)
            periods.append(
                EvaluationPeriod(
                    number=n,
                    starts=starts,
                    ends=end,
                    deadline=by_key.get(f"evaluation#{n}"),
                    evaluations=tuple(
                        EvaluationLine(
                            kind=e.kind.value,
                            score=e.score,
                            satisfaction=e.satisfaction,
                            on=e.on,
                            evaluators=tuple(v.value for v in e.evaluators),
                            passed=e.passed,
                            low=e.low,
                            by=e.by,
                            period=e.period,
                        )
                        for e in sorted(project.evaluations, key=lambda e: (e.on, e.at))
                        if e.period == n
                    ),
                    rectifications=tuple(
                        r
                        for r in rectifications
                        if starts <= r.ordered_on and (r.ordered_on <= end or last)
                    ),
                )
            )
            starts = end + timedelta(days=1)
    return EvaluationsDetail(
        periods=tuple(periods),
        held=held,
        consecutive_low=project.consecutive_low,
        consecutive_low_limit=policy.consecutive_low_limit,
    )


def _subcontracts(project: Project, policy: Policy) -> SubcontractsDetail:
    def shares(*statuses: str) -> Decimal:
        return sum(
            (r.share for r in project.subcontract_requests if r.status in statuses), Decimal(0)
        )

    pending = shares("requested")
    approved = shares("approved", "executed")
    limit = policy.max_subcontract_share
    return SubcontractsDetail(
        requests=tuple(r.model_dump(mode="json") for r in project.subcontract_requests),
        pending=pending,
        approved=approved,
        total=pending + approved,
        limit=limit,
        headroom=limit - pending - approved,
    )


def _actual_dates(trail: Sequence[audit.AuditEntry]) -> dict[Milestone, date]:
    """The first day each milestone was reached, from the audit trail: the business date the
    event records (``signed_on``, a payment's or a dispatch's ``on``), else the entry's day."""
    found: dict[Milestone, date] = {}

    def day(entry: audit.AuditEntry, key: str | None = None) -> date:
        value = entry.data.get(key) if key is not None else None
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        return dl.business_date(entry.at)

    for entry in trail:
        if entry.event == "create_project":
            found.setdefault(Milestone.CREATED, day(entry))
        elif entry.event == "publish_notice":
            found.setdefault(Milestone.NOTICE_PUBLISHED, day(entry))
        elif entry.event == "sign_contract":
            found.setdefault(Milestone.CONTRACT_SIGNED, day(entry, "signed_on"))
        elif entry.event == "pay" and entry.data.get("tranche") == 1:
            found.setdefault(Milestone.FIRST_PAYMENT, day(entry, "on"))
        elif entry.event == "dispatch_staff":
            found.setdefault(Milestone.STAFF_DISPATCHED, day(entry, "on"))
    return found


def _plan_vs_actual(
    project: Project,
    policy: Policy,
    calendar: WorkingDayCalendar,
    today: date,
    trail: Sequence[audit.AuditEntry],
) -> PlanVsActual:
    source = policy.source_of("planned_timeline")
    actual = _actual_dates(trail)
    created = actual.get(Milestone.CREATED)
    if not policy.planned_timeline or created is None:
        return PlanVsActual(year=None, steps=(), source=source)
    year = created.year
    ended = project.state in FINAL_STATES
    steps = []
    for step in policy.planned_timeline:
        first, last = step.window(year)
        done = actual.get(step.milestone)
        slip: int | None
        if done is not None:
            if done > last:
                slip, status = calendar.working_days_between(last, done), "late"
            elif done < first:
                slip, status = -calendar.working_days_between(done, first), "early"
            else:
                slip, status = 0, "on_time"
        elif ended:
            slip, status = None, "not_reached"
        elif today > last:
            slip, status = calendar.working_days_between(last, today), "overdue"
        else:
            slip, status = None, "pending"
        steps.append(
            PlanStepLine(
                milestone=step.milestone.value,
                name_zh=step.name_zh,
                name_en=step.name_en,
                month=step.month,
                part=step.part,
                planned_from=first,
                planned_to=last,
                actual=done,
                slip_working_days=slip,
                status=status,
            )
        )
    return PlanVsActual(year=year, steps=tuple(steps), source=source)
