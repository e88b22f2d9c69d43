"""``Renderer.render_many``: the same texts as ``render`` on each notice, rendering the notices
that differ only in their key, project number and title, and deadline key once (tick's batches)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifications.render import Rendered, Renderer, sample_context
from states.policy import KIND_GROUPS, STAGE_NAMES

KINDS = ["payment_2" if g == "payment" else g for g in KIND_GROUPS]
#: titles that escaping, format patterns and whitespace handling could get wrong
TITLES = ["示例项目", "<b>A & B</b> 'q' \"d\"", "{0} {} {{ key }} %s", "  padded  title  ", ""]


def one_by_one(renderer: Renderer, contexts: list[dict[str, Any]]) -> list[Rendered]:
    return [renderer.render(c) for c in contexts]


def alike(kind: str, stage: str, n: int) -> list[dict[str, Any]]:
    """``n`` notices of one batch: the same but for key, project number and title, deadline
    key."""
    out = []
    for i in range(n):
        ctx = sample_context(kind, stage)
        ctx["key"] = f"{100 + i}:{stage}:1"
        ctx["project"]["id"] = 100 + i
        ctx["project"]["title"] = TITLES[i % len(TITLES)] + str(i)
        ctx["deadline"]["key"] = f"{kind}#{i + 1}"
        out.append(ctx)
    return out


class Counting(Renderer):
    """Counts the contexts it prepares for Jinja (one per template render)."""

    prepared = 0

    def context(self, ctx: dict[str, Any]) -> dict[str, Any]:
        self.prepared += 1
        return super().context(ctx)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_kind_and_stage_renders_as_one_by_one(lang: str) -> None:
    renderer = Renderer(lang=lang)
    for kind in KINDS:
        for stage in STAGE_NAMES:
            contexts = alike(kind, stage, 7)
            assert renderer.render_many(contexts) == one_by_one(renderer, contexts)


def test_notices_alike_but_for_key_project_and_deadline_key_are_rendered_once() -> None:
    renderer = Counting()
    contexts = alike("dispatch", "reminder", 40) + alike("payment_2", "overdue", 10)
    out = renderer.render_many(contexts)
    assert renderer.prepared == 2  # one stencil per (kind, stage) of alike notices
    assert out == one_by_one(Renderer(), contexts)
    assert "&lt;b&gt;A &amp; B&lt;/b&gt;" in out[1].html and "<b>A & B</b>" in out[1].text


def test_a_numbered_deadline_key_changes_the_label_so_it_is_not_a_hole() -> None:
    renderer = Counting()
    contexts = alike("evaluation", "reminder", 3)
    out = renderer.render_many(contexts)
    assert renderer.prepared == 3  # 第1次, 第2次, 第3次绩效评价: each its own
    assert [o.subject for o in out] == [o.subject for o in one_by_one(Renderer(), contexts)]
    assert "第2次绩效评价" in out[1].subject


def test_notices_that_differ_elsewhere_get_their_own_text() -> None:
    base = alike("dispatch", "overdue", 6)
    base[1]["deadline"]["provisional"] = False
    base[2]["working_days_left"] = -5
    base[3]["recipients"] = [{"org": "另一单位", "role": "contractor", "name": ""}]
    base[4]["next_step"] = None
    base[5]["skipped"] = []
    renderer = Counting()
    assert renderer.render_many(base) == one_by_one(Renderer(), base)
    assert renderer.prepared == 6


def test_equal_values_of_other_types_are_told_apart(tmp_path: Path) -> None:
    (tmp_path / "zh").mkdir()
    (tmp_path / "zh" / "notice.txt").write_text(
        "{{ key }} {{ deadline.provisional }} {{ working_days_left }}", encoding="utf-8"
    )
    renderer = Renderer(template_dir=tmp_path)
    contexts = alike("dispatch", "reminder", 5)
    contexts[0]["deadline"]["provisional"] = True
    contexts[1]["deadline"]["provisional"] = 1
    contexts[2]["working_days_left"] = 3.0
    contexts[3]["working_days_left"] = 0.0
    contexts[4]["working_days_left"] = -0.0
    out = renderer.render_many(contexts)
    assert out == one_by_one(renderer, contexts)
    assert [o.text.split(" ", 1)[1] for o in out] == [
        "True 3",
        "1 3",
        "True 3.0",
        "True 0.0",
        "True -0.0",
    ]


@pytest.mark.parametrize(
    "template",
    [
        "{{ key|upper }} {{ project.title }}",
        "{% if project.title %}有{% endif %}{{ key }}",
        "{{ project }}",
        "{{ project['title'] }}",
        "{% for key in recipients %}{{ key.org }}{% endfor %}",
        "{% with key='k' %}{{ key }}{% endwith %}",
        "{% filter upper %}{{ project.title }}{% endfilter %}",
        "{{ project.title ~ '!' }} {{ deadline.key }}",
        "{{ project.items()|list|length }}",
        "{% if key == '100:reminder:1' %}first{% endif %}",
        "{{- key -}} {{ project.id + 1 }}",
    ],
)
def test_host_templates_that_use_a_hole_otherwise_render_the_same(
    tmp_path: Path, template: str
) -> None:
    (tmp_path / "zh").mkdir()
    (tmp_path / "zh" / "notice.txt").write_text(template, encoding="utf-8")
    (tmp_path / "zh" / "notice.html").write_text(
        "{% autoescape false %}{{ project.title }}{% endautoescape %}|{{ key }}", encoding="utf-8"
    )
    renderer = Renderer(template_dir=tmp_path)
    contexts = alike("dispatch", "reminder", len(TITLES) + 1)
    assert renderer.render_many(contexts) == one_by_one(renderer, contexts)


def test_the_contexts_are_left_as_they_were() -> None:
    contexts = alike("dispatch", "overdue", 4)
    before = copy.deepcopy(contexts)
    Renderer().render_many(contexts)
    assert contexts == before


@given(
    titles=st.lists(st.text(max_size=30), min_size=1, max_size=6),
    keys=st.lists(st.text(max_size=12), min_size=1, max_size=6),
    lang=st.sampled_from(["zh", "en"]),
    kind=st.sampled_from(KINDS),
    stage=st.sampled_from(STAGE_NAMES),
)
def test_any_titles_and_keys_render_as_one_by_one(
    titles: list[str], keys: list[str], lang: str, kind: str, stage: str
) -> None:
    contexts = alike(kind, stage, max(len(titles), len(keys)))
    for i, ctx in enumerate(contexts):
        ctx["project"]["title"] = titles[i % len(titles)]
        ctx["key"] = keys[i % len(keys)]
        ctx["deadline"]["key"] = keys[-1 - i % len(keys)]
    renderer = _RENDERERS[lang]
    assert renderer.render_many(contexts) == one_by_one(renderer, contexts)


_RENDERERS = {lang: Renderer(lang=lang) for lang in ("zh", "en")}
