"""The dashboard's pages (issue #8) through a test client, read as a browser reads them (the
forms, ids and links of the HTML): a login on every page, CSRF on every form, user text escaped,
reads scoped on the server, a form for each event the user may fire and no other, refusals with
their rule and the input kept, a stale form, the English switch, the inbox read and acknowledged.
On SQLite and PostgreSQL (the ``wf`` fixture)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import lxml.html
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from support import new_project, project_in
from webapi import PASSWORD, USERS

from workflow.services.scope import Scope
from workflow.web import create_app
from workflow.web import pages as pages_module
from workflow.web.session import CSRF_FIELD, LANG_COOKIE, SESSION_COOKIE

SECRET = "k" * 48
XSS = "<script>alert(1)</script>"
#: 30 % of the 1,000,000.00 contract (R7, Dawukou's 30/30/40)
FIRST_TRANCHE = "300000.00"


def html(response: Any) -> Any:
    return lxml.html.fromstring(response.text)


def text_of(element: Any) -> str:
    return " ".join(element.text_content().split())


@dataclass
class Visitor:
    """One person's browser: a client with its own cookies."""

    client: TestClient

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, follow_redirects=False, **kwargs)

    def post(self, path: str, data: dict[str, Any], **kwargs: Any) -> Any:
        return self.client.post(path, data=data, follow_redirects=False, **kwargs)

    def csrf(self, path: str = "/login") -> str:
        page = html(self.client.get(path))
        return str(page.xpath(f'//input[@name="{CSRF_FIELD}"]/@value')[0])

    def log_in(self, login: str, password: str = PASSWORD) -> Any:
        data = {"login": login, "password": password, CSRF_FIELD: self.csrf(), "next": "/"}
        return self.post("/login", data)

    def form(self, path: str, xpath: str) -> tuple[str, dict[str, Any]]:
        """The action and the values of the first form ``xpath`` finds on ``path``."""
        found = html(self.client.get(path)).xpath(xpath)
        assert found, f"no {xpath} on {path}"
        form = found[0]
        return str(form.get("action")), dict(form.fields)

    def submit(self, path: str, xpath: str, **values: Any) -> Any:
        action, fields = self.form(path, xpath)
        fields.update(values)
        return self.post(action, {k: v for k, v in fields.items() if v is not None})


@dataclass
class Site:
    wf: Any
    client: TestClient
    project_id: int
    contractor_id: int

    def visitor(self, login: str | None = None) -> Visitor:
        visitor = Visitor(TestClient(self.client.app))
        if login is not None:
            assert visitor.log_in(login).status_code == 303
        return visitor


@pytest.fixture
def site(wf: Any) -> Iterator[Site]:
    wf.users.hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    for login, (role, org, region) in USERS.items():
        wf.users.add(login, role=role, org=org, password=PASSWORD, region=region)
    pid, cid = project_in(wf, "in_service")
    app = create_app(wf, secret_key=SECRET)
    with TestClient(app) as client:
        yield Site(wf, client, pid, cid)


def location(response: Any) -> tuple[str, dict[str, list[str]]]:
    assert response.status_code == 303, response.text[:500]
    parts = urlsplit(response.headers["location"])
    return parts.path, parse_qs(parts.query)


def event_forms(page: Any) -> list[str]:
    return [str(e) for e in page.xpath("//form[@data-event]/@data-event")]


# -- a login on every page ------------------------------------------------------------------


def pages_of(site: Site) -> list[str]:
    return [
        "/",
        "/projects",
        "/projects?state=in_service",
        f"/projects/{site.project_id}",
        "/deadlines",
        "/deadlines?status=overdue",
        "/notices",
        "/contractors",
        f"/contractors/{site.contractor_id}",
        "/inbox",
        "/inbox/1",
    ]


def test_every_page_needs_a_login(site: Site) -> None:
    anonymous = site.visitor()
    for path in pages_of(site):
        where, query = location(anonymous.get(path))
        assert where == "/login", path
        assert query["next"] == [path], path
    # a POST without a login does nothing and goes to the login page
    version = site.wf.project(site.project_id).version
    posted = anonymous.post(
        f"/projects/{site.project_id}/events/pay",
        {"tranche": "1", "amount": FIRST_TRANCHE, "on": "2025-12-01", "expected_version": "1"},
    )
    assert location(posted)[0] == "/login"
    assert site.wf.project(site.project_id).version == version
    for path in ("/inbox/1/ack", "/logout"):
        assert location(anonymous.post(path, {}))[0] == "/login"
    # the login page and the static files are open
    assert anonymous.get("/login").status_code == 200
    assert anonymous.get("/static/gpw.css").status_code == 200


