"""Event data, validated before anything else (a malformed call is refused whatever the state).

Each event has a pydantic model with ``extra="forbid"``. :func:`parse_payload` turns a
``ValidationError`` into an :class:`~states.errors.InvalidInput` that names the field, in Chinese
first and English second. Money is ``Decimal`` with at most two places (分); a float is refused
because it cannot carry an exact amount.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from states.enums import (
    CONTRACT_TERMS,
    EDUCATION_LEVELS,
    QUALIFICATIONS,
    ContractForm,
    EvaluationKind,
    EvaluatorRole,
    OrgType,
    ProcurementMethod,
)
from states.errors import InvalidInput
from states.model import ServiceItem, StaffMember
from states.types import (
    MAX_CANDIDATES,
    MAX_CRITERIA,
    MAX_EVALUATORS,
    MAX_ITEMS,
    MAX_REVIEWERS,
    MAX_STAFF,
    Money,
    Name,
    Note,
    Score,
    Text,
    exact_decimal,
)

_exact_decimal = exact_decimal
#: the most people one training is recorded for (R14)
MAX_ATTENDEES = 10_000


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Empty(Payload):
    pass


Items = Annotated[list[ServiceItem], Field(max_length=MAX_ITEMS)]
#: R20: a daily interest rate, a fraction of the amount (0.0005 = 0.05 % a day): more than 0,
#: at most 1 % a day, at most eight decimal places
InterestRate = Annotated[
    Decimal,
    BeforeValidator(_exact_decimal),
    Field(gt=0, le=Decimal("0.01"), max_digits=10, decimal_places=8),
]
#: an amount actually paid: more than zero
PositiveMoney = Annotated[Money, Field(gt=0)]


class SupervisorsData(Payload):
    """The bodies supervising a project (government, finance, audit, the purchaser's leader)."""

    government: Name
    finance: Name
    audit: Name
    #: the organisation whose leader (分管领导) supervises the purchaser; default the purchaser
    leader: Name | None = None


class ProjectPlan(Payload):
    """Data of ``create_project`` (R1)."""

    title: Name
    purchaser: Name
    budget: Money
    items: Items = []
    supervisors: SupervisorsData | None = None
    #: R18: the year's special assistance funds the purchase is paid from
    assistance_funds: PositiveMoney | None = None


class RevisePlan(Payload):
    title: Name | None = None
    budget: Money | None = None
    items: Items | None = None
    #: R18: the year's special assistance funds the purchase is paid from
    assistance_funds: PositiveMoney | None = None


class ReviewBudget(Payload):
    approved: Annotated[bool, Field(strict=True)]
    note: Note = ""


class Approve(Payload):
    note: Note = ""


class Reason(Payload):
    reason: Text


class PublishNotice(Payload):
    method: ProcurementMethod
    notice: Text


class RecordReview(Payload):
    """An expert review (评审, R5): weighted criteria (``quality``, ``price``, …) summing to 100,
    and a score 0–100 for each candidate, by registered contractor id."""

    reviewers: Annotated[list[Name], Field(min_length=1, max_length=MAX_REVIEWERS)]
    criteria: Annotated[dict[Name, Score], Field(min_length=1, max_length=MAX_CRITERIA)]
    scores: Annotated[dict[str, Score], Field(min_length=1, max_length=MAX_CANDIDATES)]

    @field_validator("scores", mode="before")
    @classmethod
    def _ids_as_text(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {str(k): v for k, v in value.items()}
        return value

    @field_validator("scores")
    @classmethod
    def _ids(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        for key in value:
            if not key.isascii() or not key.isdigit() or int(key) < 1 or len(key) > 18:
                raise ValueError(f"{key!r} is not a contractor id")
        return {str(int(k)): v for k, v in value.items()}

    @field_validator("criteria")
    @classmethod
    def _weights(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        total = sum(value.values(), Decimal(0))
        if total != 100:
            raise ValueError(f"the weights sum to {total}, not 100 (R5)")
        return value


class Award(Payload):
    contractor_id: Annotated[int, Field(strict=True, ge=1)]
    #: R5: why a candidate other than the review's first is chosen (e.g. the first declined)
    reason: Text | None = None


class SignContract(Payload):
    signed_on: date
    effective_on: date
    price: Money
    form: ContractForm
    term_months: Annotated[int, Field(strict=True, ge=1, le=120)]
    terms: Annotated[dict[Name, Text], Field(max_length=30)]
    sme_payment_days: Annotated[int, Field(strict=True, ge=1, le=60)] | None = None
    #: R20: late-payment interest a calendar day, as a fraction of the amount paid late
    #: (``0.0005`` is 万分之五, 0.05 % a day); omitted: the regulation's 0.05 % (条例 第十七条)
    late_interest_rate_per_day: InterestRate | None = None

    @model_validator(mode="after")
    def _order(self) -> SignContract:
        if self.effective_on < self.signed_on:
            raise ValueError("effective_on: must not be before signed_on")
        if self.price <= 0:
            raise ValueError("price: must be greater than 0")
        return self


class DispatchStaff(Payload):
    on: date
    staff: Annotated[list[StaffMember], Field(min_length=1, max_length=MAX_STAFF)]

    @field_validator("staff")
    @classmethod
    def _education(cls, staff: list[StaffMember]) -> list[StaffMember]:
        for i, member in enumerate(staff):
            if member.education not in EDUCATION_LEVELS:
                raise ValueError(
                    f"staff[{i}].education: must be one of {', '.join(EDUCATION_LEVELS)}"
                )
        return staff


class RecordTraining(Payload):
    """A training held for the staff (R14): its day, topic, how many attended and for how many
    hours. It meets the training deadline of the period its day falls in (before duty: on or
    before the dispatch day)."""

    on: date
    topic: Name
    attendees: Annotated[int, Field(strict=True, ge=1, le=MAX_ATTENDEES)]
    hours: Annotated[
        Decimal,
        BeforeValidator(_exact_decimal),
        Field(gt=0, le=1000, max_digits=6, decimal_places=2),
    ]


class Pay(Payload):
    tranche: Annotated[int, Field(strict=True, ge=1, le=12)]
    amount: PositiveMoney
    on: date


class Evaluate(Payload):
    kind: EvaluationKind
    score: Score
    satisfaction: Score
    on: date
    evaluators: Annotated[list[EvaluatorRole], Field(min_length=1, max_length=MAX_EVALUATORS)]


class OrderRectification(Payload):
    due: date
    findings: Text


class OnDate(Payload):
    on: date


class RequestSubcontract(Payload):
    part: Text
    to: Name
    share: Annotated[
        Decimal, BeforeValidator(_exact_decimal), Field(gt=0, le=1, max_digits=6, decimal_places=4)
    ]


class SubcontractDecision(Payload):
    request_id: Annotated[int, Field(strict=True, ge=1)]
    reason: Note = ""


class Settle(Payload):
    """R12, R20: pay for the service delivered before the contractor's removal."""

    amount: PositiveMoney
    reason: Text
    on: date


class DisputePayment(Payload):
    """R20 (条例 第十五条): the purchaser disputes ``amount`` of a tranche, for a ``reason``; the
    rest of the tranche stays payable by its deadline. ``on``: the day the dispute was raised
    (default: the day it is recorded)."""

    tranche: Annotated[int, Field(strict=True, ge=1, le=12)]
    amount: PositiveMoney
    reason: Text
    on: date | None = None


class ResolveDispute(Payload):
    """R20: the dispute ``dispute`` is settled on ``on``: ``found_due`` of the disputed amount
    is owed (0 to the whole of it) and becomes payable by a deadline of its own."""

    dispute: Annotated[int, Field(strict=True, ge=1)]
    found_due: Money
    on: date
    reason: Text


class SubcontractRef(Payload):
    request_id: Annotated[int, Field(strict=True, ge=1)]


class Terminate(Payload):
    reason: Text
    ban_until: date | None = None


class RegisterContractor(Payload):
    name: Name
    org_type: OrgType
    sme: Annotated[bool, Field(strict=True)] = False
    qualifications: dict[str, Annotated[bool, Field(strict=True)]]

    @field_validator("qualifications")
    @classmethod
    def _known(cls, value: dict[str, bool]) -> dict[str, bool]:
        unknown = sorted(set(value) - set(QUALIFICATIONS))
        if unknown:
            raise ValueError(f"unknown condition(s) {', '.join(unknown)} (R4)")
        return {key: value.get(key, False) for key in QUALIFICATIONS}


class CorrectDeadline(Payload):
    """Correct a deadline's anchor day (the event's date was recorded wrong) or set its due day
    (an evaluation date agreed anew); the ladder moves and the next notice says so."""

    key: Name
    reason: Text
    anchor_on: date | None = None
    due: date | None = None

    @model_validator(mode="after")
    def _one(self) -> CorrectDeadline:
        if (self.anchor_on is None) == (self.due is None):
            raise ValueError("anchor_on: give exactly one of anchor_on and due")
        return self


class SuspendDeadline(Payload):
    """中止计时: stop an open deadline's clock on ``on`` (it keeps the working days it has left
    and sends no notice until it resumes), for a ``reason`` (an epidemic closure, a dispute)."""

    key: Name
    reason: Text
    on: date


class ResumeDeadline(Payload):
    """恢复计时: restart a suspended deadline's clock on ``on``; its new due day is the
    remaining-th working day after ``on``."""

    key: Name
    on: date


#: an extension's working days: at least one; the policy's limits are checked by the guard
MAX_EXTENSION_WORKING_DAYS = 1000


class ExtendDeadline(Payload):
    """延长: move an open deadline's due day by ``working_days`` working days, for a ``reason``
    (within the policy's limits: how many extensions, and how many days all together)."""

    key: Name
    working_days: Annotated[int, Field(strict=True, ge=1, le=MAX_EXTENSION_WORKING_DAYS)]
    reason: Text


class BanContractor(Payload):
    until: date
    reason: Text


#: fields holding a business date that may not lie after the day the event is recorded
ON_OR_BEFORE_AT = ("on", "signed_on")
#: fields holding a date that must lie after the day the event is recorded
AFTER_AT = ("due", "ban_until", "until")

_REQUIRED_TERMS = CONTRACT_TERMS


def _loc(parts: tuple[int | str, ...]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_MESSAGES_ZH = {
    "missing": "缺少必填字段",
    "extra_forbidden": "不认识的字段",
    "bool_type": "须为布尔值 true/false",
    "int_type": "须为整数",
    "decimal_type": "须为十进制数（不接受浮点数）",
    "date_from_datetime_inexact": "须为日期",
    "date_parsing": "须为 YYYY-MM-DD 日期",
    "date_type": "须为日期",
    "enum": "取值不在允许范围内",
    "string_too_short": "不能为空",
    "too_short": "不能为空",
    "greater_than_equal": "数值过小",
    "greater_than": "数值过小",
    "less_than_equal": "数值过大",
    "decimal_max_places": "金额最多两位小数（精确到分）",
    "string_type": "须为文本",
    "list_type": "须为列表",
    "dict_type": "须为对象",
    "string_too_long": "过长",
    "too_long": "条目过多",
    "decimal_max_digits": "位数过多",
    "decimal_whole_digits": "位数过多",
    "bool_parsing": "须为布尔值 true/false",
    "int_parsing": "须为整数",
    "model_type": "须为对象",
}

#: Chinese for the English messages of gpw's own validators (substring → message)
_VALUE_ERRORS_ZH = (
    ("not a float", "须为精确的十进制数（不接受浮点数）"),
    ("not a plain decimal", "须为普通十进制数（不接受科学计数法、全角数字）"),
    ("two decimal places", "金额最多两位小数（精确到分）"),
    ("control character", "含有控制字符"),
    ("weights sum to", "评审权重之和须为 100"),
    ("not a contractor id", "不是承接主体编号"),
    ("finite", "须为有限数"),
    ("greater than 0", "须大于 0"),
)


#: the rule a field's value is checked against, for errors that name it
FIELD_RULES = {
    "items": "R1",
    "budget": "R1",
    "supervisors": "R1",
    "scores": "R5",
    "reviewers": "R5",
    "method": "R3",
    "criteria": "R5",
    "qualifications": "R4",
    "org_type": "R4",
    "form": "R6",
    "price": "R6",
    "terms": "R6",
    "term_months": "R6",
    "effective_on": "R6",
    "staff": "R8",
    "tranche": "R7",
    "amount": "R7",
    "evaluators": "R10",
    "kind": "R10",
    "share": "R9",
    "ban_until": "R12",
    "sme_payment_days": "R20",
    "late_interest_rate_per_day": "R20",
    "dispute": "R20",
    "found_due": "R20",
    "topic": "R14",
    "attendees": "R14",
    "hours": "R14",
    "assistance_funds": "R18",
}


def validation_error(exc: ValidationError, *, what: str, rule: str | None = None) -> InvalidInput:
    """Map pydantic's first error to one :class:`InvalidInput` naming the field."""
    err = exc.errors()[0]
    msg = str(err["msg"]).removeprefix("Value error, ")
    field = _loc(tuple(err["loc"]))
    if not field and ":" in msg:  # a model validator names its field first
        field, msg = (s.strip() for s in msg.split(":", 1))
    if rule is None:
        rule = FIELD_RULES.get(field.split(".")[0].split("[")[0])
    zh = _MESSAGES_ZH.get(str(err["type"]), "取值无效")
    if err["type"] == "value_error":
        zh = next((z for en, z in _VALUE_ERRORS_ZH if en in msg), "取值无效")
    return InvalidInput(
        f"{what}：字段 {field or '?'} {zh}",
        f"{what}: field {field or '?'}: {msg}",
        field=field or None,
        rule=rule,
        details={"errors": len(exc.errors()), "type": err["type"]},
    )


M = TypeVar("M", bound=BaseModel)


def parse_model(
    model: type[M], data: Mapping[str, Any], *, what: str, rule: str | None = None
) -> M:
    """Validate ``data`` as ``model``; a bad field raises :class:`InvalidInput` naming it."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise validation_error(exc, what=what, rule=rule) from exc


def __getattr__(name: str) -> Any:
    # EVENT_PAYLOADS is derived from the one event table (states.machine.EVENTS)
    if name == "EVENT_PAYLOADS":
        from states.machine import EVENTS

        return {event: spec.payload for event, spec in EVENTS.items()}
    raise AttributeError(name)


def parse_payload(event: str, data: Mapping[str, Any]) -> Payload:
    """Validate an event's data. Unknown events and bad data raise :class:`InvalidInput`."""
    from states.machine import EVENTS

    spec = EVENTS.get(event) if isinstance(event, str) else None
    model = spec.payload if spec is not None else None
    if model is None:
        raise InvalidInput(
            f"未知事件 {event!r}",
            f"unknown event {event!r}; known: {', '.join(EVENTS)}",
            field="event",
        )
    return parse_model(model, data, what=f"事件 {event} 的数据 / data of {event}")


def check_dates(payload: Payload, day: date) -> None:
    """Dates in the right order: what happened did not happen after the day it is recorded, and
    what is ordered for the future lies after it."""
    fields = type(payload).model_fields  # (a missing attribute is slow to ask a model for)
    for name in ON_OR_BEFORE_AT:
        value = getattr(payload, name, None) if name in fields else None
        if isinstance(value, date) and value > day:
            raise InvalidInput(
                f"字段 {name} 的日期 {value} 晚于记录日期 {day}",
                f"field {name}: {value} is after the day it is recorded ({day})",
                field=name,
            )
    for name in AFTER_AT:
        value = getattr(payload, name, None) if name in fields else None
        if isinstance(value, date) and value <= day:
            raise InvalidInput(
                f"字段 {name} 的日期 {value} 须晚于记录日期 {day}",
                f"field {name}: {value} must be after the day it is recorded ({day})",
                field=name,
            )


def check_aware(value: object, field: str = "at") -> datetime:
    """Datetimes are timezone-aware; a naive one is refused."""
    if not isinstance(value, datetime):
        raise InvalidInput(
            f"字段 {field} 须为带时区的 datetime", f"field {field} must be a datetime", field=field
        )
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(
            f"字段 {field} 须带时区（不接受无时区的 datetime）",
            f"field {field}: timezone-aware datetime required",
            field=field,
        )
    return value
