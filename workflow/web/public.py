"""The public face of disclosure (全程公开, R15, issue #9): pages and open data anyone may read
without a login, installed by :func:`workflow.web.app.create_app` beside the dashboard.

=====================================  ===========================================================
``GET /public/projects``               the projects that published something (HTML, Chinese by
                                       default, ``?lang=en``): what is bought, purchaser,
                                       contractor, amount, paid, state, late; ``cursor`` pages
``GET /public/projects/{id}``          one project (HTML): what is bought, from whom, for how
                                       much, the timeline planned and actual, payments made,
                                       evaluation results, whether it was late; a plan never
                                       approved is 404, as is an unknown id
``GET /public/ocds/releases``          an OCDS 1.1 release package: a page of every published
                                       release in publication order (``cursor``, ``limit`` ≤ 1000;
                                       ``links.next`` and ``Link: rel=next``)
``GET /public/ocds/records/{ocid}``    the ocid's record package (its releases, the compiled
                                       release)
``GET /public/anchors``                published anchors, newest first: every audit chain's head
                                       and the digest over them (``limit``, default 1, ≤ 100;
                                       ``cursor``); what ``gpw verify --anchor URL`` reads
=====================================  ===========================================================

**What is shown** comes from :attr:`Workflow.disclosure` only: the stored releases, the public
view of a project (:meth:`~workflow.services.disclosure.Disclosure.public_project`, every text
through the redaction rules), published anchors. A page never reads the raw project.

**Caching.** Each JSON answer carries ``ETag`` and ``Last-Modified`` made from the ids and
publication times of what it holds, read before (and without) the content: releases and anchors
are never rewritten, so a page changes exactly when the set it holds does. ``If-None-Match``
(or, without it, ``If-Modified-Since``) that still matches is answered 304 with no release read,
merged or serialised. ``Cache-Control: public, no-cache``: any cache may keep them, and asks
again each time.

**Errors**: the HTML routes answer a page in the public layout; the JSON routes (and any other
path under ``/public/ocds`` or ``/public/anchors``) the API's one error shape. A method other
than GET or HEAD is 405 in the same way. Never a traceback (the exception goes to the log).

No session is read or written here (no cookie but the language's, set by ``?lang=``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from states import ocds
from states.errors import InvalidInput, NotFound, WorkflowError
from workflow.web.errors import (
    ApiJSONResponse,
    error_body,
    internal_response,
    log_unexpected,
    workflow_error_response,
)
from workflow.web.i18n import Translator
from workflow.web.pages import SECURITY_HEADERS, STATIC, TZ, _Static, make_templates
from workflow.web.session import remember_lang, request_lang

if TYPE_CHECKING:
    from workflow import Workflow
    from workflow.services.disclosure import Version

#: where the public face lives
PREFIX = "/public"
#: rows of the project list; a page may ask for fewer or more (``limit``, at most MAX_PAGE)
PAGE_SIZE = 50
MAX_PAGE = 200
#: releases in a page of the feed by default, and at most (the service's own bound)
RELEASES_PAGE = 100
MAX_RELEASES = 1000
#: anchors in a page by default (the newest: an anchor holds every stream's head, so it grows
#: with the projects; ``gpw verify --anchor URL`` reads the first), and at most
ANCHORS_PAGE = 1
MAX_ANCHORS = 100
#: the largest id a path or a cursor may name; a larger one is simply not found
MAX_ID = 2**63 - 1
#: the methods a public route answers
METHODS = ("GET", "HEAD")
#: the methods routed to it (the others are answered 405 by the route itself, in its own form)
ROUTED = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

#: public data: any cache may keep it, and revalidates it every time (ETag, Last-Modified)
JSON_HEADERS = {
    "Cache-Control": "public, no-cache",
    "X-Content-Type-Options": "nosniff",
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag, Last-Modified, Link",
}
#: the pages: the dashboard's security headers; public, but the language comes from a cookie
PAGE_HEADERS = {**SECURITY_HEADERS, "Cache-Control": "no-cache", "Vary": "Cookie"}


def _int_param(request: Request, name: str, *, lo: int, hi: int, default: int | None) -> int | None:
    """A whole-number query parameter from ``lo`` to ``hi`` (absent: ``default``).

    Raises:
        InvalidInput: anything else, naming the parameter.
    """
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    text = raw.strip()
    if text.isascii() and text.isdigit() and len(text) <= 19 and lo <= int(text) <= hi:
        return int(text)
    raise InvalidInput(
        f"查询参数 {name} 须为 {lo} 至 {hi} 的整数",
        f"query parameter {name} must be a whole number from {lo} to {hi}",
        field=name,
    )


def _path_id(request: Request, name: str) -> int | None:
    text = str(request.path_params.get(name, ""))
    if text.isascii() and text.isdigit() and len(text) <= 19 and 1 <= int(text) <= MAX_ID:
        return int(text)
    return None


# -- conditional requests (RFC 9110 §13) ----------------------------------------------------------


def http_date(value: datetime) -> str:
    """``Last-Modified``'s form: ``Fri, 04 Dec 2026 02:00:00 GMT``."""
    return format_datetime(value.astimezone(UTC).replace(microsecond=0), usegmt=True)