def test_logged_in_every_page_answers(site: Site) -> None:
    clerk = site.visitor("clerk")
    for path in pages_of(site)[:-1]:
        response = clerk.get(path)
        assert response.status_code == 200, (path, response.text[:300])
        assert "text/html" in response.headers["content-type"]
        assert html(response).xpath('//*[@data-testid="current-user"]'), path


def test_login_goes_back_to_the_page_asked_for_and_never_off_site(site: Site) -> None:
    visitor = site.visitor()
    wanted = f"/projects/{site.project_id}"
    login_page = visitor.get(location(visitor.get(wanted))[0] + f"?next={wanted}")
    assert html(login_page).xpath('//form[@id="login-form"]//input[@name="next"]/@value') == [
        wanted
    ]
    data = {"login": "clerk", "password": PASSWORD, CSRF_FIELD: visitor.csrf(), "next": wanted}
    assert location(visitor.post("/login", data))[0] == wanted
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        other = site.visitor()
        data = {"login": "clerk", "password": PASSWORD, CSRF_FIELD: other.csrf(), "next": evil}
        assert other.post("/login", data).headers["location"] == "/"


def test_a_wrong_password_is_refused_and_recorded(site: Site) -> None:
    visitor = site.visitor()
    refused = visitor.log_in("clerk", "not the password")
    assert refused.status_code == 401
    page = html(refused)
    assert "登录名或密码错误" in text_of(page.xpath('//*[@data-testid="login-error"]')[0])
    # the login name is kept, the password is not
    assert page.xpath('//input[@id="login"]/@value') == ["clerk"]
    assert page.xpath('//input[@id="password"]/@value') == []
    assert location(visitor.get("/"))[0] == "/login"
    kinds = [e["kind"] for e in site.wf.users.events(login="clerk")]
    assert "login_failed" in kinds


def test_login_attempts_are_throttled(site: Site) -> None:
    visitor = site.visitor()
    for _ in range(5):
        assert visitor.log_in("clerk", "wrong password").status_code == 401
    throttled = visitor.log_in("clerk")  # the right password, too late
    assert throttled.status_code == 429
    message = text_of(html(throttled).xpath('//*[@data-testid="login-error"]')[0])
    assert "登录失败次数过多" in message
    assert location(visitor.get("/"))[0] == "/login"


def test_the_session_cookie_is_signed_httponly_and_samesite(site: Site) -> None:
    response = site.visitor().log_in("clerk")
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE)
    )
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower()
    # the session holds the login, the form token, its id and login time, nothing else (no
    # role, no password)
    session = site.visitor("clerk")
    value = session.client.cookies[SESSION_COOKIE]
    import base64
    import json

    payload = json.loads(base64.b64decode(value.split(".")[0] + "=="))
    assert set(payload) == {"login", "csrf", "sid", "since"}
    # a tampered cookie is no session
    forged = site.visitor()
    forged.client.cookies.set(SESSION_COOKIE, value[:-4] + "AAAA")
    assert location(forged.get("/"))[0] == "/login"


def test_https_only_marks_the_cookies_secure(wf: Any) -> None:
    wf.users.hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    wf.users.add("clerk", role="purchaser", org="大武口区民政局", password=PASSWORD)
    app = create_app(wf, secret_key=SECRET, https_only=True)
    with TestClient(app, base_url="https://testserver") as client:
        visitor = Visitor(client)
        response = visitor.log_in("clerk")
        cookies = response.headers.get_list("set-cookie")
        assert any(c.startswith(SESSION_COOKIE) and "secure" in c.lower() for c in cookies)
        switched = visitor.get("/?lang=en")
        lang = next(c for c in switched.headers.get_list("set-cookie") if c.startswith(LANG_COOKIE))
        assert "secure" in lang.lower()


def test_logout_ends_the_session(site: Site) -> None:
    clerk = site.visitor("clerk")
    _, fields = clerk.form("/", '//form[@id="logout-form"]')
    assert location(clerk.post("/logout", fields))[0] == "/login"
    assert location(clerk.get("/"))[0] == "/login"
    assert "logout" in [e["kind"] for e in site.wf.users.events(login="clerk")]


def test_an_inactive_user_is_out_at_the_next_click(site: Site) -> None:
    clerk = site.visitor("clerk")
    assert clerk.get("/").status_code == 200
    site.wf.users.set_active("clerk", False)
    assert location(clerk.get("/"))[0] == "/login"


# -- CSRF -----------------------------------------------------------------------------------


