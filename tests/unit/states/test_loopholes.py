"""Issue #6: the loopholes a hostile clerk or contractor found, each closed with its rule.

Every test fires on the pure domain (as the facade does) and checks that the refusal names its rule
and leaves the project unchanged (``refused`` asserts both)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from drivers import Driver, evaluate, evaluation, pay, refused
from support import (
    CLERK,
    CONTRACTOR,
    EVALUATOR,
    FINANCE,
    GOV,
    QUALIFIED,
    STAFF,
    at,
    sign_data,
    trained,
)

from states.enums import OrgType
from states.errors import Forbidden, InvalidInput
from states.model import Actor, Ban, Contractor
from states.policy import load_policy, policy_from_mapping


def other(cid: int, **over: object) -> Contractor:
    data: dict[str, object] = {
        "id": cid,
        "name": f"承接主体{cid}",
        "org_type": OrgType.SOCIAL_ORGANIZATION,
        "qualifications": QUALIFIED,
    }
    data.update(over)
    return Contractor.model_validate(data)


def procuring(*contractors: Contractor) -> Driver:
    m = Driver(known=contractors)
    m.to("approved")
    m.fire("publish_notice", actor=CLERK, at=at("2025-08-06"), method="open_tender", notice="公告")
    return m


def review(m: Driver, scores: dict[str, int], **criteria: int) -> None:
    m.fire(
        "record_review",
        actor=CLERK,
        at=at("2025-09-10"),
        reviewers=["甲", "乙", "丙"],
        criteria=criteria or {"quality": 70, "price": 30},
        scores=scores,
    )


# -- R5 review and award ------------------------------------------------------------------------


def test_R5_weights_must_sum_to_100() -> None:
    m = procuring()
    with pytest.raises(InvalidInput) as err:
        review(m, {"7": 90}, quality=60, price=30)
    assert (err.value.field, err.value.rule) == ("criteria", "R5")


def test_R5_a_price_weight_of_99_is_price_alone() -> None:
    m = procuring()
    err = refused(
        "R5",
        m,
        "record_review",
        CLERK,
        at("2025-09-10"),
        reviewers=["甲"],
        criteria={"quality": 1, "price": 99},
        scores={"7": 90},
    )
    assert "50" in err.message


def test_R5_scores_only_for_registered_contractors() -> None:
    m = procuring()
    refused(
        "R4",
        m,
        "record_review",
        CLERK,
        at("2025-09-10"),
        reviewers=["甲"],
        criteria={"quality": 70, "price": 30},
        scores={"7": 90, "99": 95},
    )


def test_R5_scores_are_0_to_100() -> None:
    m = procuring()
    with pytest.raises(InvalidInput):
        review(m, {"7": 101})


def test_R5_the_award_goes_to_the_first_unless_a_reason_is_recorded() -> None:
    m = procuring(other(8))
    review(m, {"7": 40, "8": 95})
    err = refused("R5", m, "award", CLERK, at("2025-09-15"), contractor_id=7)
    assert "8" in err.message and "reason" in err.message
    m.fire(
        "award", actor=CLERK, at=at("2025-09-15"), contractor_id=7, reason="第一名放弃 / declined"
    )
    assert m.state == "awarded"
    assert m.records[-1].data["reason"] == "第一名放弃 / declined"


def test_R5_an_ineligible_first_does_not_count_in_the_ranking() -> None:
    banned = other(8, bans=[Ban(from_on=date(2025, 1, 1), until=date(2027, 1, 1), reason="欺诈")])
    m = procuring(banned)
    review(m, {"7": 80, "8": 95})
    refused("R12", m, "award", CLERK, at("2025-09-15"), contractor_id=8)  # whatever its score
    m.fire("award", actor=CLERK, at=at("2025-09-15"), contractor_id=7)  # first eligible
    assert m.project.contractor_name == "星海社会工作服务中心"


def test_R4_an_unqualified_top_scorer_is_refused_before_the_ranking() -> None:
    m = procuring(other(8, qualifications={**QUALIFIED, "tax_social_insurance": False}))
    review(m, {"7": 60, "8": 99})
    refused("R4", m, "award", CLERK, at("2025-09-15"), contractor_id=8)


def test_R5_only_the_latest_review_counts() -> None:
    m = procuring(other(8))
    review(m, {"7": 90})
    review(m, {"8": 92})
    refused("R5", m, "award", CLERK, at("2025-09-15"), contractor_id=7)


# -- R9 subcontracting --------------------------------------------------------------------------


def request(d: Driver, share: str, day: str = "2025-11-03") -> None:
    d.fire(
        "request_subcontract", actor=CONTRACTOR, at=at(day), part="心理疏导", to="乙", share=share
    )


def test_R9_one_request_of_099_is_refused() -> None:
    d = Driver().to("in_service")
    refused(
        "R9",
        d,
        "request_subcontract",
        CONTRACTOR,
        at("2025-11-03"),
        part="全部核查",
        to="乙",
        share="0.99",
    )


def test_R9_pieces_may_not_add_up_past_the_limit() -> None:
    d = Driver().to("in_service")
    request(d, "0.3")
    d.fire("approve_subcontract", actor=CLERK, at=at("2025-11-04"), request_id=1)
    err = refused(
        "R9",
        d,
        "request_subcontract",
        CONTRACTOR,
        at("2025-11-05"),
        part="入户",
        to="丙",
        share="0.3",
    )
    assert "0.6" in err.message


def test_R9_pending_requests_count_too() -> None:
    d = Driver().to("in_service")
    request(d, "0.4")
    refused(
        "R9", d, "request_subcontract", CONTRACTOR, at("2025-11-04"), part="x", to="y", share="0.2"
    )


def test_R9_pieces_reaching_the_whole_are_transfer_whatever_the_limit() -> None:
    loose = load_policy("dawukou-2019").model_copy(
        update={"max_subcontract_share": Decimal("0.99")}
    )
    m = Driver(policy=loose).to("in_service")
    request(m, "0.5")
    err = refused(
        "R9", m, "request_subcontract", CONTRACTOR, at("2025-11-04"), part="x", to="y", share="0.5"
    )
    assert "转包" in err.message


def test_R9_a_rejected_request_frees_its_share() -> None:
    d = Driver().to("in_service")
    request(d, "0.4")
    d.fire("reject_subcontract", actor=CLERK, at=at("2025-11-04"), request_id=1, reason="否")
    request(d, "0.4", "2025-11-05")
    assert [r.status for r in d.project.subcontract_requests] == ["rejected", "requested"]


# -- R10, R11 evaluation periods and windows ----------------------------------------------------


def test_R10_a_midterm_three_days_after_signing_is_refused() -> None:
    d = Driver().to("in_service")
    err = refused(
        "R10",
        d,
        "evaluate",
        EVALUATOR,
        at("2025-10-21"),
        **evaluation("midterm", "2025-10-21", 90, 90),
    )
    assert "2026-02-25" in err.message  # midpoint 2026-03-27 less 30 days


def test_R10_a_final_months_before_the_end_is_refused_so_no_early_acceptance() -> None:
    d = Driver().to("in_service")
    evaluate(d, "midterm", "2026-02-25")
    pay(d, 1, "300000.00", "2026-02-26")
    refused(
        "R10",
        d,
        "evaluate",
        EVALUATOR,
        at("2026-03-02"),
        **evaluation("final", "2026-03-02", 90, 90),
    )
    refused("R13", d, "accept", CLERK, at("2026-03-02"), on="2026-03-02")
    evaluate(d, "final", "2026-08-26")  # contract end 2026-09-25 less 30 days
    d.fire("accept", actor=CLERK, at=at("2026-08-27"), on="2026-08-27")


def test_R10_the_final_waits_for_a_passed_midterm() -> None:
    d = Driver().to("in_service")
    refused(
        "R10",
        d,
        "evaluate",
        EVALUATOR,
        at("2026-09-01"),
        **evaluation("final", "2026-09-01", 90, 90),
    )


def test_R10_a_passed_midterm_is_held_once() -> None:
    d = Driver().to("in_service")
    evaluate(d, "midterm", "2026-03-02")
    refused(
        "R10",
        d,
        "evaluate",
        EVALUATOR,
        at("2026-03-03"),
        **evaluation("midterm", "2026-03-03", 95, 95),
    )


def test_R10_six_evaluations_on_one_day_meet_one_period_only() -> None:
    d = two_years()
    evaluate(d, "semiannual", "2026-01-05")
    for _ in range(5):
        refused(
            "R10",
            d,
            "evaluate",
            EVALUATOR,
            at("2026-01-05"),
            **evaluation("semiannual", "2026-01-05", 90, 90),
        )
    status = {x.key: x.status.value for x in d.project.deadlines if x.kind == "evaluation"}
    assert status == {
        "evaluation#1": "met",
        "evaluation#2": "open",
        "evaluation#3": "open",
        "evaluation#4": "open",
    }


def test_R10_an_evaluation_meets_its_own_period_not_an_earlier_one() -> None:
    d = two_years()
    evaluate(d, "semiannual", "2026-05-06")  # period 2; period 1 was never evaluated
    status = {x.key: x.status.value for x in d.project.deadlines if x.kind == "evaluation"}
    assert status["evaluation#1"] == "open" and status["evaluation#2"] == "met"


def test_R11_two_low_reviews_on_one_day_do_not_remove() -> None:
    d = two_years()
    evaluate(d, "semiannual", "2026-01-05", satisfaction=40)
    refused(
        "R10",
        d,
        "evaluate",
        EVALUATOR,
        at("2026-01-05"),
        **evaluation("semiannual", "2026-01-05", 40, 40),
    )
    assert d.state == "in_service"


def test_R11_low_reviews_two_periods_apart_do_not_remove() -> None:
    d = two_years()
    evaluate(d, "semiannual", "2026-01-05", satisfaction=40)  # period 1
    evaluate(d, "semiannual", "2026-10-12", satisfaction=40)  # period 3
    assert d.state == "in_service" and d.project.consecutive_low == 1


def test_R10_a_semiannual_after_the_term_is_refused() -> None:
    d = Driver().to("in_service")
    refused(
        "R10",
        d,
        "evaluate",
        EVALUATOR,
        at("2026-10-01"),
        **evaluation("semiannual", "2026-10-01", 80, 80),
    )


def two_years() -> Driver:
    d = Driver().to("awarded")
    d.fire("sign_contract", actor=CLERK, at=at("2025-09-26"), **sign_data(term_months=24))
    d.fire("record_training", actor=CLERK, at=at("2025-10-20"), **trained("2025-10-20"))
    d.fire("dispatch_staff", actor=CLERK, at=at("2025-10-20"), on="2025-10-20", staff=STAFF)
    return d


# -- policies without a mid-term, and evaluators as policy data --------------------------------


def test_shanghai_holds_no_midterm_and_pays_by_what_it_holds() -> None:
    d = Driver(policy=load_policy("shanghai")).to("in_service")
    refused(
        "R10",
        d,
        "evaluate",
        EVALUATOR,
        at("2026-03-20"),
        **evaluation("midterm", "2026-03-20", 80, 80),
    )
    pay(d, 1, "300000.00", "2025-10-20")
    refused(  # the final needs the recipients (002 三(五)4)
        "R10",
        d,
        "evaluate",
        EVALUATOR,
        at("2026-09-01"),
        **evaluation("final", "2026-09-01", 80, 80, evaluators=["purchaser", "third_party"]),
    )
    evaluate(d, "final", "2026-09-01")
    pay(d, 2, "700000.00", "2026-09-02")
    assert not [x for x in d.project.deadlines if x.kind == "evaluation"]


def test_a_tranche_waiting_for_an_evaluation_never_held_is_refused_on_load() -> None:
    data = load_policy("xiamen-2015").model_dump(mode="json")
    data.update(name="broken", inherited_fields=[])
    data["evaluations"] = {"final": {"evaluators": ["third_party"]}}
    data["provenance"] = {k: "default" for k in data["provenance"]}
    with pytest.raises(InvalidInput) as err:
        policy_from_mapping(data)
    assert err.value.field is not None and err.value.field.startswith("tranches")


# -- R12 takeover is not a dead end -------------------------------------------------------------


def removed() -> Driver:
    d = Driver().to("in_service")
    pay(d, 1, "300000.00", "2025-10-20")
    d.fire("remove_contractor", actor=CLERK, at=at("2025-12-01"), reason="擅自转包")
    return d


def test_R12_settle_pays_the_service_delivered_never_more_than_price_less_paid() -> None:
    d = removed()
    refused(
        "R12",
        d,
        "settle",
        FINANCE,
        at("2025-12-05"),
        amount="700000.01",
        reason="x",
        on="2025-12-05",
    )
    d.fire(
        "settle",
        actor=FINANCE,
        at=at("2025-12-05"),
        amount="120000.00",
        reason="十月至十一月已提供的服务",
        on="2025-12-05",
    )
    assert d.project.paid_total() == Decimal("420000.00")


def test_R12_reprocure_keeps_the_plan_and_clears_the_contract() -> None:
    d = removed()
    d.fire(
        "settle",
        actor=FINANCE,
        at=at("2025-12-05"),
        amount="100000.00",
        reason="x",
        on="2025-12-05",
    )
    d.fire("reprocure", actor=CLERK, at=at("2025-12-08"), reason="重新招标")
    p = d.project
    assert d.state == "approved"
    assert (p.contractor_id, p.contract, p.reviews, p.payments) == (None, None, [], [])
    assert p.budget == Decimal("1200000") and p.items
    assert p.prior_contracts[0].contractor_id == 7 and p.prior_contracts[0].payments
    assert not p.open_deadlines()
    # a new procurement: the new price and what was paid fit the budget (R6)
    d.fire("publish_notice", actor=CLERK, at=at("2025-12-09"), method="open_tender", notice="再")
    d.fire(
        "record_review",
        actor=CLERK,
        at=at("2025-12-20"),
        reviewers=["甲"],
        criteria={"quality": 70, "price": 30},
        scores={"7": 90},
    )
    d.fire("award", actor=CLERK, at=at("2025-12-22"), contractor_id=7)
    refused(
        "R6",
        d,
        "sign_contract",
        CLERK,
        at("2025-12-26"),
        **sign_data(signed_on="2025-12-26", effective_on="2025-12-26", price="900000.00"),
    )
    d.fire(
        "sign_contract",
        actor=CLERK,
        at=at("2025-12-26"),
        **sign_data(signed_on="2025-12-26", effective_on="2025-12-26", price="800000.00"),
    )
    assert {x.key for x in d.project.open_deadlines()} >= {"dispatch", "payment_1"}


def test_R12_in_takeover_the_undisputed_tranche_is_still_paid() -> None:
    d = Driver().to("in_service")
    pay(d, 1, "300000.00", "2025-10-20")
    evaluate(d, "midterm", "2026-03-02")
    d.fire("remove_contractor", actor=CLERK, at=at("2026-03-10"), reason="x")
    pay(d, 2, "300000.00", "2026-03-11")
    assert d.state == "takeover"


# -- acting for an organisation -----------------------------------------------------------------


NANYANG_CLERK = Actor(id="ny", role="purchaser", org="南阳市民政局")


def test_a_purchaser_of_another_organisation_cannot_terminate() -> None:
    d = Driver().to("in_service")
    with pytest.raises(Forbidden) as err:
        d.fire("terminate", actor=NANYANG_CLERK, at=at("2025-11-03"), reason="x")
    assert err.value.field == "actor.org" and "大武口区民政局" in err.value.message


def test_another_contractor_cannot_act_for_the_awarded_one() -> None:
    d = Driver().to("in_service")
    impostor = Actor(id="x", role="contractor", org="别的社工机构")
    with pytest.raises(Forbidden):
        d.fire(
            "request_subcontract",
            actor=impostor,
            at=at("2025-11-03"),
            part="x",
            to="y",
            share="0.1",
        )


@pytest.mark.parametrize(
    ("actor", "event", "data"),
    [
        (
            Actor(id="f", role="finance", org="南阳市财政局"),
            "pay",
            {"tranche": 1, "amount": "300000.00", "on": "2025-10-20"},
        ),
        (Actor(id="g", role="government", org="石嘴山市人民政府"), "terminate", {"reason": "x"}),
    ],
)
def test_finance_and_government_act_only_as_the_projects_supervising_bodies(
    actor: Actor, event: str, data: dict[str, str]
) -> None:
    d = Driver().to("in_service")
    with pytest.raises(Forbidden):
        d.fire(event, actor=actor, at=at("2025-10-20"), **data)
    assert GOV.org == d.project.supervisors.government  # type: ignore[union-attr]
