"""What an event's data looks like: its fields, built from the payload models in ``states``.

The CLI (``gpw events ID --fields``), the JSON API (``GET /api/v1/projects/{id}/events``) and the
dashboard's forms describe an event's data from here, so every face shows the same fields, types
and allowed values, all derived from the one event table (``states.machine.EVENTS``).
"""

from __future__ import annotations

from functools import cache
from typing import Any


def _schema_type(prop: dict[str, Any], defs: dict[str, Any]) -> tuple[str, list[Any]]:
    """A JSON-schema property as (type text, allowed values)."""
    if "$ref" in prop:
        return _schema_type(defs.get(prop["$ref"].rsplit("/", 1)[-1], {}), defs)
    if "enum" in prop:
        return prop.get("type", "string"), list(prop["enum"])
    if "anyOf" in prop:
        kinds: list[str] = []
        allowed: list[Any] = []
        for option in prop["anyOf"]:
            kind, values = _schema_type(option, defs)
            if kind not in kinds and kind != "null":
                kinds.append(kind)
            allowed += [v for v in values if v not in allowed]
        if {"number", "string"} <= set(kinds):  # Decimal: a number or a decimal string
            kinds = ["decimal"] + [k for k in kinds if k not in ("number", "string")]
        return " | ".join(kinds) or "any", allowed
    kind = prop.get("type", "object" if "properties" in prop else "any")
    if kind == "string" and prop.get("format") in ("date", "date-time"):
        return prop["format"], []
    if kind == "array":
        item, values = _schema_type(prop.get("items", {}), defs)
        return f"list[{item}]", values
    if kind == "object" and isinstance(prop.get("additionalProperties"), dict):
        value, values = _schema_type(prop["additionalProperties"], defs)
        return f"object[{value}]", values
    if kind == "object" and "properties" in prop:
        return "object{" + ", ".join(prop["properties"]) + "}", []
    return str(kind), []


@cache  # one entry per event of the table (an unknown name never reaches it)
def _fields(event: str) -> tuple[tuple[str, str, bool, tuple[Any, ...]], ...]:
    from states.payloads import EVENT_PAYLOADS

    model = EVENT_PAYLOADS[event]
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    out = []
    for name, prop in schema.get("properties", {}).items():
        kind, allowed = _schema_type(prop, defs)
        out.append((name, kind, name in required, tuple(allowed)))
    return tuple(out)


def event_fields(event: str) -> list[dict[str, Any]]:
    """An event's data fields from its payload model: name, type, required, allowed values
    (an unknown event has none). Each call returns fresh dicts (the schema is built once)."""
    from states.machine import EVENTS

    if event not in EVENTS:
        return []
    return [
        {"name": name, "type": kind, "required": required, "allowed": list(allowed)}
        for name, kind, required, allowed in _fields(event)
    ]


def describe_events(names: list[str]) -> list[dict[str, Any]]:
    """Each event with its Chinese and English label and its fields, in the order given."""
    from states.machine import EVENTS

    out = []
    for name in names:
        spec = EVENTS.get(name)
        out.append(
            {
                "event": name,
                "label": spec.zh if spec is not None else "",
                "label_en": spec.en if spec is not None else "",
                "fields": event_fields(name),
            }
        )
    return out