def test_a_form_without_its_csrf_token_is_refused(site: Site) -> None:
    clerk = site.visitor("clerk")
    path = f"/projects/{site.project_id}"
    action, fields = clerk.form(path, '//form[@data-event="pay"]')
    fields.update(tranche="1", amount=FIRST_TRANCHE, on="2025-12-01")
    before = site.wf.project(site.project_id).version
    for token in (None, "", "a-wrong-token-" + "x" * 30, site.visitor("gov").csrf("/")):
        data = dict(fields)
        data.pop(CSRF_FIELD)
        if token is not None:
            data[CSRF_FIELD] = token
        refused = clerk.post(action, data)
        assert refused.status_code == 403, token
        page = html(refused)
        assert page.xpath('//*[@data-testid="error-page"]/@data-status') == ["403"]
        assert "CSRF" in text_of(page)
    assert site.wf.project(site.project_id).version == before
    assert site.wf.project(site.project_id).payments == ()
    # logging out and logging in need theirs too
    assert clerk.post("/logout", {}).status_code == 403
    assert clerk.get("/").status_code == 200  # still logged in
    stranger = site.visitor()
    data = {"login": "clerk", "password": PASSWORD, "next": "/"}
    assert stranger.post("/login", data).status_code == 403
    # with the token, the same form goes through
    assert location(clerk.post(action, fields))[0] == path


# -- escaping ---------------------------------------------------------------------------------


def test_a_title_with_a_script_tag_shows_as_text(site: Site) -> None:
    xss = new_project(site.wf, title=XSS)
    clerk = site.visitor("clerk")
    for path in (f"/projects/{xss}", "/projects", "/projects?state=draft"):
        response = clerk.get(path)
        assert response.status_code == 200
        assert XSS not in response.text, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text, path
        page = html(response)
        assert not [s for s in page.xpath("//script") if "alert(1)" in (s.text or "")]
        assert XSS in text_of(page)
    title = html(clerk.get(f"/projects/{xss}")).xpath('//*[@data-testid="project-title"]')[0]
    assert title.text_content() == XSS


# -- scope --------------------------------------------------------------------------------------


def test_another_organisations_project_is_a_403_page(site: Site) -> None:
    path = f"/projects/{site.project_id}"
    title = site.wf.project(site.project_id).title
    for login in ("other-ngo", "far-sup"):
        visitor = site.visitor(login)
        refused = visitor.get(path)
        assert refused.status_code == 403, login
        page = html(refused)
        assert page.xpath('//*[@data-testid="error-page"]/@data-status') == ["403"]
        assert title not in refused.text
        assert page.xpath('//*[@data-testid="current-user"]')  # the site's layout
        # nor is it in their lists
        assert title not in visitor.get("/projects").text
        assert f'/projects/{site.project_id}"' not in visitor.get("/deadlines").text
        # and a forged form does nothing
        token = visitor.csrf("/")
        data = {CSRF_FIELD: token, "expected_version": "1", "reason": "x"}
        before = site.wf.project(site.project_id).version
        assert visitor.post(f"{path}/events/terminate", data).status_code == 403
        assert site.wf.project(site.project_id).version == before
    # the project's own contractor and a supervisor of its region read it
    for login in ("ngo", "sup", "clerk", "admin"):
        assert site.visitor(login).get(path).status_code == 200, login


# -- actions ----------------------------------------------------------------------------------


def test_a_form_for_each_event_the_user_may_fire_and_no_other(site: Site) -> None:
    from workflow.web.i18n import Translator

    for login in ("clerk", "ngo", "fin", "sup"):
        user = site.wf.users.get(login)
        page = html(site.visitor(login).get(f"/projects/{site.project_id}"))
        allowed = site.wf.available_events(site.project_id, user.actor())
        assert event_forms(page) == allowed, login
        for event in allowed:
            form = page.xpath(f'//form[@data-event="{event}"]')[0]
            assert form.xpath(f'.//input[@name="{CSRF_FIELD}"]/@value')
            version = str(site.wf.project(site.project_id).version)
            assert form.xpath('.//input[@name="expected_version"]/@value') == [version]
            assert Translator("zh").event(event) in text_of(form)
    # a supervisor reads only: no form at all
    sup = html(site.visitor("sup").get(f"/projects/{site.project_id}"))
    assert event_forms(sup) == [] and sup.xpath('//*[@data-testid="no-actions"]')


def test_simple_fields_get_real_inputs(site: Site) -> None:
    page = html(site.visitor("clerk").get(f"/projects/{site.project_id}"))
    pay = page.xpath('//form[@data-event="pay"]')[0]
    assert pay.xpath('.//input[@name="tranche"]/@type') == ["number"]
    assert pay.xpath('.//input[@name="amount"]/@inputmode') == ["decimal"]
    assert pay.xpath('.//input[@name="on"]/@type') == ["date"]
    evaluate = page.xpath('//form[@data-event="evaluate"]')[0]
    assert evaluate.xpath('.//select[@name="kind"]/option/@value') == [
        "",
        "semiannual",
        "midterm",
        "final",
    ]
    assert len(evaluate.xpath('.//input[@type="checkbox"][@name="evaluators"]')) == 4
    terminate = page.xpath('//form[@data-event="terminate"]')[0]
    assert terminate.xpath('.//textarea[@name="reason"]')
    # the open deadline to correct is chosen from this project's own
    keys = page.xpath('//form[@data-event="correct_deadline"]//select[@name="key"]/option/@value')
    opened = [d.key for d in site.wf.project(site.project_id).open_deadlines]
    assert keys == ["", *opened]


