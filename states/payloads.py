"""Event data, validated before anything else (a malformed call is refused whatever the state).

Each event has a pydantic model with ``extra="forbid"``. :func:`parse_payload` turns a
``ValidationError`` into an :class:`~states.errors.InvalidInput` that names the field, in Chinese
first and English second. Money is ``Decimal`` with at most two places (分); a float is refused
because it cannot carry an exact amount.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
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


def _exact_decimal(value: Any) -> Any:
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError("must be a Decimal, an integer or a decimal string, not a float")
    if isinstance(value, str):
        try:
            parsed = Decimal(value.strip())
        except InvalidOperation as exc:
            raise ValueError("is not a decimal number") from exc
        return parsed
    return value


def _finite(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("must be a finite number")
    return value


#: an amount of money in yuan, exact to the fen
Money = Annotated[
    Decimal, BeforeValidator(_exact_decimal), Field(ge=0, max_digits=18, decimal_places=2)
]
#: a score or a percentage, 0..100
Score = Annotated[Decimal, BeforeValidator(_exact_decimal), Field(ge=0, le=100)]
Text = Annotated[str, Field(min_length=1, max_length=4000)]


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Empty(Payload):
    pass


class ProjectPlan(Payload):
    """Data of ``create_project`` (R1)."""

    title: Text
    purchaser: Text
    budget: Money
    items: list[ServiceItem] = []


class RevisePlan(Payload):
    title: Text | None = None
    budget: Money | None = None
    items: list[ServiceItem] | None = None


class ReviewBudget(Payload):
    approved: Annotated[bool, Field(strict=True)]
    note: str = ""


class Approve(Payload):
    note: str = ""


class Reason(Payload):
    reason: Text


class PublishNotice(Payload):
    method: ProcurementMethod
    notice: Text


class RecordReview(Payload):
    reviewers: Annotated[list[Text], Field(min_length=1)]
    criteria: Annotated[dict[str, Score], Field(min_length=1)]
    scores: Annotated[dict[str, Score], Field(min_length=1)]

    @field_validator("scores", mode="before")
    @classmethod
    def _ids_as_text(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {str(k): v for k, v in value.items()}
        return value


class Award(Payload):
    contractor_id: Annotated[int, Field(strict=True, ge=1)]


class SignContract(Payload):
    signed_on: date
    effective_on: date
    price: Money
    form: ContractForm
    term_months: Annotated[int, Field(strict=True, ge=1, le=120)]
    terms: dict[str, str]
    sme_payment_days: Annotated[int, Field(strict=True, ge=1, le=60)] | None = None

    @model_validator(mode="after")
    def _order(self) -> SignContract:
        if self.effective_on < self.signed_on:
            raise ValueError("effective_on: must not be before signed_on")
        if self.price <= 0:
            raise ValueError("price: must be greater than 0")
        return self


class DispatchStaff(Payload):
    on: date
    staff: Annotated[list[StaffMember], Field(min_length=1)]

    @field_validator("staff")
    @classmethod
    def _education(cls, staff: list[StaffMember]) -> list[StaffMember]:
        for i, member in enumerate(staff):
            if member.education not in EDUCATION_LEVELS:
                raise ValueError(
                    f"staff[{i}].education: must be one of {', '.join(EDUCATION_LEVELS)}"
                )
        return staff


class Pay(Payload):
    tranche: Annotated[int, Field(strict=True, ge=1, le=12)]
    amount: Money
    on: date

    @field_validator("amount")
    @classmethod
    def _positive(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise ValueError("must be greater than 0")
        return value


class Evaluate(Payload):
    kind: EvaluationKind
    score: Score
    satisfaction: Score
    on: date
    evaluators: Annotated[list[EvaluatorRole], Field(min_length=1)]


class OrderRectification(Payload):
    due: date
    findings: Text


class OnDate(Payload):
    on: date


class RequestSubcontract(Payload):
    part: Text
    to: Text
    share: Annotated[Decimal, BeforeValidator(_exact_decimal), Field(gt=0, le=1)]


class SubcontractDecision(Payload):
    request_id: Annotated[int, Field(strict=True, ge=1)]
    reason: str = ""


class SubcontractRef(Payload):
    request_id: Annotated[int, Field(strict=True, ge=1)]


class Terminate(Payload):
    reason: Text
    ban_until: date | None = None


class RegisterContractor(Payload):
    name: Text
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

    key: Text
    reason: Text
    anchor_on: date | None = None
    due: date | None = None

    @model_validator(mode="after")
    def _one(self) -> CorrectDeadline:
        if (self.anchor_on is None) == (self.due is None):
            raise ValueError("anchor_on: give exactly one of anchor_on and due")
        return self


class BanContractor(Payload):
    until: date
    reason: Text


#: event name → payload model. The keys are the public event names (a contract).
EVENT_PAYLOADS: dict[str, type[Payload]] = {
    "revise_plan": RevisePlan,
    "submit": Empty,
    "review_budget": ReviewBudget,
    "approve": Approve,
    "reject": Reason,
    "publish_notice": PublishNotice,
    "record_review": RecordReview,
    "award": Award,
    "fail_procurement": Reason,
    "sign_contract": SignContract,
    "dispatch_staff": DispatchStaff,
    "pay": Pay,
    "evaluate": Evaluate,
    "order_rectification": OrderRectification,
    "complete_rectification": OnDate,
    "request_subcontract": RequestSubcontract,
    "approve_subcontract": SubcontractDecision,
    "reject_subcontract": SubcontractDecision,
    "subcontract": SubcontractRef,
    "remove_contractor": Reason,
    "terminate": Terminate,
    "accept": OnDate,
    "close": Empty,
    "correct_deadline": CorrectDeadline,
}

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
}


#: the rule a field's value is checked against, for errors that name it
FIELD_RULES = {
    "items": "R1",
    "budget": "R1",
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
        zh = "取值无效"
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


def parse_payload(event: str, data: Mapping[str, Any]) -> Payload:
    """Validate an event's data. Unknown events and bad data raise :class:`InvalidInput`."""
    model = EVENT_PAYLOADS.get(event)
    if model is None:
        raise InvalidInput(
            f"未知事件 {event!r}",
            f"unknown event {event!r}; known: {', '.join(EVENT_PAYLOADS)}",
            field="event",
        )
    return parse_model(model, data, what=f"事件 {event} 的数据 / data of {event}")


def check_dates(payload: Payload, day: date) -> None:
    """Dates in the right order: what happened did not happen after the day it is recorded, and
    what is ordered for the future lies after it."""
    for name in ON_OR_BEFORE_AT:
        value = getattr(payload, name, None)
        if isinstance(value, date) and value > day:
            raise InvalidInput(
                f"字段 {name} 的日期 {value} 晚于记录日期 {day}",
                f"field {name}: {value} is after the day it is recorded ({day})",
                field=name,
            )
    for name in AFTER_AT:
        value = getattr(payload, name, None)
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
