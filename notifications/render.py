"""Rendering notices with Jinja2: one template set per language, looked up per kind and stage.

For a deadline of kind K (``payment_2`` counts as ``payment``) at stage S, each part (subject, plain
text, HTML) is the first of ``{lang}/{K}.{S}.{part}``, ``{lang}/{K}.{part}``,
``{lang}/notice.{part}`` that exists, in the host's template folder first and the shipped one
second. ``StrictUndefined`` makes an unknown variable an error; :meth:`Renderer.check` renders every
kind and stage with sample data at start-up, so a broken template is refused then, not at 3 a.m.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    Template,
    TemplateError,
    nodes,
    select_autoescape,
)
from jinja2.filters import sync_do_join

from notifications.texts import OBLIGATIONS, ROLES, STAGES
from states.errors import ConfigurationError
from states.ladder import kind_group
from states.policy import KIND_GROUPS, STAGE_NAMES

LANGUAGES = ("zh", "en")
PARTS = ("subject.txt", "txt", "html")
_DICT_ATTRS = frozenset(dir(dict))
#: between the parts of a notice rendered in one call: control characters no notice text holds
#: (titles and names refuse them) around a random token
_SEPARATOR = f"\x00gpw-part-{uuid.uuid4().hex}\x00"
#: template features whose meaning could change if the three parts were rendered as one
_APART = (
    nodes.Extends,
    nodes.Block,
    nodes.Macro,
    nodes.CallBlock,
    nodes.Import,
    nodes.FromImport,
    nodes.Assign,
    nodes.AssignBlock,
)


class _Apart(Exception):
    """A part that must be rendered on its own."""


#: the kinds whose label names the deadline's number (``evaluation#2`` → 第2次绩效评价)
_NUMBERED = ("evaluation", "rectification")


class _Environment(Environment):
    """Jinja2's environment, with ``x.y`` on a plain dict looked up as its item at once.

    Jinja tries ``getattr(x, "y")`` first and falls back to ``x["y"]``: on a dict that is an
    ``AttributeError`` raised and caught for every ``{{ project.title }}``, a quarter of a
    notice's rendering. The result is the same: a name that is a dict method still goes the
    usual way, and a missing key still ends as Jinja's (strict) undefined."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        # ``join`` without its async wrapper, which asks on every call whether the environment
        # is async (this one never is)
        self.filters["join"] = sync_do_join

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRS:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


def _deadline_label(kind: str, lang: str, key: str = "") -> str:
    """The deadline as a notice names it: ``payment_2`` → 第2期资金拨付, ``evaluation#1`` →
    第1次绩效评价 (the number from the deadline's key, where it has one)."""
    group = kind_group(kind)
    if group == "payment":
        n = kind.removeprefix("payment_")
        return f"第{n}期资金拨付" if lang == "zh" else f"payment of tranche {n}"
    labels = {
        "zh": {
            "dispatch": "人员派遣",
            "evaluation": "绩效评价",
            "rectification": "限期整改",
            "contract_end": "服务期满",
        },
        "en": {
            "dispatch": "staff dispatch",
            "evaluation": "evaluation",
            "rectification": "rectification",
            "contract_end": "end of term",
        },
    }
    label = labels[lang].get(group, kind)
    _, hash_, n = key.partition("#")
    if hash_ and n.isdigit() and group in _NUMBERED:
        return f"第{n}次{label}" if lang == "zh" else f"{label} #{n}"
    return label


def role_label(role: str, lang: str) -> str:
    return ROLES[lang].get(role, role)


def stage_label(stage: str, lang: str) -> str:
    return STAGES[lang].get(stage, stage)