def _etag_matches(header: str, etag: str) -> bool:
    """``If-None-Match`` against our tag (weak comparison, as for GET and HEAD)."""
    tags = [t.strip() for t in header.split(",")]
    return "*" in tags or any(t.removeprefix("W/") == etag for t in tags if t)


def not_modified(request: Request, etag: str, modified: datetime | None) -> bool:
    """Whether the client's copy is current: ``If-None-Match`` when sent (it takes precedence),
    else ``If-Modified-Since`` against ``modified`` to the second (an unreadable date is
    ignored, as the RFC says)."""
    match = request.headers.get("if-none-match")
    if match is not None:
        return _etag_matches(match, etag)
    since = request.headers.get("if-modified-since")
    if since is None or modified is None:
        return False
    try:
        when = parsedate_to_datetime(since)
    except (TypeError, ValueError, IndexError):
        return False
    if when.tzinfo is None:  # "-0000": a time in UTC
        when = when.replace(tzinfo=UTC)
    return modified.astimezone(UTC).replace(microsecond=0) <= when


def _validators(etag: str, modified: datetime | None) -> dict[str, str]:
    headers = {"ETag": etag}
    if modified is not None:
        headers["Last-Modified"] = http_date(modified)
    return headers


def _not_modified_response(etag: str, modified: datetime | None) -> Response:
    return Response(status_code=304, headers={**JSON_HEADERS, **_validators(etag, modified)})


def _tag(kind: str, version: Version, *parts: object) -> str:
    """A strong ETag over what a page holds: its kind, its place and its version."""
    bits = "-".join(str(p) for p in (*parts, version.size, version.newest))
    return f'"gpw-{kind}-{bits}"'


# -- the public face ------------------------------------------------------------------------------

View = Callable[[Request], Response]


