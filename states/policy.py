"""Regional policies as data (DOMAIN.md "Regional policies").

A policy profile is a JSON file. A profile that ``inherits`` another takes every value it does not
set from its parent, and the loaded :class:`Policy` remembers which fields were inherited, so
``gpw policy show`` can tell a user which numbers their own text sets. An inconsistent file (shares
not summing to 100 %, a negative window, an unknown field) is refused on load with an
:class:`~states.errors.InvalidInput` naming the field.
"""

from __future__ import annotations

import calendar as _stdcal
import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from states.enums import EDUCATION_LEVELS, EvaluationKind, EvaluatorRole
from states.errors import InvalidInput

DEFAULT_POLICY = "dawukou-2019"
BUILTIN_POLICIES = ("dawukou-2019", "nanyang-2019", "shanghai", "jilin-2017", "xiamen-2015")


class Unlock(StrEnum):
    """What unlocks a payment tranche (R7)."""

    #: the contract took effect (effective_on)
    CONTRACT_EFFECTIVE = "contract_effective"
    #: a mid-term evaluation was passed
    MIDTERM_PASSED = "midterm_passed"
    #: the final evaluation was passed
    FINAL_PASSED = "final_passed"


class Tranche(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    #: share of the contract price, in percent
    share_percent: Decimal = Field(gt=0, le=100)
    unlocked_by: Unlock
    #: the purchaser pays within this many working days of the unlocking event (R7)
    window_working_days: int = Field(ge=0)


#: the stages a deadline's notices walk, in order (issue 3)
STAGE_NAMES = ("reminder", "overdue", "escalation_1", "escalation_2")
#: who a notice can be addressed to; resolved per project (purchaser, contractor) or per policy
RECIPIENT_KEYS = (
    "contractor",
    "purchaser",
    "purchaser_leader",
    "finance",
    "finance_head",
    "audit",
    "government",
)
KIND_GROUPS = ("dispatch", "payment", "evaluation", "rectification", "contract_end", "training")
#: kind groups a notice policy may leave out, and the group whose recipients they take then (a
#: host's file written before R14's training deadlines: the dispatch's, contractor and purchaser)
KIND_GROUP_FALLBACK = {"training": "dispatch"}


class Stage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    stage: str
    #: working days from the due day: −3 is three working days before it, +1 the first after it
    offset_working_days: int = Field(ge=-60, le=60)

    @field_validator("stage")
    @classmethod
    def _known_stage(cls, value: str) -> str:
        if value not in STAGE_NAMES:
            raise ValueError(f"must be one of {', '.join(STAGE_NAMES)}")
        return value


class NoticePolicy(BaseModel):
    """When notices go out and to whom (DOMAIN.md "Notices")."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: the hour (Asia/Shanghai) every stage fires on its day
    hour: int = Field(ge=0, le=23)
    #: after downtime: "latest" sends only the most severe stage now due; "all" sends each
    catch_up: str = Field(pattern="^(latest|all)$")
    stages: tuple[Stage, ...] = Field(min_length=1)
    #: calendar days before the end of the term for the renewal reminder (R13)
    contract_end_reminder_days: int = Field(ge=1, le=365)
    #: deliveries tried this many times, then parked as dead letters
    max_attempts: int = Field(ge=1, le=50)
    #: first retry after this many seconds, doubling each time
    backoff_seconds: int = Field(ge=1, le=86400)
    #: kind group → stage → recipient keys
    recipients: dict[str, dict[str, tuple[str, ...]]]

    @model_validator(mode="before")
    @classmethod
    def _fallback_groups(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and isinstance(data.get("recipients"), Mapping):
            recipients = dict(data["recipients"])
            for group, fallback in KIND_GROUP_FALLBACK.items():
                if group not in recipients and fallback in recipients:
                    recipients[group] = recipients[fallback]
            data = {**data, "recipients": recipients}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> NoticePolicy:
        offsets = [s.offset_working_days for s in self.stages]
        if offsets != sorted(offsets) or len(set(offsets)) != len(offsets):
            raise ValueError("stages: offsets must increase from stage to stage")
        names = [s.stage for s in self.stages]
        if len(set(names)) != len(names):
            raise ValueError("stages: a stage is listed twice")
        for group, by_stage in self.recipients.items():
            if group not in KIND_GROUPS:
                raise ValueError(f"recipients: unknown deadline kind {group!r}")
            for stage, keys in by_stage.items():
                if stage not in STAGE_NAMES:
                    raise ValueError(f"recipients: unknown stage {stage!r} for {group}")
                bad = [k for k in keys if k not in RECIPIENT_KEYS]
                if bad:
                    raise ValueError(f"recipients: unknown recipient {bad[0]!r} for {group}")
        missing = [g for g in KIND_GROUPS if g not in self.recipients]
        if missing:
            raise ValueError(f"recipients: no recipients for {missing[0]!r}")
        return self


class EvaluationRule(BaseModel):
    """One kind of evaluation a policy holds (R10), and who must take part in it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: who must take part; extra evaluators are welcome, never a reason to refuse
    evaluators: tuple[EvaluatorRole, ...] = Field(min_length=1)


class Milestone(StrEnum):
    """A step of a planned timeline (R19), by the fact in the audit trail that shows it done."""

    #: 立项申请: the project was created (``create_project``)
    CREATED = "created"
    #: 组织购买: the procurement notice was published (``publish_notice``)
    NOTICE_PUBLISHED = "notice_published"
    #: 签订合同: the contract was signed (``sign_contract``, its ``signed_on``)
    CONTRACT_SIGNED = "contract_signed"
    #: 资金拨付: the first tranche was paid (``pay`` tranche 1, its ``on``)
    FIRST_PAYMENT = "first_payment"
    #: 人员派遣: the staff were dispatched (``dispatch_staff``, its ``on``)
    STAFF_DISPATCHED = "staff_dispatched"


#: the parts of a month a plan names: the whole month, 上旬 (1–10), 中旬 (11–20), 下旬 (21–end)
MONTH_PARTS = ("whole", "early", "mid", "late")


class PlannedStep(BaseModel):
    """One step of a policy's planned timeline (R19): a month, or a part of it, in the year the
    project is initiated."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    milestone: Milestone
    name_zh: str = Field(min_length=1, max_length=50)
    name_en: str = Field(min_length=1, max_length=100)
    month: int = Field(ge=1, le=12)
    part: str = "whole"

    @field_validator("part")
    @classmethod
    def _known_part(cls, value: str) -> str:
        if value not in MONTH_PARTS:
            raise ValueError(f"must be one of {', '.join(MONTH_PARTS)}")
        return value

    def window(self, year: int) -> tuple[date, date]:
        """The first and last day the step is planned for, in ``year``."""
        last = _stdcal.monthrange(year, self.month)[1]
        first_day, last_day = {
            "whole": (1, last),
            "early": (1, 10),
            "mid": (11, 20),
            "late": (21, last),
        }[self.part]
        return date(year, self.month, first_day), date(year, self.month, last_day)


class StaffingRatio(BaseModel):
    """``staff`` people for every ``per`` of a count (R17): 1 : 8,000 recipients, 0.8 : 1 bed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    staff: Decimal = Field(gt=0, le=1000)
    per: Decimal = Field(gt=0, le=10_000_000)


class StaffingStep(BaseModel):
    """Up to ``base`` of ``count`` needs ``base_staff``; each further ``step`` of it, or a part
    of one, ``step_staff`` more (Jilin: 30,000 people → 3, each further 10,000 → 1)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    count: str = Field(pattern="^[a-z][a-z_]{0,39}$")
    base: int = Field(ge=0)
    base_staff: int = Field(ge=0, le=100_000)
    step: int = Field(ge=1)
    step_staff: int = Field(ge=0, le=100_000)


class StaffingRule(BaseModel):
    """The staff one kind of post needs (R17): the sum of ``ratios`` over their counts, rounded
    up; or a ``step`` rule; never fewer than ``min_staff``. A count a rule names and a caller
    leaves out is 0 (a care home without full-care residents); a step rule's count is needed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: the kind of post: ``county``, ``town``, ``care_home``, ``child_welfare``, ``mental_health``
    post: str = Field(pattern="^[a-z][a-z_]{0,39}$")
    name_zh: str = Field(min_length=1, max_length=50)
    name_en: str = Field(min_length=1, max_length=100)
    #: count name (``recipients``, ``self_care``, ``open_beds`` …) → its ratio
    ratios: dict[str, StaffingRatio] = {}
    step: StaffingStep | None = None
    min_staff: int = Field(default=0, ge=0, le=100_000)
    #: where the rule says "2–3": the most it asks for (shown, never enforced)
    max_staff: int | None = Field(default=None, ge=0, le=100_000)

    @field_validator("ratios")
    @classmethod
    def _count_names(cls, value: dict[str, StaffingRatio]) -> dict[str, StaffingRatio]:
        for name in value:
            if not name.isascii() or not name.replace("_", "").isalpha() or len(name) > 40:
                raise ValueError(f"{name!r} is not a count name (a_z and _)")
        return value

    @model_validator(mode="after")
    def _one_way(self) -> StaffingRule:
        if self.ratios and self.step is not None:
            raise ValueError("a rule has ratios or a step, not both")
        if self.max_staff is not None and self.max_staff < self.min_staff:
            raise ValueError("max_staff is below min_staff")
        return self

    def counts(self) -> tuple[str, ...]:
        """The counts the rule reads."""
        return (self.step.count,) if self.step is not None else tuple(self.ratios)


#: R14: a year cut into equal parts of whole months (two a year: two half-years)
TRAININGS_PER_YEAR = (0, 1, 2, 3, 4, 6, 12)


#: what a provenance says: ``seed:<file clause>``, ``law:<regulation article>``, ``default``
#: (gpw's own choice, no text sets it, optionally ``default:<why>``) or ``inherited:<parent>``
PROVENANCE_KINDS = ("seed", "law", "default", "inherited")


def provenance_kind(value: str) -> str:
    """``seed:001 §七.4`` → ``seed``; ``default (why)`` → ``default``."""
    head = value.strip()
    for kind in PROVENANCE_KINDS:
        if head == kind or head.startswith((f"{kind}:", f"{kind} ")):
            return kind
    return ""


class Policy(BaseModel):
    """One region's numbers. Every field has the meaning the rule next to it gives, and
    ``provenance`` says where each value comes from (a seed clause, a law, gpw's default, or the
    parent profile)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    inherits: str | None = None
    title_zh: str = ""
    title_en: str = ""
    source: str = ""
    #: R7 payment tranches, in order
    tranches: tuple[Tranche, ...] = Field(min_length=1)
    #: R8 staff dispatched within this many working days of signing
    dispatch_window_working_days: int = Field(ge=0)
    #: R10 evaluation cadence (the period of ``semiannual`` evaluations), calendar months
    evaluation_interval_months: int = Field(ge=1, le=36)
    #: R10 the evaluations this policy holds (semiannual, midterm, final) and their evaluators
    evaluations: dict[EvaluationKind, EvaluationRule] = Field(min_length=1)
    #: R10 a midterm is accepted from the term's midpoint less this many calendar days, a final
    #: from the contract's end less this many (gpw default 30)
    evaluation_window_days: int = Field(ge=0, le=365)
    #: R5 the price criterion weighs at most this much of 100 (gpw default 50)
    max_price_weight: Decimal = Field(ge=0, lt=100)
    #: R9 a subcontract request, and all of a project's together, at most this share (gpw 0.5)
    max_subcontract_share: Decimal = Field(gt=0, lt=1)
    #: R10 an evaluation passes when score and satisfaction are both at least these
    pass_score: Decimal = Field(ge=0, le=100)
    pass_satisfaction: Decimal = Field(ge=0, le=100)
    #: R11 a satisfaction below this is low
    low_satisfaction: Decimal = Field(ge=0, le=100)
    #: R11 this many consecutive low reviews remove the contractor
    consecutive_low_limit: int = Field(ge=1)
    #: R8 minimum education of dispatched staff
    min_education: str
    #: R8 pay floor, as a multiple of the local minimum wage
    pay_floor_multiple: Decimal = Field(gt=0)
    #: R14 trainings a year, at least: one in each of that many equal parts of a service year
    #: counted from the dispatch (0, 1, 2, 3, 4, 6 or 12)
    trainings_per_year: int = Field(ge=0)
    #: R14 the staff are trained before they go on duty: ``dispatch_staff`` is refused until a
    #: training is recorded on or before its day (Dawukou 001 §六: 上岗之前必须培训)
    training_before_duty: bool = False
    #: R17 staffing rules by kind of post (the calculator, ``states.staffing``)
    staffing: tuple[StaffingRule, ...] = ()
    #: R10 third-party evaluation fee, percent of the purchase (Xiamen: 3)
    evaluation_fee_percent: Decimal | None = Field(default=None, ge=0, le=100)
    #: R6 purchase cycle
    cycle_years: int = Field(ge=1)
    #: R18 budget floor, percent of the special assistance funds (Jilin: 1)
    min_budget_percent_of_assistance_funds: Decimal | None = Field(default=None, ge=0, le=100)
    #: R20 an SME is paid within this many calendar days; a contract may set up to the max
    sme_payment_days: int = Field(ge=1)
    sme_payment_days_max: int = Field(ge=1)
    #: default supervising bodies (government, finance, audit) for purchasers whose name starts
    #: with one of ``authorities_apply_to``; any other purchaser names its own (no default sends a
    #: county's or street office's escalation to a city or a province)
    authorities: dict[str, str] = {}
    authorities_apply_to: tuple[str, ...] = ()
    #: R7, R8, R10, R11 (the rule of the deadline's kind): a deadline is extended at most this
    #: many times (gpw default 1) …
    max_deadline_extensions: int = Field(default=1, ge=0, le=20)
    #: … and by at most this percent of its original window's working days, all extensions
    #: together (gpw default 100: at most the original window again)
    max_extension_percent_of_window: Decimal = Field(default=Decimal(100), ge=0, le=1000)
    #: … and its clock is stopped (中止计时) at most this many times (gpw default 2): each stop
    #: keeps the working days left, but a stop dated back and restarted at once gives days
    #: already run again, so without a count a deadline could be put off for ever
    max_deadline_suspensions: int = Field(default=2, ge=0, le=20)
    #: the notice ladder (issue 3)
    notices: NoticePolicy
    #: R19 the planned timeline (立项, 组织购买, 签订合同, 资金拨付, 人员派遣), in order; empty
    #: where the text states none. A file that neither sets nor inherits it has none (default).
    planned_timeline: tuple[PlannedStep, ...] = ()
    #: field → where its value comes from: ``seed:001 §七.4``, ``law:…``, ``default``,
    #: ``inherited:dawukou-2019`` (the loader fills inherited ones)
    provenance: dict[str, str] = {}
    #: names of the fields this profile inherited from its parent (filled by the loader)
    inherited_fields: tuple[str, ...] = ()

    @field_validator("min_education")
    @classmethod
    def _known_education(cls, value: str) -> str:
        if value not in EDUCATION_LEVELS:
            raise ValueError(f"must be one of {', '.join(EDUCATION_LEVELS)}")
        return value

    @field_validator("trainings_per_year")
    @classmethod
    def _whole_parts(cls, value: int) -> int:
        if value not in TRAININGS_PER_YEAR:
            raise ValueError(
                f"must divide a year into whole months: one of "
                f"{', '.join(map(str, TRAININGS_PER_YEAR))} (R14)"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Policy:
        posts = [r.post for r in self.staffing]
        if len(set(posts)) != len(posts):
            raise ValueError("staffing: a post has two rules (R17)")
        total = sum((t.share_percent for t in self.tranches), Decimal(0))
        if total != 100:
            raise ValueError(f"tranches: shares sum to {total} %, not 100 % (R7)")
        if self.tranches[-1].unlocked_by is not Unlock.FINAL_PASSED:
            raise ValueError(
                "tranches: the last tranche must be unlocked by the final evaluation (R7)"
            )
        held = {
            Unlock.MIDTERM_PASSED: EvaluationKind.MIDTERM,
            Unlock.FINAL_PASSED: EvaluationKind.FINAL,
        }
        for i, tranche in enumerate(self.tranches):
            kind = held.get(tranche.unlocked_by)
            if kind is not None and kind not in self.evaluations:
                raise ValueError(
                    f"tranches[{i}].unlocked_by: waits for a {kind.value} evaluation that the "
                    f"policy never holds (evaluations: {', '.join(self.evaluations)}) (R7, R10)"
                )
        steps = [(s.month, MONTH_PARTS.index(s.part)) for s in self.planned_timeline]
        if steps != sorted(steps):
            raise ValueError("planned_timeline: steps must follow one another in time (R19)")
        milestones = [s.milestone for s in self.planned_timeline]
        if len(set(milestones)) != len(milestones):
            raise ValueError("planned_timeline: a milestone is planned twice (R19)")
        if self.sme_payment_days > self.sme_payment_days_max:
            raise ValueError("sme_payment_days exceeds sme_payment_days_max (R20)")
        if self.authorities:
            missing = [r for r in ("government", "finance", "audit") if r not in self.authorities]
            if missing:
                raise ValueError(f"authorities: no {missing[0]} named")
            if not self.authorities_apply_to:
                raise ValueError(
                    "authorities_apply_to: default supervising bodies need the purchasers they "
                    "apply to"
                )
        for key, value in self.provenance.items():
            if key not in type(self).model_fields or key in _OWN_FIELDS:
                raise ValueError(f"provenance: unknown field {key!r}")
            if provenance_kind(value) not in PROVENANCE_KINDS:
                raise ValueError(
                    f"provenance.{key}: must start with one of {', '.join(PROVENANCE_KINDS)}"
                )
        unexplained = [
            f for f in type(self).model_fields if f not in _OWN_FIELDS and f not in self.provenance
        ]
        if unexplained:
            raise ValueError(
                f"provenance.{unexplained[0]}: no source given (seed:<clause>, law:<article>, "
                "default or inherited)"
            )
        if self.sme_payment_days_max > 60:
            raise ValueError("sme_payment_days_max may not exceed 60 days (R20)")
        return self

    def staffing_rule(self, post: str) -> StaffingRule | None:
        return next((r for r in self.staffing if r.post == post), None)

    def training_months(self) -> int | None:
        """Months in each training period (R14), or None when the policy sets no trainings."""
        return 12 // self.trainings_per_year if self.trainings_per_year else None

    def is_inherited(self, field: str) -> bool:
        return field in self.inherited_fields

    def source_of(self, field: str) -> str:
        """Where a value comes from: ``seed:…``, ``law:…``, ``default`` or ``inherited:…``."""
        return self.provenance.get(field, "")

    def holds(self, kind: EvaluationKind) -> bool:
        return kind in self.evaluations

    def evaluators(self, kind: EvaluationKind) -> tuple[EvaluatorRole, ...]:
        rule = self.evaluations.get(kind)
        return rule.evaluators if rule is not None else ()

    def default_supervisors(self, purchaser: str) -> dict[str, str] | None:
        """The policy's supervising bodies for ``purchaser``, or None when the policy has none at
        that purchaser's level (the purchaser must then name its own)."""
        if not self.authorities:
            return None
        if not any(purchaser.startswith(prefix) for prefix in self.authorities_apply_to):
            return None
        return {k: self.authorities[k] for k in ("government", "finance", "audit")}


#: values a file may leave out (neither set nor inherited): gpw's default then, and why
OPTIONAL_FIELDS = {
    "planned_timeline": "default (no planned timeline stated)",
    "training_before_duty": "default (no training before duty stated)",
    "staffing": "default (no staffing rules stated)",
    "max_deadline_extensions": "default (no text limits extensions: gpw allows one)",
    "max_extension_percent_of_window": (
        "default (no text limits extensions: at most the original window again)"
    ),
    "max_deadline_suspensions": (
        "default (no text limits suspensions: gpw allows two, a closure and one more)"
    ),
}

_OWN_FIELDS = {
    "name",
    "inherits",
    "title_zh",
    "title_en",
    "source",
    "inherited_fields",
    "provenance",
}


def _validation_to_invalid(exc: ValidationError, source: str) -> InvalidInput:
    err = exc.errors()[0]
    loc = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in err["loc"])
    loc = loc.replace(".[", "[") or "policy"
    msg = str(err["msg"]).removeprefix("Value error, ")
    if not err["loc"] and ":" in msg:
        loc = msg.split(":", 1)[0]
    return InvalidInput(
        f"策略文件 {source} 不一致：{loc}：{msg}",
        f"policy file {source} is inconsistent: {loc}: {msg}",
        field=loc,
    )


