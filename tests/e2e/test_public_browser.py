"""The public face (issue #9, R15) in a real browser against a real `gpw serve`: no login for
``/public/*`` (the dashboard still asks for one), nothing personal on any page, Chinese drawn by a
CJK font, no sideways scroll at a phone's width; the open data over real HTTP with its 304s; and
``gpw verify --anchor URL`` against the server's own ``/public/anchors``, before and after history
is rewritten. The project is ``test_disclosure``'s walk: its staff, reviewers, findings and notes
hold names, an identity number, phone numbers and an address. Screenshots: tests/browser.py."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
from browser import HAN, PHONE, cjk_glyphs, page, platform_fonts, serving, shot, widths
from playwright.sync_api import expect
from sqlalchemy import select
from support import new_project, project_in
from unit.workflow.test_disclosure import NGO, PRIVATE, walk

from workflow import Workflow
from workflow.tables import audit_t
from workflow.web.i18n import TEXT

#: the server's clock (GPW_NOW): after the walk closed, the other project's first payment overdue
NOW = "2026-12-04T10:00:00+08:00"
TITLE = "入户核查员服务"


def clock() -> datetime:
    return datetime.fromisoformat(NOW)


@dataclass(frozen=True)
class Site:
    url: str
    db_url: str
    walked: int
    serving: int
    draft: int


def seed(db_url: str) -> tuple[int, int, int]:
    wf = Workflow.open(db_url, clock=clock)
    try:
        walked = walk(wf)
        serving, _ = project_in(wf, "in_service", title="星海镇社会救助服务")
        draft = new_project(wf, title="草拟中的项目")
        wf.disclosure.publish_anchor()
    finally:
        wf.close()
    return walked, serving, draft


@contextlib.contextmanager
def seeded_site(db_url: str) -> Iterator[Site]:
    walked, in_service, draft = seed(db_url)
    with serving(db_url, now=NOW) as server:
        yield Site(server.url, db_url, walked, in_service, draft)


@pytest.fixture(scope="module")
def shared_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One site on a SQLite file for the tests that only read pages."""
    path = tmp_path_factory.mktemp("public") / "gpw.db"
    with seeded_site(f"sqlite:///{path}") as seeded:
        yield seeded


@pytest.fixture
def site(db_url: str) -> Iterator[Site]:
    """A site of its own, on SQLite and on PostgreSQL (the test rewrites history)."""
    with seeded_site(db_url) as seeded:
        yield seeded


def no_secret_in(text: str, where: str) -> None:
    for secret in PRIVATE:
        assert secret not in text, f"{where}: {secret!r} shown"


def test_public_pages_need_no_login_and_show_nothing_personal(
    shared_site: Site, chromium: Any
) -> None:
    with page(chromium, shared_site.url) as (tab, watched):
        tab.goto("/public/projects")
        expect(tab.locator("#login")).to_have_count(0)
        rows = tab.locator("[data-testid=public-project-list] tr[data-project]")
        expect(rows).to_have_count(2)
        row = tab.locator(f'tr[data-project="{shared_site.walked}"]')
        expect(row).to_contain_text(NGO)
        expect(row).to_contain_text("1,000,000.00")
        expect(row.locator("[data-late]")).to_have_text("有逾期")
        expect(tab.get_by_text("草拟中的项目")).to_have_count(0)
        no_secret_in(tab.content(), "/public/projects")
        shot(tab, "public-projects-desktop-zh")

        row.locator("[data-testid=public-project-link]").click()
        expect(tab).to_have_url(f"{shared_site.url}/public/projects/{shared_site.walked}")
        heading = tab.locator("h1")
        expect(heading).to_have_text(TITLE)
        expect(tab.locator("[data-testid=contractor]")).to_have_text(NGO)
        expect(tab.locator("[data-testid=paid-total]")).to_have_text("1,000,000.00")
        expect(tab.locator("[data-testid=late-summary]")).to_have_text("有逾期：1 项")
        expect(tab.locator('[data-testid=payments] tr[data-tranche="2"]')).to_contain_text("迟延")
        expect(tab.locator("[data-testid=evaluations]")).to_contain_text("终期评估")
        findings = tab.locator("[data-testid=findings]")
        expect(findings).to_contain_text("未按时入户")
        expect(findings).to_contain_text("〔身份证号已隐去〕")
        no_secret_in(tab.content(), "the project page")
        no_secret_in(tab.locator("body").inner_text(), "the project page's text")
        # Chinese drawn by a CJK font, not as boxes
        han = len(HAN.findall(heading.inner_text()))
        fonts = platform_fonts(tab, "h1")
        assert han == len(TITLE) and cjk_glyphs(fonts) >= han, f"Chinese drawn by {fonts}"
        shot(tab, "public-project-desktop-zh")

        # English, remembered; the words are the dashboard's translator's
        tab.locator("#lang-switch").click()
        expect(tab.locator("html")).to_have_attribute("lang", "en")
        expect(tab.locator("#payments-h")).to_have_text(TEXT["payments_made"][1])
        expect(tab.locator("h1")).to_have_text(TITLE)
        no_secret_in(tab.content(), "the project page in English")
        shot(tab, "public-project-desktop-en")
        tab.locator("[data-testid=nav-public-projects]").click()
        expect(tab.locator("h1")).to_have_text(TEXT["public_projects"][1])

        # a plan never approved is not there; the dashboard still wants a login
        answer = tab.goto(f"/public/projects/{shared_site.draft}")
        assert answer is not None and answer.status == 404
        expect(tab.locator("[data-testid=error-page]")).to_have_attribute("data-status", "404")
        expect(tab.get_by_text("草拟中的项目")).to_have_count(0)
        shot(tab, "public-not-found-desktop-en")
        tab.goto(f"/projects/{shared_site.walked}")
        expect(tab.locator("#login")).to_be_visible()
        assert watched.errors == [] and watched.dialogs == [] and watched.external == []


