"""The public face (issue #9, R15) through a test client on SQLite and PostgreSQL: no login for
``/public/*`` while the dashboard still asks for one; a page per approved project and none for
a plan never approved; the OCDS feed and records and the published anchors as JSON with ETag
and Last-Modified answered 304 while nothing changed; the one JSON error shape on the data
routes and a page on the others; and nothing personal in any of it — the project walked by
``test_disclosure`` holds staff and reviewer names, an identity number, phone numbers and an
address in its staff, findings and notes, and every public answer is searched for each."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import lxml.html
import pytest
from fastapi.testclient import TestClient
from ocds_check import check_package
from support import CLERK, FINANCE, at, new_project, project_in
from unit.workflow.test_disclosure import NGO, PRIVATE, walk

from workflow.web import create_app
from workflow.web.public import ANCHORS_PAGE, PAGE_SIZE

SECRET = "p" * 48
ERROR_KEYS = {"code", "rule", "field", "message", "message_en"}


@dataclass
class Site:
    wf: Any
    client: TestClient
    walked: int  # closed, with personal data in its staff, findings and notes
    serving: int  # in service, its first payment not yet made
    draft: int  # never submitted
    pending: int  # submitted, never approved

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, follow_redirects=False, **kwargs)


@pytest.fixture
def site(wf: Any) -> Iterator[Site]:
    walked = walk(wf)
    serving, _ = project_in(wf, "in_service", title="星海镇社会救助服务")
    draft = new_project(wf, title="草拟中的项目")
    pending = new_project(wf, title="待审批的项目")
    wf.fire(pending, "submit", actor=CLERK, at=at("2025-08-01"))
    wf.disclosure.publish_anchor(at("2026-10-01"))
    with TestClient(create_app(wf, secret_key=SECRET)) as client:
        yield Site(wf, client, walked, serving, draft, pending)


def page_text(response: Any) -> str:
    return " ".join(lxml.html.fromstring(response.text).text_content().split())


def no_secret_in(body: str) -> None:
    for secret in PRIVATE:
        assert secret not in body, (secret, body[:300])


def all_releases(site: Site, limit: int) -> list[dict[str, Any]]:
    """Every release, following the feed's ``links.next`` page by page."""
    found: list[dict[str, Any]] = []
    url: str | None = f"/public/ocds/releases?limit={limit}"
    while url is not None:
        answer = site.get(url)
        assert answer.status_code == 200
        package = answer.json()
        assert len(package["releases"]) <= limit
        found.extend(package["releases"])
        nxt = package.get("links", {}).get("next")
        assert (nxt is not None) == ("link" in answer.headers)
        url = nxt.removeprefix("http://testserver") if nxt else None
    return found


# -- no login ------------------------------------------------------------------------------------


def test_public_pages_need_no_login_and_the_dashboard_still_does(site: Site) -> None:
    listed = site.get("/public/projects")
    assert listed.status_code == 200
    assert "gpw_session" not in listed.headers.get("set-cookie", "")  # no session begun
    rows = lxml.html.fromstring(listed.text).xpath("//tr[@data-project]/@data-project")
    assert sorted(int(r) for r in rows) == sorted([site.walked, site.serving])
    assert site.get(f"/public/projects/{site.walked}").status_code == 200
    assert site.get("/public").headers["location"] == "/public/projects"
    # the dashboard: every page still sends to the login, the API still wants its token
    for path in ("/", "/projects", f"/projects/{site.walked}", "/deadlines", "/inbox"):
        answer = site.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    assert site.get("/api/v1/projects").status_code == 401


def test_the_project_page_shows_what_the_public_is_owed(site: Site) -> None:
    answer = site.get(f"/public/projects/{site.walked}")
    text = page_text(answer)
    doc = lxml.html.fromstring(answer.text)
    assert doc.xpath("//html/@lang") == ["zh-CN"]
    assert "入户核查员服务" in doc.xpath("string(//h1)")
    # what is bought, from whom, for how much, paid, evaluations, rectification, late
    for shown in (
        "社会救助入户核查",  # the item bought
        "大武口区民政局",
        NGO,
        "公开招标",
        "1,200,000.00",  # budget
        "1,000,000.00",  # the contract, and all of it paid
        "中期评估",
        "终期评估",
        "未按时入户",  # the finding, its personal data withheld
        "〔身份证号已隐去〕",
        "已结项",
    ):
        assert shown in text, shown
    # the second tranche was paid after its deadline (2026-03-31 → 2026-04-10)
    late = doc.xpath('//*[@data-testid="late-summary"]/@data-late')
    assert late == ["1"]
    tranche = doc.xpath('//section[@data-testid="payments"]//tr[@data-tranche="2"]')[0]
    assert tranche.get("class") == "late"
    assert "2026-03-31" in tranche.text_content() and "迟延" in tranche.text_content()
    on_time = doc.xpath('//section[@data-testid="payments"]//tr[@data-tranche="1"]')[0]
    assert on_time.get("class") == "" and "按期" in on_time.text_content()
    timeline = doc.xpath('//table[@data-testid="deadline-timeline"]//tr[@data-deadline]')
    planned = {r.get("data-deadline"): r.text_content() for r in timeline}
    assert "2026-03-31" in planned["payment_2"] and "2026-04-10" in planned["payment_2"]
    assert doc.xpath('string(//*[@data-testid="ocds-record"]/@href)') == (
        f"/public/ocds/records/ocds-gpw000-{site.walked}"
    )
    no_secret_in(answer.text)


