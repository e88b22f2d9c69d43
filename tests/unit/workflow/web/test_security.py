"""The web app and the JSON API against a hostile clerk, contractor or outsider (issue #8,
Security): each hole found by trying it is a test here, on SQLite and PostgreSQL (the ``wf``
fixture), through a test client on the real app (and a real ``gpw serve`` where the server's own
settings matter)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import lxml.html
import pytest
from argon2 import PasswordHasher
from browser import serving
from fastapi.testclient import TestClient
from support import project_in
from webapi import PASSWORD, USERS

from workflow import Workflow
from workflow.web import create_app
from workflow.web.session import CSRF_FIELD, SESSION_COOKIE

SECRET = "s" * 48
#: a real server's clock (GPW_NOW)
NOW = "2031-01-06T09:00:00+08:00"
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def html(response: Any) -> Any:
    return lxml.html.fromstring(response.text)


def where(response: Any) -> str:
    """The path a 303 sends the browser to."""
    assert response.status_code == 303, response.text[:300]
    return urlsplit(response.headers["location"]).path


@dataclass
class Browser:
    """One person's browser: a client with its own cookies."""

    client: TestClient

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, follow_redirects=False, **kwargs)

    def post(self, path: str, data: Any = None, **kwargs: Any) -> Any:
        return self.client.post(path, data=data, follow_redirects=False, **kwargs)

    def csrf(self, path: str = "/login") -> str:
        return str(html(self.client.get(path)).xpath(f'//input[@name="{CSRF_FIELD}"]/@value')[0])

    def log_in(self, login: str, password: str = PASSWORD) -> Any:
        data = {"login": login, "password": password, CSRF_FIELD: self.csrf(), "next": "/"}
        return self.post("/login", data)

    def log_out(self) -> Any:
        return self.post("/logout", {CSRF_FIELD: self.csrf("/")})


@dataclass
class Site:
    wf: Any
    app: Any
    project_id: int
    #: the workflow's clock reads now[0]
    now: list[datetime]

    def later(self, **delta: float) -> datetime:
        """Move the clock on."""
        self.now[0] += timedelta(**delta)
        return self.now[0]

    def browser(self, login: str | None = None) -> Browser:
        browser = Browser(TestClient(self.app))
        if login is not None:
            assert where(browser.log_in(login)) == "/"
        return browser


def add_users(wf: Any) -> None:
    wf.users.hasher = CHEAP
    for login, (role, org, region) in USERS.items():
        wf.users.add(login, role=role, org=org, password=PASSWORD, region=region)


#: when the tests' clock starts (after every business date the support module records)
START = datetime.fromisoformat("2031-01-06T09:00:00+08:00")


@pytest.fixture
def site(db_url: str) -> Iterator[Site]:
    now = [START]
    wf = Workflow.open(db_url, clock=lambda: now[0])
    try:
        add_users(wf)
        pid, _ = project_in(wf, "in_service")
        with TestClient(create_app(wf, secret_key=SECRET)) as client:
            yield Site(wf, client.app, pid, now)
    finally:
        wf.close()


# -- sessions -------------------------------------------------------------------------------


def test_logout_ends_the_session_even_for_a_copy_of_its_cookie(site: Site) -> None:
    clerk = site.browser("clerk")
    elsewhere = site.browser("clerk")  # the same person on another device
    copied = clerk.client.cookies[SESSION_COOKIE]
    assert where(clerk.log_out()) == "/login"
    thief = site.browser()
    thief.client.cookies.set(SESSION_COOKIE, copied)
    assert where(thief.get("/")) == "/login"
    assert where(thief.get(f"/projects/{site.project_id}")) == "/login"
    # logging out ends that session only
    assert elsewhere.get("/").status_code == 200


def test_a_new_password_or_a_deactivation_ends_every_session_begun_before(site: Site) -> None:
    laptop, phone = site.browser("clerk"), site.browser("clerk")
    site.later(minutes=5)
    site.wf.users.set_password("clerk", "a brand new password")
    site.later(minutes=5)
    for browser in (laptop, phone):
        assert where(browser.get("/")) == "/login"
    # a login with the new password starts a session that stands
    fresh = site.browser()
    assert where(fresh.log_in("clerk", "a brand new password")) == "/"
    assert fresh.get("/").status_code == 200
    # switched off and on again: the sessions from before stay ended
    gov = site.browser("gov")
    site.later(minutes=5)
    site.wf.users.set_active("gov", False)
    site.wf.users.set_active("gov", True)
    site.later(minutes=5)
    assert where(gov.get("/")) == "/login"


