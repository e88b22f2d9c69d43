"""The JSON API's contract (issue #8): login everywhere, scope on reads, the engine's checks on
writes, one error shape with the status of each error, money as strings, numbers as Decimal.
On SQLite and PostgreSQL (the ``wf`` fixture)."""

from __future__ import annotations

import re
from typing import Any

from support import CLERK, at, new_project
from webapi import ERROR_KEYS, Api, error_of

from states.enums import ProjectState
from workflow.services import lists
from workflow.web import api as api_module

MONEY = re.compile(r"^\d+\.\d{2}$")


def documented_operations(api: Api) -> list[tuple[str, str]]:
    document = api.get("/openapi.json", "clerk").json()
    return [
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    ]


def concrete(path: str, api: Api) -> str:
    return path.replace("{project_id}", str(api.project_id)).replace("{event}", "pay")


# -- login ---------------------------------------------------------------------------------------


def test_the_document_lists_every_route(api: Api) -> None:
    operations = documented_operations(api)
    assert set(operations) == {
        ("GET", "/projects"),
        ("GET", "/projects/{project_id}"),
        ("GET", "/projects/{project_id}/events"),
        ("POST", "/projects/{project_id}/events/{event}"),
        ("GET", "/projects/{project_id}/history"),
        ("GET", "/deadlines"),
        ("GET", "/notices"),
        ("GET", "/health"),
    }
    document = api.get("/openapi.json", "clerk").json()
    assert document["servers"] == [{"url": "/api/v1"}]
    schemes = document["components"]["securitySchemes"]
    assert schemes["BearerToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["BearerToken"]["description"],
    }
    for path, item in document["paths"].items():
        for operation in item.values():
            assert operation["security"] == [{"BearerToken": []}], path


AUTHORIZATIONS = [
    None,
    "",
    "Bearer",
    "Basic Y2xlcms6cGFzc3dvcmQ=",
    "Token abc",
    "Bearer gpw_not-a-token",
    "Bearer not-even-ours",
]


def test_every_route_needs_a_token(api: Api) -> None:
    operations = [*documented_operations(api), ("GET", "/openapi.json")]
    before = api.wf.project(api.project_id).version
    for authorization, (method, path) in ((a, op) for a in AUTHORIZATIONS for op in operations):
        headers = {} if authorization is None else {"Authorization": authorization}
        response = api.client.request(
            method, "/api/v1" + concrete(path, api), headers=headers, json={"data": {}}
        )
        error_of(response, 401, "unauthenticated")
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith("Bearer")
        sent_a_token = authorization is not None and authorization.startswith("Bearer ")
        assert ('error="invalid_token"' in challenge) == sent_a_token, (path, challenge)
    assert api.wf.project(api.project_id).version == before  # nothing was fired


def test_401_comes_before_any_other_refusal(api: Api) -> None:
    """Without a token nothing about the request is judged: not its path, query or body."""
    for path in ("/projects/abc", "/projects/0/history", "/deadlines?status=bogus&limit=x"):
        error_of(api.get(path), 401, "unauthenticated")
    error_of(api.post("/projects/99999/events/nope", body=[1, 2]), 401, "unauthenticated")
    error_of(api.get("/projects?q=%00"), 401, "unauthenticated")


def test_a_revoked_token_and_an_inactive_user_are_refused(api: Api) -> None:
    assert api.get("/health", "clerk").status_code == 200
    token_id = api.wf.users.tokens("clerk")[0]["id"]
    api.wf.users.revoke_token("clerk", token_id)
    error_of(api.get("/health", "clerk"), 401, "unauthenticated", field="token")
    assert api.get("/health", "gov").status_code == 200
    api.wf.users.set_active("gov", False)
    error_of(api.get("/health", "gov"), 401, "unauthenticated", field="token")


def test_token_use_is_recorded_without_the_token(api: Api) -> None:
    api.get("/health", "fin")
    used = api.wf.users.events(login="fin", kinds=["token_used"])
    assert len(used) == 1
    assert used[0]["ip"] == "testclient"
    assert api.tokens["fin"] not in repr(api.wf.users.events())