def _read_json(text: str, source: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"策略文件 {source} 不是有效的 JSON：{exc}",
            f"policy file {source} is not valid JSON: {exc}",
            field="policy",
        ) from exc
    if not isinstance(data, dict):
        raise InvalidInput(
            f"策略文件 {source} 须为 JSON 对象",
            f"policy file {source} must be a JSON object",
            field="policy",
        )
    return data


def _builtin_text(name: str) -> str:
    return (resources.files("states") / "policies" / f"{name}.json").read_text(encoding="utf-8")


def policy_from_mapping(data: Mapping[str, Any], *, source: str = "<data>") -> Policy:
    """Build a policy from parsed data, resolving ``inherits`` against the built-in profiles."""
    raw = dict(data)
    inherited: list[str] = []
    parent_name = raw.get("inherits")
    if parent_name is not None:
        if parent_name not in BUILTIN_POLICIES:
            raise InvalidInput(
                f"策略文件 {source}：inherits 指向未知策略 {parent_name!r}",
                f"policy file {source}: inherits names an unknown policy {parent_name!r}",
                field="inherits",
            )
        parent_policy = load_policy(parent_name)
        parent = parent_policy.model_dump(mode="json")
        for key, value in parent.items():
            if key not in raw and key not in _OWN_FIELDS:
                raw[key] = value
                inherited.append(key)
        own = raw.get("provenance")
        provenance = dict(own) if isinstance(own, Mapping) else {}
        for key in inherited:
            # authorities_apply_to goes with authorities: both inherited or both own
            provenance[key] = f"inherited:{parent_name} ← {parent_policy.source_of(key)}"
        raw["provenance"] = provenance
    for key, why in OPTIONAL_FIELDS.items():
        if key not in raw:
            # an optional value: a file that neither sets nor inherits it has gpw's default
            own = raw.get("provenance")
            provenance = dict(own) if isinstance(own, Mapping) else {}
            provenance.setdefault(key, why)
            raw["provenance"] = provenance
    raw["inherited_fields"] = tuple(inherited)
    try:
        return Policy.model_validate(raw)
    except ValidationError as exc:
        raise _validation_to_invalid(exc, source) from exc


def load_policy(name_or_path: str | Path) -> Policy:
    """Load a built-in profile by name (``dawukou-2019``) or a host's own JSON file by path."""
    key = str(name_or_path)
    if key in BUILTIN_POLICIES:
        cached = _BUILTIN_CACHE.get(key)
        if cached is None:
            cached = policy_from_mapping(_read_json(_builtin_text(key), key), source=key)
            _BUILTIN_CACHE[key] = cached
        return cached
    path = Path(key)
    if not path.is_file():
        raise InvalidInput(
            f"未知策略 {key!r}：既不是内置策略（{', '.join(BUILTIN_POLICIES)}）也不是文件",
            f"unknown policy {key!r}: neither a built-in profile ({', '.join(BUILTIN_POLICIES)}) "
            "nor a file",
            field="policy",
        )
    return policy_from_mapping(_read_json(path.read_text(encoding="utf-8"), key), source=key)


_BUILTIN_CACHE: dict[str, Policy] = {}
