"""Policies as data: built-in profiles, inheritance, refusal of inconsistent files."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from states.errors import InvalidInput
from states.policy import BUILTIN_POLICIES, load_policy


def test_dawukou_is_the_default_and_sets_every_number() -> None:
    p = load_policy("dawukou-2019")
    assert [t.share_percent for t in p.tranches] == [30, 30, 40]
    assert [t.window_working_days for t in p.tranches] == [15, 15, 10]
    assert p.dispatch_window_working_days == 15
    assert p.pay_floor_multiple == 2
    assert p.trainings_per_year == 2
    assert p.inherited_fields == ()


@pytest.mark.parametrize("name", BUILTIN_POLICIES)
def test_every_builtin_profile_loads(name: str) -> None:
    assert load_policy(name).name == name


def test_nanyang_sets_its_own_pay_floor_and_inherits_the_rest() -> None:
    p = load_policy("nanyang-2019")
    assert p.pay_floor_multiple == Decimal("1.5")
    assert not p.is_inherited("pay_floor_multiple")
    assert p.is_inherited("tranches")
    assert p.is_inherited("dispatch_window_working_days")


def test_xiamen_sets_the_evaluation_fee() -> None:
    p = load_policy("xiamen-2015")
    assert p.evaluation_fee_percent == 3
    assert not p.is_inherited("evaluation_fee_percent")


def _write(tmp_path: Path, data: dict[str, object]) -> Path:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_a_host_file_inheriting_dawukou_loads(tmp_path: Path) -> None:
    p = load_policy(
        _write(
            tmp_path,
            {
                "name": "host",
                "inherits": "dawukou-2019",
                "dispatch_window_working_days": 10,
                "provenance": {"dispatch_window_working_days": "seed:host text §3"},
            },
        )
    )
    assert p.dispatch_window_working_days == 10
    assert p.is_inherited("tranches")


def test_shares_not_summing_to_100_are_refused_naming_the_field(tmp_path: Path) -> None:
    tranches = [
        {"share_percent": "30", "unlocked_by": "contract_effective", "window_working_days": 15},
        {"share_percent": "40", "unlocked_by": "final_passed", "window_working_days": 10},
    ]
    path = _write(tmp_path, {"name": "bad", "inherits": "dawukou-2019", "tranches": tranches})
    with pytest.raises(InvalidInput) as err:
        load_policy(path)
    assert err.value.field == "tranches"
    assert "100" in err.value.message


def test_a_negative_window_is_refused_naming_the_field(tmp_path: Path) -> None:
    path = _write(
        tmp_path, {"name": "bad", "inherits": "dawukou-2019", "dispatch_window_working_days": -1}
    )
    with pytest.raises(InvalidInput) as err:
        load_policy(path)
    assert err.value.field == "dispatch_window_working_days"


def test_a_negative_tranche_window_names_its_index(tmp_path: Path) -> None:
    base = json.loads(
        (Path(__file__).parents[3] / "states/policies/dawukou-2019.json").read_text(
            encoding="utf-8"
        )
    )
    base["tranches"][1]["window_working_days"] = -5
    with pytest.raises(InvalidInput) as err:
        load_policy(_write(tmp_path, base))
    assert err.value.field == "tranches[1].window_working_days"


def test_an_unknown_field_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, {"name": "bad", "inherits": "dawukou-2019", "dispatch_days": 3})
    with pytest.raises(InvalidInput) as err:
        load_policy(path)
    assert err.value.field == "dispatch_days"


def test_an_unknown_parent_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as err:
        load_policy(_write(tmp_path, {"name": "bad", "inherits": "atlantis"}))
    assert err.value.field == "inherits"


def test_an_unknown_policy_name_is_refused() -> None:
    with pytest.raises(InvalidInput) as err:
        load_policy("no-such-policy")
    assert err.value.field == "policy"


def test_only_dawukou_has_default_supervising_bodies_and_only_for_its_own_offices() -> None:
    dawukou = load_policy("dawukou-2019")
    assert dawukou.default_supervisors("大武口区民政局") == {
        "government": "大武口区人民政府",
        "finance": "大武口区财政局",
        "audit": "大武口区审计局",
    }
    assert dawukou.default_supervisors("人民路街道办事处") is not None
    assert dawukou.default_supervisors("惠农区民政局") is None
    # no default sends a county's or street office's escalation to a city or a province
    for name in ("nanyang-2019", "shanghai", "jilin-2017", "xiamen-2015"):
        assert load_policy(name).default_supervisors("卧龙区民政局") is None
        assert not load_policy(name).is_inherited("authorities")
    assert load_policy("xiamen-2015").is_inherited("notices")


@pytest.mark.parametrize("name", BUILTIN_POLICIES)
def test_every_value_says_where_it_comes_from(name: str) -> None:
    from states.policy import Policy, provenance_kind

    p = load_policy(name)
    own = {"name", "inherits", "title_zh", "title_en", "source", "inherited_fields", "provenance"}
    for field in Policy.model_fields:
        if field in own:
            continue
        kind = provenance_kind(p.source_of(field))
        assert kind in {"seed", "law", "default", "inherited"}, field
        assert (kind == "inherited") == p.is_inherited(field), field
        if kind == "seed":
            assert p.source_of(field).split(":", 1)[1].strip()[:3].isdigit(), field


def test_the_texts_decide_what_they_set() -> None:
    jilin = load_policy("jilin-2017")
    assert jilin.min_education == "大专" and jilin.source_of("min_education").startswith("seed:000")
    shanghai = load_policy("shanghai")
    assert [k.value for k in shanghai.evaluations] == ["final"]
    assert shanghai.source_of("evaluations").startswith("seed:002 三(五)4")
    assert [t.unlocked_by.value for t in shanghai.tranches] == [
        "contract_effective",
        "final_passed",
    ]
    xiamen = load_policy("xiamen-2015")
    assert [k.value for k in xiamen.evaluations] == ["midterm", "final"]
    assert all(r.evaluators == ("third_party",) for r in xiamen.evaluations.values())
    dawukou = load_policy("dawukou-2019")
    assert set(dawukou.evaluators(next(iter(dawukou.evaluations)))) == {
        "purchaser",
        "street_office",
        "recipients",
    }
    assert dawukou.source_of("pass_score").startswith("default")


def test_a_host_file_must_say_where_its_numbers_come_from(tmp_path: Path) -> None:
    path = _write(
        tmp_path, {"name": "host", "inherits": "dawukou-2019", "dispatch_window_working_days": 10}
    )
    with pytest.raises(InvalidInput) as err:
        load_policy(path)
    assert err.value.field == "provenance.dispatch_window_working_days"


def test_R19_dawukou_plans_its_timeline_and_the_others_state_none() -> None:
    plan = load_policy("dawukou-2019").planned_timeline
    assert [(s.milestone.value, s.month, s.part) for s in plan] == [
        ("created", 2, "whole"),
        ("notice_published", 3, "whole"),
        ("contract_signed", 4, "early"),
        ("first_payment", 4, "mid"),
        ("staff_dispatched", 4, "late"),
    ]
    from datetime import date

    assert plan[0].window(2028) == (date(2028, 2, 1), date(2028, 2, 29))  # a leap year
    assert plan[3].window(2026) == (date(2026, 4, 11), date(2026, 4, 20))  # 中旬
    assert plan[4].window(2026) == (date(2026, 4, 21), date(2026, 4, 30))  # 下旬
    assert load_policy("dawukou-2019").source_of("planned_timeline").startswith("seed:001 §七")
    for name in ("nanyang-2019", "shanghai", "jilin-2017", "xiamen-2015"):
        assert load_policy(name).planned_timeline == ()
        assert load_policy(name).source_of("planned_timeline").startswith("default")


def test_R19_a_host_file_without_inherits_needs_no_timeline_but_a_bad_one_is_refused(
    tmp_path: Path,
) -> None:
    data = load_policy("dawukou-2019").model_dump(mode="json")
    for own in ("inherited_fields", "planned_timeline"):
        data.pop(own)
    data["provenance"].pop("planned_timeline")
    data["name"] = "host"
    p = load_policy(_write(tmp_path, data))
    assert p.planned_timeline == () and p.source_of("planned_timeline").startswith("default")
    step = {"milestone": "created", "name_zh": "立项", "name_en": "initiation", "month": 5}
    later = {**step, "milestone": "contract_signed", "month": 4}
    data["planned_timeline"] = [step, later]
    data["provenance"]["planned_timeline"] = "seed:host §1"
    with pytest.raises(InvalidInput) as err:
        load_policy(_write(tmp_path, data))
    assert err.value.field == "planned_timeline"
    data["planned_timeline"] = [{**step, "part": "第一周"}]
    with pytest.raises(InvalidInput) as err:
        load_policy(_write(tmp_path, data))
    assert err.value.field == "planned_timeline[0].part"
