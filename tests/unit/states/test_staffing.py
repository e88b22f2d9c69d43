"""R17 staffing, pure: the calculator over the policies' rules, and the dispatch's cover guard.

Jilin (000 三(三)): 乡镇人口数3万人以下(含3万人)的,不少于3人;人口数每增加1万人
(不足1万人的,按1万人计),增加1名. Nanyang (003 第三十五条): county 1 per 8,000 long-term
recipients, at least 5; town or street 1 per 800, at least 3; care homes 1:10 self-care,
1:4 semi-care, 1:1.5 full care; child welfare 1:1; mental health 0.8 per open bed. Dawukou
(001 §三(二), 宁民规发〔2018〕2号): a county bureau 2–3, a town or street 1; its plan buys 16
caseworkers: bureau 3, 星海镇 2, 人民路街道 2, the nine other streets 1 each.
"""

from __future__ import annotations

from typing import Any

import pytest
from drivers import Driver, refused
from support import CLERK, at, sign_data, trained

from states.errors import InvalidInput
from states.policy import load_policy, policy_from_mapping
from states.staffing import required_staff

JILIN, NANYANG, DAWUKOU = (load_policy(n) for n in ("jilin-2017", "nanyang-2019", "dawukou-2019"))


@pytest.mark.parametrize(
    ("population", "staff"),
    [
        (0, 3),
        (30_000, 3),  # 3万人以下(含3万人)
        (30_001, 4),  # a part of 10,000 counts whole
        (35_000, 4),
        (40_000, 4),
        (40_001, 5),
        (125_000, 13),  # 3 + 10 (95,000 more: nine whole and a part)
    ],
)
def test_R17_jilin_a_town_by_its_population(population: int, staff: int) -> None:
    result = required_staff(JILIN, None, {"population": population})
    assert (result.required, result.post) == (staff, "town")
    assert result.source.startswith("seed:000 三(三)")


@pytest.mark.parametrize(
    ("post", "counts", "staff"),
    [
        ("county", {"recipients": 2_500}, 5),  # ⌈0.31⌉ = 1, at least 5
        ("county", {"recipients": 40_000}, 5),
        ("county", {"recipients": 40_001}, 6),  # ⌈5.0001⌉
        ("county", {"recipients": 50_000}, 7),  # ⌈6.25⌉
        ("town", {"recipients": 800}, 3),  # at least 3
        ("town", {"recipients": 2_500}, 4),  # ⌈3.125⌉
        ("town", {"recipients": 3_200}, 4),
        ("care_home", {"self_care": 20, "semi_care": 8, "full_care": 3}, 6),  # 2 + 2 + 2
        ("care_home", {"full_care": 4}, 3),  # ⌈2.67⌉
        ("care_home", {"self_care": 5, "semi_care": 2}, 1),  # ⌈0.5 + 0.5⌉: they share the staff
        ("care_home", {"self_care": 1}, 1),
        ("child_welfare", {"children": 30}, 30),
        ("mental_health", {"open_beds": 50}, 40),
        ("mental_health", {"open_beds": 51}, 41),  # ⌈40.8⌉
    ],
)
def test_R17_nanyang_by_kind_of_post(post: str, counts: dict[str, int], staff: int) -> None:
    result = required_staff(NANYANG, post, counts)
    assert result.required == staff
    assert result.to_dict()["rule"] == "R17" and result.source.startswith("seed:003 第三十五条")


def test_R17_dawukou_a_bureau_two_to_three_and_one_per_street() -> None:
    bureau = required_staff(DAWUKOU, "county")
    assert (bureau.required, bureau.max_staff) == (2, 3)
    assert required_staff(DAWUKOU, "town").required == 1


