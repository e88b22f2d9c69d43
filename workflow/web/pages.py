"""The dashboard's server-rendered pages (issue #8): overview, projects, a project and its
actions, deadlines, contractors, the inbox; login and logout.

:func:`install` adds them to the app ``workflow.web.app.create_app`` builds (the JSON API lives
under ``/api/v1`` beside them). What they hold to:

* **Login on every page** (``/login`` and ``/static`` aside): no session, or a session whose user
  is gone or inactive, is sent to ``/login?next=…``. The session (``workflow.web.session``) holds
  only the login and the form token.
* **CSRF**: every POST form carries the session's token, checked before anything else; without it
  or with a wrong one the answer is a 403 page and nothing is done.
* **Reads scoped on the server**: every list and page is read through the user's
  :class:`~workflow.services.scope.Scope`; a project outside it is a 403 page, whatever the
  buttons showed. Events are checked again by the engine (role, organisation, state, guards).
* **Actions**: the project page has a form for each event the user may fire now
  (``wf.available_events``) and no other, built from the event's fields
  (``workflow.services.events``); a refusal is shown with its rule and reason and the input kept;
  a stale form (``ConcurrentUpdate``) says so and shows the fresh state; success redirects
  (POST/redirect/GET) to the project with a message.
* **Escaping**: Jinja2 with autoescape on and ``StrictUndefined``: user text is text.
* **Errors**: 403/404/500 are pages in the same layout; no traceback, no secret in a page (the
  exception goes to the log only).
* **Language**: Chinese by default; ``?lang=en`` (or ``?lang=zh``) switches and is remembered in
  a cookie of its own.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from states.enums import CONTRACT_TERMS
from states.errors import (
    ConcurrentUpdate,
    ConfigurationError,
    Forbidden,
    InvalidInput,
    LoginThrottled,
    NotFound,
    Unauthenticated,
    WorkflowError,
)
from states.machine import EVENTS
from workflow.services.events import event_fields
from workflow.services.lists import DEADLINE_STATUSES, NOTICE_FILTERS, PROJECT_SORTS
from workflow.store.parties import RELATIONS
from workflow.views import ProjectSummary
from workflow.web.errors import log_unexpected
from workflow.web.i18n import DEADLINE_KINDS, ROLES, STATES, Translator
from workflow.web.session import (
    CSRF_FIELD,
    SESSION_MAX_AGE,
    add_session_middleware,
    csrf_ok,
    csrf_token,
    end_session,
    remember_lang,
    request_lang,
    session_info,
    session_login,
    start_session,
)

if TYPE_CHECKING:
    from workflow import Workflow
    from workflow.services.users import User

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
TZ = ZoneInfo("Asia/Shanghai")
#: the largest id a path may name (a database integer); a larger one is simply not found
MAX_ID = 2**31 - 1
#: rows a list page shows
PAGE_SIZE = 50
#: overdue deadlines the overview lists (the number links to all of them)
OVERVIEW_OVERDUE = 10
#: the project list's sort orders offered (``workflow.services.lists.PROJECT_SORTS``)
SORT_CHOICES = ("-updated", "-created", "title", "state", "-id", "id")
#: text fields shown as a text area (reasons, notices, findings: several lines allowed)
LONG_TEXT = frozenset({"reason", "notice", "findings", "note", "part"})
#: what a text area of lines or JSON looks like, shown while it is empty
EXAMPLES = {
    "items": '[{"name": "社会救助入户核查", "quantity": 16, "unit": "人"}]',
    "staff": '[{"name": "核查员01", "education": "大专", "computer_literate": true}]',
    "reviewers": "专家甲\n专家乙\n专家丙",
    "criteria": "quality=70\nprice=30",
    "scores": "1=90\n2=85",
}
#: page paths reachable without a login (``/public``: workflow.web.public, its own routes)
PUBLIC = ("/login", "/static", "/public")

# Security headers of every page. Scripts only from this site (the vendored mermaid and
# gpw.js, no inline script); mermaid writes inline styles into the SVG it draws.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class LoginRequired(Exception):
    """No live session: go to the login page."""


class PageError(Exception):
    """An error page: a status and what to say (a text key, or an engine error)."""

    def __init__(self, status: int, text: str = "", *, error: WorkflowError | None = None) -> None:
        super().__init__(text or (error.message if error else str(status)))
        self.status = status
        self.text = text
        self.error = error


# -- formatting -----------------------------------------------------------------------------


def _as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.astimezone(TZ).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def fmt_money(value: object) -> str:
    """``1,200,000.00``: two places, thousands separated (an empty value shows as nothing)."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return f"{amount.quantize(Decimal('0.01')):,}"


