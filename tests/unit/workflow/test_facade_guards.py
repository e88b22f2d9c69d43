"""The guards through the facade, on a real database (a SQLite file and PostgreSQL): what the pure
tests prove holds when the contractor register, the supervising bodies and the notices come from
the database."""

from __future__ import annotations

from typing import Any

import pytest
from dbtools import count, dump, rows
from sqlalchemy import select
from support import (
    CLERK,
    FINANCE,
    GOV,
    QUALIFIED,
    at,
    contractor,
    new_project,
    project_in,
    sign_data,
)

from notifications.testing import RecordingChannel
from states.model import Actor
from workflow import Forbidden, GuardRefused, InvalidInput, Workflow
from workflow.persistence import audit_t, project_t

NANYANG = {
    "government": "南阳市卧龙区人民政府",
    "finance": "南阳市卧龙区财政局",
    "audit": "南阳市卧龙区审计局",
}
WOLONG_CLERK = Actor(id="wl", role="purchaser", org="南阳市卧龙区民政局")


def snapshot(db_url: str) -> list[Any]:
    projects = select(project_t.c.id, project_t.c.state, project_t.c.version, project_t.c.data)
    return [*rows(db_url, projects.order_by(project_t.c.id)), count(db_url, audit_t)]


def test_a_county_under_a_city_profile_must_name_its_own_supervisors(wf: Workflow) -> None:
    with pytest.raises(InvalidInput) as err:
        wf.create_project(
            actor=WOLONG_CLERK,
            title="卧龙区入户核查",
            purchaser=WOLONG_CLERK.org,
            budget="500000",
            items=[{"name": "核查", "quantity": 5}],
            policy="nanyang-2019",
            at=at("2025-07-30"),
        )
    assert (err.value.field, err.value.rule) == ("supervisors", "R1")
    pid = wf.create_project(
        actor=WOLONG_CLERK,
        title="卧龙区入户核查",
        purchaser=WOLONG_CLERK.org,
        budget="500000",
        items=[{"name": "核查", "quantity": 5}],
        policy="nanyang-2019",
        supervisors=NANYANG,
        at=at("2025-07-30"),
    )
    sup = wf.project(pid).data["supervisors"]
    assert sup == {**NANYANG, "leader": WOLONG_CLERK.org}
    assert wf.project(pid).data["budget"] == "500000.00"


def test_nobody_creates_a_project_for_another_organisation(wf: Workflow, db_url: str) -> None:
    new_project(wf)
    before = snapshot(db_url)
    with pytest.raises(Forbidden) as err:
        wf.create_project(
            actor=WOLONG_CLERK,
            title="冒名",
            purchaser="大武口区民政局",
            budget="1",
            items=[{"name": "核查", "quantity": 1}],
            at=at("2025-07-30"),
        )
    assert err.value.field == "actor.org"
    assert snapshot(db_url) == before


def test_a_purchaser_of_nanyang_cannot_terminate_a_dawukou_project(
    wf: Workflow, db_url: str
) -> None:
    pid, _ = project_in(wf, "in_service")
    before = snapshot(db_url)
    with pytest.raises(Forbidden) as err:
        wf.fire(pid, "terminate", actor=WOLONG_CLERK, at=at("2025-11-03"), reason="x")
    assert "大武口区民政局" in err.value.message
    imposter_finance = Actor(id="f2", role="finance", org="南阳市财政局")
    with pytest.raises(Forbidden):
        wf.fire(
            pid,
            "pay",
            actor=imposter_finance,
            at=at("2025-11-03"),
            tranche=1,
            amount="300000.00",
            on="2025-11-03",
        )
    assert snapshot(db_url) == before


