"""Money, names and lists: exact, canonical and bounded (issue #6, "Faces never crash")."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from support import ITEMS

from states.errors import InvalidInput
from states.payloads import ProjectPlan, parse_model, parse_payload
from states.types import MAX_ITEMS, MAX_REVIEWERS, MAX_STAFF


def plan(**over: Any) -> ProjectPlan:
    data: dict[str, Any] = {
        "title": "核查",
        "purchaser": "大武口区民政局",
        "budget": "1200000",
        "items": ITEMS,
    }
    data.update(over)
    return parse_model(ProjectPlan, data, what="plan")


@pytest.mark.parametrize(
    ("given", "shown"),
    [("1200000", "1200000.00"), ("1200000.5", "1200000.50"), (Decimal("7"), "7.00"), (3, "3.00")],
)
def test_money_is_stored_and_shown_with_two_places(given: object, shown: str) -> None:
    p = plan(budget=given)
    assert str(p.budget) == shown
    assert p.model_dump(mode="json")["budget"] == shown


@pytest.mark.parametrize(
    ("bad", "zh"),
    [
        ("1E+6", "科学计数法"),
        ("1.2e5", "科学计数法"),
        ("１２００", "全角"),
        ("12.345", "两位小数"),
        (12.5, "浮点数"),
        ("NaN", "科学计数法"),
        ("1,000", "科学计数法"),
    ],
)
def test_bad_money_is_refused_naming_the_field(bad: object, zh: str) -> None:
    with pytest.raises(InvalidInput) as err:
        plan(budget=bad)
    assert err.value.field == "budget" and err.value.rule == "R1"
    assert zh in err.value.message_zh


@pytest.mark.parametrize("title", ["核查\x00员", "核查\n员", "a\u202eb", "\x1b[31m红"])
def test_titles_refuse_control_characters(title: str) -> None:
    with pytest.raises(InvalidInput) as err:
        plan(title=title)
    assert err.value.field == "title" and "控制字符" in err.value.message_zh


def test_free_text_may_hold_line_breaks_but_not_other_controls() -> None:
    parse_payload("reject", {"reason": "方案不完整：\n1. 预算\n2. 人数"})
    with pytest.raises(InvalidInput) as err:
        parse_payload("reject", {"reason": "不完整\x07"})
    assert err.value.field == "reason"


def test_lists_have_maximum_lengths() -> None:
    with pytest.raises(InvalidInput) as err:
        plan(items=[{"name": f"项{i}", "quantity": 1} for i in range(MAX_ITEMS + 1)])
    assert err.value.field == "items"
    staff = [{"name": f"员{i}", "education": "大专"} for i in range(MAX_STAFF + 1)]
    with pytest.raises(InvalidInput) as err:
        parse_payload("dispatch_staff", {"on": "2025-10-20", "staff": staff})
    assert err.value.field == "staff"
    with pytest.raises(InvalidInput) as err:
        parse_payload(
            "record_review",
            {
                "reviewers": [f"专家{i}" for i in range(MAX_REVIEWERS + 1)],
                "criteria": {"quality": 70, "price": 30},
                "scores": {"1": 90},
            },
        )
    assert err.value.field == "reviewers"


def test_a_quantity_is_exact_too() -> None:
    with pytest.raises(InvalidInput) as err:
        plan(items=[{"name": "核查", "quantity": 1.5}])
    assert err.value.field == "items[0].quantity"


@pytest.mark.parametrize("key", ["abc", "0", "-1", "１"])
def test_scores_are_by_contractor_id(key: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_payload(
            "record_review",
            {"reviewers": ["甲"], "criteria": {"quality": 100}, "scores": {key: 90}},
        )
    assert err.value.field == "scores"
