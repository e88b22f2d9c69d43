"""The JSON API (issue #8), mounted at ``/api/v1`` by :func:`workflow.web.create_app`.

Every route needs ``Authorization: Bearer TOKEN`` (``gpw user token LOGIN``); the token's user is
the actor. Reads are limited to the caller's scope on the server (a contractor reads its own
projects, a supervisor its region); writes are checked by the engine (role, organisation, state,
guards). Handlers only parse, call the facade and answer; every failure has the one error shape
(:mod:`workflow.web.errors`). Money is a string with two places; numbers in a body are read as
Decimal, never float.
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from states.enums import ProjectState
from states.errors import NotFound
from workflow.facade import Workflow
from workflow.web.deps import (
    MAX_ID,
    CurrentUser,
    FireRequest,
    WorkflowDep,
    fire_body,
    visible_project,
)
from workflow.web.errors import ApiJSONResponse, install_error_handlers

API_VERSION = "v1"
#: where create_app mounts the API
API_PREFIX = "/api/v1"
#: the most rows a page of projects or deadlines holds (workflow.services.lists.MAX_LIMIT), and
#: of the inbox (workflow.services.details.MAX_LIMIT); a cursor reads on
MAX_LIST_LIMIT = 200
MAX_INBOX_LIMIT = 500
#: the read models' vocabularies, spelled out for the OpenAPI document (a test keeps them equal
#: to workflow.services.lists' own)
ProjectSort = Literal[
    "updated", "-updated", "created", "-created", "title", "-title", "state", "-state", "id", "-id"
]
Relation = Literal["purchaser", "contractor", "government", "finance", "audit", "leader"]
DeadlineStatus = Literal[
    "open", "overdue", "due_soon", "met", "cancelled", "suspended", "escalated", "all"
]
DeadlineSort = Literal["due", "-due"]

# -- the documented shapes (OpenAPI); the answers are the views' own dicts ---------------------


class ErrorOut(BaseModel):
    """The one error shape: ``message`` is Chinese, ``message_en`` English."""

    code: str = Field(examples=["guard_refused"])
    rule: str | None = Field(default=None, examples=["R7"])
    field: str | None = Field(default=None, examples=["amount"])
    message: str
    message_en: str


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class DeadlineOut(_Open):
    key: str
    kind: str
    owner: str
    rule: str
    due: date
    provisional: bool
    status: str
    met_on: date | None = None
    late: bool = False


class PaymentOut(_Open):
    tranche: int
    amount: str = Field(pattern=r"^-?\d+\.\d{2}$", examples=["345600.00"])
    on: date
    by: str
    late: bool


class ProjectOut(_Open):
    """A project: its state, version (pass it back as ``expected_version``), deadlines,
    payments and its whole data (money as strings with two places)."""

    id: int
    title: str
    purchaser: str
    policy: str
    state: str
    version: int
    contractor_id: int | None = None
    deadlines: list[DeadlineOut] = []
    payments: list[PaymentOut] = []
    data: dict[str, Any] = {}


class ProjectDetailOut(_Open):
    """A project as the dashboard's project page shows it (its deadlines, notices, payments,
    evaluations, subcontracting and trail)."""


class PageOut(_Open):
    """One page of a list: pass ``next_cursor`` back as ``cursor`` for the next (null: the
    last page)."""

    items: list[dict[str, Any]]
    next_cursor: str | None = None


class EventFieldOut(BaseModel):
    name: str
    type: str = Field(examples=["decimal"])
    required: bool
    allowed: list[Any]


class EventOut(BaseModel):
    event: str = Field(examples=["pay"])
    label: str = Field(examples=["拨付资金"])
    label_en: str = Field(examples=["pay a tranche"])
    fields: list[EventFieldOut]


class EventsOut(BaseModel):
    """The events the caller may fire on the project now, each with its data fields."""

    project_id: int
    state: str
    version: int
    events: list[EventOut]


class FireIn(BaseModel):
    """An event's data and, to refuse a stale write, the version the caller last saw."""

    data: dict[str, Any] = Field(
        default_factory=dict, examples=[{"tranche": 1, "amount": "345600.00", "on": "2026-04-17"}]
    )
    expected_version: int | None = Field(default=None, ge=1, le=MAX_ID)


