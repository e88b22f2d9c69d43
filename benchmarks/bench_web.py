"""The dashboard's pages and the JSON API at 100k projects and 1M deadlines (issue #8).

Run: .venv/bin/python benchmarks/bench_web.py [--part pages|rps|both] [--projects 100000]
     [--backend sqlite|postgresql|both] [--rounds 7] [--duration 15] [--warmup 3]
     [--connections 8] [--servers 1,3] [--loads page,post] [--max-seconds 3600]
     (goals: pages ≤ 3× the bare SQL that feeds them; 3 `gpw serve` processes ≥ 2× the requests
     per second of 1)

The database is ``bench_dashboard``'s (100,000 projects over 60 purchasers in 20 counties,
1,000,000 deadlines, party rows; built by SQL copies, then ANALYZE / VACUUM ANALYZE), seen on
2026-06-15 (the app's clock).

**Part pages** (SQLite file and PostgreSQL): the app (``create_app``) in this process, asked
through httpx's ASGITransport from one event loop (no network; the app's own hop to its thread
pool, as under uvicorn) with a logged-in session cookie (logged in through ``POST /login``
with the form's CSRF token): request in, the whole HTML out, rendering included. Six pages:
``GET /projects`` (first page) and a filtered page (``state=in_service&overdue=1&sort=title``)
for an admin (every project) and a county supervisor (region ``县7单位``: 1/60 of them), and
``GET /`` (the overview) for both. Beside each page: the service calls the page makes (the
session's user, then ``wf.lists``), and the bare SQL that feeds the page: the session's two
reads (the user row; a logout or change since the login) in SQLAlchemy Core, then
``bench_dashboard``'s bare statements (built once; for the overview, its overdue list of ten
too), each read in its own transaction as the page does. Rounds rotate the three sides;
medians are printed, with page / bare (goal ≤ 3×).

**Part rps** (PostgreSQL): 1, then 3 ``gpw --db URL serve`` processes (``--servers 1,2,3``: one
count after another), each on its own port (``gpw serve`` binds its socket itself, without
SO_REUSEPORT), driven by one ``wrk`` per server port (``-t1``, ``--connections`` keep-alive
connections each; a Lua script sets the cookie or the token and the body, and counts every
status that is not 200: any such status, or any socket error, fails the run). Two loads, each
for ``--warmup`` seconds, then ``--duration`` seconds measured: the project page
(``GET /projects/{id}``, HTML, the purchaser's clerk logged in, over 20 projects made through
the facade and signed, each with its deadlines, notices' ladder and audit trail) and
``POST /api/v1/projects/{id}/events/revise_plan`` (``Authorization: Bearer``, body
``{"data": {"budget": …}}``, no ``expected_version``, over 600 draft projects: ``revise_plan``
keeps a draft a draft, so it can be fired again and again). Each wrk takes its own share of the
projects in turn (the i-th of k wrk every k-th project from the i-th), so no two requests in
flight fire on one project: two concurrent fires of one project without ``expected_version``
can be refused (422, R15 "backdated": the time is read before the project's row is locked).
Each server first answers one request of each load (cold). The servers run gpw's defaults
(uvicorn, one event loop, the page views and the API's sync routes in its thread pool, a pool
of 5 + 10 connections, the access log on at ``info`` into a file), with ``GPW_NOW`` set to the
day above. Printed: requests per second for each count and their ratios (goal 1 → 3 ≥ 2×); the
CPU seconds the servers, PostgreSQL and wrk used during the measured seconds, what share of the
cores that is, and what the rest of the machine used; the CPU a request cost the servers and
PostgreSQL, and the requests per second those costs allow on this machine's cores with nothing
else running (a gpw serve process is one core at most: one interpreter and its GIL).

Everything started here (the servers, wrk, PostgreSQL) is stopped at the end, on an error, on
Ctrl-C or SIGTERM, and when ``--max-seconds`` have passed.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import httpx
import lxml.html
import pg
from _setup import at, contracted_project, machine
from bench_dashboard import (
    NOW,
    bare_deadline_page,
    bare_overview,
    bare_project_page,
    build,
    database,
)
from bench_workers import children_cpu, server_cpu
from servers import free_port
from sqlalchemy import and_, or_, select, text

from workflow import Workflow
from workflow.demo import CLERK, walk_to_contracted
from workflow.services.scope import Scope
from workflow.tables import auth_event_t, user_t
from workflow.web import create_app
from workflow.web.pages import OVERVIEW_OVERDUE, PAGE_SIZE
from workflow.web.session import CSRF_FIELD, SESSION_COOKIE

GPW = str(Path(sys.executable).parent / "gpw")
WRK = "wrk"
PASSWORD = "bench password 2026"
#: login → (role, org, region)
USERS = {
    "bench-admin": ("admin", "信息中心", ()),
    "bench-county": ("supervisor", "自治区民政厅", ("县7单位",)),
    "bench-clerk": ("purchaser", CLERK.org, ()),
}
FILTERED = {"state": "in_service", "overdue": True, "sort": "title"}
PAGE_PROJECTS = 20
DRAFTS = 600
LOADS = (("page", "GET /projects/{id}"), ("post", "POST revise_plan"))
TICK = os.sysconf("SC_CLK_TCK")


class OutOfTime(Exception):
    """``--max-seconds`` passed."""


# -- part pages -----------------------------------------------------------------------------------


class ServerTime(float):
    """Seconds the app spent on a request, from its call to its last body message: the server's
    time, without the client's (httpx building the request and reading the response)."""


