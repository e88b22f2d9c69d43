"""The purchase project as data: what a project row holds, as a plain pydantic model.

These models are the domain's memory of a project (plan, procurement, contract, staff, payments,
evaluations, subcontracts, deadlines). They round-trip through JSON exactly (Decimal as strings,
dates as ISO), so ``workflow`` can store them in one column and rebuild them per request.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticUndefined

from states.enums import (
    ContractForm,
    DeadlineStatus,
    EvaluationKind,
    EvaluatorRole,
    OrgType,
    ProcurementMethod,
    ProjectState,
    Role,
)
from states.types import ExactDecimal, Name, Note


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a person with a role in an organisation.

    Args:
        id: the person's id in the host platform.
        role: one of :class:`~states.enums.Role`'s values.
        org: the organisation they act for (e.g. ``大武口区民政局``).
        name: display name.
    """

    id: str
    role: str
    org: str = ""
    name: str = ""


SYSTEM_ACTOR = Actor(id="gpw", role=Role.SYSTEM.value, org="gpw", name="系统 / system")


#: values a deep copy may share: immutable (``copy.deepcopy`` returns most of them as they are)
_IMMUTABLE = (str, int, float, Decimal, date, time, timedelta, Enum, type(None))
M = TypeVar("M", bound=BaseModel)


def deep_copy(model: M) -> M:
    """``model.model_copy(deep=True)``, about three times faster on a project: what pydantic's
    ``__deepcopy__`` does for each model (its fields, extra, fields set, private attributes)
    and ``copy.deepcopy`` for lists and dicts, with the same memo (an object reached twice is
    copied once), sharing the immutable leaves (strings, numbers, Decimals, dates, enums)
    instead of handing each to ``copy.deepcopy``; anything else goes to ``copy.deepcopy``."""
    return _deep(model, {})  # type: ignore[no-any-return]


#: the commonest of them, by exact type (a set lookup, cheaper than ``isinstance``)
_LEAVES = frozenset({str, int, bool, float, Decimal, date, datetime, type(None)})


def _deep(value: Any, memo: dict[int, Any]) -> Any:
    kind = type(value)
    if kind in _LEAVES or isinstance(value, _IMMUTABLE):
        return value
    done = memo.get(id(value), memo)
    if done is not memo:
        return done
    leaves = _LEAVES
    if kind is list:
        items: list[Any] = []
        memo[id(value)] = items
        items.extend(v if type(v) in leaves else _deep(v, memo) for v in value)
        return items
    if kind is dict:
        mapping: dict[Any, Any] = {}
        memo[id(value)] = mapping
        for k, v in value.items():
            mapping[k if type(k) in leaves else _deep(k, memo)] = (
                v if type(v) in leaves else _deep(v, memo)
            )
        return mapping
    if isinstance(value, BaseModel):
        out = object.__new__(kind)
        memo[id(value)] = out
        setattr_ = object.__setattr__
        setattr_(
            out,
            "__dict__",
            {k: v if type(v) in leaves else _deep(v, memo) for k, v in value.__dict__.items()},
        )
        extra = value.__pydantic_extra__
        setattr_(out, "__pydantic_extra__", None if extra is None else _deep(extra, memo))
        setattr_(out, "__pydantic_fields_set__", set(value.__pydantic_fields_set__))
        private = getattr(value, "__pydantic_private__", None)
        setattr_(
            out,
            "__pydantic_private__",
            None
            if private is None
            else copy.deepcopy(
                {k: v for k, v in private.items() if v is not PydanticUndefined}, memo
            ),
        )
        return out
    return copy.deepcopy(value, memo)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)


class ServiceItem(_Model):
    """A service item of the plan (R1). ``administrative`` marks a government duty (R2)."""

    name: Name
    quantity: ExactDecimal = Field(gt=0, max_digits=12)
    unit: Annotated[str, Field(max_length=50)] = ""
    standard: Note = ""
    #: the office the staff for this item serve (Dawukou: 区民政局, 星海镇, 人民路街道 …)
    office: Annotated[str, Field(max_length=200)] = ""
    administrative: bool = False
    #: R17: the quantity is the number of staff to dispatch (posts), for ``office`` if it names
    #: one; ``dispatch_staff`` must cover it
    staffing: bool = False

    @model_validator(mode="after")
    def _whole_posts(self) -> ServiceItem:
        if self.staffing and self.quantity != self.quantity.to_integral_value():
            raise ValueError("quantity: a staffing item counts whole people (R17)")
        return self


class BudgetReview(_Model):
    approved: bool
    note: str = ""
    by: str
    at: datetime


class Review(_Model):
    """An expert review (评审) of the candidates (R5)."""

    reviewers: list[str]
    criteria: dict[str, Decimal]
    scores: dict[str, Decimal]
    at: datetime