class Public:
    """The public routes' handlers over one workflow; each runs in a worker thread."""

    def __init__(self, wf: Workflow, *, https_only: bool = False) -> None:
        self.wf = wf
        self.https_only = https_only
        self.templates = make_templates()

    # -- plumbing ---------------------------------------------------------------------------------

    @staticmethod
    def url(request: Request, path: str, **query: Any) -> str:
        """A path of this app (under the host's mount point), with a query of the set values."""
        base = request.scope.get("root_path", "").rstrip("/") + path
        pairs = [(k, v) for k, v in query.items() if v is not None and v != ""]
        return f"{base}?{urlencode(pairs)}" if pairs else base

    @staticmethod
    def absolute(request: Request, path: str, **query: Any) -> str:
        """The same as an absolute URL (an OCDS package's ``uri``, ``links.next``)."""
        pairs = [(k, v) for k, v in query.items() if v is not None and v != ""]
        where = str(request.base_url).rstrip("/") + path  # base_url holds the mount point
        return f"{where}?{urlencode(pairs)}" if pairs else where

    @staticmethod
    def _switch_url(request: Request, lang: str) -> str:
        """This page in the other language (one leading slash: never a link to another host)."""
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
        params.append(("lang", "en" if lang == "zh" else "zh"))
        return "/" + request.url.path.lstrip("/") + "?" + urlencode(params)

    def render(
        self, request: Request, template: str, status: int = 200, **context: Any
    ) -> Response:
        lang, remember = request_lang(request)
        base = {
            "request": request,
            "_": Translator(lang),
            "lang": lang,
            "url": lambda path, **q: self.url(request, path, **q),
            "switch_url": self._switch_url(request, lang),
            "nav": context.pop("nav", ""),
        }
        base.update(context)
        response = self.templates.TemplateResponse(
            request, template, base, status_code=status, headers=PAGE_HEADERS
        )
        if remember:
            remember_lang(response, remember, https_only=self.https_only)
        return response

    def error_page(
        self, request: Request, status: int, text: str = "", *, error: WorkflowError | None = None
    ) -> Response:
        """An error page in the public layout: a status and plain words, nothing else."""
        response = self.render(
            request, "public_error.html", status, status_code=status, text=text, error=error
        )
        if status == 405:
            response.headers["Allow"] = ", ".join(METHODS)
        return response

    def page(self, view: View) -> Callable[[Request], Awaitable[Response]]:
        """An HTML route: GET or HEAD only, every failure a page."""

        async def run(request: Request) -> Response:
            try:
                if request.method not in METHODS:
                    return await run_in_threadpool(self.error_page, request, 405)
                return await run_in_threadpool(self._page, view, request)
            except Exception as exc:  # the error page itself failed: a plain answer
                log_unexpected(exc, request.scope)
                return Response("500", status_code=500, media_type="text/plain")

        return run

    def _page(self, view: View, request: Request) -> Response:
        try:
            return view(request)
        except NotFound as exc:
            return self.error_page(request, 404, "not_found_text", error=exc)
        except InvalidInput as exc:
            return self.error_page(request, 400, error=exc)
        except WorkflowError as exc:
            return self.error_page(request, 500, "error_500_text", error=exc)
        except Exception as exc:
            log_unexpected(exc, request.scope)
            return self.error_page(request, 500, "error_500_text")

    def data(self, view: View) -> Callable[[Request], Awaitable[Response]]:
        """A JSON route: GET or HEAD only, every failure in the API's one error shape."""

        async def run(request: Request) -> Response:
            if request.method not in METHODS:
                body = error_body(
                    "method_not_allowed", "该地址不支持此方法", "method not allowed", field="method"
                )
                return ApiJSONResponse(body, 405, headers={"Allow": ", ".join(METHODS)})
            try:
                return await run_in_threadpool(view, request)
            except WorkflowError as exc:
                return workflow_error_response(exc)
            except Exception as exc:
                log_unexpected(exc, request.scope)
                return internal_response()

        return run

    def _json(
        self, content: Any, *, etag: str, modified: datetime | None, **extra: str
    ) -> Response:
        return ApiJSONResponse(
            content, headers={**JSON_HEADERS, **_validators(etag, modified), **extra}
        )

    def _today(self) -> date:
        return self.wf.clock().astimezone(TZ).date()

    # -- pages ------------------------------------------------------------------------------------

    def home(self, request: Request) -> Response:
        response = RedirectResponse(self.url(request, f"{PREFIX}/projects"), status_code=307)
        response.headers.update(PAGE_HEADERS)
        return response

    def project_list(self, request: Request) -> Response:
        cursor = _int_param(request, "cursor", lo=0, hi=MAX_ID, default=None)
        limit = _int_param(request, "limit", lo=1, hi=MAX_PAGE, default=PAGE_SIZE)
        assert limit is not None
        page = self.wf.disclosure.public_projects(after_id=cursor, limit=limit)
        nxt = page["next"]
        own_limit = limit if limit != PAGE_SIZE else None
        return self.render(
            request,
            "public_projects.html",
            nav="projects",
            items=page["items"],
            cursor=cursor,
            next_url=self.url(request, f"{PREFIX}/projects", cursor=nxt, limit=own_limit)
            if nxt is not None
            else None,
            first_url=self.url(request, f"{PREFIX}/projects", limit=own_limit),
        )

    def project_page(self, request: Request) -> Response:
        pid = _path_id(request, "pid")
        if pid is None:
            return self.error_page(request, 404, "not_found_text")
        shown = self.wf.disclosure.public_project(pid)
        if not shown.get("public"):  # a plan never approved: as if there were none
            return self.error_page(request, 404, "not_found_text")
        today = self._today()
        timeline = sorted(shown.get("timeline") or [], key=lambda t: (t["due"], t["key"]))
        for item in timeline:
            item["overdue"] = item["status"] == "open" and date.fromisoformat(item["due"]) < today
        late = [t for t in timeline if t["late"] or t["overdue"]]
        return self.render(
            request,
            "public_project.html",
            nav="projects",
            p=shown,
            timeline=timeline,
            late=late,
            today=today,
        )

    def not_found_page(self, request: Request) -> Response:
        return self.error_page(request, 404, "not_found_text")

    # -- open data --------------------------------------------------------------------------------

    def releases(self, request: Request) -> Response:
        after = _int_param(request, "cursor", lo=0, hi=MAX_ID, default=None)
        limit = _int_param(request, "limit", lo=1, hi=MAX_RELEASES, default=RELEASES_PAGE)
        assert limit is not None
        version = self.wf.disclosure.feed_version(after_id=after, limit=limit)
        etag = _tag("releases", version, after or 0, limit)
        if not_modified(request, etag, version.modified):
            return _not_modified_response(etag, version.modified)
        page = self.wf.disclosure.feed(after_id=after, limit=limit)
        more = (
            page["next"] is not None
            and self.wf.disclosure.feed_version(after_id=page["next"], limit=1).size
        )
        own = {"cursor": after, "limit": limit if limit != RELEASES_PAGE else None}
        package = ocds.package(
            page["releases"],
            published_date=version.modified or self.wf.clock(),
            uri=self.absolute(request, f"{PREFIX}/ocds/releases", **own),
        )
        extra: dict[str, str] = {}
        if more:
            nxt = self.absolute(
                request, f"{PREFIX}/ocds/releases", **{**own, "cursor": page["next"]}
            )
            package["links"] = {"next": nxt}
            extra["Link"] = f'<{nxt}>; rel="next"'
        return self._json(package, etag=etag, modified=version.modified, **extra)

    def record(self, request: Request) -> Response:
        ocid = str(request.path_params.get("ocid", ""))
        version = self.wf.disclosure.record_version(ocid)  # NotFound: 404
        etag = _tag("record", version, ocid)
        if not_modified(request, etag, version.modified):
            return _not_modified_response(etag, version.modified)
        found = self.wf.disclosure.record(ocid)
        found["uri"] = self.absolute(request, f"{PREFIX}/ocds/records/{ocid}")
        return self._json(found, etag=etag, modified=version.modified)

    def anchors(self, request: Request) -> Response:
        before = _int_param(request, "cursor", lo=1, hi=MAX_ID, default=None)
        limit = _int_param(request, "limit", lo=1, hi=MAX_ANCHORS, default=ANCHORS_PAGE)
        assert limit is not None
        version = self.wf.disclosure.anchors_version(limit=limit, before_id=before)
        etag = _tag("anchors", version, before or 0, limit)
        if not_modified(request, etag, version.modified):
            return _not_modified_response(etag, version.modified)
        anchors = self.wf.disclosure.anchors(limit=limit, before_id=before)
        nxt = anchors[-1]["id"] if len(anchors) == limit else None
        if nxt is not None and not self.wf.disclosure.anchors_version(limit=1, before_id=nxt).size:
            nxt = None  # the oldest anchor is on this page
        body: dict[str, Any] = {"anchors": anchors, "next_cursor": nxt}
        extra: dict[str, str] = {}
        if nxt is not None:
            own = {"cursor": nxt, "limit": limit if limit != ANCHORS_PAGE else None}
            extra["Link"] = f'<{self.absolute(request, f"{PREFIX}/anchors", **own)}>; rel="next"'
        return self._json(body, etag=etag, modified=version.modified, **extra)

    def no_data(self, request: Request) -> Response:
        body = error_body(NotFound.code, "没有这个地址", "no such route", field="path")
        return ApiJSONResponse(body, 404)


