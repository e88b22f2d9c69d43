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
            {"name": "host", "inherits": "dawukou-2019", "dispatch_window_working_days": 10},
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


def test_each_profile_escalates_to_its_own_authorities() -> None:
    assert load_policy("dawukou-2019").authorities["government"] == "大武口区人民政府"
    assert load_policy("nanyang-2019").authorities["finance"] == "南阳市财政局"
    assert not load_policy("xiamen-2015").is_inherited("authorities")
    assert load_policy("xiamen-2015").is_inherited("notices")