class Timed:
    """The app, timed: each request's server time in ``last``."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.last = ServerTime(0.0)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        t0 = time.perf_counter()

        async def timed_send(message: Any) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.last = ServerTime(time.perf_counter() - t0)
            await send(message)

        await self.app(scope, receive, timed_send)


class Browser:
    """A browser on the app in this process: httpx over ASGITransport, its own cookies, driven
    from one event loop. ``server_time()``: the app's own time on the last request."""

    def __init__(self, app: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.timed = Timed(app)
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.timed), base_url="http://testserver"
        )

    def server_time(self) -> ServerTime:
        return self.timed.last

    @property
    def cookies(self) -> httpx.Cookies:
        return self.client.cookies

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.client.get(path, **kwargs))

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.client.post(path, **kwargs))

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())


def log_in(client: Browser | httpx.Client, login: str) -> None:
    """Log in as a browser does: the login form's CSRF token, then ``POST /login``."""
    form = lxml.html.fromstring(client.get("/login").text)
    token = str(form.xpath(f'//input[@name="{CSRF_FIELD}"]/@value')[0])
    answer = client.post(
        "/login",
        data={"login": login, "password": PASSWORD, CSRF_FIELD: token, "next": "/"},
        follow_redirects=False,
    )
    if answer.status_code != 303 or SESSION_COOKIE not in client.cookies:
        raise RuntimeError(f"login {login}: {answer.status_code} {answer.text[:500]}")


def add_users(wf: Workflow) -> None:
    for login, (role, org, region) in USERS.items():
        wf.users.add(login, role=role, org=org, password=PASSWORD, region=region, at=NOW)


def bare_session(wf: Workflow, login: str) -> Callable[[], Any]:
    """The session's two reads (``Users.session_user``) as Core statements, built once."""
    e = auth_event_t.c
    user = select(user_t).where(user_t.c.login == login)
    ended = (
        select(e.id)
        .where(
            e.login == login,
            e.at >= NOW,
            or_(
                and_(e.kind == "logout", e.detail == "bench-session"),
                and_(e.kind == "user_changed", e.at > NOW),
            ),
        )
        .limit(1)
    )

    def run() -> Any:
        with wf.engine.connect() as conn, conn.begin():
            return conn.execute(user).first(), conn.execute(ended).first()

    return run


