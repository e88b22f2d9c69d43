"""R18 budget floor, pure. Jilin (000 三(四)): 政府购买社会救助服务所需经费……原则上不低于社会救助
专项经费的1%. A plan states the year's special assistance funds (``assistance_funds``); approval is
refused while the purchaser's purchase budgets of the year (this plan's and its other plans'
submitted or approved, ``Context.other_budgets``) stay below 1 % of them, and refused, naming the
field, for a plan that states no funds. Dawukou sets no floor.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from drivers import CAL, Driver, refused
from support import CLERK, FINANCE, GOV, at

from states.errors import GuardRefused, InvalidInput
from states.machine import Context, fire
from states.payloads import parse_payload
from states.policy import load_policy

JILIN = load_policy("jilin-2017")
FUNDS = "100000000.00"  # a county's special assistance funds: one hundred million yuan


def reviewed(budget: str, funds: str | None = FUNDS, policy: Any = JILIN) -> Driver:
    plan: dict[str, Any] = {"budget": Decimal(budget)}
    if funds is not None:
        plan["assistance_funds"] = Decimal(funds)
    d = Driver(policy=policy, **plan)
    d.fire("submit", actor=CLERK, at=at("2026-02-03"))
    d.fire("review_budget", actor=FINANCE, at=at("2026-02-04"), approved=True)
    return d


def test_R18_a_budget_of_exactly_one_percent_is_approved() -> None:
    d = reviewed("1000000.00")
    d.fire("approve", actor=GOV, at=at("2026-02-05"))
    assert d.state == "approved"


def test_R18_a_fen_below_one_percent_is_refused() -> None:
    err = refused("R18", reviewed("999999.99"), "approve", GOV, at("2026-02-05"))
    assert err.field == "budget" and err.details["least"] == "1000000.00"
    assert "低于社会救助专项经费 100000000.00 的 1%" in err.message


def test_R18_the_floor_rounds_up_to_the_fen() -> None:
    # 1 % of 12,345,678.91 is 123,456.7891: 123,456.79 reaches it, 123,456.78 does not
    refused("R18", reviewed("123456.78", "12345678.91"), "approve", GOV, at("2026-02-05"))
    d = reviewed("123456.79", "12345678.91")
    d.fire("approve", actor=GOV, at=at("2026-02-05"))
    assert d.state == "approved"


def test_R18_a_plan_stating_no_funds_is_refused_naming_the_field() -> None:
    d = reviewed("5000000.00", funds=None)
    err = refused("R18", d, "approve", GOV, at("2026-02-05"))
    assert err.field == "assistance_funds" and "assistance_funds" in err.message_en
    # sent back, the plan states its funds (revise_plan) and is approved
    d.fire("reject", actor=GOV, at=at("2026-02-06"), reason="请写明专项经费")
    d.fire("revise_plan", actor=CLERK, at=at("2026-02-09"), assistance_funds=FUNDS)
    d.fire("submit", actor=CLERK, at=at("2026-02-09"))
    d.fire("review_budget", actor=FINANCE, at=at("2026-02-10"), approved=True)
    d.fire("approve", actor=GOV, at=at("2026-02-11"))
    assert (d.state, d.project.assistance_funds) == ("approved", Decimal(FUNDS))


def test_R18_the_purchaser_s_other_plans_of_the_year_count() -> None:
    d = reviewed("400000.00")

    def approve(other: str) -> Any:
        ctx = Context(policy=JILIN, calendar=CAL, other_budgets=Decimal(other))
        payload = parse_payload("approve", {})
        return fire(d.project, "approve", payload, actor=GOV, at=at("2026-02-05"), ctx=ctx)

    with pytest.raises(GuardRefused) as err:
        approve("599999.99")
    assert err.value.rule == "R18" and "含本单位本年度其他项目 599999.99" in err.value.message
    assert approve("600000.00").project.state.value == "approved"


def test_R18_without_a_floor_the_funds_are_not_asked_for() -> None:
    d = reviewed("1.00", funds=None, policy=load_policy("dawukou-2019"))
    d.fire("approve", actor=GOV, at=at("2026-02-05"))
    assert d.state == "approved"


@pytest.mark.parametrize("funds", ["0", "-1", "1.001", 1e8, "1E+8"])
def test_R18_funds_are_money_above_zero(funds: Any) -> None:
    d = Driver(policy=JILIN)
    with pytest.raises(InvalidInput) as err:
        d.fire(
            "revise_plan",
            actor=CLERK,
            at=at("2026-02-03"),
            assistance_funds=funds,
        )
    assert (err.value.field, err.value.rule) == ("assistance_funds", "R18")
