"""states.ocds and states.redaction, pure: no database (projects fired in memory)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from drivers import Driver, evaluation, pay
from ocds_check import check_package, incoherent
from support import CLERK, EVALUATOR, FINANCE, GOV, at, lifecycle

from states import ocds
from states.errors import ConfigurationError
from states.redaction import default_rules, load_rules, redact_text


def releases_of(d: Driver, first: int = 0, **kw: Any) -> list[dict[str, Any]]:
    """The releases of ``d``'s records from ``first`` on, against the project as it is now."""
    out = []
    for seq, rec in enumerate(d.records[first:], start=first + 1):
        entry = {"seq": seq, "event": rec.event, "at": rec.at, "from_state": rec.from_state}
        made = ocds.release(d.project, {**entry, "data": rec.data}, **kw)
        if made is not None:
            out.append(made)
    return out


@pytest.mark.parametrize(
    ("method", "code"),
    [
        ("open_tender", "open"),
        ("invited_tender", "selective"),
        ("competitive_negotiation", "limited"),
        ("competitive_consultation", "limited"),
        ("single_source", "direct"),
    ],
)
def test_the_five_methods_map_to_the_closed_codelist(method: str, code: str) -> None:
    d = Driver().to("approved")
    d.fire("publish_notice", actor=CLERK, at=at("2025-08-06"), method=method, notice="公告")
    (made,) = releases_of(d, len(d.records) - 1)
    assert made["tender"]["procurementMethod"] == code
    assert made["tag"] == ["tender"] and made["tender"]["status"] == "active"
    check_package(ocds.package([made], published_date=at("2025-08-06")))


def test_a_plan_is_public_from_its_approval() -> None:
    d = Driver().to("pending_approval")
    assert releases_of(d) == []  # drafted, submitted, budget reviewed: internal
    d.fire("approve", actor=GOV, at=at("2025-08-05"))
    (made,) = releases_of(d)
    assert made["tag"] == ["planning"] and made["tender"]["status"] == "planned"
    assert made["planning"]["budget"]["amount"] == {"amount": 1200000, "currency": "CNY"}
    assert made["id"] == f"{ocds.DEFAULT_OCID_PREFIX}-1-{len(d.records)}"


@pytest.mark.parametrize(
    ("state", "tag"),
    [
        ("approved", "tenderCancellation"),
        ("procuring", "tenderCancellation"),
        ("awarded", "awardCancellation"),
        ("in_service", "contractTermination"),
    ],
)
def test_termination_is_tagged_by_the_state_it_ends(state: str, tag: str) -> None:
    d = Driver().to(state)
    d.fire("terminate", actor=CLERK, at=at("2025-10-30"), reason="资金未落实")
    made = releases_of(d, len(d.records) - 1)
    assert [m["tag"] for m in made] == [[tag]]
    check_package(ocds.package(made, published_date=at("2025-10-30")))
    if tag == "awardCancellation":
        assert made[0]["awards"][0]["status"] == "cancelled"


def test_a_draft_terminated_publishes_nothing() -> None:
    d = Driver()
    d.fire("terminate", actor=CLERK, at=at("2025-08-01"), reason="不再需要")
    assert releases_of(d) == []


def test_removal_and_a_second_procurement_keep_both_rounds() -> None:
    d = Driver().to("in_service")
    pay(d, 1, "300000.00", "2025-10-21")
    low = {"score": 50, "satisfaction": 50}
    for day in ("2026-03-01", "2026-04-01"):
        data = evaluation(
            "semiannual", day, evaluators=["purchaser", "street_office", "recipients"]
        )
        d.fire("evaluate", actor=EVALUATOR, at=at(day), **{**data, **low})
    assert d.state == "takeover"  # R11: removed by itself after two low periods
    tags = [m["tag"] for m in releases_of(d)[-3:]]
    assert tags == [["implementation"], ["implementation"], ["contractTermination"]]
    d.fire(
        "settle",
        actor=FINANCE,
        at=at("2026-04-10"),
        amount="100000.00",
        reason="已服务部分",
        on="2026-04-10",
    )
    d.fire("reprocure", actor=CLERK, at=at("2026-04-15"), reason="重新采购")
    made = releases_of(d, len(d.records) - 1)[0]
    assert made["tag"] == ["tenderUpdate"] and made["tender"]["status"] == "planned"
    (award,) = made["awards"]
    assert award["status"] == "active" and made["contracts"][0]["status"] == "terminated"
    transactions = made["contracts"][0]["implementation"]["transactions"]
    assert [t["id"].rsplit("-", 2)[-2] for t in transactions] == ["payment", "settlement"]
    check_package(ocds.package([made], published_date=at("2026-04-15")))
    # with the whole trail (a backfill), the first round keeps its award's date
    history = [
        {"seq": i, "event": r.event, "at": r.at, "from_state": r.from_state.value}
        for i, r in enumerate(d.records, start=1)
    ]
    whole = ocds.release(d.project, history[-1], history=history)
    assert whole is not None
    (award_at,) = [r.at for r in d.records if r.event == "award"]
    assert whole["awards"][0]["date"] == award_at.isoformat()