@pytest.mark.parametrize(
    ("policy", "post", "counts", "field"),
    [
        (NANYANG, None, {"recipients": 10}, "post"),  # several posts: name one
        (NANYANG, "school", {"recipients": 10}, "post"),
        (NANYANG, "town", {}, "recipients"),  # a ratio rule needs a count
        (NANYANG, "town", {"population": 10}, "population"),  # not what the post is staffed by
        (JILIN, None, {}, "population"),
        (JILIN, None, {"population": -1}, "population"),
        (JILIN, None, {"population": 10**10}, "population"),
        (JILIN, None, {"population": 35_000.0}, "population"),
        (JILIN, None, {"population": True}, "population"),
        (load_policy("shanghai"), None, {"population": 1}, "policy"),  # 002 states none
    ],
)
def test_R17_what_the_calculator_refuses(
    policy: Any, post: str | None, counts: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as err:
        required_staff(policy, post, counts)
    assert (err.value.field, err.value.rule) == (field, "R17")


def test_R17_a_host_policy_file_states_its_rules_as_data() -> None:
    own = policy_from_mapping(
        {
            "name": "host",
            "inherits": "dawukou-2019",
            "staffing": [
                {
                    "post": "street",
                    "name_zh": "街道",
                    "name_en": "street",
                    "ratios": {"households": {"staff": "1", "per": "300"}},
                    "min_staff": 2,
                }
            ],
            "provenance": {"staffing": "default (a host's own rule)"},
        }
    )
    assert required_staff(own, None, {"households": 901}).required == 4
    with pytest.raises(InvalidInput) as err:
        policy_from_mapping(
            {
                "name": "bad",
                "inherits": "dawukou-2019",
                "staffing": [
                    {"post": "a", "name_zh": "甲", "name_en": "a", "min_staff": 1},
                    {"post": "a", "name_zh": "乙", "name_en": "b", "min_staff": 2},
                ],
                "provenance": {"staffing": "default"},
            }
        )
    assert "staffing" in err.value.message_en


# -- the dispatch covers the plan (Dawukou's 16 caseworkers by office) -----------------------------

OFFICES = [
    ("区民政局", 3),
    ("星海镇", 2),
    ("人民路街道", 2),
    *((street, 1) for street in ("朝阳街道", "青山街道", "长城街道", "长胜街道", "长兴街道")),
    *((street, 1) for street in ("锦林街道", "沟口街道", "石炭井街道", "白芨沟街道")),
]
ITEMS = [
    {"name": "社会救助入户核查", "quantity": n, "unit": "人", "office": office, "staffing": True}
    for office, n in OFFICES
]


def staff_for(offices: list[tuple[str, int]], prefix: str = "核查员") -> list[dict[str, str]]:
    people = [office for office, n in offices for _ in range(n)]
    return [
        {"name": f"{prefix}{i + 1:02d}", "education": "大专", "office": office}
        for i, office in enumerate(people)
    ]


def contracted(items: list[dict[str, Any]] = ITEMS) -> Driver:
    d = Driver(items=items).to("awarded")
    d.fire(
        "sign_contract",
        actor=CLERK,
        at=at("2026-03-02"),
        **sign_data(signed_on="2026-03-02", effective_on="2026-03-02"),
    )
    d.fire(
        "record_training",
        actor=CLERK,
        at=at("2026-03-10"),
        **trained("2026-03-10", attendees=16),
    )
    return d


def dispatch(d: Driver, staff: list[dict[str, str]]) -> None:
    d.fire("dispatch_staff", actor=CLERK, at=at("2026-03-11"), on="2026-03-11", staff=staff)


def test_R17_the_sixteen_caseworkers_by_office_are_dispatched() -> None:
    d = contracted()
    dispatch(d, staff_for(OFFICES))
    assert d.state == "in_service" and len(d.project.staff) == 16
    assert {m.office for m in d.project.staff} == {office for office, _ in OFFICES}


def test_R17_the_right_total_with_the_wrong_offices_is_refused() -> None:
    d = contracted()
    wrong = [("区民政局", 5), *OFFICES[2:]]  # sixteen, but none for 星海镇
    err = refused(
        "R17", d, "dispatch_staff", CLERK, at("2026-03-11"), on="2026-03-11", staff=staff_for(wrong)
    )
    assert "星海镇 须 2 人，派遣 0 人" in err.message
    assert err.details["short"] == {"星海镇": {"needed": "2", "dispatched": 0}}


def test_R17_duplicate_names_do_not_pad_the_count() -> None:
    d = contracted()
    staff = staff_for(OFFICES)
    staff[4]["name"] = staff[3]["name"]  # 星海镇's second is 星海镇's first again
    err = refused("R17", d, "dispatch_staff", CLERK, at("2026-03-11"), on="2026-03-11", staff=staff)
    assert err.details == {"staff": staff[3]["name"]} and err.field == "staff"


def test_R17_too_few_in_all_is_refused_where_items_name_no_office() -> None:
    items = [{"name": "入户核查员", "quantity": 3, "unit": "人", "staffing": True}]
    d = contracted(items)
    err = refused(
        "R17",
        d,
        "dispatch_staff",
        CLERK,
        at("2026-03-11"),
        on="2026-03-11",
        staff=staff_for([("", 2)]),
    )
    assert err.details == {"needed": "3", "dispatched": 2}
    dispatch(d, staff_for([("朝阳街道", 1), ("", 2)]))  # any office counts in the total
    assert d.state == "in_service"


def test_R17_items_that_are_not_staff_posts_ask_for_no_one() -> None:
    # 9,000 hours of home care and 120 counselling sessions are no count of people to dispatch
    items = [
        {"name": "居家养老上门服务", "quantity": 9000, "unit": "小时"},
        {"name": "心理疏导个案服务", "quantity": 120, "unit": "人次", "office": "星海镇"},
    ]
    d = contracted(items)
    dispatch(d, staff_for([("", 2)]))
    assert d.state == "in_service"


def test_R17_a_staffing_item_counts_whole_people() -> None:
    with pytest.raises(InvalidInput) as err:
        Driver().fire(
            "revise_plan",
            actor=CLERK,
            at=at("2026-01-05"),
            items=[{"name": "核查员", "quantity": "2.5", "staffing": True}],
        )
    assert err.value.field is not None and "items" in err.value.field