def test_a_session_lasts_a_working_day_from_its_login_however_busy(site: Site) -> None:
    clerk = site.browser("clerk")
    for _ in range(16):  # a click every half hour keeps the cookie fresh ...
        site.later(minutes=30)
        assert clerk.get("/projects").status_code == 200
    site.later(minutes=1)  # ... but not beyond eight hours from the login
    assert where(clerk.get("/projects")) == "/login"


# -- the client's address (login throttling, the log of logins and token use) ----------------


def failed_login_from(url: str, forwarded_for: str) -> None:
    with httpx.Client(base_url=url) as web:
        login_page = web.get("/login")
        token = lxml.html.fromstring(login_page.text).xpath(f'//input[@name="{CSRF_FIELD}"]/@value')
        data = {"login": "clerk", "password": "not the password", CSRF_FIELD: token[0]}
        refused = web.post("/login", data=data, headers={"X-Forwarded-For": forwarded_for})
        assert refused.status_code == 401


def test_gpw_serve_trusts_no_forwarded_for_header_unless_told(wf: Any, db_url: str) -> None:
    add_users(wf)
    # a client that says it forwards for another address gets no other address: each lie
    # would otherwise be a fresh address to the throttle, and a false one in the log
    with serving(db_url, now=NOW) as server:
        for n in range(3):
            failed_login_from(server.url, f"10.9.9.{n}")
    assert {e["ip"] for e in wf.users.events(kinds=["login_failed"])} == {"127.0.0.1"}
    # behind a proxy on this machine, the operator names it, and its header is believed
    with serving(db_url, now=NOW, args=("--forwarded-allow-ips", "127.0.0.1")) as server:
        failed_login_from(server.url, "10.8.8.8")
    assert wf.users.events(kinds=["login_failed"])[0]["ip"] == "10.8.8.8"


# -- secrets in pages -----------------------------------------------------------------------

#: a webhook whose address carries its tokens, in its path (Feishu's, Slack's) and its query
#: (DingTalk's, WeCom's), on a port nobody answers
HOOK = "http://127.0.0.1:1/bot/hook/PATH-SECRET-9?token=QUERY-SECRET-42"
SECRETS = ("PATH-SECRET", "QUERY-SECRET", "signing-key")


def test_a_failing_webhooks_token_shows_in_no_list_or_page(db_url: str, wf: Any) -> None:
    from notifications.channels import WebhookChannel

    add_users(wf)
    pid, _ = project_in(wf, "in_service")
    hooked = Workflow.open(db_url, clock=wf.clock, channels=[WebhookChannel("signing-key-7")])
    try:
        for org, role in (("大武口区民政局", "purchaser"), ("星海社会工作服务中心", "contractor")):
            hooked.directory.add(org=org, role=role, name="值班员", webhook=HOOK)
        for day in ("2025-10-22", "2025-11-05", "2025-12-01", "2026-02-02"):
            moment = datetime.fromisoformat(f"{day}T10:00:00+08:00")
            hooked.tick(moment)
            hooked.relay(moment)
        failing = hooked.lists.notices(hooked.users.get("admin").scope(), status="failing")
        # the list's own read, for any caller of the service: the address without its query
        errors = [str(n.last_error) for n in failing.items]
        assert any("webhook http://127.0.0.1:1/…" in e for e in errors), errors
        assert not any(secret in e for e in errors for secret in SECRETS), errors
        with TestClient(create_app(hooked, secret_key=SECRET)) as client:
            site = Site(hooked, client.app, pid, [START])
            for login in ("admin", "clerk"):
                browser = site.browser(login)
                for path in ("/", "/notices?status=failing", "/notices", f"/projects/{pid}"):
                    page = browser.get(path)
                    assert page.status_code == 200, path
                    assert not any(secret in page.text for secret in SECRETS), (login, path)
            api = {"Authorization": f"Bearer {hooked.users.issue_token('clerk')}"}
            for path in ("/notices", f"/projects/{pid}", f"/projects/{pid}/history"):
                answer = client.get(f"/api/v1{path}", headers=api)
                assert answer.status_code == 200
                assert not any(secret in answer.text for secret in SECRETS), path
    finally:
        hooked.close()


# -- odd input ------------------------------------------------------------------------------


@pytest.mark.parametrize("login", ["cl\x00erk", "\x00", "clerk\x00" + "x" * 100])
def test_a_nul_in_a_login_is_a_wrong_login_not_a_500(site: Site, login: str) -> None:
    browser = site.browser()
    refused = browser.log_in(login)
    assert refused.status_code == 401, refused.text[:300]
    assert html(refused).xpath('//*[@data-testid="login-error"]')
    failed = site.wf.users.events(kinds=["login_failed"])[0]
    assert "\x00" not in failed["login"] and len(failed["login"]) <= 64