def routes(wf: Workflow, *, https_only: bool = False) -> list[Route]:
    """The public routes over ``wf`` (the usual methods reach them: each answers 405 itself,
    in its own form)."""
    public = Public(wf, https_only=https_only)
    table: list[tuple[str, Callable[[Request], Awaitable[Response]], str]] = [
        (PREFIX, public.page(public.home), "home"),
        (f"{PREFIX}/projects", public.page(public.project_list), "projects"),
        (f"{PREFIX}/projects/{{pid}}", public.page(public.project_page), "project"),
        (f"{PREFIX}/ocds/releases", public.data(public.releases), "releases"),
        (f"{PREFIX}/ocds/records/{{ocid}}", public.data(public.record), "record"),
        (f"{PREFIX}/anchors", public.data(public.anchors), "anchors"),
        # anything else: JSON under the data's paths, a page elsewhere
        (f"{PREFIX}/ocds/{{rest:path}}", public.data(public.no_data), "ocds_other"),
        (f"{PREFIX}/anchors/{{rest:path}}", public.data(public.no_data), "anchors_other"),
        (f"{PREFIX}/{{rest:path}}", public.page(public.not_found_page), "other"),
    ]
    return [
        Route(path, endpoint, methods=ROUTED, name=f"public_{name}", include_in_schema=False)
        for path, endpoint, name in table
    ]


def install(app: Any, wf: Workflow, *, https_only: bool = False) -> None:
    """Add the public routes to ``app`` (no login: the dashboard's pages ask for theirs one by
    one, and these are not among them), and the style sheet where the dashboard did not."""
    if not any(getattr(r, "path", None) == "/static" for r in app.router.routes):
        app.mount("/static", _Static(directory=str(STATIC)), name="static")
    app.router.routes.extend(routes(wf, https_only=https_only))


__all__ = ["PREFIX", "Public", "install", "not_modified", "routes"]
