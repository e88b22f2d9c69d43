"""The event table: every event declared once, with its payload model, guards and effect."""

from __future__ import annotations

import inspect

import pytest

from states.machine import EVENTS, STATE_GUARDS, _Run, machine
from states.payloads import EVENT_PAYLOADS, Payload, parse_payload


def test_every_event_has_its_payload_model_guards_and_effect() -> None:
    guards = {name for name, _ in inspect.getmembers(_Run) if name.startswith("g_")}
    effects = {name for name, _ in inspect.getmembers(_Run) if name.startswith("apply_")}
    for name, spec in EVENTS.items():
        assert issubclass(spec.payload, Payload), name
        assert spec.effect == f"apply_{name}" and spec.effect in effects, name
        assert set(spec.guards) <= guards, (name, set(spec.guards) - guards)
        assert spec.roles, name
        assert spec.zh and spec.en, name
    # nothing is declared that no event uses: one table, not several
    used = {g for spec in EVENTS.values() for g in spec.guards}
    assert guards == used, guards - used
    assert effects == {spec.effect for spec in EVENTS.values()}
    assert STATE_GUARDS <= used


def test_the_machine_and_the_payload_map_are_derived_from_the_table() -> None:
    assert set(machine().events) == set(EVENTS)
    assert {name: spec.payload for name, spec in EVENTS.items()} == EVENT_PAYLOADS
    for name, event in machine().events.items():
        spec = EVENTS[name]
        sources = {t.source for ts in event.transitions.values() for t in ts}
        assert sources == {s.value for s in spec.sources}, name


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_each_event_refuses_an_unknown_field(name: str) -> None:
    from states.errors import InvalidInput

    with pytest.raises(InvalidInput) as err:
        parse_payload(name, {"no_such_field": 1})
    assert err.value.field is not None


def test_settle_and_reprocure_leave_takeover() -> None:
    assert EVENTS["settle"].dest is None and EVENTS["reprocure"].dest is not None
    assert EVENTS["reprocure"].dest.value == "approved"
