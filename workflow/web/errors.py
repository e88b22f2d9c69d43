"""The JSON API's one error shape, and the handlers that give every failure that shape.

Every error the API answers is ``{"code", "rule", "field", "message", "message_en"}`` (``message``
is the Chinese one). The HTTP status follows the engine's error tree (``states.errors``):

=====  ==============================================================================
401    ``Unauthenticated``: no ``Authorization: Bearer`` token, or a bad or revoked one
       (with ``WWW-Authenticate: Bearer``)
403    ``Forbidden``: a role or organisation that may not act, or a project outside the
       caller's scope
404    ``NotFound`` (``ProjectNotFound``, ``ContractorNotFound``, an unknown event or route)
405    a method the route does not have
409    ``ConcurrentUpdate``: ``expected_version`` is stale, or another writer won
422    ``GuardRefused``, ``IllegalTransition``, ``InvalidInput`` and FastAPI's own validation
       errors (the field named), a value out of the range the database stores
429    ``LoginThrottled``
503    the database cannot be reached (nothing secret said; the cause goes to the log)
500    a bug, and only a bug: the exception goes to the log (no parameter values, no token),
       the answer says nothing of it
=====  ==============================================================================
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from states.errors import (
    ConcurrentUpdate,
    Forbidden,
    GuardRefused,
    IllegalTransition,
    InvalidInput,
    LoginThrottled,
    NotFound,
    Unauthenticated,
    WorkflowError,
)

_LOGGER = logging.getLogger("gpw.web")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


#: headers of every API answer: private data, never kept by a cache nor read as anything but
#: JSON
API_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


class ApiJSONResponse(JSONResponse):
    """JSON as the engine writes it: UTF-8 text (Chinese as is), Decimal as its exact string
    (never a float: FastAPI's own encoder would turn money into a binary float); with
    :data:`API_HEADERS`."""

    def __init__(
        self,
        content: Any,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: Any = None,
    ) -> None:
        super().__init__(
            content, status_code, {**API_HEADERS, **(headers or {})}, media_type, background
        )

    def render(self, content: Any) -> bytes:
        return json.dumps(
            content, ensure_ascii=False, separators=(",", ":"), default=_jsonable
        ).encode("utf-8")


def error_body(
    code: str,
    message: str,
    message_en: str,
    *,
    field: str | None = None,
    rule: str | None = None,
) -> dict[str, Any]:
    """The one error shape."""
    return {
        "code": code,
        "rule": rule,
        "field": field,
        "message": message,
        "message_en": message_en,
    }


def status_of(exc: WorkflowError) -> int:
    """The HTTP status of an engine error."""
    if isinstance(exc, LoginThrottled):
        return 429
    if isinstance(exc, Unauthenticated):
        return 401
    if isinstance(exc, Forbidden):
        return 403
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, ConcurrentUpdate):
        return 409
    if isinstance(exc, GuardRefused | IllegalTransition | InvalidInput):
        return 422
    return 500


#: the challenge of a 401 (RFC 6750); a token that was sent but refused says so
BEARER = 'Bearer realm="gpw"'
BEARER_INVALID = 'Bearer realm="gpw", error="invalid_token"'


def workflow_error_response(exc: WorkflowError) -> ApiJSONResponse:
    status = status_of(exc)
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = BEARER_INVALID if exc.field == "token" else BEARER
    elif status == 429:
        headers["Retry-After"] = "900"
    if status == 500:  # an engine error no status names (ConfigurationError, the root): logged
        _LOGGER.error("engine error answered 500: %s", redact(exc.message))
    body = error_body(exc.code, exc.message_zh, exc.message_en, field=exc.field, rule=exc.rule)
    return ApiJSONResponse(body, status_code=status, headers=headers)


#: pydantic's error types, in Chinese (the English is pydantic's own message)
_VALIDATION_ZH = {
    "missing": "缺少此项",
    "int_parsing": "须为整数",
    "int_type": "须为整数",
    "int_from_float": "须为整数",
    "bool_parsing": "须为 true 或 false",
    "bool_type": "须为 true 或 false",
    "string_type": "须为文本",
    "string_too_long": "过长",
    "string_too_short": "过短",
    "greater_than_equal": "过小",
    "greater_than": "过小",
    "less_than_equal": "过大",
    "less_than": "过大",
    "literal_error": "取值不在允许范围内",
    "enum": "取值不在允许范围内",
    "json_invalid": "不是有效的 JSON",
    "model_attributes_type": "须为 JSON 对象",
    "dict_type": "须为 JSON 对象",
}


def validation_error_response(exc: RequestValidationError) -> ApiJSONResponse:
    """FastAPI's validation errors in the one shape: the first error, its field named (the
    offending value is not echoed: it may be long, or something the caller should not see)."""
    errors = list(exc.errors())
    first = errors[0] if errors else {}
    loc = [str(part) for part in first.get("loc", ()) if part not in ("query", "path", "body")]
    field = ".".join(loc) or None
    kind = str(first.get("type", ""))
    zh = _VALIDATION_ZH.get(kind, "无效")
    en = str(first.get("msg", "invalid value"))
    where_zh = f"字段 {field} " if field else "请求"
    where_en = f"field {field}" if field else "the request"
    extra_zh = f"（另有 {len(errors) - 1} 处错误）" if len(errors) > 1 else ""
    extra_en = f" ({len(errors) - 1} more error(s))" if len(errors) > 1 else ""
    body = error_body(
        InvalidInput.code,
        f"{where_zh}{zh}{extra_zh}",
        f"{where_en}: {en}{extra_en}",
        field=field,
    )
    return ApiJSONResponse(body, status_code=422)


def http_error_response(exc: StarletteHTTPException) -> ApiJSONResponse:
    if exc.status_code == 404:
        body = error_body(NotFound.code, "没有这个地址", "no such route", field="path")
    elif exc.status_code == 405:
        body = error_body(
            "method_not_allowed", "该地址不支持此方法", "method not allowed", field="method"
        )
    else:
        body = error_body(
            "http_error", f"请求错误（{exc.status_code}）", f"HTTP error {exc.status_code}"
        )
    headers = dict(exc.headers or {})
    return ApiJSONResponse(body, status_code=exc.status_code, headers=headers)


def out_of_range_response() -> ApiJSONResponse:
    body = error_body(
        InvalidInput.code,
        "数值超出数据库可存的范围",
        "a number is out of the range the database can store",
        field="value",
    )
    return ApiJSONResponse(body, status_code=422)


def unavailable_response() -> ApiJSONResponse:
    body = error_body(
        "unavailable",
        "数据库暂时无法访问，请稍后再试",
        "the database cannot be reached just now; try again later",
    )
    return ApiJSONResponse(body, status_code=503, headers={"Retry-After": "5"})


def internal_response() -> ApiJSONResponse:
    body = error_body(
        "internal_error",
        "内部错误（已记录，请报告）",
        "internal error (logged; please report it)",
    )
    return ApiJSONResponse(body, status_code=500)


_SECRETS = (
    re.compile(r"(?i)(bearer\s+)\S+"),
    re.compile(r"gpw_[A-Za-z0-9_\-]{8,}"),
    re.compile(r"(?i)(password|secret|token)(['\"]?\s*[:=]\s*)\S+"),
    re.compile(r"(?i)(://[^:/@\s]*:)[^@\s]*@"),
)


def redact(text: str) -> str:
    """A message fit for the log: tokens, passwords and a URL's password replaced by ***."""
    text = _SECRETS[0].sub(r"\1***", text)
    text = _SECRETS[1].sub("gpw_***", text)
    text = _SECRETS[2].sub(r"\1\2***", text)
    return _SECRETS[3].sub(r"\1***@", text)