# -- reads ---------------------------------------------------------------------------------------


def test_a_project_and_its_money_as_strings(api: Api) -> None:
    response = api.get(f"/projects/{api.project_id}", "clerk")
    assert response.status_code == 200
    project = response.json()["project"]
    assert project["id"] == api.project_id
    assert project["state"] == "in_service"
    assert project["data"]["budget"] == "1200000.00"
    assert project["data"]["contract"]["price"] == "1000000.00"


def test_the_events_the_caller_may_fire_with_their_fields(api: Api) -> None:
    body = api.get(f"/projects/{api.project_id}/events", "clerk").json()
    view = api.wf.project(api.project_id)
    assert (body["project_id"], body["state"], body["version"]) == (
        api.project_id,
        "in_service",
        view.version,
    )
    names = [e["event"] for e in body["events"]]
    assert names == api.wf.available_events(api.project_id, CLERK)
    pay = next(e for e in body["events"] if e["event"] == "pay")
    assert pay["label"] and pay["label_en"]
    assert {f["name"]: (f["type"], f["required"]) for f in pay["fields"]} == {
        "tranche": ("integer", True),
        "amount": ("decimal", True),
        "on": ("date", True),
    }
    # the contractor of the project may fire only its own events
    ngo = [
        e["event"] for e in api.get(f"/projects/{api.project_id}/events", "ngo").json()["events"]
    ]
    assert "pay" not in ngo and "request_subcontract" in ngo


def test_the_history_is_the_audit_trail(api: Api) -> None:
    items = api.get(f"/projects/{api.project_id}/history", "sup").json()["items"]
    assert [e["event"] for e in items] == [e.event for e in api.wf.history(api.project_id)]
    assert items[0]["event"] == "create_project"
    assert all(len(e["hash"]) == 64 for e in items)


def test_the_project_list_and_its_filters(api: Api) -> None:
    other = new_project(api.wf, title="长胜街道入户核查")
    body = api.get("/projects", "clerk").json()
    ids = [p["id"] for p in body["items"]]
    assert set(ids) == {api.project_id, other}
    assert body["next_cursor"] is None
    drafts = api.get("/projects?state=draft", "clerk").json()["items"]
    assert [p["id"] for p in drafts] == [other]
    first = api.get("/projects?sort=id&limit=1", "clerk").json()
    assert [p["id"] for p in first["items"]] == [min(ids)]
    rest = api.get("/projects", "clerk", params={"sort": "id", "cursor": first["next_cursor"]})
    assert [p["id"] for p in rest.json()["items"]] == [max(ids)]
    searched = api.get("/projects", "clerk", params={"q": "长胜"}).json()["items"]
    assert [p["id"] for p in searched] == [other]


def test_the_vocabularies_match_the_read_models() -> None:
    from typing import get_args

    assert get_args(api_module.ProjectSort) == lists.PROJECT_SORTS
    assert get_args(api_module.DeadlineStatus) == lists.DEADLINE_STATUSES
    from workflow.store.parties import RELATIONS

    assert get_args(api_module.Relation) == RELATIONS
    assert api_module.MAX_LIST_LIMIT == lists.MAX_LIMIT


def test_deadlines_by_status(api: Api) -> None:
    open_keys = {d.key for d in api.wf.project(api.project_id).open_deadlines}
    seen = {}
    for status in lists.DEADLINE_STATUSES:
        response = api.get("/deadlines", "clerk", params={"status": status})
        assert response.status_code == 200, response.text
        seen[status] = {d["key"] for d in response.json()["items"]}
    # at the test clock (2031) every open deadline of a 2025 contract is late
    assert seen["open"] == seen["overdue"] == open_keys
    assert seen["met"] == {"dispatch", "training#0"}  # R14: trained before duty
    assert seen["cancelled"] == set() and seen["due_soon"] == set()
    assert seen["all"] == open_keys | {"dispatch", "training#0"}