def test_the_award_follows_the_ranking_loaded_from_the_register(wf: Workflow) -> None:
    first = contractor(wf)
    second = contractor(wf, name="第二家社工机构")
    banned = contractor(wf, name="失信机构")
    wf.ban_contractor(banned, actor=FINANCE, until="2030-01-01", reason="虚报", at=at("2025-07-02"))
    pid = new_project(wf)
    steps = [
        ("submit", CLERK, {}),
        ("review_budget", FINANCE, {"approved": True}),
        ("approve", GOV, {}),
        ("publish_notice", CLERK, {"method": "open_tender", "notice": "公告"}),
        (
            "record_review",
            CLERK,
            {
                "reviewers": ["甲", "乙"],
                "criteria": {"quality": 60, "price": 40},
                "scores": {str(first): 40, str(second): 95, str(banned): 99},
            },
        ),
    ]
    for event, actor, data in steps:
        wf.fire(pid, event, actor=actor, at=at("2025-08-10"), **data)
    with pytest.raises(GuardRefused) as err:
        wf.fire(pid, "award", actor=CLERK, at=at("2025-08-11"), contractor_id=first)
    assert err.value.rule == "R5" and str(second) in err.value.message
    with pytest.raises(GuardRefused) as err:
        wf.fire(pid, "award", actor=CLERK, at=at("2025-08-11"), contractor_id=banned)
    assert err.value.rule == "R12"
    view = wf.fire(pid, "award", actor=CLERK, at=at("2025-08-11"), contractor_id=second)
    assert view.data["contractor_name"] == "第二家社工机构"
    assert wf.history(pid)[-1].data.get("reason") is None
    # the awarded contractor acts under its registered name, no other
    wf.fire(pid, "sign_contract", actor=CLERK, at=at("2025-09-26"), **sign_data())
    for org, allowed in (("星海社会工作服务中心", False), ("第二家社工机构", True)):
        actor = Actor(id="c", role="contractor", org=org)
        data = {"part": "心理疏导", "to": "乙", "share": "0.1"}
        if allowed:
            wf.fire(pid, "request_subcontract", actor=actor, at=at("2025-09-29"), **data)
        else:
            with pytest.raises(Forbidden):
                wf.fire(pid, "request_subcontract", actor=actor, at=at("2025-09-29"), **data)


def test_a_review_may_not_score_an_unregistered_contractor(wf: Workflow) -> None:
    pid, cid = project_in(wf, "procuring")
    with pytest.raises(GuardRefused) as err:
        wf.fire(
            pid,
            "record_review",
            actor=CLERK,
            at=at("2025-09-11"),
            reviewers=["甲"],
            criteria={"quality": 70, "price": 30},
            scores={str(cid): 80, "999": 99},
        )
    assert err.value.rule == "R4" and "999" in err.value.message


def test_escalations_go_to_the_projects_own_supervising_bodies(db_url: str, clock: Any) -> None:
    channel = RecordingChannel()
    wf = Workflow.open(db_url, channels=[channel], clock=clock)
    cid = wf.register_contractor(
        actor=WOLONG_CLERK,
        name="卧龙社工",
        org_type="social_organization",
        qualifications=QUALIFIED,
        at=at("2025-07-01"),
    )
    pid = wf.create_project(
        actor=WOLONG_CLERK,
        title="卧龙区入户核查",
        purchaser=WOLONG_CLERK.org,
        budget="500000",
        items=[{"name": "核查", "quantity": 5}],
        policy="nanyang-2019",
        supervisors=NANYANG,
        at=at("2025-07-30"),
    )
    fin = Actor(id="f", role="finance", org=NANYANG["finance"])
    gov = Actor(id="g", role="government", org=NANYANG["government"])
    for event, actor, data in [
        ("submit", WOLONG_CLERK, {}),
        ("review_budget", fin, {"approved": True}),
        ("approve", gov, {}),
        ("publish_notice", WOLONG_CLERK, {"method": "open_tender", "notice": "公告"}),
        (
            "record_review",
            WOLONG_CLERK,
            {
                "reviewers": ["甲"],
                "criteria": {"quality": 70, "price": 30},
                "scores": {str(cid): 90},
            },
        ),
        ("award", WOLONG_CLERK, {"contractor_id": cid}),
        (
            "sign_contract",
            WOLONG_CLERK,
            {
                "signed_on": "2025-09-26",
                "effective_on": "2025-09-26",
                "price": "400000",
                "form": "purchase",
                "term_months": 12,
                "terms": {
                    k: "见合同"
                    for k in (
                        "scope",
                        "quantity",
                        "quality",
                        "payment_schedule",
                        "rights_and_duties",
                        "liability",
                        "exit_mechanism",
                    )
                },
            },
        ),
    ]:
        wf.fire(pid, event, actor=actor, at=at("2025-09-26"), **data)
    notices = wf.tick(at("2025-10-30", 10))
    orgs = {r["org"] for n in notices for r in n.recipients}
    assert "南阳市卧龙区人民政府" in orgs and "南阳市卧龙区审计局" in orgs
    assert not any(o.startswith("南阳市人民政府") or o == "南阳市财政局" for o in orgs)
    wf.close()