def test_an_allowed_event_fired_through_its_form(site: Site) -> None:
    clerk = site.visitor("clerk")
    path = f"/projects/{site.project_id}"
    done = clerk.submit(
        path, '//form[@data-event="pay"]', tranche="1", amount=FIRST_TRANCHE, on="2025-12-01"
    )
    where, query = location(done)  # POST, redirect, GET
    assert (where, query) == (path, {"done": ["pay"]})
    view = site.wf.project(site.project_id)
    assert [(p.tranche, str(p.amount), p.by) for p in view.payments] == [
        (1, FIRST_TRANCHE, "clerk")
    ]
    page = html(clerk.get(done.headers["location"]))
    assert "已执行：拨付资金" in text_of(page.xpath('//*[@data-testid="flash"]')[0])
    assert page.xpath('//*[@data-testid="project"]/@data-version') == [str(view.version)]
    # the tranche's deadline is met: met late says by how much, never "overdue" any more
    met = view.deadline("payment_1")
    assert met is not None and met.status == "met"
    late = site.wf.details.project_detail(site.project_id, Scope.all()).deadline("payment_1")
    cell = page.xpath('//*[@data-testid="deadline-payment_1"]')[0]
    assert late.working_days_late > 0  # paid 2025-12-01, due in October
    assert cell.xpath(".//@data-wd-met-late") == [str(late.working_days_late)]
    assert f"已完成，迟 {late.working_days_late} 个工作日" in text_of(cell)
    assert "逾期" not in text_of(cell)
    # a list of choices (checkboxes) and a text area of lines go through as lists
    evaluated = clerk.submit(
        path,
        '//form[@data-event="evaluate"]',
        kind="semiannual",
        score="90",
        satisfaction="95",
        on="2026-03-20",
        evaluators=["purchaser", "street_office", "recipients"],
    )
    assert location(evaluated)[1] == {"done": ["evaluate"]}, evaluated.text[:2000]
    (evaluation,) = site.wf.project(site.project_id).data["evaluations"]
    assert evaluation["evaluators"] == ["purchaser", "street_office", "recipients"]


def refusal(response: Any) -> Any:
    found = html(response).xpath('//*[@data-testid="refusal"]')
    assert len(found) == 1, response.text[:3000]
    return found[0]


def test_a_refused_event_shows_its_rule_and_keeps_the_input(site: Site) -> None:
    clerk = site.visitor("clerk")
    path = f"/projects/{site.project_id}"
    clerk_actor = site.wf.users.get("clerk").actor()
    site.wf.fire(
        site.project_id, "pay", actor=clerk_actor, tranche=1, amount=FIRST_TRANCHE, on="2025-11-28"
    )
    before = site.wf.project(site.project_id).version
    # R7: the second tranche needs a passed mid-term evaluation
    refused = clerk.submit(
        path, '//form[@data-event="pay"]', tranche="2", amount=FIRST_TRANCHE, on="2025-12-01"
    )
    assert refused.status_code == 422
    box = refusal(refused)
    assert box.get("data-rule") == "R7" and box.get("data-code") == "guard_refused"
    assert "R7" in text_of(box) and "中期评估" in text_of(box)
    form = html(refused).xpath('//form[@data-event="pay"]')[0]
    assert form.xpath('.//*[@data-testid="refusal"]')  # shown with its form
    assert dict(form.fields) | {CSRF_FIELD: ""} == {
        CSRF_FIELD: "",
        "expected_version": str(before),
        "tranche": "2",
        "amount": FIRST_TRANCHE,
        "on": "2025-12-01",
    }
    assert site.wf.project(site.project_id).version == before
    # bad data: named, in plain words, the input kept
    bad = clerk.submit(
        path, '//form[@data-event="pay"]', tranche="1", amount="1.005", on="2025-12-01"
    )
    assert bad.status_code == 422
    box = refusal(bad)
    assert box.get("data-code") == "invalid_input" and box.get("data-field") == "amount"
    assert html(bad).xpath('//form[@data-event="pay"]//input[@name="amount"]/@value') == ["1.005"]
    # no evaluator ticked: the engine names the field (R10)
    lines = clerk.submit(
        path,
        '//form[@data-event="evaluate"]',
        kind="semiannual",
        score="90",
        satisfaction="95",
        on="2026-03-20",
        evaluators=[],
    )
    assert lines.status_code == 422 and refusal(lines).get("data-field") == "evaluators"
    assert site.wf.project(site.project_id).version == before


