"""Shared test support: actors, aware datetimes, the happy path and walkers along it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from states.enums import QUALIFICATIONS
from states.model import Actor

TZ = ZoneInfo("Asia/Shanghai")

CLERK = Actor(id="clerk", role="purchaser", org="大武口区民政局")
FINANCE = Actor(id="fin", role="finance", org="大武口区财政局")
GOV = Actor(id="gov", role="government", org="大武口区人民政府")
EVALUATOR = Actor(id="eval", role="evaluator", org="第三方评估机构")
CONTRACTOR = Actor(id="ngo", role="contractor", org="星海社会工作服务中心")
SUPERVISOR = Actor(id="sup", role="supervisor", org="大武口区审计局")
ADMIN = Actor(id="admin", role="admin", org="信息中心")

#: every kind of evaluator: extra ones are never a reason to refuse (R10)
ALL_EVALUATORS = ["purchaser", "street_office", "recipients", "third_party"]
#: Dawukou's own: 区民政局牵头、街道办事处和社会救助对象参与 (001 §八(二))
DAWUKOU_EVALUATORS = ["purchaser", "street_office", "recipients"]
SUPERVISORS = {
    "government": "大武口区人民政府",
    "finance": "大武口区财政局",
    "audit": "大武口区审计局",
    "leader": "大武口区民政局",
}
QUALIFIED = dict.fromkeys(QUALIFICATIONS, True)
TERMS = {
    "scope": "入户核查",
    "quantity": "16人",
    "quality": "考核办法",
    "payment_schedule": "30/30/40",
    "rights_and_duties": "第五条",
    "liability": "第八条",
    "exit_mechanism": "临时接管预案",
}
ITEMS = [{"name": "社会救助入户核查", "quantity": 16}]
STAFF = [{"name": "核查员01", "education": "大专"}, {"name": "核查员02", "education": "本科"}]
#: R14: the training before duty of the happy path (STAFF's two attend)
TRAINING = {"on": "2025-09-29", "topic": "岗前培训：政策与入户核查流程", "attendees": 2, "hours": 8}


def trained(day: str, **over: Any) -> dict[str, Any]:
    """``record_training``'s data: the happy path's training, held on ``day`` (R14)."""
    return {**TRAINING, "on": day, **over}


def at(day: str, hour: int = 10) -> datetime:
    """An aware datetime on an Asia/Shanghai business day."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=TZ)


def sign_data(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "signed_on": "2025-09-26",
        "effective_on": "2025-09-26",
        "price": "1000000.00",
        "form": "purchase",
        "term_months": 12,
        "terms": dict(TERMS),
    }
    data.update(over)
    return data


def lifecycle(contractor_id: int) -> list[tuple[str, str, Actor, datetime, dict[str, Any]]]:
    """The happy path, as (state after, event, actor, at, data)."""
    return [
        ("pending_approval", "submit", CLERK, at("2025-08-01"), {}),
        ("pending_approval", "review_budget", FINANCE, at("2025-08-04"), {"approved": True}),
        ("approved", "approve", GOV, at("2025-08-05"), {}),
        (
            "procuring",
            "publish_notice",
            CLERK,
            at("2025-08-06"),
            {"method": "open_tender", "notice": "公开招标公告"},
        ),
        (
            "procuring",
            "record_review",
            CLERK,
            at("2025-09-10"),
            {
                "reviewers": ["甲", "乙", "丙"],
                "criteria": {"quality": 70, "price": 30},
                "scores": {str(contractor_id): 90},
            },
        ),
        ("awarded", "award", CLERK, at("2025-09-15"), {"contractor_id": contractor_id}),
        ("contracted", "sign_contract", CLERK, at("2025-09-26"), sign_data()),
        # R14: trained before duty (001 §六), everyone dispatched attending
        ("contracted", "record_training", CLERK, at("2025-09-29"), TRAINING),
        (
            "in_service",
            "dispatch_staff",
            CLERK,
            at("2025-10-20"),
            {"on": "2025-10-20", "staff": STAFF},
        ),
    ]


def advance(fire: Any, to_state: str, contractor_id: int = 1) -> None:
    """Fire the happy path up to the last step that leaves the project in ``to_state``."""
    steps = lifecycle(contractor_id)
    last = max(i for i, step in enumerate(steps) if step[0] == to_state)
    for _, event, actor, when, data in steps[: last + 1]:
        fire(event, actor=actor, at=when, **data)


def new_project(wf: Any, **over: Any) -> int:
    data: dict[str, Any] = {
        "title": "入户核查员服务",
        "purchaser": "大武口区民政局",
        "budget": "1200000.00",
        "items": ITEMS,
    }
    data.update(over)
    return int(wf.create_project(actor=CLERK, at=at("2025-07-30"), **data))


def contractor(wf: Any, **over: Any) -> int:
    data: dict[str, Any] = {
        "name": "星海社会工作服务中心",
        "org_type": "social_organization",
        "qualifications": QUALIFIED,
    }
    data.update(over)
    return int(wf.register_contractor(actor=CLERK, at=at("2025-07-01"), **data))


def project_in(wf: Any, state: str, **over: Any) -> tuple[int, int]:
    """A project in ``state`` with a registered contractor; returns (project id, contractor id)."""
    cid = contractor(wf)
    pid = new_project(wf, **over)
    if state != "draft":
        advance(lambda ev, **kw: wf.fire(pid, ev, **kw), state, cid)
    return pid, cid
