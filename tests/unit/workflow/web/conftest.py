"""The JSON API on a real database (both backends, the ``wf`` fixture): a user and a token per
role, a project in service, a test client on the app (``webapi.Api``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support import project_in
from webapi import Api, add_users

from workflow.web import create_app


@pytest.fixture
def api(wf: Any) -> Iterator[Api]:
    tokens = add_users(wf)
    pid, cid = project_in(wf, "in_service")
    app = create_app(wf, pages=False)
    with TestClient(app) as client:
        yield Api(wf=wf, client=client, tokens=tokens, project_id=pid, contractor_id=cid)