def test_an_event_the_user_may_not_fire_is_refused_with_the_input_kept(site: Site) -> None:
    ngo = site.visitor("ngo")
    path = f"/projects/{site.project_id}"
    assert "pay" not in event_forms(html(ngo.get(path)))
    data = {
        CSRF_FIELD: ngo.csrf(path),
        "expected_version": str(site.wf.project(site.project_id).version),
        "tranche": "1",
        "amount": FIRST_TRANCHE,
        "on": "2025-12-01",
    }
    refused = ngo.post(f"{path}/events/pay", data)
    assert refused.status_code == 403
    assert refusal(refused).get("data-code") == "forbidden"
    kept = html(refused).xpath('//*[@data-testid="orphan-input"]')[0]
    assert FIRST_TRANCHE in text_of(kept)
    assert "pay" not in event_forms(html(refused))  # still no form for it
    # an event the state does not allow: its rule's words, in English when switched
    clerk = site.visitor("clerk")
    clerk.get("/?lang=en")
    data = {CSRF_FIELD: clerk.csrf(path), "expected_version": data["expected_version"]}
    illegal = clerk.post(f"{path}/events/submit", data)
    assert illegal.status_code == 409
    box = refusal(illegal)
    assert box.get("data-code") == "illegal_transition"
    assert "current state" in text_of(box)
    assert site.wf.project(site.project_id).payments == ()


def test_a_stale_form_says_so_and_shows_the_fresh_state(site: Site) -> None:
    clerk = site.visitor("clerk")
    path = f"/projects/{site.project_id}"
    action, fields = clerk.form(path, '//form[@data-event="pay"]')
    old = int(fields["expected_version"])
    # someone else pays first
    finance = site.wf.users.get("fin").actor()
    site.wf.fire(
        site.project_id, "pay", actor=finance, tranche=1, amount=FIRST_TRANCHE, on="2025-11-28"
    )
    fields.update(tranche="1", amount=FIRST_TRANCHE, on="2025-12-01")
    stale = clerk.post(action, fields)
    assert stale.status_code == 409
    page = html(stale)
    (box,) = page.xpath('//*[@data-testid="stale"]')
    assert "已被他人修改" in text_of(box)
    fresh = site.wf.project(site.project_id)
    assert fresh.version == old + 1
    assert page.xpath('//*[@data-testid="project"]/@data-version') == [str(fresh.version)]
    assert "2025-11-28" in text_of(page.xpath('//*[@data-testid="payments"]')[0])
    # the input is kept, and the form now carries the fresh version
    form = page.xpath('//form[@data-event="pay"]')[0]
    assert form.xpath('.//input[@name="on"]/@value') == ["2025-12-01"]
    assert form.xpath('.//input[@name="expected_version"]/@value') == [str(fresh.version)]
    assert [p.by for p in fresh.payments] == ["fin"]


# -- language ---------------------------------------------------------------------------------


def test_chinese_by_default_english_when_switched_and_remembered(site: Site) -> None:
    clerk = site.visitor("clerk")
    page = html(clerk.get("/"))
    assert page.get("lang") == "zh-CN"
    assert "总览" in text_of(page.xpath("//h1")[0])
    switch = page.xpath('//a[@id="lang-switch"]/@href')[0]
    assert "lang=en" in switch
    english = clerk.get(switch)
    assert html(english).get("lang") == "en"
    assert any(c.startswith(f"{LANG_COOKIE}=en") for c in english.headers.get_list("set-cookie"))
    # remembered on the next page, with no ?lang
    project = html(clerk.get(f"/projects/{site.project_id}"))
    assert project.get("lang") == "en"
    assert "Deadlines" in text_of(project)
    assert "in service" in text_of(project.xpath('//*[@data-testid="project-state"]')[0])
    assert "purchaser" in text_of(project).lower()
    # and back
    assert html(clerk.get("/?lang=zh")).get("lang") == "zh-CN"
    assert html(clerk.get("/projects")).get("lang") == "zh-CN"
    # the login page too
    assert "Log in" in text_of(html(site.visitor().get("/login?lang=en")))


# -- the inbox --------------------------------------------------------------------------------