def test_public_pages_at_a_phone_width(shared_site: Site, chromium: Any) -> None:
    with page(chromium, shared_site.url, size=PHONE) as (tab, watched):
        for path, name in [
            ("/public/projects", "public-projects-phone-zh"),
            (f"/public/projects/{shared_site.walked}", "public-project-phone-zh"),
            (f"/public/projects/{shared_site.serving}", "public-project-serving-phone-zh"),
        ]:
            tab.goto(path)
            scroll, inner = widths(tab)
            shot(tab, name)
            assert inner == PHONE["viewport"]["width"], f"{path}: laid out {inner} px wide"
            assert scroll <= inner, f"{path}: {scroll} px wide in a {inner} px window"
        # the project in service: its first tranche, due 2025-10-23, is overdue
        expect(tab.locator('tr[data-deadline="payment_1"]')).to_contain_text("逾期未完成")
        assert watched.errors == [] and watched.external == []


def verify(db_url: str, anchor: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "workflow", "--db", db_url, "verify", "--anchor", anchor]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)


def test_open_data_over_http_and_verify_against_the_published_anchor(site: Site) -> None:
    with httpx.Client(base_url=site.url, timeout=10) as http:
        bodies = []
        for path in (
            "/public/ocds/releases?limit=1000",
            f"/public/ocds/records/ocds-gpw000-{site.walked}",
            "/public/anchors",
        ):
            answer = http.get(path)
            assert answer.status_code == 200, answer.text
            assert answer.headers["etag"] and answer.headers["last-modified"]
            again = http.get(path, headers={"If-None-Match": answer.headers["etag"]})
            assert again.status_code == 304 and again.content == b""
            since = http.get(path, headers={"If-Modified-Since": answer.headers["last-modified"]})
            assert since.status_code == 304
            bodies.append(answer.text)
            no_secret_in(answer.text, path)
        assert NGO in bodies[0] and NGO in bodies[1]
        assert http.get("/public/ocds/records/ocds-gpw000-999").status_code == 404
        assert http.get(f"/projects/{site.walked}").status_code == 303  # to the login

    anchor_url = f"{site.url}/public/anchors"
    checked = verify(site.db_url, anchor_url)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # history rewritten after the anchor was published: the walk's last entry deleted
    wf = Workflow.open(site.db_url, clock=clock)
    try:
        with wf.engine.begin() as conn:
            last = conn.execute(
                select(audit_t.c.id)
                .where(audit_t.c.stream == f"project:{site.walked}")
                .order_by(audit_t.c.seq.desc())
                .limit(1)
            ).scalar_one()
            conn.execute(audit_t.delete().where(audit_t.c.id == last))
    finally:
        wf.close()
    tampered = verify(site.db_url, anchor_url)
    assert tampered.returncode == 7, tampered.stdout + tampered.stderr
    assert "anchor" in tampered.stdout, tampered.stdout  # the published head is gone
    missing = verify(site.db_url, f"{site.url}/public/anchors/none")
    assert missing.returncode == 3 and "HTTP 404" in missing.stderr