class HistoryOut(BaseModel):
    """The project's audit trail, oldest first (each entry chained by hash, R15)."""

    items: list[dict[str, Any]]


class HealthOut(_Open):
    ok: bool
    problems: list[dict[str, Any]]


_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": text}
    for status, text in (
        (401, "no token, or a bad or revoked one / 未登录或令牌无效"),
        (403, "a role or organisation that may not read or act / 无权"),
        (404, "unknown project, event or route / 不存在"),
        (422, "bad data, or refused by a rule / 数据无效或规则不允许"),
    )
}
_FIRE_ERRORS = {**_ERRORS, 409: {"model": ErrorOut, "description": "stale expected_version"}}

ProjectId = Annotated[int, Path(ge=1, le=MAX_ID, description="项目编号 / project id")]
Cursor = Annotated[
    str | None, Query(max_length=500, description="上一页的 next_cursor / a page's next_cursor")
]
Limit = Annotated[
    int | None, Query(ge=1, le=MAX_LIST_LIMIT, description="每页条数 / rows a page (50)")
]
OrgFilter = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=200,
        description="参与单位 / an organisation party to the project (purchaser, contractor, "
        "supervising body)",
    ),
]
RelationFilter = Annotated[
    Relation | None, Query(description="org 的身份 / the relation of org to the project")
]


def _given(**kwargs: Any) -> dict[str, Any]:
    """Only the filters the caller gave (the others keep the read model's defaults)."""
    return {k: v for k, v in kwargs.items() if v is not None}


router = APIRouter()


@router.get("/projects", response_model=PageOut, responses=_ERRORS, tags=["projects"])
def list_projects(
    user: CurrentUser,
    wf: WorkflowDep,
    state: ProjectState | None = None,
    org: OrgFilter = None,
    relation: RelationFilter = None,
    contractor_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    policy: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    overdue: bool | None = None,
    provisional: bool | None = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    sort: ProjectSort | None = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> ApiJSONResponse:
    """项目列表 / the projects the caller may read, filtered, a page at a time."""
    page = wf.lists.list_projects(
        user.scope(),
        now=wf.clock(),
        **_given(
            state=state.value if state is not None else None,
            org=org,
            relation=relation,
            contractor_id=contractor_id,
            policy=policy,
            overdue=overdue,
            provisional=provisional,
            q=q,
            sort=sort,
            cursor=cursor,
            limit=limit,
        ),
    )
    return ApiJSONResponse(page.to_dict())


@router.get(
    "/projects/{project_id}", response_model=ProjectDetailOut, responses=_ERRORS, tags=["projects"]
)
def get_project(project_id: ProjectId, user: CurrentUser, wf: WorkflowDep) -> ApiJSONResponse:
    """项目详情 / a project (403 outside the caller's scope)."""
    detail = wf.details.project_detail(project_id, user.scope(), now=wf.clock())
    return ApiJSONResponse(detail.to_dict())


@router.get(
    "/projects/{project_id}/events", response_model=EventsOut, responses=_ERRORS, tags=["events"]
)
def list_events(project_id: ProjectId, user: CurrentUser, wf: WorkflowDep) -> ApiJSONResponse:
    """可执行的操作 / the events the caller may fire now, each with its data fields."""
    from workflow.services.events import describe_events

    view = visible_project(wf, project_id, user)
    names = wf.available_events(project_id, user.actor())
    return ApiJSONResponse(
        {
            "project_id": view.id,
            "state": view.state,
            "version": view.version,
            "events": describe_events(names),
        }
    )


_FIRE_BODY = {
    "requestBody": {
        "required": False,
        "content": {"application/json": {"schema": FireIn.model_json_schema()}},
    }
}


@router.post(
    "/projects/{project_id}/events/{event}",
    response_model=ProjectOut,
    responses=_FIRE_ERRORS,
    tags=["events"],
    openapi_extra=_FIRE_BODY,
)
def fire_event(
    project_id: ProjectId,
    event: Annotated[str, Path(min_length=1, max_length=64, description="操作 / event name")],
    user: CurrentUser,
    wf: WorkflowDep,
    body: Annotated[FireRequest, Depends(fire_body)],
) -> ApiJSONResponse:
    """执行操作 / fire an event: body ``{"data": {...}, "expected_version": n}``; 200 with the
    project, 409 when ``expected_version`` is stale, 422 with the rule when refused."""
    from states.machine import EVENTS

    if event not in EVENTS:
        raise NotFound(f"没有这个操作：{event[:64]}", f"no such event: {event[:64]}", field="event")
    visible_project(wf, project_id, user)
    view = wf.fire(
        project_id,
        event,
        actor=user.actor(),
        expected_version=body.expected_version,
        **body.data,
    )
    return ApiJSONResponse(view.to_dict())


@router.get(
    "/projects/{project_id}/history",
    response_model=HistoryOut,
    responses=_ERRORS,
    tags=["projects"],
)
def project_history(project_id: ProjectId, user: CurrentUser, wf: WorkflowDep) -> ApiJSONResponse:
    """留痕 / the project's audit trail, oldest first."""
    visible_project(wf, project_id, user)
    return ApiJSONResponse({"items": [entry.to_dict() for entry in wf.history(project_id)]})


@router.get("/deadlines", response_model=PageOut, responses=_ERRORS, tags=["deadlines"])
def list_deadlines(
    user: CurrentUser,
    wf: WorkflowDep,
    status: DeadlineStatus = "open",
    org: OrgFilter = None,
    relation: RelationFilter = None,
    kind: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=40,
            description="dispatch, payment_1…payment_3, evaluation, rectification, contract_end",
        ),
    ] = None,
    project_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    sort: DeadlineSort | None = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> ApiJSONResponse:
    """期限 / deadlines of the projects the caller may read: open, overdue, due within five
    working days (due_soon), met, cancelled, suspended (中止计时), escalated, or all."""
    page = wf.lists.deadlines(
        user.scope(),
        status=status,
        now=wf.clock(),
        **_given(
            org=org,
            relation=relation,
            kind=kind,
            project_id=project_id,
            sort=sort,
            cursor=cursor,
            limit=limit,
        ),
    )
    return ApiJSONResponse(page.to_dict())


