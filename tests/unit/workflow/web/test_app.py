"""create_app (issue #8): no globals, a host may mount it, the secret key kept once per database,
a bug answered 500 in the one shape and logged without secrets."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from support import project_in
from webapi import add_users, error_of

from states.errors import ConfigurationError
from workflow import Workflow
from workflow.web import create_app
from workflow.web.app import MIN_SECRET_KEY, SECRET_META_KEY, stored_secret_key
from workflow.web.errors import redact


def meta_value(wf: Any, key: str) -> str | None:
    from sqlalchemy import select

    from workflow.tables import meta_t

    with wf.engine.connect() as conn:
        value = conn.execute(select(meta_t.c.value).where(meta_t.c.key == key)).scalar()
    return None if value is None else str(value)


def test_the_secret_key_is_made_once_and_shared(wf: Any, db_url: str) -> None:
    assert meta_value(wf, SECRET_META_KEY) is None
    first = stored_secret_key(wf)
    assert len(first) >= MIN_SECRET_KEY
    other = Workflow.open(db_url)  # another process's workflow on the same database
    try:
        assert stored_secret_key(other) == first
    finally:
        other.close()
    assert meta_value(wf, SECRET_META_KEY) == first


def test_racing_processes_agree_on_one_key(db_url: str, wf: Any) -> None:
    workflows = [Workflow.open(db_url) for _ in range(4)]
    keys: list[str] = []
    start = threading.Barrier(len(workflows))

    def make(each: Any) -> None:
        start.wait()
        keys.append(stored_secret_key(each))

    threads = [threading.Thread(target=make, args=(w,)) for w in workflows]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for w in workflows:
        w.close()
    assert len(keys) == 4 and len(set(keys)) == 1
    assert meta_value(wf, SECRET_META_KEY) == keys[0]


def test_the_api_alone_needs_no_key_and_a_given_key_must_be_long(wf: Any) -> None:
    create_app(wf, pages=False)
    assert meta_value(wf, SECRET_META_KEY) is None
    with pytest.raises(ConfigurationError) as refused:
        create_app(wf, secret_key="k3y-Sh0rt", pages=True)
    assert refused.value.field == "secret_key"
    assert "k3y-Sh0rt" not in refused.value.message


def test_a_read_only_workflow_is_refused(db_url: str, wf: Any) -> None:
    reader = Workflow.open(db_url, mode="read")
    try:
        with pytest.raises(ConfigurationError):
            create_app(reader)
    finally:
        reader.close()


def test_two_apps_hold_their_own_workflow(wf: Any, db_url: str) -> None:
    tokens = add_users(wf)
    pid, _ = project_in(wf, "draft")
    other = Workflow.open(db_url)
    try:
        apps = [create_app(wf, pages=False), create_app(other, pages=False)]
        assert apps[0].state.workflow is wf and apps[1].state.workflow is other
        for app in apps:
            with TestClient(app) as client:
                got = client.get(
                    f"/api/v1/projects/{pid}/history",
                    headers={"Authorization": f"Bearer {tokens['clerk']}"},
                )
                assert got.status_code == 200
    finally:
        other.close()


def test_a_host_mounts_the_app_under_its_own_path(wf: Any) -> None:
    tokens = add_users(wf)
    pid, _ = project_in(wf, "draft")
    host = FastAPI()
    host.mount("/gpw", create_app(wf, pages=False))
    auth = {"Authorization": f"Bearer {tokens['clerk']}"}
    with TestClient(host) as client:
        assert client.get(f"/gpw/api/v1/projects/{pid}", headers=auth).status_code == 200
        document = client.get("/gpw/api/v1/openapi.json", headers=auth).json()
        assert document["servers"] == [{"url": "/gpw/api/v1"}]
        error_of(client.get("/gpw/api/v1/projects"), 401, "unauthenticated")


def test_a_bug_is_500_in_the_one_shape_and_logged_without_secrets(
    wf: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = add_users(wf)
    token = tokens["admin"]
    url = "postgresql://u:" + "pw" + "@db/gpw"  # (the log shows this line of source)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"boom: token={token} Bearer {token} {url}")

    monkeypatch.setattr(wf.lists, "health", broken)
    with TestClient(create_app(wf, pages=False)) as client, caplog.at_level(logging.ERROR):
        response = client.get("/api/v1/health", headers={"Authorization": f"Bearer {token}"})
    body = error_of(response, 500, "internal_error")
    assert "boom" not in response.text and token not in response.text
    assert body["field"] is None
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "gpw.web")
    assert "RuntimeError" in logged and "GET /api/v1/health" in logged
    assert token not in logged and token[4:] not in logged and ":pw@" not in logged


def test_an_unreachable_database_is_503(
    wf: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    tokens = add_users(wf)

    def down(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("SELECT 1", {"password": "hunter2"}, Exception("connection refused"))

    monkeypatch.setattr(wf.lists, "health", down)
    with TestClient(create_app(wf, pages=False)) as client, caplog.at_level(logging.ERROR):
        response = client.get(
            "/api/v1/health", headers={"Authorization": f"Bearer {tokens['fin']}"}
        )
    error_of(response, 503, "unavailable")
    assert response.headers["retry-after"]
    assert "hunter2" not in caplog.text and "connection refused" in caplog.text


def test_redact() -> None:
    assert redact("Bearer gpw_abcdefghijklmnop") == "Bearer ***"
    assert redact("token gpw_abcdefghijklmnop seen") == "token gpw_*** seen"
    assert redact("password=hunter2 next") == "password=*** next"
    assert redact("postgresql://gpw:s3cret@db:5432/gpw") == "postgresql://gpw:***@db:5432/gpw"
    assert redact("nothing secret here") == "nothing secret here"