def test_the_inbox_marks_read_when_opened_and_acknowledges_with_one_click(site: Site) -> None:
    assert site.wf.tick() and site.wf.relay().sent
    clerk = site.visitor("clerk")
    listing = html(clerk.get("/inbox"))
    rows = listing.xpath('//tr[@data-inbox][@data-read="false"]')
    assert rows, "the clerk's organisation has notices"
    item = int(rows[0].get("data-inbox"))
    # opened: marked read by this login, recorded
    opened = clerk.get(f"/inbox/{item}")
    assert opened.status_code == 200
    assert html(opened).xpath('//*[@data-testid="inbox-item"]/@data-read') == ["true"]
    entry = next(
        i
        for i in site.wf.details.inbox("大武口区民政局", "purchaser", login="clerk").items
        if i.id == item
    )
    assert entry.read_by == "clerk" and entry.acknowledged_at is None
    unread = html(clerk.get("/inbox?unread=1")).xpath("//tr[@data-inbox]/@data-inbox")
    assert str(item) not in unread
    # one click acknowledges (with the form's CSRF token), recorded once
    acked = clerk.submit(f"/inbox/{item}", '//form[@id="inbox-ack"]')
    assert location(acked) == (f"/inbox/{item}", {"acked": ["1"]})
    page = html(clerk.get(acked.headers["location"]))
    assert page.xpath('//*[@data-testid="inbox-item"]/@data-acknowledged') == ["true"]
    assert "clerk" in text_of(page.xpath('//*[@data-testid="inbox-acknowledged-by"]')[0])
    assert not page.xpath('//form[@id="inbox-ack"]')
    entry = site.wf.details.open_inbox_item(
        item, org="大武口区民政局", role="purchaser", login="clerk"
    )
    assert entry.acknowledged_by == "clerk"
    # another organisation's person may neither open it nor acknowledge it
    other = site.visitor("other-ngo")
    assert other.get(f"/inbox/{item}").status_code == 403
    data = {CSRF_FIELD: other.csrf("/")}
    assert other.post(f"/inbox/{item}/ack", data).status_code == 403


# -- errors -------------------------------------------------------------------------------------