def test_dates_never_run_past_the_release() -> None:
    """Each release built as the service does: from the project right after its event."""
    d = Driver()
    made = []
    steps: list[tuple[str, Any, str, dict[str, Any]]] = [
        ("submit", CLERK, "2025-08-01", {}),
        ("review_budget", FINANCE, "2025-08-04", {"approved": True}),
        ("approve", GOV, "2025-08-05", {}),
        ("publish_notice", CLERK, "2025-08-06", {"method": "open_tender", "notice": "公告"}),
    ]
    for event, actor, day, data in steps:
        d.fire(event, actor=actor, at=at(day), **data)
        made.extend(releases_of(d, len(d.records) - 1))
    for _, event, actor, when, data in lifecycle(7)[4:]:
        d.fire(event, actor=actor, at=when, **data)
        made.extend(releases_of(d, len(d.records) - 1))
    pay(d, 1, "300000.00", "2025-10-21")
    made.extend(releases_of(d, len(d.records) - 1))
    tags = [m["tag"][0] for m in made]
    # the implementation steps of the happy path may grow (training, dispatch …), all of a kind
    assert tags[:5] == ["planning", "tender", "tenderUpdate", "award", "contract"]
    assert len(tags) >= 7 and set(tags[5:]) == {"implementation"}
    for one in made:
        assert incoherent(one) == []
    # the same project's later state against an earlier entry: paid after that release
    early = releases_of(d)[0]
    assert incoherent(early) != []


def test_a_release_under_another_prefix() -> None:
    d = Driver().to("approved")
    (made,) = releases_of(d, prefix="ocds-abc123")
    again = ocds.reprefix(made, "ocds-xyz999", 1)
    assert (again["ocid"], again["id"]) == ("ocds-xyz999-1", made["id"].replace("abc123", "xyz999"))


# -- redaction ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "secret",
    [
        "64020219900307123X",
        "110101200001011234",
        "13995212345",
        "139-9521-2345",
        "+86 13995212345",
        "0952-2012345",
        "（0952）2012345",
        "010-12345678",
        "zhang.san@example.com",
        "人民路12号3栋2单元",
        "朝阳小区5栋2单元301",
    ],
)
def test_patterns_mask_personal_numbers_and_addresses(secret: str) -> None:
    text = f"情况说明：{secret}，已核实。"
    masked = redact_text(text)
    assert secret not in masked
    assert masked.startswith("情况说明") and masked.endswith("已核实。")


@pytest.mark.parametrize(
    "kept",
    [
        "合同价 1000000.00 元",
        "2025-09-26 签订",
        "得分 85.50，满意度 90",
        "人民路街道办事处",
        "ocds-gpw000-12",
        "第 3 期拨付 300000.00",
    ],
)
def test_patterns_keep_amounts_dates_scores_and_offices(kept: str) -> None:
    assert redact_text(kept) == kept


def test_known_names_are_masked_longest_first() -> None:
    assert redact_text("张三丰与张三", names=["张三", "张三丰"]) == "＊＊与＊＊"
    assert redact_text("王", names=["王"]) == "王"  # one character would mask half the text


def test_a_host_passes_its_own_rules(tmp_path: Path) -> None:
    rules = json.loads(json.dumps(default_rules_document()))
    rules["patterns"].append({"name": "case", "regex": "案号\\d+", "replacement": "〔案号〕"})
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(rules, ensure_ascii=False), encoding="utf-8")
    loaded = load_rules(path)
    assert loaded.redact_text("案号12345") == "〔案号〕"
    path.write_text(
        json.dumps({**rules, "patterns": [{"name": "x", "regex": "(", "replacement": ""}]})
    )
    with pytest.raises(ConfigurationError) as err:
        load_rules(path)
    assert err.value.field == "redaction.patterns[0]"
    with pytest.raises(ConfigurationError):
        load_rules(tmp_path / "missing.json")


def default_rules_document() -> Any:
    from states.redaction import DEFAULT_RULES_FILE

    return json.loads(DEFAULT_RULES_FILE.read_text(encoding="utf-8"))


def test_never_public_paths_are_dropped() -> None:
    rules = default_rules()
    data = {
        "staff": [{"name": "张三", "education": "大专"}],
        "payments": [{"amount": "1.00", "by": "u1"}],
        "reviews": [{"reviewers": ["甲乙"], "scores": {"1": "90"}}],
    }
    dropped = rules.drop_private(data)
    assert dropped == {
        "staff": [{"education": "大专"}],
        "payments": [{"amount": "1.00"}],
        "reviews": [{"scores": {"1": "90"}}],
    }
    assert rules.names_in(data) == ("张三", "甲乙")