def fmt_date(value: object) -> str:
    day = _as_date(value)
    return day.isoformat() if day else ("" if value is None else str(value))


def fmt_datetime(value: object) -> str:
    """An instant in Beijing time: ``2026-12-04 10:30``."""
    if isinstance(value, str) and value:
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if isinstance(value, datetime):
        local = value.astimezone(TZ) if value.tzinfo else value
        return local.strftime("%Y-%m-%d %H:%M")
    return "" if value is None else str(value)


def fmt_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True, default=str)


def _get(obj: object, name: str, default: Any = None) -> Any:
    """An attribute of a view or a key of its dict, whichever it has."""
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def make_templates() -> Jinja2Templates:
    """The pages' Jinja2 environment: autoescape on, StrictUndefined, gpw's filters."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["money"] = fmt_money
    env.filters["day"] = fmt_date
    env.filters["when"] = fmt_datetime
    env.filters["tojson_text"] = fmt_json
    env.globals["get"] = _get
    return Jinja2Templates(env=env)


# -- event forms ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One input of an event's form, from the event's field description."""

    name: str
    type: str
    required: bool
    #: text, textarea, select, checkboxes, date, integer, decimal, boolean, lines, pairs,
    #: terms (one input per R6 term), json (a list of objects)
    widget: str
    allowed: tuple[str, ...] = ()
    #: sub-inputs (``terms``: the seven R6 terms)
    keys: tuple[str, ...] = ()
    #: what each allowed value is shown as (a select of this project's own things); empty:
    #: the value's label from ``workflow.web.i18n``
    labels: tuple[str, ...] = ()

    def with_choices(self, choices: Sequence[tuple[str, str]]) -> FieldSpec:
        """This input as a select of ``(value, label)`` choices."""
        return dataclasses.replace(
            self,
            widget="select",
            allowed=tuple(v for v, _ in choices),
            labels=tuple(label for _, label in choices),
        )


def field_specs(event: str) -> list[FieldSpec]:
    """The inputs of ``event``'s form: real inputs for simple fields, a text area of lines for
    lists of text and simple mappings, JSON for lists of objects."""
    specs = []
    for f in event_fields(event):
        name, kind, required = str(f["name"]), str(f["type"]), bool(f["required"])
        allowed = tuple(str(a) for a in f["allowed"])
        keys: tuple[str, ...] = ()
        if kind == "boolean":
            widget = "boolean"
        elif kind in ("date", "integer", "decimal"):
            widget = kind
        elif kind == "string":
            widget = "select" if allowed else ("textarea" if name in LONG_TEXT else "text")
        elif kind.startswith("list[") and allowed:
            widget = "checkboxes"
        elif kind == "list[string]":
            widget = "lines"
        elif name == "terms":
            widget, keys = "terms", CONTRACT_TERMS
        elif kind.startswith("object[") and "{" not in kind:
            widget = "pairs"
        else:
            widget = "json"
        specs.append(FieldSpec(name, kind, required, widget, allowed, keys))
    return specs


_INTEGER = re.compile(r"^[+-]?[0-9]{1,18}$")


def _form_refusal(spec: FieldSpec, zh: str, en: str) -> InvalidInput:
    return InvalidInput(f"字段 {spec.name}：{zh}", f"field {spec.name}: {en}", field=spec.name)


