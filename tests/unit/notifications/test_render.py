"""Notice templates: lookup per kind and stage, escaping, strictness, both languages, and text
that reads right for every kind of deadline at every stage it reaches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from notifications.render import Renderer, sample_context
from states.errors import ConfigurationError
from states.policy import KIND_GROUPS, STAGE_NAMES


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_kind_and_stage_renders(lang: str) -> None:
    renderer = Renderer(lang=lang)
    for group in KIND_GROUPS:
        for stage in STAGE_NAMES:
            kind = "payment_3" if group == "payment" else group
            out = renderer.render(sample_context(kind, stage))
            assert out.subject and out.text and out.html
            assert "\n" not in out.subject


def test_chinese_notice_names_project_rule_due_provisional_and_next_step() -> None:
    out = Renderer().render(sample_context("payment_2", "overdue"))
    assert out.subject == "【逾期通知】示例项目 <sample>：第2期资金拨付（暂定）截止 2026-10-15"
    for expected in [
        "#1 示例项目",
        "（R7）",
        "期限：第2期资金拨付截止 2026-10-15（暂定",
        "已逾期 2 个工作日",
        "原截止日 2026-10-14",
        "较早阶段的通知（提醒）未曾单独发出，已并入本通知",
        "2026-10-22 发出督办（一级）",
        "大武口区人民政府",
    ]:
        assert expected in out.text


def test_the_sample_context_agrees_with_its_stage() -> None:
    reminder = Renderer().render(sample_context("dispatch", "reminder"))
    assert "距截止还有 3 个工作日" in reminder.text and "已并入" not in reminder.text
    last = Renderer().render(sample_context("dispatch", "escalation_2"))
    assert "这是本期限的最后一级通知" in last.text and "下一步" not in last.text
    end = Renderer().render(sample_context("contract_end", "reminder"))
    assert end.subject == "【提醒】示例项目 <sample>：服务期将于 2026-10-15 届满（暂定）"
    assert "这是本期限的最后一级通知" in end.text


def test_html_is_escaped_and_text_is_not() -> None:
    out = Renderer().render(sample_context("dispatch", "reminder"))
    assert "&lt;sample&gt;" in out.html and "<sample>" not in out.html
    assert "<sample>" in out.text


def test_english_templates() -> None:
    out = Renderer(lang="en").render(sample_context("dispatch", "escalation_1"))
    assert out.subject.startswith("[Escalation (1)]")
    assert "(provisional)" in out.subject
    assert "Late by 2 working day(s)" in out.text


def test_the_most_specific_template_wins(tmp_path: Path) -> None:
    (tmp_path / "zh").mkdir()
    (tmp_path / "zh" / "payment.txt").write_text("付款：{{ deadline.due }}", encoding="utf-8")
    (tmp_path / "zh" / "payment.escalation_2.txt").write_text(
        "审计督办：{{ deadline.due }}", encoding="utf-8"
    )
    r = Renderer(template_dir=tmp_path)
    assert r.render(sample_context("payment_1", "reminder")).text == "付款：2026-10-15"
    assert r.render(sample_context("payment_1", "escalation_2")).text == "审计督办：2026-10-15"
    assert r.render(sample_context("dispatch", "reminder")).text.startswith("大武口区民政局")


def test_an_unknown_variable_is_refused_by_check(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "notice.html").write_text("{{ nonsense }}", encoding="utf-8")
    with pytest.raises(ConfigurationError) as err:
        Renderer(lang="en", template_dir=tmp_path).check()
    assert "nonsense" in err.value.message and err.value.field == "en/notice.html"


def test_a_missing_template_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as err:
        Renderer(template_dir=tmp_path / "nope")
    assert err.value.field == "template_dir"


# -- every kind of deadline at every stage it reaches, as tick builds the context ---------------

TITLE = "2026年星海镇社会救助入户核查服务"
#: (kind, key, rule, zh label, en label): one of each kind, several numbers
DEADLINES = [
    ("dispatch", "dispatch", "R8", "人员派遣", "staff dispatch"),
    ("payment_1", "payment_1", "R7", "第1期资金拨付", "payment of tranche 1"),
    ("payment_2", "payment_2", "R7", "第2期资金拨付", "payment of tranche 2"),
    ("payment_3", "payment_3", "R20", "第3期资金拨付", "payment of tranche 3"),
    ("evaluation", "evaluation#1", "R10", "第1次绩效评价", "evaluation #1"),
    ("evaluation", "evaluation#2", "R10", "第2次绩效评价", "evaluation #2"),
    ("rectification", "rectification#1", "R11", "第1次限期整改", "rectification #1"),
    ("rectification", "rectification#3", "R11", "第3次限期整改", "rectification #3"),
    ("contract_end", "contract_end", "R13", "服务期满", "end of term"),
]
#: working days left when each stage fires on time (Dawukou's ladder: −3, +1, +2, +5)
LEFT = {"reminder": 3, "overdue": -1, "escalation_1": -2, "escalation_2": -5}
LEADER = {"org": "大武口区民政局", "role": "leader"}


def cases() -> list[tuple[str, str, str, str, str, str, bool]]:
    """(kind, key, rule, zh, en, stage, folded): contract_end has its one reminder; every other
    kind each stage, a later stage both on time and after downtime (folding the one before)."""
    out = []
    for kind, key, rule, zh, en in DEADLINES:
        stages = ["reminder"] if kind == "contract_end" else list(STAGE_NAMES)
        for stage in stages:
            for folded in (False, True) if stage != "reminder" else (False,):
                out.append((kind, key, rule, zh, en, stage, folded))
    return out


def context(
    kind: str, key: str, rule: str, stage: str, folded: bool, *, provisional: bool = False
) -> dict[str, Any]:
    stages = ["reminder"] if kind == "contract_end" else list(STAGE_NAMES)
    index = stages.index(stage)
    following = stages[index + 1] if index + 1 < len(stages) else None
    left = LEFT[stage]
    return {
        "key": f"7:{stage}:1",
        "stage": stage,
        "project": {"id": 7, "title": TITLE, "purchaser": "大武口区民政局"},
        "contractor": "星海社会工作服务中心",
        "deadline": {
            "kind": kind,
            "key": key,
            "due": "2026-12-14",
            "provisional": provisional,
            "rule": rule,
            "owner": "contractor" if kind in ("dispatch", "rectification") else "purchaser",
        },
        "working_days_left": left,
        "calendar_days_late": 0 if left >= 0 else -left + 2,
        "moved_from": None,
        "skipped": stages[:index] if folded else [],
        "recipients": [{"org": "大武口区民政局", "role": "purchaser", "name": "张敏"}],
        "next_step": None
        if following is None
        else {"stage": following, "day": "2026-12-21", "recipients": [LEADER]},
    }


@pytest.mark.parametrize(("kind", "key", "rule", "zh", "en", "stage", "folded"), cases())
def test_each_kind_and_stage_reads_right_in_chinese(
    kind: str, key: str, rule: str, zh: str, en: str, stage: str, folded: bool
) -> None:
    ctx = context(kind, key, rule, stage, folded)
    out = Renderer().render(ctx)
    label = {"reminder": "提醒", "overdue": "逾期通知"}.get(stage, "督办")
    assert out.subject.startswith(f"【{label}") and "\n" not in out.subject
    assert TITLE in out.subject and "2026-12-14" in out.subject
    if kind == "contract_end":
        assert out.subject.endswith("服务期将于 2026-12-14 届满")
        assert "期限：服务期满 2026-12-14" in out.text
        assert "距服务期满还有 3 个工作日" in out.text
    else:
        assert f"{zh}截止 2026-12-14" in out.subject
        assert f"期限：{zh}截止 2026-12-14" in out.text
    assert (
        f"项目：#7 {TITLE}（购买主体：大武口区民政局；承接主体：星海社会工作服务中心）" in out.text
    )
    assert f"（{rule}）" in out.text
    assert "暂定" not in out.subject + out.text + out.html
    if LEFT[stage] > 0:
        assert (
            f"还有 {LEFT[stage]} 个工作日" in out.text and "逾期" not in out.text.split("下一步")[0]
        )
    else:
        assert f"已逾期 {-LEFT[stage]} 个工作日" in out.text
    merged = "已并入本通知"
    assert (merged in out.text) is folded and (merged in out.html) is folded
    if folded:
        names = "、".join(
            {"reminder": "提醒", "overdue": "逾期通知", "escalation_1": "督办（一级）"}[s]
            for s in ctx["skipped"]
        )
        assert f"较早阶段的通知（{names}）未曾单独发出" in out.text
    if ctx["next_step"] is None:
        assert "这是本期限的最后一级通知" in out.text and "下一步：" not in out.text
    else:
        assert "下一步：如仍未完成，将于 2026-12-21 发出" in out.text
        assert "送 大武口区民政局（分管领导）" in out.text
    for part in (out.subject, out.text, out.html):
        for wrong in ("None", "{{", "{%", "。。", "：：", "（）", "示例", "<sample>"):
            assert wrong not in part


@pytest.mark.parametrize(("kind", "key", "rule", "zh", "en", "stage", "folded"), cases())
def test_each_kind_and_stage_reads_right_in_english(
    kind: str, key: str, rule: str, zh: str, en: str, stage: str, folded: bool
) -> None:
    ctx = context(kind, key, rule, stage, folded)
    out = Renderer(lang="en").render(ctx)
    label = {"reminder": "Reminder", "overdue": "Overdue"}.get(stage, "Escalation")
    assert out.subject.startswith(f"[{label}") and "\n" not in out.subject
    assert TITLE in out.subject and "2026-12-14" in out.subject
    if kind == "contract_end":
        assert out.subject.endswith(": the term ends on 2026-12-14")
    else:
        assert f": {en} due 2026-12-14" in out.subject
    assert f"Deadline: {en}, 2026-12-14" in out.text
    assert f"({rule})" in out.text
    assert "provisional" not in out.subject + out.text + out.html
    if LEFT[stage] > 0:
        assert f"{LEFT[stage]} working day(s) left." in out.text
    else:
        assert f"Late by {-LEFT[stage]} working day(s)" in out.text
    folded_in = "are folded into this one"
    assert (folded_in in out.text) is folded and ("Folded in" in out.html) is folded
    if ctx["next_step"] is None:
        assert "This is the last notice for this deadline." in out.text
        assert "Next: unless done" not in out.text
    else:
        assert "notice goes out on 2026-12-21 to 大武口区民政局 (leader)." in out.text
    for part in (out.subject, out.text, out.html):
        for wrong in ("None", "{{", "{%", "..", "()", "<sample>"):
            assert wrong not in part


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_provisional_deadline_says_so_in_every_part(lang: str) -> None:
    for kind, key, rule, *_ in DEADLINES:
        out = Renderer(lang=lang).render(
            context(kind, key, rule, "reminder", False, provisional=True)
        )
        word = "暂定" if lang == "zh" else "provisional"
        assert word in out.subject and word in out.text and word in out.html
