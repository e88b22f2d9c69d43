"""The web app: the JSON API under ``/api/v1`` and the dashboard's pages, on one workflow.

:func:`create_app` returns a FastAPI app holding no globals (the workflow is
``app.state.workflow``), so a host can mount it under its own path
(``host.mount("/gpw", create_app(wf))``) or run it with any ASGI server; ``gpw serve`` runs it
with uvicorn.

**The secret key** signs the pages' session cookies. In order: the ``secret_key`` argument (the
CLI passes ``GPW_SECRET_KEY``; only the CLI reads the environment); otherwise one made once with
:mod:`secrets` and kept in the database (``gpw_meta`` row ``web_secret_key``, inserted only if
absent, in one statement, then read back), so every ``gpw serve`` process of a deployment signs
and accepts the same cookies and a restart logs no one out. Deleting the row (or setting
``GPW_SECRET_KEY`` to a new value) logs everyone out. A key must have at least
:data:`MIN_SECRET_KEY` characters. The key is never logged, shown or put in an error.
"""

from __future__ import annotations

import importlib
import importlib.util
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from states.errors import ConfigurationError
from workflow.facade import Workflow
from workflow.tables import meta_t
from workflow.web.api import API_PREFIX, build_api
from workflow.web.errors import install_error_handlers
from workflow.web.public import install as install_public

#: the gpw_meta row holding the generated secret key
SECRET_META_KEY = "web_secret_key"
#: the shortest secret key accepted
MIN_SECRET_KEY = 32


class Startable(Protocol):
    """Something the app starts and stops with itself (``gpw serve --with-worker``: the
    scheduler's :class:`~workflow.scheduler.Worker`)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


def stored_secret_key(wf: Workflow) -> str:
    """The deployment's secret key, kept in the database: made on first use (an INSERT that
    does nothing when another process made it first), then read back, in one transaction."""
    candidate = secrets.token_urlsafe(48)
    with wf.db.transaction() as conn:
        dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
        conn.execute(
            dialect.insert(meta_t)
            .values(key=SECRET_META_KEY, value=candidate)
            .on_conflict_do_nothing(index_elements=["key"])
        )
        value = conn.execute(
            select(meta_t.c.value).where(meta_t.c.key == SECRET_META_KEY)
        ).scalar_one()
    return str(value)


def _check_secret_key(secret_key: str) -> str:
    if not isinstance(secret_key, str) or len(secret_key) < MIN_SECRET_KEY:
        raise ConfigurationError(
            f"密钥（GPW_SECRET_KEY）过短：至少 {MIN_SECRET_KEY} 个字符",
            f"the secret key (GPW_SECRET_KEY) is too short: at least {MIN_SECRET_KEY} characters",
            field="secret_key",
        )
    return secret_key


def pages_available() -> bool:
    """Whether the dashboard's pages are installed (``workflow/web/pages.py``)."""
    return importlib.util.find_spec("workflow.web.pages") is not None


def create_app(
    workflow: Workflow,
    *,
    secret_key: str | None = None,
    https_only: bool = False,
    pages: bool = True,
    worker: Startable | None = None,
) -> FastAPI:
    """The web app on ``workflow``: the JSON API at ``/api/v1`` and (``pages``) the dashboard.

    Args:
        workflow: an open workflow in write mode (logins and token use are recorded).
        secret_key: signs the session cookies; ``None``: the key kept in the database (made
            once, shared by every process on that database). At least 32 characters.
        https_only: the site is served over HTTPS: cookies are marked ``Secure``.
        pages: add the dashboard's pages (when installed); ``False``: the JSON API alone.
        worker: started when the app starts and stopped when it stops (its lifespan), e.g.
            ``workflow.scheduler.Worker(workflow)``.

    Raises:
        ConfigurationError: a read-only workflow, or a secret key that is too short.
    """
    if workflow.mode != "write":
        raise ConfigurationError(
            "网页服务需要可写的数据库（登录与令牌使用都要记录）",
            "the web app needs a workflow opened for writing (logins and token use are recorded)",
            field="mode",
        )
    with_pages = pages and pages_available()
    key = None
    if with_pages:
        key = _check_secret_key(secret_key) if secret_key is not None else None
        key = key or stored_secret_key(workflow)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if worker is not None:
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()

    app = FastAPI(
        title="gpw",
        lifespan=lifespan,
        openapi_url=None,  # the API has its own document, at /api/v1/openapi.json
        docs_url=None,
        redoc_url=None,
    )
    app.state.workflow = workflow
    app.mount(API_PREFIX, build_api(workflow), name="api")
    if with_pages:
        assert key is not None
        module = importlib.import_module("workflow.web.pages")
        module.install(app, workflow, secret_key=key, https_only=https_only)
    else:  # the API alone: every answer, even outside /api/v1, in the one error shape
        install_error_handlers(app)
    install_public(app, workflow, https_only=https_only)  # /public/*: no login (issue #9)
    return app