def in_turn(*reads: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> Any:
        return [read() for read in reads]

    return run


def medians(sides: Sequence[Callable[[], Any]], rounds: int) -> list[float]:
    """Median seconds of each side; each round runs every side once, the order rotating. A side
    that returns a :class:`ServerTime` is timed by it (the server's time of its request)."""
    for side in sides:  # warm: caches, compiled statements, templates, the calendar
        side()
    times: list[list[float]] = [[] for _ in sides]
    order = list(range(len(sides)))
    for r in range(rounds):
        k = r % len(order)
        for i in order[k:] + order[:k]:
            t0 = time.perf_counter()
            got = sides[i]()
            took = time.perf_counter() - t0
            times[i].append(got if isinstance(got, ServerTime) else took)
    return [statistics.median(t) for t in times]


@dataclass
class PageCase:
    label: str
    client: Browser
    path: str
    service: Callable[[], Any]
    bare: Callable[[], Any]
    #: what the page must show: the number of project rows, or the overview's project count
    rows: int | None = None
    projects: int | None = None


def page_cases(wf: Workflow, clients: dict[str, Browser]) -> list[PageCase]:
    lists, users = wf.lists, wf.users
    cases: list[PageCase] = []
    for login, who in (("bench-admin", "admin"), ("bench-county", "county supervisor")):
        role, org, region = USERS[login]
        scope = Scope.of(role, org, region)

        def session(login: str = login) -> Any:
            return users.session_user(login, session="bench-session", since=NOW)

        for filtered in (False, True):
            filters: dict[str, Any] = FILTERED if filtered else {}
            query = "?state=in_service&overdue=1&sort=title" if filtered else ""
            shown = lists.list_projects(scope, now=NOW, limit=PAGE_SIZE, **filters)
            cases.append(
                PageCase(
                    f"GET /projects{query} ({who})",
                    clients[login],
                    f"/projects{query}",
                    lambda s=scope, f=filters, session=session: (
                        session(),
                        lists.list_projects(s, now=NOW, limit=PAGE_SIZE, **f),
                    ),
                    in_turn(bare_session(wf, login), bare_project_page(wf, scope, **filters)),
                    rows=len(shown.items),
                )
            )
        cases.append(
            PageCase(
                f"GET / (overview, {who})",
                clients[login],
                "/",
                lambda s=scope, session=session: (
                    session(),
                    lists.overview(s, now=NOW),
                    lists.deadlines(s, status="overdue", limit=OVERVIEW_OVERDUE, now=NOW),
                ),
                in_turn(
                    bare_session(wf, login),
                    bare_overview(wf, scope),
                    bare_deadline_page(wf, scope, "overdue", limit=OVERVIEW_OVERDUE),
                ),
                projects=lists.overview(scope, now=NOW).projects,
            )
        )
    return cases


def check_page(case: PageCase) -> None:
    """The page answers 200 with what the service reads (not a login page, not an error)."""
    answer = case.client.get(case.path, follow_redirects=False)
    if answer.status_code != 200:
        raise RuntimeError(f"{case.path}: {answer.status_code} {answer.text[:500]}")
    if case.rows is not None:
        found = answer.text.count("data-project=")
        if found != case.rows:
            raise RuntimeError(f"{case.path}: {found} rows shown, the service read {case.rows}")
    if case.projects is not None:
        tile = re.search(r'data-testid="ov-projects"><span class="n">(\d+)<', answer.text)
        if tile is None or int(tile.group(1)) != case.projects:
            raise RuntimeError(f"{case.path}: the overview does not show {case.projects} projects")


def part_pages(backend: str, projects: int, rounds: int) -> None:
    with database(backend) as url, ExitStack() as stack:
        t0 = time.perf_counter()
        wf = Workflow.open(url, clock=lambda: NOW)
        stack.callback(wf.close)
        contracted_project(wf)
        build(wf.engine, projects)
        add_users(wf)
        built = time.perf_counter() - t0
        with wf.engine.connect() as conn:
            counts = [
                conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("gpw_project", "gpw_deadline")
            ]
        app = create_app(wf, secret_key="b" * 48)
        loop = asyncio.new_event_loop()
        stack.callback(loop.close)
        clients = {}
        for login in ("bench-admin", "bench-county"):
            clients[login] = Browser(app, loop)
            stack.callback(clients[login].close)
            log_in(clients[login], login)
        # the floor under any page: a request the app answers without the database or a
        # template (the API's 401 without a token), through the same client
        admin = clients["bench-admin"]
        floor = medians([lambda: admin.get("/api/v1/health")], rounds * 4 + 1)
        floor_server = medians(
            [lambda: (admin.get("/api/v1/health"), admin.server_time())[1]], rounds * 4 + 1
        )
        name = "SQLite file (WAL)" if backend == "sqlite" else "PostgreSQL (loopback)"
        print(
            f"[pages, {name}] {counts[0]:,} projects, {counts[1]:,} deadlines; built in "
            f"{built:.0f} s; load average {os.getloadavg()[0]:.1f}; medians of "
            f"{rounds * 4 + 1} rounds (lists), {rounds} (overviews)"
        )
        print(
            f"  {'':<72} {'server':>10} {'client':>10} {'service':>10} {'bare SQL':>10}"
            "  server/bare"
        )
        for case in page_cases(wf, clients):
            check_page(case)
            client, path = case.client, case.path

            def page(client: Browser = client, path: str = path) -> Any:
                client.get(path, follow_redirects=False)
                return client.server_time()

            def seen(client: Browser = client, path: str = path) -> Any:
                return client.get(path, follow_redirects=False)

            n = rounds if case.path == "/" else rounds * 4 + 1
            p, c, s, b = medians([page, seen, case.service, case.bare], n)
            print(
                f"  {case.label:<72} {p * 1e3:7.2f} ms {c * 1e3:7.2f} ms {s * 1e3:7.2f} ms"
                f" {b * 1e3:7.2f} ms  {p / b:5.2f}×"
            )
        print(
            "  (goal: the page's server time / bare ≤ 3× for each. server: the app's own time, "
            "from the request's arrival to its last byte; client: the same request as the "
            "in-process httpx client sees it, its own work included. The floor under every "
            "page, a request answered without the database or a template: "
            f"{floor_server[0] * 1e3:.2f} ms server, {floor[0] * 1e3:.2f} ms client)"
        )


# -- part rps -------------------------------------------------------------------------------------


def _die_with_parent() -> None:
    """In a child before exec: SIGTERM when this process dies, even by SIGKILL (Linux)."""
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def process_cpu(pid: int) -> float:
    """CPU seconds of a live process, all its threads (utime + stime)."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy since boot (every core)."""
    parts = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = parts[3] + parts[4]  # idle, iowait
    return (sum(parts[:8]) - idle) / TICK


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]
    log: Path