def _describe(exc: BaseException) -> str:
    """One line about an exception: its type and a redacted message; a SQLAlchemy error is named
    by the driver's error, without the SQL or its parameters."""
    orig = getattr(exc, "orig", None)
    if orig is not None:
        first = (str(orig).strip().splitlines() or [""])[0]
        return f"{type(exc).__name__} ({type(orig).__name__}): {redact(first[:300])}"
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {redact(first[:300])}"


def log_unexpected(exc: BaseException, scope: Scope) -> None:
    """Log a bug: the request line (no query string, no header) and where it happened."""
    frames = "".join(traceback.format_tb(exc.__traceback__))
    _LOGGER.error(
        "unexpected error on %s %s: %s\n%s",
        scope.get("method", "?"),
        scope.get("path", "?"),
        _describe(exc),
        frames,
    )


def _database_unreachable(exc: BaseException) -> bool:
    from sqlalchemy.exc import InterfaceError, OperationalError, TimeoutError

    return isinstance(exc, OperationalError | InterfaceError | TimeoutError)


def _out_of_range(exc: BaseException) -> bool:
    from sqlalchemy.exc import DataError, StatementError

    if isinstance(exc, OverflowError | DataError):
        return True
    return isinstance(exc, StatementError) and isinstance(exc.orig, OverflowError)


class CatchAll:
    """The last net: whatever escaped the handlers is answered in the one shape. A value out of
    the database's range is 422, an unreachable database 503 (logged), anything else a bug:
    logged without secrets and answered 500. Never a traceback in a body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:
            if started:  # too late to answer: the response is on its way; log only
                log_unexpected(exc, scope)
                return
            if _out_of_range(exc):
                response = out_of_range_response()
            elif _database_unreachable(exc):
                _LOGGER.error(
                    "database unreachable on %s %s: %s",
                    scope.get("method", "?"),
                    scope.get("path", "?"),
                    _describe(exc),
                )
                response = unavailable_response()
            else:
                log_unexpected(exc, scope)
                response = internal_response()
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Give every failure of ``app`` the one error shape."""

    async def on_workflow_error(request: Request, exc: Exception) -> ApiJSONResponse:
        assert isinstance(exc, WorkflowError)
        return workflow_error_response(exc)

    async def on_validation_error(request: Request, exc: Exception) -> ApiJSONResponse:
        assert isinstance(exc, RequestValidationError)
        return validation_error_response(exc)

    async def on_http_error(request: Request, exc: Exception) -> ApiJSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return http_error_response(exc)

    app.add_exception_handler(WorkflowError, on_workflow_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_middleware(CatchAll)
