"""No input makes the JSON API answer 5xx (issue #8), on SQLite and PostgreSQL.

* Schemathesis reads the API's own OpenAPI document (fetched with a token, as a platform would)
  and sends, for every operation, cases that fit it and cases that break it (positive and
  negative generation), with a valid token; every answer must be below 500.
* The events' own fields: for each event, data with the right field names and any JSON values
  (huge and negative integers, long decimals, text with NUL and odd Unicode, lists, objects,
  nulls), fired at projects in several states: every answer is 200 or a refusal in the one
  error shape.

Derandomized (the ``ci`` profile is, and these settings say so again) and bounded: the same
cases on every run, well under a minute.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from webapi import ERROR_KEYS, Api

from states.machine import EVENTS
from workflow.services.events import event_fields

BOUNDED = settings(
    max_examples=15,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def test_schemathesis_finds_no_server_error(api: Api) -> None:
    headers = api.headers("clerk")
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", api.client.app, headers=headers)
    seen: dict[str, set[int]] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 8

    def run(operation: Any, mode: GenerationMode) -> None:
        label = f"{operation.method.upper()} {operation.path}"
        # fitting cases aim at the project that exists (random ids would mostly be 404s)
        pinned = mode is GenerationMode.POSITIVE and "{project_id}" in operation.path
        fixed = {"project_id": api.project_id} if pinned else None

        @BOUNDED
        @given(case=operation.as_strategy(generation_mode=mode, path_parameters=fixed))
        def call(case: Any) -> None:
            response = case.call(headers=headers)
            seen.setdefault(label, set()).add(response.status_code)
            assert response.status_code < 500, (label, case.path_parameters, response.text)
            if response.status_code >= 400:
                assert set(response.json()) == ERROR_KEYS, response.text

        call()

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            run(operation, mode)
    # the cases reached past the login and the validation: real answers came back
    assert 200 in seen["GET /projects"] and 200 in seen["GET /projects/{project_id}"]
    assert 422 in seen["POST /projects/{project_id}/events/{event}"]


def _json_values() -> st.SearchStrategy[Any]:
    scalars = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.integers(min_value=2**62, max_value=2**80)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.sampled_from(["0.1", "1E+6", "１２", "-0.00", "1200000.00", "2026-04-17", ""])
        | st.text(max_size=30)
        | st.dates().map(str)
    )
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
        ),
        max_leaves=12,
    )


@st.composite
def event_data(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    event = draw(st.sampled_from(sorted(EVENTS)))
    names = [f["name"] for f in event_fields(event)] or ["note"]
    chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
    return event, {name: draw(_json_values()) for name in chosen}


def test_any_value_in_any_field_is_answered_without_a_server_error(api: Api) -> None:
    from support import new_project

    projects = [api.project_id, new_project(api.wf)]
    logins = ["clerk", "fin", "gov", "ngo"]
    answered: set[int] = set()

    @settings(BOUNDED, max_examples=120)
    @given(
        pick=event_data(),
        project=st.sampled_from(projects),
        login=st.sampled_from(logins),
        version=st.none() | st.integers(min_value=1, max_value=40),
    )
    def fire(
        pick: tuple[str, dict[str, Any]], project: int, login: str, version: int | None
    ) -> None:
        event, data = pick
        body: dict[str, Any] = {"data": data}
        if version is not None:
            body["expected_version"] = version
        response = api.client.post(
            f"/api/v1/projects/{project}/events/{event}",
            headers={**api.headers(login), "Content-Type": "application/json"},
            content=json.dumps(body).encode(),
        )
        answered.add(response.status_code)
        assert response.status_code in (200, 403, 409, 422), (event, data, response.text)
        if response.status_code != 200:
            assert set(response.json()) == ERROR_KEYS

    fire()
    assert 422 in answered
