"""What every API route depends on: the workflow, the caller (from the bearer token), the
caller's scope, and the request body read as the engine reads numbers (Decimal, never float).

No globals: the workflow lives on ``app.state.workflow`` (:func:`create_app` puts it there).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from states.errors import InvalidInput, Unauthenticated
from workflow.facade import Workflow
from workflow.services.details import check_scope
from workflow.services.scope import project_parties
from workflow.services.users import User
from workflow.views import ProjectView

#: the largest id SQLite and PostgreSQL store, and the range of any integer the API accepts
MAX_ID = 2**63 - 1
MAX_INT = 2**63 - 1
#: a request body larger than this is refused (event data is small: lists are bounded)
MAX_BODY = 1_000_000
#: nesting deeper than this in a body is refused (no payload nests half as deep)
MAX_DEPTH = 32
#: ``Workflow.fire``'s own parameters: never event data
RESERVED_KEYS = frozenset({"actor", "at", "expected_version", "connection", "project_id", "event"})

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="BearerToken",
    description="API 令牌：gpw user token LOGIN / an API token from gpw user token LOGIN",
)


def get_workflow(request: Request) -> Workflow:
    wf: Workflow = request.app.state.workflow
    return wf


def client_ip(request: Request) -> str:
    return request.client.host if request.client is not None else ""


def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    """The caller: the user of a live ``Authorization: Bearer`` token (its use is recorded).

    Raises:
        Unauthenticated: no bearer token, or one that is unknown, revoked or whose user is
            inactive (HTTP 401 with ``WWW-Authenticate: Bearer``).
    """
    if credentials is None:
        raise Unauthenticated(
            "需要 API 令牌：Authorization: Bearer TOKEN",
            "an API token is required: Authorization: Bearer TOKEN",
            field="Authorization",
        )
    wf = get_workflow(request)
    user = wf.users.authenticate_token(credentials.credentials, ip=client_ip(request))
    check_query_text(request)  # after the caller is known: without a token, 401 comes first
    return user


CurrentUser = Annotated[User, Depends(current_user)]
WorkflowDep = Annotated[Workflow, Depends(get_workflow)]


def parties_of(view: ProjectView) -> frozenset[str]:
    """The organisations a project concerns: purchaser, awarded contractor, supervising bodies."""
    data = view.data if isinstance(view.data, dict) else {}
    supervisors = data.get("supervisors")
    contractor = data.get("contractor_name")
    return project_parties(
        view.purchaser,
        contractor if isinstance(contractor, str) else None,
        supervisors if isinstance(supervisors, dict) else None,
    )


def visible_project(wf: Workflow, project_id: int, user: User) -> ProjectView:
    """The project, if the caller's scope reaches it (checked on the server, issue #8).

    Raises:
        ProjectNotFound: no such project (404).
        Forbidden: the project is outside the caller's organisation and region (403).
    """
    view = wf.project(project_id)
    check_scope(user.scope(), project_id, view.purchaser, parties_of(view))
    return view


# -- the body of POST …/events/{event} ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FireRequest:
    """``{"data": {...}, "expected_version": n}``, read with numbers as Decimal."""

    data: dict[str, Any]
    expected_version: int | None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _walk(value: Any, path: str, depth: int) -> Iterator[tuple[str, Any]]:
    """Every key and value of a parsed JSON text with its path, refusing one nested too deep."""
    if depth > MAX_DEPTH:
        raise InvalidInput(
            f"字段 {path} 嵌套过深（最多 {MAX_DEPTH} 层）",
            f"field {path} is nested too deep (at most {MAX_DEPTH} levels)",
            field=path,
        )
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"{path}.{key}", key
            yield from _walk(item, f"{path}.{key}", depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, f"{path}[{i}]", depth + 1)


def _check_values(document: Any) -> None:
    """Refuse what no database stores: text with NUL or a lone surrogate, an integer beyond 64
    bits (each named by its path)."""
    for path, value in _walk(document, "body", 0):
        if isinstance(value, str):
            if "\x00" in value or any("\ud800" <= c <= "\udfff" for c in value):
                raise InvalidInput(
                    f"字段 {path} 含有 NUL 字符或无效的 Unicode",
                    f"field {path} holds a NUL character or invalid Unicode",
                    field=path,
                )
        elif isinstance(value, int) and not isinstance(value, bool):
            if not -MAX_INT <= value <= MAX_INT:
                raise InvalidInput(
                    f"字段 {path} 超出可存的整数范围",
                    f"field {path} is out of the range of integers that can be stored",
                    field=path,
                )


def _too_large() -> InvalidInput:
    return InvalidInput(
        f"请求体过大（最多 {MAX_BODY} 字节）",
        f"the body is too large (at most {MAX_BODY} bytes)",
        field="body",
    )


def parse_fire_body(raw: bytes) -> FireRequest:
    """The body of an event: a JSON object with an optional ``data`` object and an optional
    ``expected_version`` (an integer). Numbers with a point or an exponent are Decimal (never
    float: the engine refuses a float for money); NaN and Infinity are refused; nothing else
    is allowed at the top level. An empty body is ``{}``."""
    if len(raw) > MAX_BODY:
        raise _too_large()
    if not raw.strip():
        document: Any = {}
    else:
        try:
            document = json.loads(
                raw.decode("utf-8"), parse_float=Decimal, parse_constant=_refuse_constant
            )
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
            reason = str(exc) if not isinstance(exc, RecursionError) else "nested too deep"
            raise InvalidInput(
                f"请求体不是有效的 UTF-8 JSON：{reason[:200]}",
                f"the body is not valid UTF-8 JSON: {reason[:200]}",
                field="body",
            ) from exc
    if not isinstance(document, dict):
        raise InvalidInput(
            '请求体须为 JSON 对象：{"data": {...}, "expected_version": n}',
            'the body must be a JSON object: {"data": {...}, "expected_version": n}',
            field="body",
        )
    _check_values(document)
    unknown = sorted(set(document) - {"data", "expected_version"})
    if unknown:
        raise InvalidInput(
            f"请求体中有未知字段 {unknown[0]}（只能有 data 与 expected_version）",
            f"unknown field {unknown[0]} in the body (only data and expected_version)",
            field=unknown[0],
        )
    data = document.get("data", {})
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidInput(
            "data 须为 JSON 对象（{...}）", "data must be a JSON object ({...})", field="data"
        )
    for key in data:
        if key in RESERVED_KEYS:
            raise InvalidInput(
                f"{key} 不是事件数据（版本用 expected_version；时间与操作人由服务器记录）",
                f"{key} is not event data (the version goes in expected_version; the time "
                "and the actor are recorded by the server)",
                field=f"data.{key}",
            )
    version = document.get("expected_version")
    if version is not None and (
        not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= MAX_ID
    ):
        raise InvalidInput(
            f"expected_version 须为 1 至 {MAX_ID} 的整数",
            f"expected_version must be an integer from 1 to {MAX_ID}",
            field="expected_version",
        )
    return FireRequest(data=data, expected_version=version)


async def fire_body(request: Request) -> FireRequest:
    """Read and check the body of ``POST …/events/{event}`` (after the caller is known)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:  # stop reading: refuse without holding the rest in memory
            raise _too_large()
        chunks.append(chunk)
    return parse_fire_body(b"".join(chunks))


def check_query_text(request: Request) -> None:
    """Refuse a query string with a NUL character or undecodable text (named by its
    parameter) before a store sees it: no database stores NUL in text."""
    for name, value in request.query_params.multi_items():
        for text in (name, value):
            if "\x00" in text or any("\ud800" <= c <= "\udfff" for c in text):
                raise InvalidInput(
                    f"查询参数 {name!r} 含有 NUL 字符或无效的 Unicode",
                    f"query parameter {name!r} holds a NUL character or invalid Unicode",
                    field=name.replace("\x00", ""),
                )