@router.get("/notices", response_model=PageOut, responses=_ERRORS, tags=["notices"])
def list_notices(
    user: CurrentUser,
    wf: WorkflowDep,
    unread_only: bool = False,
    cursor: Cursor = None,
    limit: Annotated[
        int | None, Query(ge=1, le=MAX_INBOX_LIMIT, description="每页条数 / rows a page (50)")
    ] = None,
) -> ApiJSONResponse:
    """收件箱 / the caller's inbox: notices to its organisation and role, newest first."""
    page = wf.details.inbox(
        user.org,
        user.role,
        login=user.login,
        unread_only=unread_only,
        **_given(cursor=cursor, limit=limit),
    )
    return ApiJSONResponse(page.to_dict())


@router.get("/health", response_model=HealthOut, responses=_ERRORS, tags=["health"])
def health(user: CurrentUser, wf: WorkflowDep) -> ApiJSONResponse:
    """运行状况 / the engine's health: the oldest due stage waiting, the outbox by status (the
    notices of the projects the caller may read, unless it reads every project), the last tick
    and relay, and the problems found."""
    return ApiJSONResponse(wf.lists.health(user.scope(), now=wf.clock()))


def _openapi_route(api: FastAPI) -> None:
    """The OpenAPI document, behind the token like every other route; ``servers`` names the
    path the API is mounted at (a host may mount the app under its own path)."""

    @api.get("/openapi.json", include_in_schema=False)
    def openapi(request: Request, user: CurrentUser) -> ApiJSONResponse:
        document = copy.deepcopy(api.openapi())
        root = request.scope.get("root_path", "").rstrip("/")
        document["servers"] = [{"url": root or "/"}]
        return ApiJSONResponse(document)


def build_api(wf: Workflow) -> FastAPI:
    """The API as its own FastAPI app (its errors, its OpenAPI document), to mount at
    ``/api/v1``."""
    api = FastAPI(
        title="gpw JSON API",
        summary="政府购买社会救助服务工作流 / Government Purchase Workflow",
        version=API_VERSION,
        openapi_url=None,  # served by _openapi_route, behind the token
        docs_url=None,  # the interactive pages load scripts from a CDN: none offline
        redoc_url=None,
        default_response_class=ApiJSONResponse,
    )
    api.state.workflow = wf
    api.include_router(router)
    _openapi_route(api)
    install_error_handlers(api)
    return api