def test_errors_are_pages_in_the_sites_layout_without_a_traceback(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    clerk = site.visitor("clerk")
    for path in ("/no-such-page", "/projects/999999", "/projects/99999999999999", "/contractors/0"):
        missing = clerk.get(path)
        assert missing.status_code == 404, path
        page = html(missing)
        assert page.xpath('//*[@data-testid="error-page"]/@data-status') == ["404"], path
        assert page.xpath('//*[@data-testid="current-user"]'), path
    wrong_method = clerk.get("/logout")
    assert wrong_method.status_code == 405
    assert html(wrong_method).xpath('//*[@data-testid="error-page"]')

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("password=hunter2 at /secret/path")

    monkeypatch.setattr(site.wf.lists, "overview", broken)
    failed = clerk.get("/")
    assert failed.status_code == 500
    assert html(failed).xpath('//*[@data-testid="error-page"]/@data-status') == ["500"]
    for leak in ("hunter2", "Traceback", "RuntimeError", "/secret/path"):
        assert leak not in failed.text


def test_pages_carry_security_headers_and_draw_offline(site: Site) -> None:
    clerk = site.visitor("clerk")
    response = clerk.get(f"/projects/{site.project_id}")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    page = html(response)
    sources = page.xpath("//script/@src")
    assert sources and all(s.startswith("/static/") for s in sources), sources
    assert not page.xpath("//script[not(@src)]")  # no inline script
    diagram = page.xpath('//pre[@data-testid="state-diagram"]')[0]
    assert diagram.text_content().startswith("stateDiagram-v2")
    assert "class in_service current" in diagram.text_content()
    vendored = clerk.get("/static/mermaid.min.js")
    assert vendored.status_code == 200 and len(vendored.content) > 1_000_000


# -- lists --------------------------------------------------------------------------------------


def test_every_overview_number_links_to_the_list_behind_it(site: Site) -> None:
    site.wf.tick()
    clerk = site.visitor("clerk")
    page = html(clerk.get("/"))
    links = page.xpath(
        '//a[starts-with(@data-testid, "ov-") or starts-with(@data-testid, "league-")]'
    )
    assert len(links) > 20
    for link in links:
        testid, href = link.get("data-testid"), link.get("href")
        number = int(text_of(link).split()[0])
        target = clerk.get(href)
        assert target.status_code == 200, href
        rows = html(target).xpath("//tr[@data-project or @data-deadline or @data-notice]")
        if testid.endswith("-days"):  # working days late: summed over the overdue list
            late = sum(int(w) for w in html(target).xpath("//tr[@data-deadline]//@data-wd"))
            assert -late == number and rows, (testid, href)
        else:
            assert len(rows) == number, (testid, href)
    # the in-service project is behind its state's number
    in_service = page.xpath('//a[@data-testid="ov-state-in_service"]')[0]
    assert text_of(in_service) == "1"
    listed = html(clerk.get(in_service.get("href")))
    assert listed.xpath("//tr[@data-project]/@data-project") == [str(site.project_id)]


def test_the_project_list_filters_sorts_and_pages_by_cursor(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    drafts = [new_project(site.wf, title=f"草拟项目{n}") for n in range(3)]
    monkeypatch.setattr(pages_module, "PAGE_SIZE", 2)
    clerk = site.visitor("clerk")
    seen: list[str] = []
    path: str | None = "/projects?state=draft&sort=-id"
    pages = 0
    while path is not None:
        page = html(clerk.get(path))
        seen += [str(p) for p in page.xpath("//tr[@data-project]/@data-project")]
        following = page.xpath('//a[@data-testid="next-page"]')
        assert all(text_of(a).startswith("下一页") for a in following)
        path = str(following[0].get("href")) if following else None
        pages += 1
    assert seen == [str(p) for p in sorted(drafts, reverse=True)]
    assert pages == 2
    overdue = html(clerk.get("/projects?overdue=1"))
    assert overdue.xpath("//tr[@data-project]/@data-project") == [str(site.project_id)]
    not_overdue = html(clerk.get("/projects?overdue=0&sort=id"))
    assert not_overdue.xpath("//tr[@data-project]/@data-project") == [str(p) for p in drafts[:2]]
    by_contractor = html(clerk.get(f"/projects?contractor_id={site.contractor_id}"))
    assert by_contractor.xpath("//tr[@data-project]/@data-project") == [str(site.project_id)]


def test_a_host_mounts_the_pages_under_its_own_path(wf: Any) -> None:
    from fastapi import FastAPI

    wf.users.hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    wf.users.add("clerk", role="purchaser", org="大武口区民政局", password=PASSWORD)
    pid, _ = project_in(wf, "in_service")
    host = FastAPI()
    host.mount("/gpw", create_app(wf, secret_key=SECRET))
    with TestClient(host) as client:
        visitor = Visitor(client)
        where, query = location(visitor.get(f"/gpw/projects/{pid}"))
        assert (where, query["next"]) == ("/gpw/login", [f"/projects/{pid}"])
        login = html(visitor.client.get("/gpw/login"))
        assert login.xpath('//form[@id="login-form"]/@action') == ["/gpw/login"]
        token = str(login.xpath(f'//input[@name="{CSRF_FIELD}"]/@value')[0])
        data = {"login": "clerk", "password": PASSWORD, CSRF_FIELD: token, "next": "/"}
        assert location(visitor.post("/gpw/login", data))[0] == "/gpw/"
        page = html(visitor.get(f"/gpw/projects/{pid}"))
        links = [str(h) for h in page.xpath("//a/@href | //form/@action | //script/@src")]
        assert links and all(h.startswith(("/gpw/", "#")) for h in links), links
        done = visitor.submit(
            f"/gpw/projects/{pid}",
            '//form[@data-event="pay"]',
            tranche="1",
            amount=FIRST_TRANCHE,
            on="2025-12-01",
        )
        assert location(done) == (f"/gpw/projects/{pid}", {"done": ["pay"]})
        assert visitor.get("/gpw/static/gpw.css").status_code == 200


def test_a_deadlines_clock_is_drawn_under_it_and_chosen_in_its_forms(site: Site) -> None:
    """中止计时、恢复计时 (issue #10): the suspended deadline's status, what it keeps and its
    timeline under its row; the forms choose among this project's own deadlines."""
    from support import CLERK, at

    pid, path = site.project_id, f"/projects/{site.project_id}"
    # payment_1 is due Thu 2025-10-23: stopped on Tue 10-21, it keeps 10-22 and 10-23
    site.wf.fire(
        pid,
        "suspend_deadline",
        actor=CLERK,
        at=at("2025-10-21"),
        key="payment_1",
        reason="疫情封控 <b>",
        on="2025-10-21",
    )
    clerk = site.visitor("clerk")
    page = html(clerk.get(path))
    row = page.xpath('//*[@data-testid="deadline-payment_1"]')[0]
    assert "暂停中" in text_of(row) and "尚余 2 个工作日" in text_of(row)
    clock = page.xpath('//*[@data-testid="clock-payment_1"]')[0]
    assert [str(li.get("data-clock")) for li in clock.xpath(".//li")] == ["suspended"]
    assert "疫情封控 <b>" in text_of(clock) and not clock.xpath(".//b")  # escaped
    resumable = page.xpath(
        '//form[@data-event="resume_deadline"]//select[@name="key"]/option/@value'
    )
    assert resumable == ["", "payment_1"]
    stoppable = page.xpath(
        '//form[@data-event="suspend_deadline"]//select[@name="key"]/option/@value'
    )
    assert "payment_1" not in stoppable and "contract_end" not in stoppable
    done = clerk.submit(
        path, '//form[@data-event="resume_deadline"]', key="payment_1", on="2025-11-03"
    )
    assert location(done) == (path, {"done": ["resume_deadline"]})
    again = html(clerk.get(path)).xpath('//*[@data-testid="clock-payment_1"]')[0]
    assert [str(li.get("data-clock")) for li in again.xpath(".//li")] == ["suspended", "resumed"]
    assert "2025-11-05" in text_of(again)  # the 2nd working day after Mon 11-03
    clerk.get("/?lang=en")
    english = html(clerk.get(path)).xpath('//*[@data-testid="clock-payment_1"]')[0]
    assert "suspended" in text_of(english) and "resumed" in text_of(english)


def test_an_extension_is_drawn_in_the_deadlines_timeline(site: Site) -> None:
    """延长 (issue #10): the extension's step under its row, with the days added and the new due
    day, in both languages."""
    from support import CLERK, at

    pid, path = site.project_id, f"/projects/{site.project_id}"
    # payment_1 is due Thu 2025-10-23: 2 working days more on 10-21 → Mon 10-27
    site.wf.fire(
        pid,
        "extend_deadline",
        actor=CLERK,
        at=at("2025-10-21"),
        key="payment_1",
        working_days=2,
        reason="双方协商",
    )
    clerk = site.visitor("clerk")
    clock = html(clerk.get(path)).xpath('//*[@data-testid="clock-payment_1"]')[0]
    (step,) = clock.xpath(".//li")
    assert step.get("data-clock") == "extended"
    assert text_of(step) == "2025-10-21 延长 2 个工作日 · 截止 2025-10-27 ：双方协商"
    clerk.get("/?lang=en")
    english = html(clerk.get(path)).xpath('//*[@data-testid="clock-payment_1"]//li')[0]
    assert text_of(english).startswith("2025-10-21 extended by 2 working days · due 2025-10-27")


def test_the_overview_draws_each_purchasers_share_and_the_projects_slipping(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """R18, R19 (issue #10): the overview draws a purchaser's budgets against the assistance
    funds its plans state (Jilin's 1 %), and the projects slipping most behind the plan, each
    to its reader's scope."""
    from support import at

    from states.model import Actor

    wf = site.wf
    wf.register_policy("jilin-2017")
    clerk_j = Actor(id="j", role="purchaser", org="吉林某县民政局")
    bodies = {
        "government": "吉林某县人民政府",
        "finance": "吉林某县财政局",
        "audit": "吉林某县审计局",
    }
    plans = []
    for budget in ("400000.00", "600000.00"):
        pid = wf.create_project(
            actor=clerk_j,
            at=at("2026-02-02"),
            title=f"吉林购买服务 {budget}",
            purchaser=clerk_j.org,
            budget=budget,
            items=[{"name": "入户核查", "quantity": 1}],
            supervisors=bodies,
            policy="jilin-2017",
            assistance_funds="100000000.00",
        )
        wf.fire(pid, "submit", actor=clerk_j, at=at("2026-02-03"))
        fin = Actor(id="jf", role="finance", org=bodies["finance"])
        wf.fire(pid, "review_budget", actor=fin, at=at("2026-02-03"), approved=True)
        plans.append(pid)
    gov = Actor(id="jg", role="government", org=bodies["government"])
    # together 1,000,000.00 of 100,000,000.00: exactly 1 %, both approved (R18)
    for pid in plans:
        wf.fire(pid, "approve", actor=gov, at=at("2026-02-06"))
    wf.users.add("jilin", role="purchaser", org=clerk_j.org, password=PASSWORD, region=())
    monkeypatch.setattr(wf, "clock", lambda: at("2026-02-06", 12))

    page = html(site.visitor("jilin").get("/"))
    (row,) = page.xpath('//*[@data-testid="budget-shares"]//tr[@data-purchaser]')
    assert row.get("data-purchaser") == clerk_j.org
    cells = [text_of(td) for td in row.xpath("./td")]
    assert cells == [clerk_j.org, "2", "1,000,000.00", "100,000,000.00", "1.00%"]
    assert not page.xpath('//*[@data-testid="slipping"]//tr[@data-project]')  # no plan (000)

    # Dawukou's project, created 2025-07-30, is behind 001 §七's timeline; Jilin's share is not
    # the Dawukou clerk's to see
    page = html(site.visitor("clerk").get("/"))
    (slip,) = wf.lists.overview(Scope.of("purchaser", "大武口区民政局"), now=wf.clock()).slipping
    rows = page.xpath('//*[@data-testid="slipping"]//tr[@data-project]')
    assert [r.get("data-project") for r in rows] == [str(site.project_id)]
    drawn = page.xpath('//*[@data-testid="slip-1"]')[0]
    assert text_of(drawn) == f"晚 {slip.slip_working_days} 个工作日" and slip.slip_working_days > 0
    assert not page.xpath('//*[@data-testid="budget-shares"]//tr[@data-purchaser]')