# -- links that leave the site ----------------------------------------------------------------


@pytest.mark.parametrize("path", ["//evil.example/x", "/\\evil.example/x", "///evil.example"])
def test_no_link_on_a_page_leads_off_site_whatever_the_path_asked_for(
    site: Site, path: str
) -> None:
    for browser in (site.browser(), site.browser("clerk")):
        page = browser.get(f"http://testserver{path}")
        assert page.status_code == 404
        for href in html(page).xpath("//a/@href | //form/@action | //link/@href"):
            if href.startswith("data:") or href.startswith("#"):
                continue
            assert href.startswith("/") and not href.startswith("//"), href
            assert "\\" not in href, href


def test_a_page_form_takes_no_file(site: Site) -> None:
    # every form is a plain one: a file (spooled to disk before anything is checked, by anyone,
    # logged in or not) is refused as soon as its part begins
    browser = site.browser()
    fields = {"login": "clerk", "password": PASSWORD, CSRF_FIELD: browser.csrf()}
    upload = {"attachment": ("big.bin", b"\0" * 2_000_000, "application/octet-stream")}
    refused = browser.post("/login", fields, files=upload)
    assert refused.status_code == 400
    assert html(refused).xpath('//*[@data-testid="error-page"]/@data-status') == ["400"]
    assert site.wf.users.events(kinds=["login_ok", "login_failed"]) == []
    # a form in multipart encoding without a file still works
    assert where(browser.post("/login", fields, files={"note": (None, "text")})) == "/"


# -- headers --------------------------------------------------------------------------------


def test_api_answers_are_never_stored_nor_sniffed(site: Site) -> None:
    token = site.wf.users.issue_token("clerk")
    auth = {"Authorization": f"Bearer {token}"}
    client = site.browser().client
    answers = [
        client.get("/api/v1/projects", headers=auth),  # 200
        client.get(f"/api/v1/projects/{site.project_id}/history", headers=auth),
        client.get("/api/v1/projects"),  # 401
        client.get("/api/v1/projects/999999", headers=auth),  # 404
        client.get("/api/v1/projects?limit=0", headers=auth),  # 422
        client.delete("/api/v1/projects", headers=auth),  # 405
    ]
    assert [a.status_code for a in answers] == [200, 200, 401, 404, 422, 405]
    for answer in answers:
        assert answer.headers["cache-control"] == "no-store", answer.request.url
        assert answer.headers["x-content-type-options"] == "nosniff", answer.request.url


def test_static_files_are_not_sniffed(site: Site) -> None:
    for name in ("gpw.js", "gpw.css", "mermaid.min.js"):
        answer = site.browser().get(f"/static/{name}")
        assert answer.status_code == 200
        assert answer.headers["x-content-type-options"] == "nosniff", name


# -- numbers --------------------------------------------------------------------------------


def count_of(page: Any, testid: str) -> int:
    """The number an overview link shows (its first word)."""
    return int(page.xpath(f'//*[@data-testid="{testid}"]')[0].text_content().split()[0])


def rows_listed(browser: Browser, status: str) -> int:
    page = html(browser.get(f"/notices?status={status}"))
    return len(page.xpath("//table//tbody/tr[td/a]"))


def test_the_outbox_is_counted_within_the_readers_scope(db_url: str, wf: Any) -> None:
    from notifications.channels import WebhookChannel

    add_users(wf)
    pid, _ = project_in(wf, "in_service")
    # a channel and nobody in the directory: every notice is undeliverable
    hooked = Workflow.open(db_url, clock=wf.clock, channels=[WebhookChannel("signing-key-7")])
    try:
        for day in ("2025-10-22", "2025-11-05"):
            moment = datetime.fromisoformat(f"{day}T10:00:00+08:00")
            hooked.tick(moment)
            hooked.relay(moment)
        total = hooked.health()["notices"]["undeliverable"]
        assert total > 0
        with TestClient(create_app(hooked, secret_key=SECRET)) as client:
            site = Site(hooked, client.app, pid, [START])
            for login, seen in (("admin", total), ("clerk", total), ("other-ngo", 0)):
                browser = site.browser(login)
                overview = html(browser.get("/"))
                for testid, status in (("ov-undeliverable", "undeliverable"), ("ov-dead", "dead")):
                    # each number of the health box is the length of the list it links to
                    assert count_of(overview, testid) == rows_listed(browser, status), login
                assert count_of(overview, "ov-undeliverable") == seen, login
                token = hooked.users.issue_token(login)
                health = client.get("/api/v1/health", headers={"Authorization": f"Bearer {token}"})
                assert health.status_code == 200
                assert health.json()["notices"]["undeliverable"] == seen, login
                # another organisation's failures are not its problems
                codes = {p["code"] for p in health.json()["problems"]}
                assert ("undeliverable_notices" in codes) == (seen > 0), login
    finally:
        hooked.close()