def test_an_open_deadline_past_its_day_shows_as_overdue(site: Site) -> None:
    # the in-service project's first tranche was due 2025-10-23; the test clock reads 2031
    doc = lxml.html.fromstring(site.get(f"/public/projects/{site.serving}").text)
    row = doc.xpath('//tr[@data-deadline="payment_1"]')[0]
    assert "逾期未完成" in row.text_content()
    assert doc.xpath('//*[@data-testid="late-summary"]/@data-late') != ["0"]
    site.wf.fire(
        site.serving, "pay", actor=FINANCE, at=at("2025-10-21"), tranche=1,
        amount="300000.00", on="2025-10-21",
    )  # fmt: skip
    doc = lxml.html.fromstring(site.get(f"/public/projects/{site.serving}").text)
    assert "逾期" not in doc.xpath('//tr[@data-deadline="payment_1"]')[0].text_content()


def test_a_plan_never_approved_is_not_found(site: Site) -> None:
    for pid in (site.draft, site.pending, 999_999, "x", "1.0", "０", 2**63, -1):
        answer = site.get(f"/public/projects/{pid}")
        assert answer.status_code == 404, pid
        doc = lxml.html.fromstring(answer.text)
        assert doc.xpath('//*[@data-testid="error-page"]/@data-status') == ["404"]
        assert "草拟中的项目" not in answer.text and "待审批的项目" not in answer.text
    listed = site.get("/public/projects").text
    assert "草拟中的项目" not in listed and "待审批的项目" not in listed
    for ocid in (f"ocds-gpw000-{site.draft}", f"ocds-gpw000-{site.pending}", "ocds-other-1"):
        answer = site.get(f"/public/ocds/records/{ocid}")
        assert answer.status_code == 404
        assert set(answer.json()) == ERROR_KEYS and answer.json()["code"] == "not_found"


def test_the_list_pages_by_cursor(site: Site) -> None:
    first = lxml.html.fromstring(site.get("/public/projects?limit=1").text)
    assert first.xpath("//tr/@data-project") == [str(site.walked)]
    nxt = first.xpath('string(//a[@data-testid="next-page"]/@href)')
    assert nxt == f"/public/projects?cursor={site.walked}&limit=1"
    second = lxml.html.fromstring(site.get(nxt).text)
    assert second.xpath("//tr/@data-project") == [str(site.serving)]
    assert second.xpath('//a[@data-testid="first-page"]/@href') == ["/public/projects?limit=1"]
    assert PAGE_SIZE >= 2  # the default page holds both
    bad = site.get("/public/projects?cursor=abc")
    assert bad.status_code == 400 and "cursor" in page_text(bad)


def test_english_switch(site: Site) -> None:
    answer = site.get(f"/public/projects/{site.walked}?lang=en")
    doc = lxml.html.fromstring(answer.text)
    assert doc.xpath("//html/@lang") == ["en"]
    assert "Payments made" in page_text(answer) and "Evaluation results" in page_text(answer)
    assert "gpw_lang=en" in answer.headers["set-cookie"]
    assert doc.xpath('string(//a[@id="lang-switch"]/@href)') == (
        f"/public/projects/{site.walked}?lang=zh"
    )
    # remembered by its cookie on the next page
    assert lxml.html.fromstring(site.get("/public/projects").text).xpath("//html/@lang") == ["en"]
    no_secret_in(answer.text)


# -- nothing personal anywhere -------------------------------------------------------------------


