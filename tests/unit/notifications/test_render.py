"""Notice templates: lookup per kind and stage, escaping, strictness, both languages."""

from __future__ import annotations

from pathlib import Path

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
        "2026-10-15（暂定",
        "已逾期 2 个工作日",
        "原截止日 2026-10-14",
        "2026-10-22 发出督办（二级）",
        "大武口区人民政府",
    ]:
        assert expected in out.text


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