# -- attacks that held (kept as tests so they keep holding) -----------------------------------


def test_an_outsider_reads_nothing_of_the_project_through_any_route(site: Site) -> None:
    pid = site.project_id
    title = site.wf.project(pid).title
    assert site.wf.tick(START) and site.wf.relay(START).sent  # notices and inbox entries
    item = site.wf.details.inbox("大武口区民政局", "purchaser", login="clerk").items[0].id
    admin = {"Authorization": f"Bearer {site.wf.users.issue_token('admin')}"}
    client = site.browser().client
    first = client.get("/api/v1/deadlines", params={"status": "all", "limit": 1}, headers=admin)
    cursor = first.json()["next_cursor"]
    assert cursor  # the admin's page goes on
    for login in ("other-ngo", "far-sup"):
        browser = site.browser(login)
        api = {"Authorization": f"Bearer {site.wf.users.issue_token(login)}"}
        for path in (f"/projects/{pid}", f"/inbox/{item}"):
            assert browser.get(path).status_code == 403, (login, path)
        for path in (f"/projects/{pid}", f"/projects/{pid}/events", f"/projects/{pid}/history"):
            assert client.get(f"/api/v1{path}", headers=api).status_code == 403, (login, path)
        # nor in a list, a count or a page read with someone else's cursor
        pages = ["/", "/projects", "/deadlines?status=all", "/notices?status=all", "/inbox"]
        pages += [f"/projects?contractor_id={c}" for c in (1, 2)] + ["/contractors/1"]
        pages += [f"/deadlines?status=all&project_id={pid}", f"/notices?project_id={pid}"]
        for path in pages:
            page = browser.get(path)
            assert page.status_code == 200, (login, path)
            assert title not in page.text and f"/projects/{pid}" not in page.text, (login, path)
        overview = html(browser.get("/"))
        assert count_of(overview, "ov-open") == 0 and count_of(overview, "ov-projects") == 0
        for path, params in (
            ("/projects", {}),
            ("/deadlines", {"status": "all"}),
            ("/deadlines", {"status": "all", "cursor": cursor}),
            ("/deadlines", {"status": "all", "project_id": pid}),
            ("/notices", {}),
        ):
            answer = client.get(f"/api/v1{path}", params=params, headers=api)
            assert answer.status_code == 200 and answer.json()["items"] == [], (login, path)
        # nor acts for it: an event, another organisation's inbox entry
        token = browser.csrf("/")
        form = {CSRF_FIELD: token, "expected_version": "1", "reason": "x"}
        assert browser.post(f"/projects/{pid}/events/terminate", form).status_code == 403
        assert browser.post(f"/inbox/{item}/ack", {CSRF_FIELD: token}).status_code == 403
        fired = client.post(
            f"/api/v1/projects/{pid}/events/terminate", headers=api, json={"data": {}}
        )
        assert fired.status_code == 403
    entry = site.wf.details.inbox("大武口区民政局", "purchaser", login="clerk").items[0]
    assert entry.read_at is None and entry.acknowledged_at is None
    assert site.wf.project(pid).state == "in_service"


def test_a_form_route_takes_its_token_from_a_form_only(site: Site) -> None:
    clerk = site.browser("clerk")
    token = clerk.csrf("/")
    # the token as JSON, as text, in the query: none of them is a form's
    assert clerk.post("/logout", json={CSRF_FIELD: token}).status_code == 403
    plain = {"content-type": "text/plain"}
    assert clerk.post("/logout", content=f"{CSRF_FIELD}={token}", headers=plain).status_code == 403
    assert clerk.post(f"/logout?{CSRF_FIELD}={token}").status_code == 403
    assert clerk.get("/").status_code == 200  # still logged in
    # and the API never takes the session's cookie for a token
    assert clerk.get("/api/v1/projects").status_code == 401
    fired = clerk.post(f"/api/v1/projects/{site.project_id}/events/terminate", json={})
    assert fired.status_code == 401
    # a token from before the login is worth nothing after it (a fresh session)
    browser = site.browser()
    before = browser.csrf()
    assert where(browser.log_in("clerk")) == "/"
    assert browser.post("/logout", {CSRF_FIELD: before}).status_code == 403