class Contract(_Model):
    signed_on: date
    effective_on: date
    price: Decimal
    form: ContractForm
    term_months: int
    terms: dict[str, str]
    #: R20: the contractor declared itself a small or medium enterprise at signing
    sme: bool = False
    #: R20: calendar days within which an SME is paid
    sme_payment_days: int | None = None
    #: R20: the contract's late-payment interest, a fraction of the amount per calendar day
    #: (``0.0005`` is 万分之五, 0.05 % a day); None: the regulation's default (条例 第十七条)
    late_interest_rate_per_day: Decimal | None = None


class StaffMember(_Model):
    """A dispatched caseworker (R8)."""

    name: Name
    education: str
    computer_literate: bool = True
    social_work_qualified: bool = False
    #: R17: the office the person serves (where the plan's items name offices)
    office: Annotated[str, Field(max_length=200)] = ""


class Training(_Model):
    """A training held for the staff (R14): when, on what, how many attended, how long."""

    on: date
    topic: str
    attendees: int
    hours: Decimal
    by: str
    at: datetime
    #: the training deadline it met (``training#0`` before duty, ``training#n``), or None
    meets: str | None = None


class PaidPart(_Model):
    """R7, R20: what one payment paid of its tranche: the part (``payment_2`` for the tranche
    or its undisputed part, ``payment_2#disputed`` for the part a dispute found due), how much,
    and the day it was due (late interest runs from the day after it)."""

    key: str
    amount: Decimal
    due: date | None = None


class Payment(_Model):
    tranche: int
    amount: Decimal
    on: date
    by: str
    at: datetime
    late: bool = False
    #: R20: the parts it paid (empty in payments recorded before partial payments existed: the
    #: whole tranche, due on its ``payment_n`` deadline)
    parts: list[PaidPart] = []


class Evaluation(_Model):
    kind: EvaluationKind
    score: Decimal
    satisfaction: Decimal
    on: date
    evaluators: list[EvaluatorRole]
    passed: bool
    low: bool
    by: str
    at: datetime
    #: R10: the evaluation period it falls in (1-based; None for a policy without periods)
    period: int | None = None


class Settlement(_Model):
    """R12, R20: payment for service delivered before the contractor was removed."""

    amount: Decimal
    reason: str
    by: str
    at: datetime


class PaymentDispute(_Model):
    """R20 (条例 第十五条): a dispute over part of a tranche. The undisputed part stays payable
    by the tranche's deadline; the disputed ``amount`` waits for ``resolve_dispute``, which
    finds ``found_due`` of it due (payable by a deadline of its own) and the rest not owed."""

    id: int
    tranche: int
    amount: Decimal
    reason: str
    on: date
    by: str
    at: datetime
    status: Literal["open", "resolved"] = "open"
    found_due: Decimal | None = None
    resolved_on: date | None = None
    resolution: str = ""
    resolved_by: str | None = None

    @property
    def waived(self) -> Decimal:
        """What the resolution found not owed (0 while open)."""
        if self.found_due is None:
            return Decimal(0)
        return self.amount - self.found_due


class Supervisors(_Model):
    """The bodies that supervise a project at the purchaser's level; escalations go to them."""

    #: 本级人民政府 approves the plan (R1) and receives the last escalation
    government: str
    #: 本级财政局 reviews the budget (R1) and pays (R7)
    finance: str
    #: 本级审计局 audits (001 §八(一))
    audit: str
    #: the organisation whose ``leader`` (分管领导) is the purchaser's supervisor
    leader: str


class Rectification(_Model):
    ordered_on: date
    due: date
    findings: str
    completed_on: date | None = None


class SubcontractRequest(_Model):
    id: int
    part: str
    to: str
    share: Decimal
    status: Literal["requested", "approved", "rejected", "executed"] = "requested"
    reason: str = ""


class PriorContract(_Model):
    """A contract ended by ``reprocure`` (R12): kept in the project, out of the live fields."""

    contractor_id: int | None
    contractor_name: str | None
    contract: Contract | None
    reviews: list[Review] = []
    staff: list[StaffMember] = []
    dispatched_on: date | None = None
    payments: list[Payment] = []
    settlements: list[Settlement] = []
    #: R20: the payment disputes under that contract
    disputes: list[PaymentDispute] = []
    evaluations: list[Evaluation] = []
    rectifications: list[Rectification] = []
    subcontract_requests: list[SubcontractRequest] = []
    removal_reason: str | None = None
    ended_on: date
    #: R14: the trainings held under that contract
    trainings: list[Training] = []


#: what a change of a deadline's clock does (:class:`DeadlineChange`)
ClockChange = Literal["suspended", "resumed", "extended", "corrected"]


