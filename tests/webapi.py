"""Support for the JSON API's tests (issue #8): users with tokens on a real database, a client
with a token per user, and the check of the one error shape.

Passwords are hashed with argon2's cheapest parameters here (the users service takes any
``PasswordHasher``): the tests are about the API, not about the hash's cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from argon2 import PasswordHasher
from fastapi.testclient import TestClient

#: login → (role, org, region)
USERS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "clerk": ("purchaser", "大武口区民政局", ()),
    "gov": ("government", "大武口区人民政府", ()),
    "fin": ("finance", "大武口区财政局", ()),
    "ngo": ("contractor", "星海社会工作服务中心", ()),
    "other-ngo": ("contractor", "惠农区阳光社工服务中心", ()),
    "sup": ("supervisor", "石嘴山市民政局", ("大武口区",)),
    "far-sup": ("supervisor", "银川市民政局", ("兴庆区",)),
    "admin": ("admin", "信息中心", ()),
}
PASSWORD = "correct horse battery"


@dataclass
class Api:
    """A test client on the app, a token per user, and a project in service."""

    wf: Any
    client: TestClient
    tokens: dict[str, str]
    project_id: int
    contractor_id: int
    extra: dict[str, Any] = field(default_factory=dict)

    def headers(self, login: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[login]}"}

    def get(self, path: str, login: str | None = None, **kwargs: Any) -> Any:
        headers = self.headers(login) if login else {}
        return self.client.get(f"/api/v1{path}", headers=headers, **kwargs)

    def post(self, path: str, login: str | None = None, body: Any = None, **kwargs: Any) -> Any:
        headers = self.headers(login) if login else {}
        if body is not None:
            kwargs["json"] = body
        return self.client.post(f"/api/v1{path}", headers=headers, **kwargs)


def add_users(wf: Any) -> dict[str, str]:
    wf.users.hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    tokens = {}
    for login, (role, org, region) in USERS.items():
        wf.users.add(login, role=role, org=org, password=PASSWORD, region=region)
        tokens[login] = wf.users.issue_token(login, label="test")
    return tokens


ERROR_KEYS = {"code", "rule", "field", "message", "message_en"}


def error_of(response: Any, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    """The body of an error answer, checked for the one shape, its status and code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    assert body["code"] == code, body
    assert body["message"] and body["message_en"]
    assert body["message"] != body["message_en"]  # Chinese first, English second
    if field is not None:
        assert body["field"] == field, body
    return dict(body)