def test_a_login_spelled_otherwise_gets_no_more_tries(site: Site) -> None:
    browser = site.browser()
    for _ in range(5):
        assert browser.log_in("clerk", "wrong password").status_code == 401
    # spaces around it are the same login; another case is another (unknown) login
    for spelled in ("clerk", " clerk ", "clerk\t", "CLERK", "Clerk"):
        assert browser.log_in(spelled).status_code in (401, 429), spelled
    assert browser.log_in(" clerk ").status_code == 429
    assert where(browser.get("/")) == "/login"


#: markup that would run, inject an attribute or be evaluated if any page let it through
MARKUP = "\"'><x-xss a=1>{{7*7}}</x-xss>"


def test_markup_in_every_field_a_user_types_shows_as_text(db_url: str) -> None:
    from support import CLERK, CONTRACTOR, at, contractor

    now = [START]
    wf = Workflow.open(db_url, clock=lambda: now[0])
    try:
        items = [{"name": f"核查{MARKUP}", "quantity": 16, "unit": MARKUP, "standard": MARKUP}]
        pid, _ = project_in(wf, "in_service", title=f"标题{MARKUP}", items=items)
        contractor(wf, name=f"承接{MARKUP}")
        wf.fire(pid, "request_subcontract", actor=CONTRACTOR, at=at("2025-10-27"),
                part=f"分包{MARKUP}", to=f"分包方{MARKUP}", share="0.1")  # fmt: skip
        wf.fire(pid, "order_rectification", actor=CLERK, at=at("2025-11-03"),
                findings=f"问题{MARKUP}", due="2025-12-01")  # fmt: skip
        wf.directory.add(org="大武口区民政局", role="purchaser", name=f"张{MARKUP}")
        wf.tick(at("2025-11-04"))
        wf.relay(at("2025-11-04"))
        wf.users.hasher = CHEAP
        org = f"监督{MARKUP}"
        wf.users.add("sup", role="supervisor", org=org, password=PASSWORD, region=["*"],
                     name=f"监督员{MARKUP}")  # fmt: skip
        with TestClient(create_app(wf, secret_key=SECRET)) as client:
            browser = Site(wf, client.app, pid, now).browser("sup")
            odd = MARKUP.replace("&", "%26").replace("#", "%23")
            queue = ["/", "/projects", f"/projects/{pid}", "/deadlines?status=all", "/inbox",
                     "/notices?status=all", "/contractors", f"/projects?q={odd}&org={odd}",
                     f"/deadlines?org={odd}&kind={odd}", f"/contractors?q={odd}",
                     f"/projects/{pid}?done={odd}&lang={odd}", f"/no-such-page{odd}",
                     f"/projects?cursor={odd}", f"/projects/{pid}?lang=en"]  # fmt: skip
            seen: set[str] = set()
            while queue:
                path = queue.pop()
                seen.add(path)
                page = browser.get(path)
                tree = html(page)
                assert not tree.xpath("//x-xss | //*[@a]"), path
                assert "<x-xss" not in page.text and "49" not in tree.text_content().split()
                for href in tree.xpath("//a/@href"):
                    local = href.startswith(("/projects/", "/contractors/", "/inbox/"))
                    if local and "?" not in href and href not in seen:
                        queue.append(href)
            assert {f"/projects/{pid}", "/contractors/2"} <= seen
            # shown, as text: the title, the items, the findings, the subcontract, the names
            shown = html(browser.get(f"/projects/{pid}")).text_content()
            for text in ("标题", "核查", "问题", "分包方", "监督员"):
                assert text in shown, text
            assert shown.count("<x-xss a=1>") >= 5
            # typed into forms, refused, and shown again
            token = browser.csrf(f"/projects/{pid}")
            for event in (
                "pay",
                "evaluate",
                "correct_deadline",
                "terminate",
                "complete_rectification",
            ):
                data = dict.fromkeys(("reason", "amount", "on", "key", "kind", "findings"), MARKUP)
                data.update({CSRF_FIELD: token, "expected_version": "1", "tranche": MARKUP})
                page = browser.post(f"/projects/{pid}/events/{event}", data)
                assert "<x-xss" not in page.text and not html(page).xpath("//x-xss"), event
            page = (
                Site(wf, client.app, pid, now)
                .browser()
                .post("/login", {"login": MARKUP, "password": MARKUP, "next": MARKUP})
            )
            assert "<x-xss" not in page.text
    finally:
        wf.close()