def test_nothing_personal_in_any_public_answer(site: Site) -> None:
    ocid = f"ocds-gpw000-{site.walked}"
    paths = [
        "/public/projects",
        f"/public/projects/{site.walked}",
        f"/public/projects/{site.walked}?lang=en",
        f"/public/projects/{site.serving}",
        f"/public/projects/{site.draft}",
        "/public/ocds/releases?limit=1000",
        f"/public/ocds/records/{ocid}",
        "/public/anchors?limit=100",
        "/public/nowhere",
        "/public/ocds/nowhere",
    ]
    bodies = [site.get(path).text for path in paths]
    bodies.append(json.dumps(all_releases(site, 4), ensure_ascii=False))
    for body in bodies:
        no_secret_in(body)
    # the JSON is UTF-8 as written, not \u-escaped (a secret escaped would hide from the search)
    assert NGO in bodies[5] and NGO in bodies[6]


# -- open data and its caching -------------------------------------------------------------------


def test_the_release_feed_pages_and_is_valid(site: Site) -> None:
    whole = site.get("/public/ocds/releases?limit=1000")
    package = whole.json()
    check_package(package)
    assert package["uri"] == "http://testserver/public/ocds/releases?limit=1000"
    assert "links" not in package and "link" not in whole.headers
    expected = [r["id"] for r in site.wf.disclosure.feed(limit=1000)["releases"]]
    assert [r["id"] for r in package["releases"]] == expected
    # page by page, the same releases in the same order, none twice
    assert [r["id"] for r in all_releases(site, 5)] == expected
    first = site.get("/public/ocds/releases?limit=5")
    check_package(first.json(), with_cove=False)
    after = site.wf.disclosure.feed(limit=5)["next"]
    nxt = f"http://testserver/public/ocds/releases?cursor={after}&limit=5"
    assert first.json()["links"] == {"next": nxt}
    assert first.headers["link"] == f'<{nxt}>; rel="next"'
    assert first.headers["content-type"].startswith("application/json")
    assert first.headers["access-control-allow-origin"] == "*"