def _pairs(spec: FieldSpec, text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        key, sep, value = line.replace("＝", "=").partition("=")
        if not sep or not key.strip():
            raise _form_refusal(
                spec, f"第 {number} 行须为「键=值」", f"line {number} is not key=value"
            )
        out[key.strip()] = value.strip()
    return out


def form_values(specs: Sequence[FieldSpec], form: FormData) -> dict[str, Any]:
    """What the user typed into an event's form, by input name (shown again if refused)."""
    raw: dict[str, Any] = {}
    for spec in specs:
        if spec.widget == "checkboxes":
            raw[spec.name] = [v for v in form.getlist(spec.name) if isinstance(v, str)]
        elif spec.widget == "terms":
            for key in spec.keys:
                value = form.get(f"{spec.name}.{key}")
                raw[f"{spec.name}.{key}"] = value if isinstance(value, str) else ""
        else:
            value = form.get(spec.name)
            raw[spec.name] = value if isinstance(value, str) else ""
    return raw


def parse_event_form(specs: Sequence[FieldSpec], raw: Mapping[str, Any]) -> dict[str, Any]:
    """The event data of a form's values (:func:`form_values`).

    Empty optional inputs are left out; an empty required one is left out too, so the engine
    names it ("缺少必填字段"). Integers become ``int``, booleans ``bool``, decimals stay text (the
    engine parses them exactly, never as floats); JSON numbers are read as ``Decimal``.

    Raises:
        InvalidInput: a line that is not ``key=value``, or text that is not JSON, naming the field.
    """
    data: dict[str, Any] = {}
    for spec in specs:
        if spec.widget == "checkboxes":
            chosen = list(raw.get(spec.name) or [])
            if chosen or spec.required:
                data[spec.name] = chosen
            continue
        if spec.widget == "terms":
            sub = {key: str(raw.get(f"{spec.name}.{key}") or "").strip() for key in spec.keys}
            if any(sub.values()) or spec.required:
                data[spec.name] = {k: v for k, v in sub.items() if v}
            continue
        text = str(raw.get(spec.name) or "")
        value = text.strip()
        if not value:
            continue
        if spec.type == "integer":
            data[spec.name] = int(value) if _INTEGER.match(value) else value
        elif spec.widget == "boolean":
            data[spec.name] = {"true": True, "false": False}.get(value, value)
        elif spec.widget == "lines":
            data[spec.name] = [line.strip() for line in value.splitlines() if line.strip()]
        elif spec.widget == "pairs":
            data[spec.name] = _pairs(spec, value)
        elif spec.widget == "json":
            try:
                data[spec.name] = json.loads(value, parse_float=Decimal)
            except ValueError as exc:
                raise _form_refusal(spec, "须为 JSON", f"is not JSON ({exc})") from exc
        else:
            data[spec.name] = text if spec.widget == "textarea" else value
    return data


@dataclass(slots=True)
class ActionForm:
    """One event's form on the project page."""

    event: str
    fields: list[FieldSpec]
    #: what the user typed, when the form comes back refused
    values: dict[str, Any] = field(default_factory=dict)
    #: the refusal to show with it
    error: WorkflowError | None = None
    #: the project was changed by someone else meanwhile
    stale: bool = False


@dataclass(slots=True)
class Refusal:
    """A refused submission: the event, its error, what was typed."""

    event: str
    error: WorkflowError
    values: dict[str, Any]
    stale: bool = False


def refusal_status(error: WorkflowError) -> int:
    if isinstance(error, Forbidden):
        return 403
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, ConcurrentUpdate):
        return 409
    if error.code == "illegal_transition":
        return 409
    return 422