class Renderer:
    """Renders notices.

    Args:
        lang: ``zh`` (default) or ``en``.
        template_dir: a host's own folder, searched before the shipped templates.
        env: a pre-built environment (then ``template_dir`` is ignored).
    """

    def __init__(
        self,
        *,
        lang: str = "zh",
        template_dir: str | Path | None = None,
        env: Environment | None = None,
    ) -> None:
        if lang not in LANGUAGES:
            raise ConfigurationError(
                f"不支持的通知语言 {lang!r}",
                f"unsupported notice language {lang!r}",
                field="lang",
            )
        self.lang = lang
        if env is None:
            loaders: list[Any] = []
            if template_dir is not None:
                if not Path(template_dir).is_dir():
                    raise ConfigurationError(
                        f"模板目录不存在：{template_dir}",
                        f"template folder does not exist: {template_dir}",
                        field="template_dir",
                    )
                loaders.append(FileSystemLoader(str(template_dir)))
            loaders.append(PackageLoader("notifications", "templates"))
            env = _Environment(
                loader=ChoiceLoader(loaders),
                autoescape=select_autoescape(
                    enabled_extensions=("html",), default_for_string=False
                ),
                undefined=StrictUndefined,
                keep_trailing_newline=False,
                auto_reload=False,
            )
        self.env = env
        self._chosen: dict[tuple[str, str, str], tuple[Template, dict[str, Any]]] = {}
        self._combined: dict[tuple[str, str], tuple[Template, dict[str, Any]] | None] = {}
        #: per (kind, stage, deadline key): the labels a notice of it shows (they never change)
        self._labels: dict[tuple[str, str, str], tuple[str, str, str]] = {}

    def _names(self, kind: str, stage: str, part: str) -> list[str]:
        group = kind_group(kind)
        return [
            f"{self.lang}/{group}.{stage}.{part}",
            f"{self.lang}/{group}.{part}",
            f"{self.lang}/notice.{part}",
        ]

    def context(self, ctx: dict[str, Any]) -> dict[str, Any]:
        """Add the labels the templates use to a notice's data."""
        kind, stage = ctx["deadline"]["kind"], ctx["stage"]
        group = kind_group(kind)
        # only an evaluation's or a rectification's label shows its key's number
        key = str(ctx["deadline"].get("key", "")) if group in _NUMBERED else ""
        labels = self._labels.get((kind, stage, key))
        if labels is None:
            if len(self._labels) > 10_000:  # bounded, whatever keys a host makes
                self._labels.clear()
            labels = self._labels[(kind, stage, key)] = (
                stage_label(stage, self.lang),
                _deadline_label(kind, self.lang, key),
                OBLIGATIONS[self.lang].get(group, kind),
            )
        out = dict(ctx)
        out.setdefault("stage_label", labels[0])
        out.setdefault("deadline_label", labels[1])
        out.setdefault("obligation", labels[2])
        out["recipients"] = [
            {**r, "name": r.get("name") or role_label(r["role"], self.lang)}
            for r in ctx["recipients"]
        ]
        if ctx.get("next_step"):
            step = dict(ctx["next_step"])
            step["label"] = stage_label(step["stage"], self.lang)
            step["recipients"] = [
                f"{r['org']}（{role_label(r['role'], self.lang)}）"
                if self.lang == "zh"
                else f"{r['org']} ({role_label(r['role'], self.lang)})"
                for r in step["recipients"]
            ]
            out["next_step"] = step
        out["skipped"] = [stage_label(s, self.lang) for s in ctx.get("skipped", [])]
        return out

    def _template(self, kind: str, stage: str, part: str) -> tuple[Template, dict[str, Any]]:
        cache_key = (kind_group(kind), stage, part)
        chosen = self._chosen.get(cache_key)
        if chosen is None:
            template = self.env.select_template(self._names(kind, stage, part))
            chosen = self._chosen[cache_key] = (template, dict(template.globals))
        return chosen

    def _combined_for(self, kind: str, stage: str) -> tuple[Template, dict[str, Any]] | None:
        """The three parts chosen for (kind, stage) as one template, each under the escaping
        its own name gives it (HTML escaped, text not) and split by a separator no notice holds;
        None where that could change a part: another environment than ours, or a part that
        extends, defines blocks or macros, imports or sets variables (those render one by
        one, as always)."""
        cache_key = (kind_group(kind), stage)
        if cache_key in self._combined:
            return self._combined[cache_key]
        combined: tuple[Template, dict[str, Any]] | None = None
        env = self.env
        if type(env) is _Environment and env.loader is not None:
            try:
                sources = []
                for part in PARTS:
                    template, _ = self._template(kind, stage, part)
                    if template.name is None:
                        raise _Apart
                    source = env.loader.get_source(env, template.name)[0]
                    if any(env.parse(source).find(node) for node in _APART):
                        raise _Apart
                    escape = (
                        env.autoescape(template.name)
                        if callable(env.autoescape)
                        else env.autoescape
                    )
                    sources.append(
                        f"{{% autoescape {'true' if escape else 'false'} %}}{source}"
                        "{% endautoescape %}"
                    )
                joined = env.from_string(_SEPARATOR.join(sources))
                combined = (joined, dict(joined.globals))
            except (_Apart, TemplateError):
                combined = None
        self._combined[cache_key] = combined
        return combined

    def render(self, ctx: dict[str, Any], *, combine: bool = True) -> Rendered:
        """Render subject, plain text and HTML for one notice: with one template call where
        the parts allow it (:meth:`_combined_for`), else part by part; the text is the same."""
        kind, stage = ctx["deadline"]["kind"], ctx["stage"]
        full = self.context(ctx)
        combined = self._combined_for(kind, stage) if combine else None
        if combined is not None:
            template, flat_globals = combined
            try:
                context = template.new_context({**flat_globals, **full}, shared=True)
                parts = self.env.concat(template.root_render_func(context)).split(_SEPARATOR)
            except TemplateError:
                parts = []  # rendered part by part below, which names the template at fault
            if len(parts) == len(PARTS):
                subject, text, html = (p.strip() for p in parts)
                return Rendered(subject=" ".join(subject.split()), text=text, html=html)
        out = []
        for part in PARTS:
            template, flat_globals = self._template(kind, stage, part)
            try:
                # Template.render, less the copy of its ChainMap globals on every call
                context = template.new_context({**flat_globals, **full}, shared=True)
                out.append(template.environment.concat(template.root_render_func(context)).strip())
            except TemplateError as exc:
                raise ConfigurationError(
                    f"通知模板 {template.name} 出错：{exc}",
                    f"notice template {template.name} failed: {exc}",
                    field=template.name,
                ) from exc
        return Rendered(subject=" ".join(out[0].split()), text=out[1], html=out[2])

    def check(self) -> None:
        """Render every kind and stage with sample data; a broken template raises now."""
        for group in KIND_GROUPS:
            kind = "payment_2" if group == "payment" else group
            for stage in STAGE_NAMES:
                # part by part: the combined templates are built when a notice first needs
                # them, so that opening a workflow stays cheap
                self.render(sample_context(kind, stage), combine=False)