def test_the_inbox_is_the_callers(api: Api) -> None:
    api.wf.tick()
    api.wf.relay()
    clerk = api.get("/notices", "clerk").json()["items"]
    assert clerk, "the purchaser is told of its overdue deadline"
    assert {(n["org"], n["role"]) for n in clerk} == {("大武口区民政局", "purchaser")}
    assert api.get("/notices", "other-ngo").json()["items"] == []
    gov = api.get("/notices", "gov").json()["items"]
    assert len(gov) >= 2 and {n["role"] for n in gov} == {"government"}
    paged: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"unread_only": "true", "limit": 1}
        if cursor is not None:
            params["cursor"] = cursor
        page = api.get("/notices", "gov", params=params).json()
        paged += [n["id"] for n in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert paged == [n["id"] for n in gov]


def test_health(api: Api) -> None:
    body = api.get("/health", "ngo").json()
    assert body["ok"] is False  # tick and relay never ran
    assert {p["code"] for p in body["problems"]} >= {"tick_never_ran", "relay_never_ran"}


# -- scope: who reads what -----------------------------------------------------------------------


def test_a_contractor_reads_and_acts_only_for_its_own_organisation(api: Api) -> None:
    pid = api.project_id
    assert api.get(f"/projects/{pid}", "ngo").status_code == 200
    assert [p["id"] for p in api.get("/projects", "ngo").json()["items"]] == [pid]
    assert api.get("/projects", "other-ngo").json()["items"] == []
    assert api.get("/deadlines", "other-ngo", params={"status": "all"}).json()["items"] == []
    for path in (f"/projects/{pid}", f"/projects/{pid}/events", f"/projects/{pid}/history"):
        error_of(api.get(path, "other-ngo"), 403, "forbidden", field="project")
    version = api.wf.project(pid).version
    share = {"request_id": 1, "part": "心理疏导", "share": "0.2", "subcontractor": "某机构"}
    refused = api.post(f"/projects/{pid}/events/request_subcontract", "other-ngo", {"data": share})
    error_of(refused, 403, "forbidden")
    assert api.wf.project(pid).version == version


def test_a_supervisor_reads_its_region_only(api: Api) -> None:
    pid = api.project_id
    assert api.get(f"/projects/{pid}", "sup").status_code == 200
    assert api.get(f"/projects/{pid}", "admin").status_code == 200
    error_of(api.get(f"/projects/{pid}", "far-sup"), 403, "forbidden")
    assert api.get("/projects", "far-sup").json()["items"] == []
    # a supervisor reads, never acts
    assert api.get(f"/projects/{pid}/events", "sup").json()["events"] == []
    accept = {"data": {"on": "2026-09-30"}}
    error_of(api.post(f"/projects/{pid}/events/accept", "sup", accept), 403, "forbidden")


# -- writes --------------------------------------------------------------------------------------


def test_fire_then_a_stale_version_is_409(api: Api) -> None:
    pid = api.project_id
    version = api.wf.project(pid).version
    body = b'{"data": {"tranche": 1, "amount": 300000.00, "on": "2026-04-17"}, "expected_version": '
    response = api.client.post(
        f"/api/v1/projects/{pid}/events/pay",
        headers={**api.headers("fin"), "Content-Type": "application/json"},
        content=body + str(version).encode() + b"}",
    )
    assert response.status_code == 200, response.text
    project = response.json()
    assert project["version"] == version + 1
    assert project["payments"] == [
        {"tranche": 1, "amount": "300000.00", "on": "2026-04-17", "by": "fin", "late": True}
    ]
    assert all(MONEY.match(p["amount"]) for p in project["payments"])
    again = api.post(
        f"/projects/{pid}/events/pay",
        "fin",
        {
            "data": {"tranche": 2, "amount": "300000.00", "on": "2026-10-17"},
            "expected_version": version,
        },
    )
    body409 = error_of(again, 409, "concurrent_update", field="expected_version")
    assert str(version + 1) in body409["message_en"]
    assert api.wf.project(pid).version == version + 1


def test_a_guard_refusal_is_422_with_its_rule(api: Api) -> None:
    empty = new_project(api.wf, items=[])
    refused = api.post(f"/projects/{empty}/events/submit", "clerk", {"data": {}})
    error_of(refused, 422, "guard_refused")
    assert refused.json()["rule"] == "R1"
    wrong = api.post(
        f"/projects/{api.project_id}/events/pay",
        "fin",
        {"data": {"tranche": 1, "amount": "299999.99", "on": "2026-04-17"}},
    )
    assert error_of(wrong, 422, "guard_refused")["rule"] == "R7"
    assert api.wf.project(api.project_id).payments == ()


def test_an_illegal_transition_and_a_role_that_may_not_act(api: Api) -> None:
    pid = api.project_id
    error_of(api.post(f"/projects/{pid}/events/approve", "gov"), 422, "illegal_transition")
    draft = new_project(api.wf)
    error_of(api.post(f"/projects/{draft}/events/submit", "fin"), 403, "forbidden")
    submitted = api.post(f"/projects/{draft}/events/submit", "clerk")  # no body: no data
    assert submitted.status_code == 200
    assert submitted.json()["state"] == "pending_approval"


def test_unknown_things_are_404(api: Api) -> None:
    error_of(api.get("/projects/999999", "clerk"), 404, "project_not_found")
    error_of(api.get("/projects/999999/events", "clerk"), 404, "project_not_found")
    error_of(api.get("/projects/999999/history", "clerk"), 404, "project_not_found")
    error_of(api.post("/projects/999999/events/pay", "clerk"), 404, "project_not_found")
    error_of(
        api.post(f"/projects/{api.project_id}/events/launch_rocket", "clerk"),
        404,
        "not_found",
        field="event",
    )
    error_of(api.get("/nothing-here", "clerk"), 404, "not_found", field="path")
    error_of(api.get("/nothing-here"), 404, "not_found")
    error_of(
        api.client.delete("/api/v1/projects", headers=api.headers("clerk")),
        405,
        "method_not_allowed",
    )


BAD_BODIES: list[tuple[bytes, str | None]] = [
    (b"{", "body"),
    (b"[1, 2]", "body"),
    (b'"text"', "body"),
    (b'{"data": {"tranche": NaN}}', "body"),
    (b'{"data": {"tranche": Infinity}}', "body"),
    (b"\xff\xfe", "body"),
    (b'{"data": [1]}', "data"),
    (b'{"data": {}, "at": "2026-01-01T00:00:00+08:00"}', "at"),
    (b'{"data": {"actor": "someone"}}', "data.actor"),
    (b'{"data": {"at": "2026-01-01T00:00:00+08:00"}}', "data.at"),
    (b'{"data": {"connection": 1}}', "data.connection"),
    (b'{"data": {"expected_version": 1}}', "data.expected_version"),
    (b'{"expected_version": "9"}', "expected_version"),
    (b'{"expected_version": true}', "expected_version"),
    (b'{"expected_version": 0}', "expected_version"),
    (b'{"expected_version": 9.0}', "expected_version"),
    (b'{"expected_version": 99999999999999999999}', "body.expected_version"),
    (b'{"data": {"tranche": 1, "amount": "1.00", "on": "2026-04-17\\u0000"}}', "body.data.on"),
    (b'{"data": {"reason": "\\ud800"}}', "body.data.reason"),
    (b'{"data": {"x": ' + b"[" * 40 + b"]" * 40 + b"}}", None),
    (b'{"data": {"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}", "body"),
    (b'{"data": {"tranche": 1.5, "amount": "1.00", "on": "2026-04-17"}}', "tranche"),
    (b'{"data": {"tranche": 1, "amount": 1.005, "on": "2026-04-17"}}', "amount"),
    (b'{"data": {"tranche": 1, "amount": 1e400, "on": "2026-04-17"}}', "amount"),
    (b'{"data": {"tranche": 1, "amount": "1,00", "on": "2026-04-17"}}', "amount"),
    (b'{"data": {"tranche": 1, "amount": "1.00", "on": "17.4.2026"}}', "on"),
    (b'{"data": {"tranche": 1, "amount": "1.00", "on": "2026-04-17", "x": 1}}', "x"),
]


def test_bad_data_is_422_naming_the_field(api: Api) -> None:
    pid = api.project_id
    version = api.wf.project(pid).version
    for body, field in BAD_BODIES:
        response = api.client.post(
            f"/api/v1/projects/{pid}/events/pay",
            headers={**api.headers("fin"), "Content-Type": "application/json"},
            content=body,
        )
        error = error_of(response, 422, "invalid_input")
        if field is not None:
            assert error["field"] == field, (body[:80], error)
    assert api.wf.project(pid).version == version  # nothing written


def test_a_body_over_the_limit_is_refused_unread(api: Api) -> None:
    big = b'{"data": {"reason": "' + b"x" * 1_100_000 + b'"}}'
    response = api.client.post(
        f"/api/v1/projects/{api.project_id}/events/terminate",
        headers=api.headers("clerk"),
        content=big,
    )
    error_of(response, 422, "invalid_input", field="body")
    assert api.wf.project(api.project_id).state == "in_service"


BAD_QUERIES = [
    ("/projects?limit=abc", "limit"),
    ("/projects?limit=0", "limit"),
    ("/projects?limit=201", "limit"),
    ("/projects?state=flying", "state"),
    ("/projects?sort=colour", "sort"),
    ("/projects?overdue=perhaps", "overdue"),
    ("/projects?contractor_id=99999999999999999999", "contractor_id"),
    ("/projects?cursor=not-a-cursor", "cursor"),
    ("/projects?q=%00", "q"),
    ("/projects?q=" + "长" * 201, "q"),
    ("/projects?relation=friend", "relation"),
    ("/deadlines?status=bogus", "status"),
    ("/deadlines?kind=teatime", "kind"),
    ("/deadlines?cursor=%E4%BD%A0", "cursor"),
    ("/notices?limit=501", "limit"),
    ("/notices?cursor=abc", "cursor"),
    ("/projects/0", "project_id"),
    ("/projects/abc/history", "project_id"),
    ("/projects/9223372036854775808", "project_id"),
]


def test_bad_queries_are_422_naming_the_field(api: Api) -> None:
    for query, field in BAD_QUERIES:
        error_of(api.get(query, "clerk"), 422, "invalid_input", field=field)


def test_the_state_filter_offers_every_state() -> None:
    from fastapi.openapi.utils import get_openapi

    document = get_openapi(title="t", version="1", routes=api_module.router.routes)
    parameters = document["paths"]["/projects"]["get"]["parameters"]
    state = next(p for p in parameters if p["name"] == "state")
    ref = state["schema"]["anyOf"][0]["$ref"].rsplit("/", 1)[-1]
    assert document["components"]["schemas"][ref]["enum"] == [s.value for s in ProjectState]


def test_throttled_is_429_in_the_one_shape() -> None:
    from states.errors import LoginThrottled
    from workflow.web.errors import workflow_error_response

    response = workflow_error_response(LoginThrottled(field="login"))
    assert response.status_code == 429
    assert response.headers["retry-after"] == "900"
    import json

    assert set(json.loads(response.body)) == ERROR_KEYS


def test_the_clock_is_the_workflows(api: Api) -> None:
    """An event fired through the API is recorded at the workflow's clock, never a caller's."""
    draft = new_project(api.wf)
    api.post(f"/projects/{draft}/events/submit", "clerk")
    entry = api.wf.history(draft)[-1]
    assert entry.at == api.wf.clock()
    assert entry.actor_id == "clerk" and entry.org == "大武口区民政局"
    assert at("2025-07-30") < entry.at