def _safe_next(value: object) -> str:
    """A local path to go to after logging in (never another site)."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//"):
        return "/"
    if "\\" in value or any(ord(c) < 32 for c in value) or len(value) > 2000:
        return "/"
    return value


def _int_arg(value: object, *, lo: int = 1, hi: int = MAX_ID) -> int | None:
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        number = int(value.strip())
    else:
        return None
    return number if lo <= number <= hi else None


def _flag(value: object) -> bool | None:
    """A yes/no filter: ``1``/``true``/``yes`` or ``0``/``false``/``no``; anything else: unset."""
    if not isinstance(value, str):
        return None
    return {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}.get(
        value.strip().lower()
    )


def _text_arg(value: object, limit: int = 200) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or any(ord(c) < 32 for c in text):
        return None
    return text[:limit]


def _choices(detail: Any, _: Translator) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """Inputs that name one of this project's own things, as selects: the open deadline to
    correct, the subcontract request to decide or carry out."""
    out: dict[tuple[str, str], list[tuple[str, str]]] = {}
    open_deadlines = [
        (
            d.deadline.key,
            f"{_.kind(d.deadline.kind)} · {d.deadline.key} · {fmt_date(d.deadline.due)}",
        )
        for d in _get(detail, "deadlines", ())
        if d.deadline.status == "open"
    ]
    out[("correct_deadline", "key")] = open_deadlines
    # 中止计时、延长: a running deadline other than the term's end; 恢复计时: a suspended one
    clocked = [c for c in open_deadlines if not c[0].startswith("contract_end")]
    out[("suspend_deadline", "key")] = out[("extend_deadline", "key")] = clocked
    out[("resume_deadline", "key")] = [
        (
            d.deadline.key,
            f"{_.kind(d.deadline.kind)} · {d.deadline.key} · {fmt_date(d.deadline.suspended_on)}",
        )
        for d in _get(detail, "deadlines", ())
        if d.deadline.status == "suspended"
    ]
    requests = list(_get(_get(detail, "subcontracts"), "requests", ()) or ())

    def of(*statuses: str) -> list[tuple[str, str]]:
        return [
            (
                str(r.get("id")),
                f"#{r.get('id')} {r.get('part', '')} → {r.get('to', '')} ({r.get('share', '')})",
            )
            for r in requests
            if r.get("status") in statuses
        ]

    out[("approve_subcontract", "request_id")] = of("requested")
    out[("reject_subcontract", "request_id")] = of("requested")
    out[("subcontract", "request_id")] = of("approved")
    return out


# -- the pages ------------------------------------------------------------------------------

#: a page handler: (request, the user or None where no login is needed, the form) -> page
View = Callable[..., Response]


class Pages:
    """The page handlers over one workflow. Each view runs in a worker thread (the workflow's
    calls are synchronous); the async endpoint around it reads the form and turns every error
    into a page."""

    def __init__(self, wf: Workflow, *, https_only: bool = False) -> None:
        self.wf = wf
        self.https_only = https_only
        self.templates = make_templates()

    # -- plumbing -------------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self.wf.clock()

    def user_of(self, request: Request) -> User:
        """The logged-in user, read afresh: a session logged out, older than a working day, or
        begun before its user was deactivated or given a new password is out at once."""
        info = session_info(request)
        if info is None:
            if session_login(request) is not None:
                end_session(request)
            raise LoginRequired
        if self._now() - info.since > timedelta(seconds=SESSION_MAX_AGE):
            end_session(request)
            raise LoginRequired
        try:
            return self.wf.users.session_user(info.login, session=info.sid, since=info.since)
        except Unauthenticated as exc:
            end_session(request)
            raise LoginRequired from exc

    def url(self, request: Request, path: str, **query: Any) -> str:
        """A path of this app (under the host's mount point), with a query of the set values."""
        base = request.scope.get("root_path", "").rstrip("/") + path
        pairs = [(k, v) for k, v in query.items() if v is not None and v != "" and v is not False]
        return f"{base}?{urlencode(pairs)}" if pairs else base

    @staticmethod
    def _switch_url(request: Request, lang: str, path: str | None = None) -> str:
        """This page in the other language (``path``: the page's own address when a form's POST
        rendered it, so the switch GETs the page, not the form's action)."""
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
        params.append(("lang", "en" if lang == "zh" else "zh"))
        # one leading slash: a path asked for as //host/… must not become a link to that host
        local = "/" + (path or request.url.path).lstrip("/")
        return local + "?" + urlencode(params)

    def render(
        self,
        request: Request,
        template: str,
        user: User | None,
        status: int = 200,
        **context: Any,
    ) -> Response:
        lang, remember = request_lang(request)
        _ = Translator(lang)
        base = {
            "request": request,
            "_": _,
            "lang": lang,
            "user": user,
            "csrf_field": CSRF_FIELD,
            "csrf": csrf_token(request),
            "url": lambda path, **q: self.url(request, path, **q),
            "switch_url": self._switch_url(request, lang, context.pop("page_path", None)),
            "STATES": list(STATES),
            "examples": EXAMPLES,
            "ROLES": ROLES,
            "nav": context.pop("nav", ""),
        }
        base.update(context)
        response = self.templates.TemplateResponse(
            request, template, base, status_code=status, headers=SECURITY_HEADERS
        )
        if remember:
            remember_lang(response, remember, https_only=self.https_only)
        return response

    def error_page(
        self,
        request: Request,
        status: int,
        text: str = "",
        *,
        error: WorkflowError | None = None,
        user: User | None = None,
    ) -> Response:
        """An error page in the site's layout: a status, a title and plain words; nothing else
        (no traceback, no exception text beyond an engine error's own message)."""
        if user is None and session_login(request) is not None:
            try:
                user = self.user_of(request)
            except (LoginRequired, WorkflowError):
                user = None
            except Exception:  # the database may be what failed: the page still answers
                user = None
        return self.render(
            request,
            "error.html",
            user,
            status,
            status_code=status,
            text=text,
            error=error,
        )

    def redirect(self, request: Request, path: str, **query: Any) -> Response:
        response = RedirectResponse(self.url(request, path, **query), status_code=303)
        for name, value in SECURITY_HEADERS.items():
            response.headers[name] = value
        return response

    def endpoint(self, view: View, *, login: bool = True) -> Callable[[Request], Any]:
        """An ASGI endpoint around a view: the login, the form and its CSRF token, every error
        turned into a page."""

        async def run(request: Request) -> Response:
            try:
                if login and session_login(request) is None:
                    # no session: to the login page first (a POST does nothing)
                    return self._to_login(request)
                form = None
                if request.method == "POST":
                    # plain forms only: a file part is refused as it begins (never spooled)
                    form = await request.form(max_files=0)
                    if not csrf_ok(request, form.get(CSRF_FIELD)):
                        return await run_in_threadpool(
                            self.error_page, request, 403, "csrf_refused"
                        )
                return await run_in_threadpool(self._call, view, request, form, login)
            except StarletteHTTPException as exc:  # a form that cannot be parsed
                return await run_in_threadpool(self.error_page, request, exc.status_code)
            except Exception as exc:
                log_unexpected(exc, request.scope)
                try:
                    return await run_in_threadpool(self.error_page, request, 500, "error_500_text")
                except Exception as again:
                    log_unexpected(again, request.scope)
                    return Response("500", status_code=500, media_type="text/plain")

        return run

    def _to_login(self, request: Request) -> Response:
        """To the login page; after it, back to this page (a GET) or the overview."""
        if request.method != "GET":
            return self.redirect(request, "/login")
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        root = request.scope.get("root_path", "").rstrip("/")
        return self.redirect(request, "/login", next=target.removeprefix(root) or "/")

    def _call(self, view: View, request: Request, form: FormData | None, login: bool) -> Response:
        try:
            user = self.user_of(request) if login else None
            return view(request, user, form)
        except LoginRequired:
            return self._to_login(request)
        except PageError as exc:
            return self.error_page(request, exc.status, exc.text, error=exc.error)
        except Unauthenticated:
            return self.redirect(request, "/login")
        except NotFound as exc:
            return self.error_page(request, 404, "not_found_text", error=exc)
        except Forbidden as exc:
            return self.error_page(request, 403, error=exc)
        except InvalidInput as exc:
            return self.error_page(request, 400, error=exc)
        except WorkflowError as exc:
            return self.error_page(request, refusal_status(exc), error=exc)

    # -- login ----------------------------------------------------------------------------------

    def login_page(self, request: Request, _user: User | None, form: FormData | None) -> Response:
        if session_login(request) is not None:
            try:
                self.user_of(request)
                return self.redirect(request, _safe_next(request.query_params.get("next")))
            except LoginRequired:
                pass
        return self.render(
            request,
            "login.html",
            None,
            next=_safe_next(request.query_params.get("next")),
            login_name="",
            error=None,
            bye=request.query_params.get("bye") == "1",
        )

    def login_submit(self, request: Request, _user: User | None, form: FormData | None) -> Response:
        assert form is not None
        login = form.get("login")
        password = form.get("password")
        next_path = _safe_next(form.get("next"))
        error: WorkflowError
        login_name = login.strip()[:64] if isinstance(login, str) else ""
        try:
            user = self.wf.users.login(
                login_name,
                password if isinstance(password, str) else "",
                ip=request.client.host if request.client else "",
            )
        except LoginThrottled as exc:
            status, error = 429, exc
        except (Unauthenticated, InvalidInput) as exc:
            status, error = 401, exc
        else:
            start_session(request, user.login, self._now())
            return self.redirect(request, next_path)
        return self.render(
            request,
            "login.html",
            None,
            status=status,
            next=next_path,
            login_name=login_name,
            error=error,
            bye=False,
        )

    def logout(self, request: Request, user: User, form: FormData | None) -> Response:
        info = session_info(request)
        self.wf.users.logout(
            user.login,
            ip=request.client.host if request.client else "",
            session=info.sid if info is not None else "",
        )
        end_session(request)
        return self.redirect(request, "/login", bye="1")

    # -- overview -------------------------------------------------------------------------------

    def overview(self, request: Request, user: User, form: FormData | None) -> Response:
        scope, now = user.scope(), self._now()
        view = self.wf.lists.overview(scope, now=now)
        overdue = self.wf.lists.deadlines(scope, status="overdue", limit=OVERVIEW_OVERDUE, now=now)
        return self.render(
            request, "overview.html", user, nav="overview", view=view, overdue=overdue
        )

    # -- projects -------------------------------------------------------------------------------

    def _list_page(
        self,
        request: Request,
        user: User,
        *,
        template: str,
        path: str,
        nav: str,
        filters: dict[str, Any],
        read: Callable[..., Any],
        rows: Callable[[Any], Any] | None = None,
        **context: Any,
    ) -> Response:
        """A list page: the filters given (unset ones left out), a page read by cursor, the
        link to the next page; ``rows``: the page's rows made ready for the template."""
        shown = {k: v for k, v in filters.items() if v is not None}
        cursor = _text_arg(request.query_params.get("cursor"), 2000)
        page = read(**shown, cursor=cursor, limit=PAGE_SIZE)
        if rows is not None:
            context["rows"] = rows(page)
        query = {k: ("1" if v is True else "0" if v is False else v) for k, v in shown.items()}
        return self.render(
            request,
            template,
            user,
            nav=nav,
            page=page,
            filters=query,
            cursor=cursor,
            next_url=self.url(request, path, **query, cursor=page.next_cursor)
            if page.next_cursor
            else None,
            **context,
        )

    def project_list(self, request: Request, user: User, form: FormData | None) -> Response:
        q = request.query_params
        state = _text_arg(q.get("state"), 40)
        sort = _text_arg(q.get("sort"), 40)
        relation = _text_arg(q.get("relation"), 40)
        filters: dict[str, Any] = {
            "q": _text_arg(q.get("q")),
            "state": state if state in STATES else None,
            "org": _text_arg(q.get("org")),
            "relation": relation if relation in RELATIONS else None,
            "contractor_id": _int_arg(q.get("contractor_id")),
            "policy": _text_arg(q.get("policy"), 100),
            "overdue": _flag(q.get("overdue")),
            "provisional": _flag(q.get("provisional")),
            "sort": sort if sort in PROJECT_SORTS else None,
        }
        return self._list_page(
            request,
            user,
            template="projects.html",
            path="/projects",
            nav="projects",
            filters=filters,
            read=lambda **kw: self.wf.lists.list_projects(user.scope(), now=self._now(), **kw),
            sorts=SORT_CHOICES,
            rows=lambda page: self._project_rows(request, page.items),
        )

    def _project_rows(
        self, request: Request, items: Sequence[ProjectSummary]
    ) -> list[tuple[Any, ...]]:
        """The project list's rows as the template prints them, each value ready: a page of
        fifty rows is most of the list page's time, and a tuple unpacked in the loop costs the
        template a fraction of fifty rows' attribute lookups, calls and filters."""
        _ = Translator(request_lang(request)[0])
        names, projects, contractors = (
            _.states(),
            self.url(request, "/projects/"),
            self.url(request, "/contractors/"),
        )
        return [
            (
                p.id,
                f"{projects}{p.id}",
                p.title,
                p.provisional,
                p.state,
                names.get(p.state, p.state),
                p.purchaser,
                f"{contractors}{p.contractor_id}" if p.contractor_id else None,
                p.contractor or p.contractor_id,
                p.open_deadlines,
                p.overdue,
                _.wd(-p.worst_overdue_working_days)
                if p.overdue and p.worst_overdue_working_days
                else "",
                fmt_datetime(p.updated_at),
            )
            for p in items
        ]

    def _project_id(self, request: Request) -> int:
        pid = _int_arg(request.path_params.get("pid"))
        if pid is None:
            raise PageError(404, "not_found_text")
        return pid

    def _detail(self, pid: int, user: User) -> Any:
        """The project page's data, read within the user's scope (403 outside it)."""
        try:
            return self.wf.details.project_detail(pid, user.scope(), now=self._now())
        except Forbidden as exc:
            raise PageError(403, "not_in_scope", error=exc) from exc

    def _forms(
        self, pid: int, user: User, detail: Any, lang: str, refusal: Refusal | None = None
    ) -> tuple[list[ActionForm], Refusal | None]:
        """A form for each event the user may fire now; the refused one carries its input.
        Returns the forms, and the refusal when its event has no form any more."""
        names = self.wf.available_events(pid, user.actor())
        choices = _choices(detail, Translator(lang))
        forms = []
        for name in names:
            specs = [
                spec.with_choices(choices[(name, spec.name)])
                if choices.get((name, spec.name))
                else spec
                for spec in field_specs(name)
            ]
            form = ActionForm(name, specs)
            if refusal is not None and refusal.event == name:
                form.values, form.error, form.stale = refusal.values, refusal.error, refusal.stale
            forms.append(form)
        orphan = refusal if refusal is not None and refusal.event not in names else None
        return forms, orphan

    def project_page(
        self,
        request: Request,
        user: User,
        form: FormData | None,
        *,
        refusal: Refusal | None = None,
        status: int = 200,
    ) -> Response:
        pid = self._project_id(request)
        detail = self._detail(pid, user)
        forms, orphan = self._forms(pid, user, detail, request_lang(request)[0], refusal)
        done = request.query_params.get("done") if refusal is None else None
        return self.render(
            request,
            "project.html",
            user,
            status=status,
            nav="projects",
            d=detail,
            project=_get(detail, "project"),
            forms=forms,
            orphan=orphan,
            refusal=refusal,
            done=done if isinstance(done, str) and done in EVENTS else None,
            page_path=self.url(request, f"/projects/{pid}") if refusal is not None else None,
        )

    def fire(self, request: Request, user: User, form: FormData | None) -> Response:
        assert form is not None
        pid = self._project_id(request)
        event = str(request.path_params.get("event", ""))
        if event not in EVENTS:
            raise PageError(404, "not_found_text")
        # the reader's scope first: a project the user may not read is a 403, not a refusal
        self._detail(pid, user)
        specs = field_specs(event)
        raw = form_values(specs, form)
        try:
            data = parse_event_form(specs, raw)
            version = _int_arg(form.get("expected_version"), lo=0)
            if version is None:
                raise InvalidInput(
                    "表单缺少项目版本，请刷新页面后重试",
                    "the form has no project version; reload the page and try again",
                    field="expected_version",
                )
            self.wf.fire(pid, event, actor=user.actor(), expected_version=version, **data)
        except NotFound:
            raise
        except WorkflowError as exc:
            refusal = Refusal(event, exc, raw, stale=isinstance(exc, ConcurrentUpdate))
            return self.project_page(
                request, user, None, refusal=refusal, status=refusal_status(exc)
            )
        return self.redirect(request, f"/projects/{pid}", done=event)

    # -- deadlines ------------------------------------------------------------------------------

    def deadline_list(self, request: Request, user: User, form: FormData | None) -> Response:
        q = request.query_params
        status = _text_arg(q.get("status"), 40)
        kind = _text_arg(q.get("kind"), 40)
        relation = _text_arg(q.get("relation"), 40)
        filters: dict[str, Any] = {
            "status": status if status in DEADLINE_STATUSES else None,
            "kind": kind if kind in DEADLINE_KINDS else None,
            "org": _text_arg(q.get("org")),
            "relation": relation if relation in RELATIONS else None,
            "project_id": _int_arg(q.get("project_id")),
        }
        return self._list_page(
            request,
            user,
            template="deadlines.html",
            path="/deadlines",
            nav="deadlines",
            filters=filters,
            read=lambda **kw: self.wf.lists.deadlines(user.scope(), now=self._now(), **kw),
            deadline_statuses=DEADLINE_STATUSES,
            deadline_kinds=list(DEADLINE_KINDS),
        )

    def notice_list(self, request: Request, user: User, form: FormData | None) -> Response:
        status = _text_arg(request.query_params.get("status"), 40)
        filters: dict[str, Any] = {
            "status": status if status in NOTICE_FILTERS else None,
            "project_id": _int_arg(request.query_params.get("project_id")),
        }
        return self._list_page(
            request,
            user,
            template="notices.html",
            path="/notices",
            nav="overview",
            filters=filters,
            read=lambda **kw: self.wf.lists.notices(user.scope(), **kw),
            notice_statuses=NOTICE_FILTERS,
        )

    # -- contractors ----------------------------------------------------------------------------

    def contractor_list(self, request: Request, user: User, form: FormData | None) -> Response:
        q = request.query_params
        search = _text_arg(q.get("q"))
        cursor = _text_arg(q.get("cursor"), 500)
        page = self.wf.details.contractors(q=search, cursor=cursor, limit=PAGE_SIZE)
        return self.render(
            request,
            "contractors.html",
            user,
            nav="contractors",
            page=page,
            search=search or "",
            cursor=cursor,
            next_url=(
                self.url(request, "/contractors", q=search, cursor=page.next_cursor)
                if page.next_cursor
                else None
            ),
        )

    def contractor_page(self, request: Request, user: User, form: FormData | None) -> Response:
        cid = _int_arg(request.path_params.get("cid"))
        if cid is None:
            raise PageError(404, "not_found_text")
        detail = self.wf.details.contractor_detail(cid, user.scope())
        return self.render(request, "contractor.html", user, nav="contractors", d=detail)

    # -- inbox ----------------------------------------------------------------------------------

    def inbox(self, request: Request, user: User, form: FormData | None) -> Response:
        q = request.query_params
        unread_only = _flag(q.get("unread")) is True
        cursor = _text_arg(q.get("cursor"), 500)
        page = self.wf.details.inbox(
            user.org,
            user.role,
            login=user.login,
            unread_only=unread_only,
            cursor=cursor,
            limit=PAGE_SIZE,
        )
        return self.render(
            request,
            "inbox.html",
            user,
            nav="inbox",
            page=page,
            unread_only=unread_only,
            cursor=cursor,
            next_url=(
                self.url(
                    request, "/inbox", unread="1" if unread_only else None, cursor=page.next_cursor
                )
                if page.next_cursor
                else None
            ),
        )

    def inbox_item(self, request: Request, user: User, form: FormData | None) -> Response:
        item_id = _int_arg(request.path_params.get("item"))
        if item_id is None:
            raise PageError(404, "not_found_text")
        item = self.wf.details.open_inbox_item(
            item_id, org=user.org, role=user.role, login=user.login
        )
        return self.render(
            request,
            "inbox_item.html",
            user,
            nav="inbox",
            item=item,
            acked=request.query_params.get("acked") == "1",
        )

    def inbox_ack(self, request: Request, user: User, form: FormData | None) -> Response:
        item_id = _int_arg(request.path_params.get("item"))
        if item_id is None:
            raise PageError(404, "not_found_text")
        self.wf.details.acknowledge(item_id, org=user.org, role=user.role, login=user.login)
        back = form.get("back") if form is not None else None
        if back == "list":
            return self.redirect(request, "/inbox")
        return self.redirect(request, f"/inbox/{item_id}", acked="1")


class _Static(StaticFiles):
    """The vendored scripts and the style sheet, never read as another type than theirs."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def install(app: Any, wf: Workflow, *, secret_key: str, https_only: bool) -> None:
    """Add the pages, the static files and the session to ``app``.

    Args:
        app: the FastAPI (or Starlette) app.
        wf: the workflow the pages read and act on.
        secret_key: signs the session cookie (keep it secret; several processes of one site
            share it).
        https_only: mark the cookies Secure (the site is served over HTTPS).
    """
    if not isinstance(secret_key, str) or len(secret_key) < 16:
        raise ConfigurationError(
            "会话密钥过短：至少 16 个字符",
            "the session secret key is too short: at least 16 characters",
            field="secret_key",
        )
    pages = Pages(wf, https_only=https_only)
    add_session_middleware(app, secret_key=secret_key, https_only=https_only)
    app.mount("/static", _Static(directory=str(STATIC)), name="static")
    routes: list[tuple[str, View, list[str], str, bool]] = [
        ("/login", pages.login_page, ["GET"], "login", False),
        ("/login", pages.login_submit, ["POST"], "login_submit", False),
        ("/logout", pages.logout, ["POST"], "logout", True),
        ("/", pages.overview, ["GET"], "overview", True),
        ("/projects", pages.project_list, ["GET"], "projects", True),
        ("/projects/{pid}", pages.project_page, ["GET"], "project", True),
        ("/projects/{pid}/events/{event}", pages.fire, ["POST"], "fire", True),
        ("/deadlines", pages.deadline_list, ["GET"], "deadlines", True),
        ("/notices", pages.notice_list, ["GET"], "notices", True),
        ("/contractors", pages.contractor_list, ["GET"], "contractors", True),
        ("/contractors/{cid}", pages.contractor_page, ["GET"], "contractor", True),
        ("/inbox", pages.inbox, ["GET"], "inbox", True),
        ("/inbox/{item}", pages.inbox_item, ["GET"], "inbox_item", True),
        ("/inbox/{item}/ack", pages.inbox_ack, ["POST"], "inbox_ack", True),
    ]
    for path, view, methods, name, login in routes:
        app.add_route(
            path,
            pages.endpoint(view, login=login),
            methods=methods,
            name=f"page_{name}",
            include_in_schema=False,
        )

    async def http_error(request: Request, exc: Exception) -> Response:
        # an unknown path, a method a page does not take, a static file that is not there: a
        # page in the site's layout (the JSON API, mounted apart, answers its own errors)
        status = exc.status_code if isinstance(exc, StarletteHTTPException) else 500
        text = {404: "not_found_text"}.get(status, "")
        response = await run_in_threadpool(pages.error_page, request, status, text)
        if isinstance(exc, StarletteHTTPException) and exc.headers:
            for name, value in exc.headers.items():
                response.headers.setdefault(name, value)
        return response

    app.add_exception_handler(StarletteHTTPException, http_error)


__all__ = [
    "PUBLIC",
    "ActionForm",
    "FieldSpec",
    "Pages",
    "field_specs",
    "install",
    "parse_event_form",
]