class Processes:
    """Every process this run starts, stopped at the end whatever happens."""

    def __init__(self) -> None:
        self.running: list[subprocess.Popen[bytes]] = []

    def start(self, argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(argv, preexec_fn=_die_with_parent, **kwargs)
        self.running.append(process)
        return process

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        if process in self.running:
            self.running.remove(process)

    def stop_all(self) -> None:
        for process in list(self.running):
            self.stop(process)


def start_servers(
    procs: Processes, url: str, count: int, env: dict[str, str], logs: Path
) -> list[Server]:
    servers = []
    for i in range(count):
        port = free_port()
        log = logs / f"serve-{count}-{i}.log"
        with log.open("wb") as out:
            process = procs.start(
                [GPW, "--db", url, "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        servers.append(Server(port, process, log))
    deadline = time.monotonic() + 60
    for server in servers:
        while True:
            if server.process.poll() is not None:
                raise RuntimeError(f"gpw serve exited: {server.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{server.port}/login").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gpw serve not up in 60 s: {server.log.read_text()[-2000:]}")
            time.sleep(0.2)
    return servers


LUA = """
local ids = {%(ids)s}
local headers = {%(headers)s}
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  -- this wrk's share of the projects: every step-th from first, in turn
  first, step = tonumber(args[1]), tonumber(args[2])
  at = first
  math.randomseed(first)
  ok, bad, last, said = 0, 0, 0, ""
end
function request()
  local id = ids[at]
  at = at + step
  if at > #ids then at = first end
  return wrk.format("%(method)s", string.format("%(path)s", id), headers, %(body)s)
end
function response(status, hdrs, body)
  if status == 200 then ok = ok + 1 else bad = bad + 1; last = status; said = body end
end
function done(summary, latency, requests)
  local o, b, l = 0, 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok"); b = b + t:get("bad")
    if t:get("last") ~= 0 then l = t:get("last"); io.write(t:get("said"):sub(1, 600), "\\n") end
  end
  local e = summary.errors
  io.write(string.format("gpw-bench %%d %%d %%d %%d %%d %%d\\n", summary.duration, o, b, l,
    e.connect + e.read + e.write + e.timeout, summary.requests))
end
"""


def lua_script(
    folder: Path, name: str, *, ids: Sequence[int], method: str, path: str, headers: dict[str, str]
) -> Path:
    def quoted(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    body = "nil"
    if method == "POST":
        body = 'string.format(\'{"data": {"budget": "%d.00"}}\', 1000000 + math.random(99999))'
    script = folder / f"{name}.lua"
    script.write_text(
        LUA
        % {
            "ids": ", ".join(map(str, ids)),
            "headers": ", ".join(f"[{quoted(k)}] = {quoted(v)}" for k, v in headers.items()),
            "method": method,
            "path": path,
            "body": body,
        }
    )
    return script


@dataclass
class Load:
    rps: float
    requests: int
    cpu: dict[str, float]
    elapsed: float

    def per_request(self, who: str) -> float:
        """CPU seconds a request cost ``who``."""
        return self.cpu[who] / self.requests

    def ceiling(self, servers: int) -> float:
        """The requests per second these costs allow on this machine's cores with nothing else
        running: each gpw serve process is one core at most (one interpreter, its GIL), and
        the servers, PostgreSQL and wrk share the cores."""
        cores = os.cpu_count() or 1
        ours = sum(self.per_request(k) for k in ("gpw serve", "PostgreSQL", "wrk"))
        return min(servers / self.per_request("gpw serve"), cores / ours)


def run_wrk(
    procs: Processes,
    servers: Sequence[Server],
    script: Path,
    seconds: float,
    connections: int,
    *,
    warmup: bool = False,
) -> tuple[float, int]:
    """One wrk per server, at once; their summed requests per second and requests. Any answer
    but 200 or any socket error fails the run (and no answer at all, unless warming up)."""
    runs = [
        procs.start(
            [
                WRK,
                "-t1",
                f"-c{connections}",
                f"-d{seconds:g}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                f"http://127.0.0.1:{server.port}",
                "--",
                str(i + 1),
                str(len(servers)),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for i, server in enumerate(servers)
    ]
    rps, total = 0.0, 0
    for run in runs:
        out, _ = run.communicate(timeout=seconds + 60)
        procs.running.remove(run)
        found = re.search(rb"^gpw-bench (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)$", out, re.MULTILINE)
        if run.returncode != 0 or found is None:
            raise RuntimeError(f"wrk failed ({run.returncode}): {out.decode()[-2000:]}")
        duration, ok, bad, last, errors, requests = map(int, found.groups())
        if bad or errors or not (ok or warmup):
            raise RuntimeError(
                f"wrk: {ok} answers 200, {bad} not (last status {last}), {errors} socket "
                f"errors:\n{out.decode()[-2000:]}"
            )
        rps += requests / (duration / 1e6)
        total += requests
    return rps, total


def measure(
    procs: Processes,
    servers: Sequence[Server],
    pg_server: pg.PostgresServer,
    script: Path,
    args: argparse.Namespace,
) -> Load:
    run_wrk(procs, servers, script, args.warmup, args.connections, warmup=True)
    pids = [s.process.pid for s in servers]
    before = (
        sum(process_cpu(p) for p in pids),
        server_cpu(pg_server),
        children_cpu(),
        machine_busy(),
        time.perf_counter(),
    )
    rps, requests = run_wrk(procs, servers, script, args.duration, args.connections)
    after = (
        sum(process_cpu(p) for p in pids),
        server_cpu(pg_server),
        children_cpu(),
        machine_busy(),
        time.perf_counter(),
    )
    gpw_s, pg_s, wrk_s, busy, elapsed = (b - a for a, b in zip(before, after, strict=True))
    cpu = {"gpw serve": gpw_s, "PostgreSQL": pg_s, "wrk": wrk_s}
    cpu["rest of the machine"] = max(0.0, busy - sum(cpu.values()))
    return Load(rps, requests, cpu, elapsed)


def part_rps(args: argparse.Namespace, procs: Processes) -> None:
    with pg.running() as pg_server, tempfile.TemporaryDirectory(prefix="gpw-bench-web-") as tmp:
        folder = Path(tmp)
        url = pg_server.url(pg_server.create_database())
        t0 = time.perf_counter()
        wf = Workflow.open(url, clock=lambda: NOW)
        try:
            contracted_project(wf)  # project 1 and contractor 1: the copies' template
            build(wf.engine, args.projects)
            shown = [1] + [
                walk_to_contracted(
                    wf,
                    contractor_id=1,
                    title=f"入户核查员服务（第 {i} 批）",
                    signed_on="2025-09-26",
                    price="900000.00",
                    when=at("2025-09-26"),
                )
                for i in range(2, PAGE_PROJECTS + 1)
            ]
            drafts = [
                wf.create_project(
                    actor=CLERK,
                    title=f"社会救助服务草案 {i}",
                    purchaser=CLERK.org,
                    budget="1200000.00",
                    items=[{"name": "社会救助入户核查", "quantity": 16, "unit": "人"}],
                    at=at("2026-06-01"),
                )
                for i in range(DRAFTS)
            ]
            add_users(wf)
            token = wf.users.issue_token("bench-clerk", label="bench_web")
            with wf.engine.connect() as conn:
                counts = [
                    conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                    for t in ("gpw_project", "gpw_deadline")
                ]
        finally:
            wf.close()
        print(
            f"[rps, PostgreSQL (loopback)] {counts[0]:,} projects, {counts[1]:,} deadlines "
            f"(built in {time.perf_counter() - t0:.0f} s); {os.cpu_count()} cores; wrk -t1 "
            f"-c{args.connections} per server; {args.warmup:g} s warm-up, {args.duration:g} s "
            "measured"
        )
        env = {**os.environ, "GPW_NOW": NOW.isoformat(), "GPW_NOW_SINCE": str(time.time())}
        env.pop("GPW_SECRET_KEY", None)  # the key kept in the database: shared by the servers
        scripts: dict[str, Path] = {}
        results: dict[str, dict[int, Load]] = {"page": {}, "post": {}}
        for count in args.servers:
            servers = start_servers(procs, url, count, env, folder)
            try:
                if not scripts:
                    base = f"http://127.0.0.1:{servers[0].port}"
                    with httpx.Client(base_url=base, timeout=60) as browser:
                        log_in(browser, "bench-clerk")
                        cookie = f"{SESSION_COOKIE}={browser.cookies[SESSION_COOKIE]}"
                    scripts["page"] = lua_script(
                        folder,
                        "page",
                        ids=shown,
                        method="GET",
                        path="/projects/%d",
                        headers={"Cookie": cookie},
                    )
                    scripts["post"] = lua_script(
                        folder,
                        "post",
                        ids=drafts,
                        method="POST",
                        path="/api/v1/projects/%d/events/revise_plan",
                        headers={
                            "Authorization": f"Bearer {token}",
                            "Content-Type": "application/json",
                        },
                    )
                # each server answers one of each (cold: templates, the calendar, the pool)
                for i, server in enumerate(servers):
                    check_once(server.port, cookie, token, shown[i], drafts[i])
                for load, label in LOADS:
                    if load not in args.loads:
                        continue
                    loadavg = os.getloadavg()[0]
                    got = measure(procs, servers, pg_server, scripts[load], args)
                    results[load][count] = got
                    share = sum(got.cpu.values()) / got.elapsed / (os.cpu_count() or 1)
                    cpu = ", ".join(f"{k} {v:.1f}" for k, v in got.cpu.items())
                    print(
                        f"  {count} server(s) {label:<20} {got.rps:7.1f} req/s "
                        f"({got.requests:,} requests, all 200); CPU s: {cpu} "
                        f"= {share:.0%} of the cores; load average before {loadavg:.1f}"
                    )
            finally:
                procs.stop_all()  # the servers, and wrk if it was cut short
        for load, label in LOADS:
            if load not in args.loads:
                continue
            base = results[load][args.servers[0]].rps
            ups = ", ".join(
                f"{args.servers[0]} → {k}: {results[load][k].rps / base:.2f}×"
                for k in args.servers[1:]
            )
            print(f"  {label:<20} servers {ups}  (goal 1 → 3 ≥ 2×)")
            costs = "; ".join(
                f"{k}: gpw serve {got.per_request('gpw serve') * 1e3:.1f} ms, PostgreSQL "
                f"{got.per_request('PostgreSQL') * 1e3:.1f} ms"
                for k, got in results[load].items()
            )
            ceilings = {k: got.ceiling(k) for k, got in results[load].items()}
            first = ceilings[args.servers[0]]
            print(
                f"  {'':<20} CPU a request ({costs}); with nothing else on the "
                f"{os.cpu_count()} cores these costs allow "
                + ", ".join(f"{v:.0f} req/s ({k})" for k, v in ceilings.items())
                + ": "
                + ", ".join(
                    f"{args.servers[0]} → {k}: {v / first:.2f}×"
                    for k, v in ceilings.items()
                    if k != args.servers[0]
                )
            )


def check_once(port: int, cookie: str, token: str, shown: int, draft: int) -> None:
    """One request of each load, answered 200 (the page itself, not the login page)."""
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        page = client.get(f"/projects/{shown}", headers={"Cookie": cookie})
        fired = client.post(
            f"/api/v1/projects/{draft}/events/revise_plan",
            json={"data": {"budget": "1000001.00"}},
            headers={"Authorization": f"Bearer {token}"},
        )
    if page.status_code != 200 or 'data-testid="current-user"' not in page.text:
        raise RuntimeError(f"project page: {page.status_code} {page.text[:500]}")
    if fired.status_code != 200 or fired.json().get("state") != "draft":
        raise RuntimeError(f"revise_plan: {fired.status_code} {fired.text[:500]}")


# -- main -----------------------------------------------------------------------------------------


@contextmanager
def bounded(seconds: int) -> Iterator[None]:
    """Out of time after ``seconds``; SIGTERM ends the run like Ctrl-C (cleaning up)."""

    def out_of_time(*_: Any) -> None:
        raise OutOfTime(f"out of time after {seconds} s (--max-seconds)")

    def interrupted(*_: Any) -> None:
        raise KeyboardInterrupt

    previous = (
        signal.signal(signal.SIGALRM, out_of_time),
        signal.signal(signal.SIGTERM, interrupted),
    )
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous[0])
        signal.signal(signal.SIGTERM, previous[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("pages", "rps", "both"), default="both")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--projects", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--loads", type=lambda v: v.split(","), default=["page", "post"], help="page,post"
    )
    parser.add_argument(
        "--servers",
        type=lambda v: [int(k) for k in v.split(",")],
        default=[1, 3],
        help="the numbers of gpw serve processes, in turn (1,3; 1,2,3)",
    )
    parser.add_argument("--max-seconds", type=int, default=3600)
    args = parser.parse_args()
    print(machine())
    procs = Processes()
    try:
        with bounded(args.max_seconds):
            if args.part in ("pages", "both"):
                for backend in (
                    ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
                ):
                    part_pages(backend, args.projects, args.rounds)
            if args.part in ("rps", "both"):
                part_rps(args, procs)
    except OutOfTime as exc:
        sys.exit(str(exc))
    except KeyboardInterrupt:
        sys.exit("interrupted: every process this run started is stopped")
    finally:
        procs.stop_all()


if __name__ == "__main__":
    main()
