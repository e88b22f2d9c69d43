"""What the public may see: redaction rules as data, applied to every public output (R15).

The rules ship as ``states/disclosure/redaction.json`` and a host may pass its own file of the
same shape (``format: gpw-redaction-1``):

* ``never_public``: field paths dropped from a public view of a project (``staff[].name``,
  ``reviews[].reviewers``, ``**.by`` — ``[]`` walks a list, ``**`` any depth);
* ``private_names``: paths whose values are personal names (staff, expert reviewers); each such
  name is masked wherever it appears in a public text (a finding naming a caseworker);
* ``patterns``: regular expressions for 18-digit identity numbers, mainland mobile numbers,
  landlines, e-mail addresses and street or residence addresses in free text (reasons, notes,
  findings), each with its replacement and, optionally, what a text must hold before it is
  tried (``requires``: six digits, ``@``, ``号`` …), which keeps the redaction cheap.

A contractor's name, amounts, dates, methods, evaluation scores and results stay. Everything
here is pure: no database, no clock; the only I/O is reading a rules file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from states.errors import ConfigurationError
from states.model import Project

FORMAT = "gpw-redaction-1"
#: the rules gpw ships
DEFAULT_RULES_FILE = Path(__file__).resolve().with_name("disclosure") / "redaction.json"


@dataclass(frozen=True, slots=True)
class Pattern:
    name: str
    regex: re.Pattern[str]
    replacement: str
    #: what a text must hold before ``regex`` is tried (a quick search; None: always try)
    requires: re.Pattern[str] | None = None


@dataclass(frozen=True, slots=True)
class Redaction:
    """Loaded redaction rules (see the module's docstring)."""

    never_public: tuple[tuple[str, ...], ...]
    private_names: tuple[tuple[str, ...], ...]
    patterns: tuple[Pattern, ...]
    mask: str = "＊＊"
    source: str = "builtin"
    #: every pattern's ``requires`` in one alternation (when each has one): a text that holds
    #: none of them is not searched any further
    requires_any: re.Pattern[str] | None = None

    def redact_text(self, text: str, names: Iterable[str] = ()) -> str:
        """``text`` with every pattern's match replaced and every name in ``names`` masked."""
        quick = self.requires_any
        patterns = self.patterns if quick is None or quick.search(text) is not None else ()
        for pattern in patterns:
            if pattern.requires is not None and pattern.requires.search(text) is None:
                continue
            if pattern.regex.search(text) is not None:
                text = pattern.regex.sub(pattern.replacement, text)
        for name in names:
            if name and name in text:
                text = text.replace(name, self.mask)
        return text

    def redact(
        self, value: Any, names: Iterable[str] = (), *, skip: frozenset[str] = frozenset()
    ) -> Any:
        """A copy of ``value`` (JSON-like) with :meth:`redact_text` applied to every string
        value (keys are field names, not data), except the values of the keys in ``skip``
        (identifiers, codes and dates the caller generated itself)."""
        wanted = _names(names)
        done: dict[str, str] = {}  # a text met twice (an organisation's name) is read once

        def text(s: str) -> str:
            found = done.get(s)
            if found is None:
                found = done[s] = self.redact_text(s, wanted)
            return found

        return _walk(value, text, skip)

    def names_in(self, data: Mapping[str, Any]) -> tuple[str, ...]:
        """The personal names a project's data holds (``private_names`` paths), longest first
        (so a longer name is masked before a shorter one inside it)."""
        found: set[str] = set()
        for path in self.private_names:
            for value in _at_path(data, path):
                if isinstance(value, str):
                    found.add(value)
                elif isinstance(value, list):
                    found.update(v for v in value if isinstance(v, str))
        return _names(found)

    def drop_private(self, data: Any) -> Any:
        """A copy of ``data`` without the ``never_public`` fields."""
        out = _walk(data, lambda s: s)
        for path in self.never_public:
            _drop(out, path)
        return out


def _names(names: Iterable[str]) -> tuple[str, ...]:
    """Distinct names worth masking (two characters or more: one character would mask half
    the text), longest first."""
    return tuple(
        sorted({n.strip() for n in names if len(n.strip()) >= 2}, key=lambda n: (-len(n), n))
    )


def _walk(value: Any, text: Any, skip: frozenset[str] = frozenset()) -> Any:
    kind = type(value)
    if kind is str:
        return text(value)
    if kind is dict or isinstance(value, Mapping):
        return {k: v if k in skip else _walk(v, text, skip) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_walk(v, text, skip) for v in value]
    if isinstance(value, str):
        return text(value)
    return value


def _split(path: str) -> tuple[str, ...]:
    return tuple(p for p in path.replace("[]", ".[]").split(".") if p)


def _at_path(value: Any, path: tuple[str, ...]) -> Iterator[Any]:
    if not path:
        yield value
        return
    head, rest = path[0], path[1:]
    if head == "[]":
        if isinstance(value, list):
            for item in value:
                yield from _at_path(item, rest)
    elif head == "**":
        yield from _at_path(value, rest)
        children = value.values() if isinstance(value, Mapping) else value
        if isinstance(value, Mapping | list):
            for child in children:
                yield from _at_path(child, path)
    elif isinstance(value, Mapping) and head in value:
        yield from _at_path(value[head], rest)


def _drop(value: Any, path: tuple[str, ...]) -> None:
    if not path:
        return
    head, rest = path[0], path[1:]
    if head == "[]":
        if isinstance(value, list):
            for item in value:
                _drop(item, rest)
    elif head == "**":
        _drop(value, rest)
        children = list(value.values()) if isinstance(value, dict) else value
        if isinstance(value, dict | list):
            for child in children:
                _drop(child, path)
    elif isinstance(value, dict):
        if not rest:
            value.pop(head, None)
        elif head in value:
            _drop(value[head], rest)


def _bad(source: str, zh: str, en: str, field: str = "redaction") -> ConfigurationError:
    return ConfigurationError(
        f"脱敏规则 {source} 无效：{zh}", f"redaction rules {source} are invalid: {en}", field=field
    )


def parse_rules(data: Any, *, source: str = "builtin") -> Redaction:
    """Check and compile a rules document (see the module's docstring)."""
    if not isinstance(data, Mapping) or data.get("format") != FORMAT:
        raise _bad(source, f"format 须为 {FORMAT}", f"format must be {FORMAT}", "redaction.format")
    paths: dict[str, tuple[tuple[str, ...], ...]] = {}
    for key in ("never_public", "private_names"):
        raw = data.get(key, [])
        if not isinstance(raw, list) or not all(isinstance(p, str) and p for p in raw):
            raise _bad(source, f"{key} 须为路径列表", f"{key} must be a list of paths", key)
        paths[key] = tuple(_split(p) for p in raw)
    patterns: list[Pattern] = []
    for i, item in enumerate(data.get("patterns", [])):
        where = f"redaction.patterns[{i}]"
        if not isinstance(item, Mapping) or not all(
            isinstance(item.get(k), str) for k in ("name", "regex", "replacement")
        ):
            raise _bad(
                source,
                "每条须有 name、regex、replacement",
                "each needs name, regex, replacement",
                where,
            )
        requires = item.get("requires")
        if requires is not None and not isinstance(requires, str):
            raise _bad(source, "requires 须为正则文本", "requires must be a regex", where)
        try:
            compiled = re.compile(item["regex"])
            quick = re.compile(requires) if requires else None
        except re.error as exc:
            raise _bad(source, f"正则无效：{exc}", f"bad regular expression: {exc}", where) from exc
        patterns.append(Pattern(item["name"], compiled, item["replacement"], quick))
    mask = data.get("mask", "＊＊")
    if not isinstance(mask, str):
        raise _bad(source, "mask 须为文本", "mask must be text", "redaction.mask")

    needs = [p.requires.pattern for p in patterns if p.requires is not None]
    return Redaction(
        requires_any=(
            re.compile("|".join(f"(?:{q})" for q in needs))
            if patterns and len(needs) == len(patterns)
            else None
        ),
        never_public=paths["never_public"],
        private_names=paths["private_names"],
        patterns=tuple(patterns),
        mask=mask,
        source=source,
    )


@cache
def default_rules() -> Redaction:
    """The rules gpw ships (read once)."""
    return load_rules(DEFAULT_RULES_FILE, source="builtin")


def load_rules(path: str | Path | None = None, *, source: str | None = None) -> Redaction:
    """Rules from a host's JSON file (``None``: gpw's own)."""
    if path is None:
        return default_rules()
    where = source or str(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _bad(where, f"无法读取：{exc}", f"cannot be read: {exc}") from exc
    return parse_rules(data, source=where)


def redact_text(text: str, rules: Redaction | None = None, *, names: Iterable[str] = ()) -> str:
    """One public text (a reason, a note, a finding) with personal data masked: what the public
    pages call for every free text they show."""
    return (rules or default_rules()).redact_text(text, _names(names))


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def public_project(
    project: Project,
    *,
    rules: Redaction | None = None,
    names: Iterable[str] = (),
) -> dict[str, Any]:
    """What the public may know of a project, as plain JSON: the project's data without the
    ``never_public`` fields, every personal name it holds (and ``names``: people the host knows,
    e.g. its directory) masked in every text, and the patterns applied. Staff are shown as a
    count with their education, never by name."""
    rules = rules or default_rules()
    data = project.to_json()
    private = rules.names_in(data) + _names(names)
    public = rules.drop_private(data)
    public["staff_count"] = len(project.staff)
    public.pop("deadlines", None)
    public["timeline"] = [
        {
            "key": d.key,
            "kind": d.kind,
            "rule": d.rule,
            "due": d.due.isoformat(),
            "provisional": d.provisional,
            "status": d.status.value,
            "met_on": d.met_on.isoformat() if d.met_on else None,
            "late": d.late,
        }
        for d in project.deadlines
    ]
    public["paid_total"] = _money(project.paid_total())
    return rules.redact(public, private)  # type: ignore[no-any-return]