def test_the_feed_answers_304_until_something_is_published(site: Site) -> None:
    url = "/public/ocds/releases"
    first = site.get(url)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert first.headers["cache-control"] == "public, no-cache"
    again = site.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag and again.headers["last-modified"] == modified
    assert site.get(url, headers={"If-None-Match": f"W/{etag}"}).status_code == 304
    assert site.get(url, headers={"If-None-Match": f'"other", {etag}'}).status_code == 304
    assert site.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    assert site.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    old = "Mon, 01 Jan 2024 00:00:00 GMT"
    assert site.get(url, headers={"If-Modified-Since": old}).status_code == 200
    assert site.get(url, headers={"If-Modified-Since": "yesterday"}).status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 §13.1.3)
    both = {"If-None-Match": '"other"', "If-Modified-Since": modified}
    assert site.get(url, headers=both).status_code == 200
    # a HEAD is answered the same, without a body
    head = site.client.head(url, headers={"If-None-Match": etag})
    assert head.status_code == 304
    # a full earlier page keeps its tag; the last page and the whole feed change
    early = site.get(f"{url}?limit=2")
    site.wf.fire(
        site.serving, "pay", actor=FINANCE, at=at("2025-10-21"), tranche=1,
        amount="300000.00", on="2025-10-21",
    )  # fmt: skip
    unchanged = site.get(f"{url}?limit=2", headers={"If-None-Match": early.headers["etag"]})
    assert unchanged.status_code == 304
    fresh = site.get(url, headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.headers["etag"] != etag
    assert len(fresh.json()["releases"]) == len(first.json()["releases"]) + 1


def test_a_record_by_ocid_with_its_caching(site: Site) -> None:
    ocid = f"ocds-gpw000-{site.walked}"
    url = f"/public/ocds/records/{ocid}"
    first = site.get(url)
    assert first.status_code == 200
    (record,) = first.json()["records"]
    assert record["ocid"] == ocid and record["compiledRelease"]["tag"] == ["compiled"]
    assert record["compiledRelease"]["awards"][0]["suppliers"][0]["name"] == NGO
    assert first.json()["uri"] == f"http://testserver{url}"
    etag = first.headers["etag"]
    assert site.get(url, headers={"If-None-Match": etag}).status_code == 304
    modified = first.headers["last-modified"]
    assert site.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    # another project's event leaves this record's tag alone; its own changes it
    other = f"/public/ocds/records/ocds-gpw000-{site.serving}"
    other_tag = site.get(other).headers["etag"]
    site.wf.fire(
        site.serving, "pay", actor=FINANCE, at=at("2025-10-21"), tranche=1,
        amount="300000.00", on="2025-10-21",
    )  # fmt: skip
    assert site.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert site.get(other, headers={"If-None-Match": other_tag}).status_code == 200
    for missing in ("ocds-gpw000-999999", "ocds-gpw000-x", "nonsense", "ocds-gpw000-１"):
        answer = site.get(f"/public/ocds/records/{missing}")
        assert answer.status_code == 404 and set(answer.json()) == ERROR_KEYS


def test_published_anchors_with_their_caching(site: Site) -> None:
    first = site.get("/public/anchors")
    body = first.json()
    (anchor,) = body["anchors"]  # the newest, by default
    assert ANCHORS_PAGE == 1 and body["next_cursor"] is None
    assert anchor["format"] == "gpw-anchor-1" and anchor["heads"] and anchor["digest"]
    assert site.wf.verify(anchor=anchor).ok
    etag = first.headers["etag"]
    assert site.get("/public/anchors", headers={"If-None-Match": etag}).status_code == 304
    later = site.wf.disclosure.publish_anchor(at("2026-10-02"))
    fresh = site.get("/public/anchors", headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.json()["anchors"][0]["id"] == later["id"]
    assert fresh.json()["next_cursor"] == later["id"]
    older = site.get(f"/public/anchors?cursor={later['id']}").json()
    assert [a["id"] for a in older["anchors"]] == [anchor["id"]] and older["next_cursor"] is None
    both = site.get("/public/anchors?limit=100").json()["anchors"]
    assert [a["digest"] for a in both] == [later["digest"], anchor["digest"]]


def test_no_anchor_and_no_release_yet(wf: Any) -> None:
    with TestClient(create_app(wf, secret_key=SECRET)) as client:
        anchors = client.get("/public/anchors")
        assert anchors.json() == {"anchors": [], "next_cursor": None}
        assert "last-modified" not in anchors.headers and anchors.headers["etag"]
        releases = client.get("/public/ocds/releases")
        # nothing to publish: an empty page (the schema wants one release at least)
        assert releases.json()["releases"] == [] and "links" not in releases.json()
        listed = client.get("/public/projects")
        assert listed.status_code == 200 and 'data-testid="no-results"' in listed.text


# -- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status", "code", "field"),
    [
        ("GET", "/public/ocds/releases?cursor=abc", 422, "invalid_input", "cursor"),
        ("GET", "/public/ocds/releases?limit=0", 422, "invalid_input", "limit"),
        ("GET", "/public/ocds/releases?limit=1001", 422, "invalid_input", "limit"),
        ("GET", "/public/anchors?limit=101", 422, "invalid_input", "limit"),
        ("GET", "/public/anchors?cursor=-1", 422, "invalid_input", "cursor"),
        ("GET", "/public/ocds/nowhere", 404, "not_found", "path"),
        ("GET", "/public/anchors/latest", 404, "not_found", "path"),
        ("POST", "/public/ocds/releases", 405, "method_not_allowed", "method"),
        ("DELETE", "/public/anchors", 405, "method_not_allowed", "method"),
        ("PUT", "/public/ocds/records/ocds-gpw000-1", 405, "method_not_allowed", "method"),
    ],
)
def test_data_routes_answer_errors_in_the_one_shape(
    site: Site, method: str, path: str, status: int, code: str, field: str
) -> None:
    answer = site.client.request(method, path)
    assert answer.status_code == status
    body = answer.json()
    assert set(body) == ERROR_KEYS and body["code"] == code and body["field"] == field
    assert "Traceback" not in answer.text
    if status == 405:
        assert answer.headers["allow"] == "GET, HEAD"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/public/nowhere", 404),
        ("GET", "/public/projects/", 404),
        ("GET", "/public/projects?limit=0", 400),
        ("POST", "/public/projects", 405),
        ("POST", "/public/projects/1", 405),
    ],
)
def test_page_routes_answer_errors_as_pages(
    site: Site, method: str, path: str, status: int
) -> None:
    answer = site.client.request(method, path, follow_redirects=False)
    assert answer.status_code == status
    doc = lxml.html.fromstring(answer.text)
    assert doc.xpath('//*[@data-testid="error-page"]/@data-status') == [str(status)]
    assert doc.xpath('//a[@href="/public/projects"]')  # back to the public list, not the login
    assert "Traceback" not in answer.text


def test_the_api_alone_still_publishes(wf: Any) -> None:
    pid = walk(wf, to="rectifying")
    with TestClient(create_app(wf, pages=False)) as client:
        assert client.get("/public/ocds/releases").status_code == 200
        page = client.get(f"/public/projects/{pid}")
        assert page.status_code == 200 and "入户核查员服务" in page.text
        assert client.get("/static/gpw.css").status_code == 200  # the pages are styled
        assert client.get("/projects").status_code == 404  # no dashboard
        no_secret_in(page.text)