EVAL = {"score": 90, "satisfaction": 90, "evaluators": ["purchaser", "street_office", "recipients"]}
NANYANG_CLERK = Actor(id="ny", role="purchaser", org="南阳市民政局")


@pytest.mark.parametrize(
    ("state", "event", "actor", "data", "error", "rule"),
    [
        (
            "procuring",
            "record_review",
            CLERK,
            {"reviewers": ["甲"], "criteria": {"quality": 1, "price": 99}, "scores": {"1": 90}},
            GuardRefused,
            "R5",
        ),
        (
            "procuring",
            "record_review",
            CLERK,
            {"reviewers": ["甲"], "criteria": {"quality": 50, "price": 30}, "scores": {"1": 90}},
            InvalidInput,
            "R5",
        ),
        (
            "in_service",
            "request_subcontract",
            Actor(id="c", role="contractor", org="星海社会工作服务中心"),
            {"part": "全部", "to": "乙", "share": "0.99"},
            GuardRefused,
            "R9",
        ),
        (
            "in_service",
            "evaluate",
            CLERK,
            {"kind": "midterm", "on": "2025-10-23", **EVAL},
            GuardRefused,
            "R10",
        ),
        (
            "in_service",
            "evaluate",
            CLERK,
            {"kind": "final", "on": "2025-10-23", **EVAL},
            GuardRefused,
            "R10",
        ),
        (
            "in_service",
            "evaluate",
            CLERK,
            {"kind": "semiannual", "on": "2025-10-23", **EVAL, "evaluators": ["third_party"]},
            GuardRefused,
            "R10",
        ),
        ("in_service", "terminate", NANYANG_CLERK, {"reason": "x"}, Forbidden, None),
        ("in_service", "accept", CLERK, {"on": "2025-10-23"}, GuardRefused, "R13"),
    ],
)
def test_each_loophole_is_refused_with_its_rule_and_writes_nothing(
    wf: Workflow,
    db_url: str,
    state: str,
    event: str,
    actor: Actor,
    data: dict[str, Any],
    error: type[Exception],
    rule: str | None,
) -> None:
    pid, _ = project_in(wf, state)
    before = dump(db_url)
    with pytest.raises(error) as err:
        wf.fire(pid, event, actor=actor, at=at("2025-10-23"), **data)
    assert getattr(err.value, "rule", None) == rule
    assert dump(db_url) == before


def test_six_evaluations_on_one_day_write_one(wf: Workflow, db_url: str) -> None:
    pid, _ = project_in(wf, "in_service")
    data = {"kind": "semiannual", "on": "2025-12-01", **EVAL, "satisfaction": 40}
    wf.fire(pid, "evaluate", actor=CLERK, at=at("2025-12-01"), **data)
    before = dump(db_url)
    for _ in range(5):
        with pytest.raises(GuardRefused) as err:
            wf.fire(pid, "evaluate", actor=CLERK, at=at("2025-12-01"), **data)
        assert err.value.rule == "R10"
    assert dump(db_url) == before
    view = wf.project(pid)
    assert view.state == "in_service"  # one low review: no removal (R11)
    assert [d.status for d in view.deadlines if d.kind == "evaluation"] == ["met", "open"]