class DeadlineChange(_Model):
    """One stop, restart or extension of a deadline's clock (中止计时、恢复计时、延长), or a due day
    set by a correction after one, in the order recorded. A recomputation replays them from the
    anchor on the calendar of the day (DESIGN.md §5), so a calendar change moves a suspended or
    extended deadline as it moves any other; ``working_days``, ``due_before`` and ``due_after``
    are as last computed (the audit entry keeps what they were when recorded)."""

    kind: ClockChange
    #: the day the clock stopped or restarted; an extension's or a correction's: the day granted
    on: date
    #: suspended: the working days it had left (after ``on``, up to and including the due day);
    #: resumed: the working days it restarted with; extended: the working days added
    working_days: int = 0
    #: the due day before the change, and after it (None while the clock is stopped)
    due_before: date
    due_after: date | None = None
    reason: str = ""
    by: str
    at: datetime


class Deadline(_Model):
    """A legal deadline with its anchor, so it can be recomputed (DESIGN.md §5)."""

    #: unique within the project: ``dispatch``, ``payment_2``, ``evaluation#3``
    key: str
    kind: str
    owner: Role
    rule: str
    anchor_event: str
    anchor_on: date
    #: how long: N working days, N calendar months, N calendar days, or a given date
    length: int
    unit: Literal["working_days", "calendar_months", "calendar_days", "date"]
    #: R20: at most this many calendar days after the anchor (a small or medium enterprise)
    cap_days: int | None = None
    due: date
    provisional: bool = False
    status: DeadlineStatus = DeadlineStatus.OPEN
    met_on: date | None = None
    met_by: str | None = None
    late: bool = False
    note: str = ""
    #: 中止计时: the day its clock stopped, while it is stopped (it sends no notice); ``due`` is
    #: then the due day it had when stopped
    suspended_on: date | None = None
    #: its suspensions, resumptions and extensions, in order (:class:`DeadlineChange`)
    changes: list[DeadlineChange] = []


class Project(_Model):
    """Everything the engine knows about one purchase project."""

    id: int | None = None
    title: str
    purchaser: str
    policy: str
    #: R1, R7, notices: the bodies supervising this project (government, finance, audit, leader)
    supervisors: Supervisors | None = None
    state: ProjectState = ProjectState.DRAFT
    items: list[ServiceItem] = []
    budget: Decimal = Decimal(0)
    #: R18: the year's special assistance funds the plan states (the budget floor's base)
    assistance_funds: Decimal | None = None
    budget_review: BudgetReview | None = None
    approved_at: datetime | None = None
    procurement_method: ProcurementMethod | None = None
    notice: str | None = None
    reviews: list[Review] = []
    contractor_id: int | None = None
    #: the awarded contractor's registered name: the only organisation that acts as contractor
    contractor_name: str | None = None
    contract: Contract | None = None
    staff: list[StaffMember] = []
    dispatched_on: date | None = None
    payments: list[Payment] = []
    evaluations: list[Evaluation] = []
    consecutive_low: int = 0
    rectifications: list[Rectification] = []
    subcontract_requests: list[SubcontractRequest] = []
    removal_reason: str | None = None
    settlements: list[Settlement] = []
    #: R20: disputes over part of a tranche (条例 第十五条), in the order recorded
    disputes: list[PaymentDispute] = []
    #: R12: contracts ended by a removal and a new procurement (``reprocure``)
    prior_contracts: list[PriorContract] = []
    termination_reason: str | None = None
    accepted_on: date | None = None
    #: R14: trainings held for the staff, in the order recorded
    trainings: list[Training] = []
    deadlines: list[Deadline] = []

    def paid_total(self) -> Decimal:
        """Paid under the live contract: tranches and settlements (R7, R12)."""
        return sum((p.amount for p in self.payments), Decimal(0)) + sum(
            (s.amount for s in self.settlements), Decimal(0)
        )

    def prior_paid(self) -> Decimal:
        """Paid under contracts ended by ``reprocure`` (R12): it counts against the budget."""
        paid = sum((p.amount for c in self.prior_contracts for p in c.payments), Decimal(0))
        return paid + sum(
            (s.amount for c in self.prior_contracts for s in c.settlements), Decimal(0)
        )

    def deadline(self, key: str) -> Deadline | None:
        for d in self.deadlines:
            if d.key == key:
                return d
        return None

    def open_deadlines(self, kind: str | None = None) -> list[Deadline]:
        return [
            d
            for d in self.deadlines
            if d.status is DeadlineStatus.OPEN and (kind is None or d.kind == kind)
        ]

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class Ban(_Model):
    """A credit-record entry banning a contractor from ``from_on`` until ``until`` (R12)."""

    from_on: date
    until: date
    reason: str
    project_id: int | None = None


class Contractor(_Model):
    """A registered contractor (承接主体) and its credit record (R4, R12)."""

    id: int | None = None
    name: str = Field(min_length=1)
    org_type: OrgType
    sme: bool = False
    qualifications: dict[str, bool]
    bans: list[Ban] = []

    def ban_on(self, day: date) -> Ban | None:
        for ban in self.bans:
            if ban.from_on <= day <= ban.until:
                return ban
        return None