#: the rule each kind of deadline enforces (the samples only; a real notice has its row's)
SAMPLE_RULES = {
    "dispatch": "R8",
    "payment": "R7",
    "evaluation": "R10",
    "rectification": "R11",
    "contract_end": "R13",
}


def sample_context(kind: str, stage: str) -> dict[str, Any]:
    """A complete notice context, as ``tick`` builds it (also documents the variables).

    Consistent with its stage: a reminder has working days left and folds nothing in; a later
    stage is late and folds in the stage before it (as after downtime); the last stage, and
    ``contract_end``'s one reminder, have no next step. ``evaluation`` and ``rectification``
    get the key of their first (``#1``).
    """
    group = kind_group(kind)
    index = STAGE_NAMES.index(stage) if stage in STAGE_NAMES else 0
    # contract_end has a single stage (its reminder): nothing follows it
    last = group == "contract_end" or index + 1 == len(STAGE_NAMES)
    following = None if last else STAGE_NAMES[index + 1]
    late = index > 0
    return {
        "key": f"1:{stage}:1",
        "stage": stage,
        "project": {"id": 1, "title": "示例项目 <sample>", "purchaser": "大武口区民政局"},
        "contractor": "星海社会工作服务中心",
        "deadline": {
            "kind": kind,
            "key": f"{kind}#1" if group in ("evaluation", "rectification") else kind,
            "due": "2026-10-15",
            "provisional": True,
            "rule": SAMPLE_RULES.get(group, "R7"),
            "owner": "purchaser",
            "anchor_event": "sign_contract",
            "anchor_on": "2026-09-18",
        },
        "working_days_left": -2 if late else 3,
        "calendar_days_late": 3 if late else 0,
        "moved_from": "2026-10-14",
        "skipped": [STAGE_NAMES[index - 1]] if late else [],
        "recipients": [{"org": "大武口区民政局", "role": "purchaser", "name": ""}],
        "next_step": None
        if following is None
        else {
            "stage": following,
            "day": "2026-10-22",
            "recipients": [{"org": "大武口区人民政府", "role": "government"}],
        },
    }
