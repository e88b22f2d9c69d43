"""Rendering notices with Jinja2: one template set per language, looked up per kind and stage.

For a deadline of kind K (``payment_2`` counts as ``payment``) at stage S, each part (subject, plain
text, HTML) is the first of ``{lang}/{K}.{S}.{part}``, ``{lang}/{K}.{part}``,
``{lang}/notice.{part}`` that exists, in the host's template folder first and the shipped one
second. ``StrictUndefined`` makes an unknown variable an error; :meth:`Renderer.check` renders every
kind and stage with sample data at start-up, so a broken template is refused then, not at 3 a.m.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Hashable, Sequence
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
from markupsafe import escape

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


#: the values of a notice that differ from one notice to the next where everything else is
#: alike (the notices of one batch due together): its key, its project's number and title, its
#: deadline's key. Where a template prints one only as it is (``{{ key }}``, no filter, test,
#: condition or loop over it), :meth:`Renderer.render_many` renders the notice once with a
#: stand-in there and puts each notice's own value in its place (escaped where the part is)
_HOLES: tuple[tuple[str, ...], ...] = (
    ("key",),
    ("project", "id"),
    ("project", "title"),
    ("deadline", "key"),
)
#: the fields a notice's context has under ``project`` and ``deadline`` (a template asking for
#: anything else of them, a dict method say, renders each notice on its own)
_FIELDS = {
    "project": frozenset({"id", "title", "purchaser"}),
    "deadline": frozenset(
        {"kind", "key", "due", "provisional", "rule", "owner", "anchor_event", "anchor_on"}
    ),
}
#: what makes a part's output differ from its expressions' values printed as they are
_NO_HOLES = (nodes.Include, nodes.FilterBlock, nodes.EvalContextModifier, *_APART)
#: a stand-in for hole ``n`` (control characters no notice text holds, a random token)
_HOLE_TOKEN = uuid.uuid4().hex
_HOLE = re.compile(f"\x00gpw-hole-{_HOLE_TOKEN}-([0-9])\x00")
#: the values a shape holds as they are: equal ones print alike (not floats: 0.0 == -0.0)
_SCALARS = frozenset({str, int, bool, type(None)})
#: the characters markupsafe's ``escape`` replaces
_ESCAPED = re.compile("[&<>'\"]")


class _Unshaped(Exception):
    """A value the shape of a notice cannot hold (not JSON-like)."""


def _field(value: Any, name: str) -> Any:
    """``value[name]`` of a plain dict (a hole under anything else: rendered one by one)."""
    if type(value) is not dict:
        raise _Unshaped
    return value[name]


class _Shapes:
    """Numbers for the JSON-like containers of one :meth:`Renderer.render_many` call: equal
    numbers for equal contents (telling ``1`` and ``True`` apart, and a list from a tuple; a
    float or any other type is refused), each container numbered once (by identity: the
    contexts of one call are alive and unchanged throughout it), so that a notice's shape
    holds a number for each."""

    __slots__ = ("by_content", "by_id")

    def __init__(self) -> None:
        self.by_id: dict[int, int] = {}
        self.by_content: dict[tuple[Any, ...], int] = {}

    def number(self, value: Any) -> int:
        """The number of a dict, list or tuple (its items' types and values, a container's by
        its number; a dict's keys before them)."""
        found = self.by_id.get(id(value))
        if found is not None:
            return found
        kind = type(value)
        flat: list[Any] = [kind]
        if kind is dict:
            for k, v in value.items():
                if type(k) is not str:
                    raise _Unshaped
                t = type(v)
                flat += (k, t, v if t in _SCALARS else self.number(v))
        elif kind is list or kind is tuple:
            for v in value:
                t = type(v)
                flat += (t, v if t in _SCALARS else self.number(v))
        else:
            raise _Unshaped
        content = tuple(flat)
        found = self.by_content.get(content)
        if found is None:
            found = self.by_content[content] = len(self.by_content)
        self.by_id[id(value)] = found
        return found


def _printed_only(tree: nodes.Template, path: tuple[str, ...]) -> bool:
    """Whether the template uses the value at ``path`` only by printing it as it is: each use a
    whole ``{{ }}`` expression, never a filter's or a test's argument, a condition, a loop, an
    assignment target; and (for ``project.title``) ``project`` only for its known fields."""
    parents: dict[int, nodes.Node] = {}
    todo: list[nodes.Node] = [tree]
    while todo:
        node = todo.pop()
        for child in node.iter_child_nodes():
            parents[id(child)] = node
            todo.append(child)
    for name in tree.find_all(nodes.Name):
        if name.name != path[0]:
            continue
        if name.ctx != "load":
            return False
        parent = parents[id(name)]
        if len(path) == 1:
            if not isinstance(parent, nodes.Output):
                return False
            continue
        if not isinstance(parent, nodes.Getattr) or parent.attr not in _FIELDS[path[0]]:
            return False
        if parent.attr == path[1] and not isinstance(parents[id(parent)], nodes.Output):
            return False
    return True


@dataclass(frozen=True, slots=True)
class _Holes:
    """The holes a (kind, stage)'s templates leave, in stand-in order, and whether each part
    is escaped (HTML)."""

    paths: tuple[tuple[str, ...], ...]
    #: the context's names that are holes, and the fields that are under the others
    top: frozenset[str]
    inner: dict[str, frozenset[str]]
    escaped: tuple[bool, ...]


@dataclass(frozen=True, slots=True)
class _Stencil:
    """A notice rendered with stand-ins for its holes: per part, a ``str.format`` pattern with
    ``{i}`` for hole ``i``, and whether the part is escaped (HTML)."""

    formats: tuple[str, ...]
    escaped: tuple[bool, ...]

    def fill(self, values: Sequence[Any]) -> Rendered:
        """The notice with ``values`` in the holes, printed as Jinja prints them: ``str`` in a
        text part, escaped (markupsafe) in an escaped one; then trimmed as :meth:`render`."""
        texts = [str(v) for v in values]
        # (markupsafe changes nothing in an int, nor in a str without & < > ' ")
        escaped = [
            v if type(v) is int or (type(v) is str and not _ESCAPED.search(v)) else escape(v)
            for v in values
        ]
        subject_pattern, text_pattern, html_pattern = self.formats
        escape_subject, escape_text, escape_html = self.escaped
        subject = subject_pattern.format(*(escaped if escape_subject else texts))
        text = text_pattern.format(*(escaped if escape_text else texts))
        html = html_pattern.format(*(escaped if escape_html else texts))
        return Rendered(subject=" ".join(subject.split()), text=text.strip(), html=html.strip())


#: the kinds whose label names the deadline's number (``evaluation#2`` → 第2次绩效评价)
_NUMBERED = ("evaluation", "rectification", "training")


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
            "training": "业务培训",
        },
        "en": {
            "dispatch": "staff dispatch",
            "evaluation": "evaluation",
            "rectification": "rectification",
            "contract_end": "end of term",
            "training": "staff training",
        },
    }
    label = labels[lang].get(group, kind)
    _, hash_, n = key.partition("#")
    if group == "training" and n == "0":  # R14: training#0 is the one before duty
        return "上岗前培训" if lang == "zh" else "training before duty"
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
        #: per (kind group, stage): the holes the combined template leaves (by index in
        #: _HOLES), and whether each part is escaped
        self._holes: dict[tuple[str, str], tuple[frozenset[int], tuple[bool, ...]]] = {}
        #: per (kind, stage): the holes a stencil of it has, or None (rendered one by one)
        self._hole_specs: dict[tuple[str, str], _Holes | None] = {}
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
        holes = frozenset(range(len(_HOLES)))
        escapes: list[bool] = []
        env = self.env
        if type(env) is _Environment and env.loader is not None:
            try:
                sources = []
                for part in PARTS:
                    template, _ = self._template(kind, stage, part)
                    if template.name is None:
                        raise _Apart
                    source = env.loader.get_source(env, template.name)[0]
                    tree = env.parse(source)
                    if any(tree.find(node) for node in _APART):
                        raise _Apart
                    if any(tree.find(node) for node in _NO_HOLES):
                        holes = frozenset()
                    holes = frozenset(h for h in holes if _printed_only(tree, _HOLES[h]))
                    escaped = bool(
                        env.autoescape(template.name)
                        if callable(env.autoescape)
                        else env.autoescape
                    )
                    escapes.append(escaped)
                    sources.append(
                        f"{{% autoescape {'true' if escaped else 'false'} %}}{source}"
                        "{% endautoescape %}"
                    )
                joined = env.from_string(_SEPARATOR.join(sources))
                combined = (joined, dict(joined.globals))
            except (_Apart, TemplateError):
                combined = None
        # (the holes first: a thread that finds the template finds its holes too)
        self._holes[cache_key] = (holes if combined else frozenset(), tuple(escapes))
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

    def render_many(self, contexts: Sequence[dict[str, Any]]) -> list[Rendered]:
        """Render many notices: the same as :meth:`render` on each, in order, faster where
        they are alike. Notices whose contexts differ only in the values the templates print as
        they are (the notice's key, its project's number and title, its deadline's key: as in a
        batch due together) are rendered once with stand-ins there, and each gets its own values
        put in (escaped in the HTML as Jinja escapes them); the others are rendered one by one.
        The contexts must not change during the call."""
        stencils: dict[Hashable, _Stencil | None] = {}
        shapes = _Shapes()
        out: list[Rendered] = []
        for ctx in contexts:
            stencil: _Stencil | None = None
            try:
                kind, stage = ctx["deadline"]["kind"], ctx["stage"]
                spec = self._hole_spec(kind, stage)
                if spec is not None:
                    values = [
                        ctx[p[0]] if len(p) == 1 else _field(ctx[p[0]], p[1]) for p in spec.paths
                    ]
                    shape = (kind, stage, self._shape(ctx, spec, shapes))
                    if shape in stencils:
                        stencil = stencils[shape]
                    else:
                        stencil = stencils[shape] = self._stencil(ctx, kind, stage, spec)
            except (KeyError, TypeError, RecursionError, _Unshaped):
                stencil = None
            out.append(self.render(ctx) if stencil is None else stencil.fill(values))
        return out

    def _hole_spec(self, kind: str, stage: str) -> _Holes | None:
        """The holes of (kind, stage)'s stencils; None where its notices render one by one."""
        cache_key = (kind, stage)
        if cache_key in self._hole_specs:
            return self._hole_specs[cache_key]
        spec: _Holes | None = None
        if self._combined_for(kind, stage) is not None:
            allowed, escapes = self._holes[(kind_group(kind), stage)]
            if kind_group(kind) in _NUMBERED:
                # the deadline's label shows its key's number: the key is not a hole
                allowed = allowed - {_HOLES.index(("deadline", "key"))}
            paths = tuple(_HOLES[h] for h in sorted(allowed))
            if paths and len(escapes) == len(PARTS):
                inner: dict[str, set[str]] = {}
                for path in paths:
                    if len(path) == 2:
                        inner.setdefault(path[0], set()).add(path[1])
                spec = _Holes(
                    paths=paths,
                    top=frozenset(p[0] for p in paths if len(p) == 1),
                    inner={k: frozenset(v) for k, v in inner.items()},
                    escaped=escapes,
                )
        if len(self._hole_specs) > 10_000:  # bounded, whatever kinds a host makes
            self._hole_specs.clear()
        self._hole_specs[cache_key] = spec
        return spec

    @staticmethod
    def _shape(ctx: dict[str, Any], spec: _Holes, shapes: _Shapes) -> Hashable:
        """The context less its holes' values, hashable: each name, its value's type, and the
        value (a container's number, :class:`_Shapes`; a hole's type and value None; a dict
        holding holes, its length then its items so). Equal for two contexts exactly when they
        are equal but for the holes."""
        flat: list[Any] = []
        for name, value in ctx.items():
            t = type(value)
            if name in spec.top:
                flat += (name, None, None)
            elif name in spec.inner:
                if t is not dict:
                    raise _Unshaped
                skip = spec.inner[name]
                flat += (name, dict, len(value))
                for k, v in value.items():
                    if k in skip:
                        flat += (k, None, None)
                    else:
                        tv = type(v)
                        flat += (k, tv, v if tv in _SCALARS else shapes.number(v))
            else:
                flat += (name, t, value if t in _SCALARS else shapes.number(value))
        return tuple(flat)

    def _stencil(self, ctx: dict[str, Any], kind: str, stage: str, spec: _Holes) -> _Stencil | None:
        """Render ``ctx`` with a stand-in in each hole and cut the parts there; None where that
        fails (the notice then renders on its own, which names the template at fault)."""
        combined = self._combined_for(kind, stage)
        if combined is None:
            return None
        stood = dict(ctx)
        for i, path in enumerate(spec.paths):
            stand_in = f"\x00gpw-hole-{_HOLE_TOKEN}-{i}\x00"
            if len(path) == 1:
                stood[path[0]] = stand_in
            else:
                if stood[path[0]] is ctx[path[0]]:
                    stood[path[0]] = dict(ctx[path[0]])
                stood[path[0]][path[1]] = stand_in
        template, flat_globals = combined
        try:
            context = template.new_context({**flat_globals, **self.context(stood)}, shared=True)
            parts = self.env.concat(template.root_render_func(context)).split(_SEPARATOR)
        except TemplateError:
            return None
        if len(parts) != len(PARTS):
            return None
        formats = []
        for part in parts:
            cut = _HOLE.split(part)
            texts = cut[0::2]
            if any(f"gpw-hole-{_HOLE_TOKEN}" in t for t in texts):
                return None  # a stand-in that did not print whole
            pattern = [texts[0].replace("{", "{{").replace("}", "}}")]
            for hole, text in zip(cut[1::2], texts[1:], strict=True):
                pattern.append(f"{{{hole}}}")
                pattern.append(text.replace("{", "{{").replace("}", "}}"))
            formats.append("".join(pattern))
        return _Stencil(formats=tuple(formats), escaped=spec.escaped)

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
    "training": "R14",
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
            "key": f"{kind}#1" if group in _NUMBERED else kind,
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
        #: a moved deadline's suspensions, resumptions and extensions (中止计时、延长), oldest
        #: first, as its data holds them; empty unless it moved
        "clock": [
            {
                "kind": "suspended",
                "on": "2026-10-12",
                "working_days": 2,
                "due_before": "2026-10-14",
                "due_after": None,
                "reason": "疫情封控，暂停入户 <sample>",
                "by": "u1",
                "at": "2026-10-12T09:00:00+08:00",
            },
            {
                "kind": "resumed",
                "on": "2026-10-12",
                "working_days": 2,
                "due_before": "2026-10-14",
                "due_after": "2026-10-14",
                "reason": "",
                "by": "u1",
                "at": "2026-10-12T17:00:00+08:00",
            },
            {
                "kind": "extended",
                "on": "2026-10-12",
                "working_days": 1,
                "due_before": "2026-10-14",
                "due_after": "2026-10-15",
                "reason": "双方协商",
                "by": "u1",
                "at": "2026-10-12T17:30:00+08:00",
            },
        ],
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
