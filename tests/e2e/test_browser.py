"""The dashboard in a real browser (issue #8): Debian's Chromium, driven by Playwright, against a
real `gpw serve` process on a SQLite file or a PostgreSQL database.

A clerk of the purchaser logs in, sees the project whose first payment is overdue (R7: due
2025-10-23, the server's clock reads 2025-12-01) on the overview, opens it, pays the first tranche
(allowed), is refused the second one with its rule and reason (R7: it needs a passed mid-term
evaluation), and switches to English. A project titled ``<script>alert(1)</script>`` shows that
title as text and no dialog opens. At a phone's width no page scrolls sideways; Chinese is drawn
by a CJK font, not as boxes. Every step leaves a screenshot (tests/browser.py: SCREENSHOTS).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from browser import (
    HAN,
    PHONE,
    cjk_glyphs,
    page,
    platform_fonts,
    serving,
    shot,
    widths,
)
from playwright.sync_api import Page, expect
from support import new_project, project_in

from workflow import Workflow
from workflow.web.i18n import TEXT

#: the server's clock (GPW_NOW) and the seeding's: after the first payment's deadline
NOW = "2025-12-01T10:00:00+08:00"
TODAY = "2025-12-01"
CLERK_LOGIN = "clerk"
PASSWORD = "correct horse battery"
PURCHASER = "大武口区民政局"
OVERDUE_TITLE = "大武口区社会救助入户核查服务"
XSS = "<script>alert(1)</script>"
#: 30 % of the 1,000,000.00 contract (R7, Dawukou's 30/30/40)
FIRST_TRANCHE = "300000.00"


@dataclass(frozen=True)
class Site:
    """A seeded database served by a real `gpw serve`."""

    url: str
    db_url: str
    overdue: int
    xss: int

    def payments(self) -> list[Any]:
        wf = Workflow.open(self.db_url, clock=clock)
        try:
            return list(wf.project(self.overdue).payments)
        finally:
            wf.close()


def clock() -> datetime:
    return datetime.fromisoformat(NOW)


def seed(db_url: str) -> tuple[int, int]:
    """An in-service project whose first payment is overdue (its overdue stages written by a
    tick), a draft titled with a script tag, and the clerk's login (`gpw user add`)."""
    wf = Workflow.open(db_url, clock=clock)
    try:
        overdue, _ = project_in(wf, "in_service", title=OVERDUE_TITLE)
        xss = new_project(wf, title=XSS)
        assert wf.tick(), "the overdue payment's notice is due"
    finally:
        wf.close()
    command = [sys.executable, "-m", "workflow", "--db", db_url, "user", "add", CLERK_LOGIN]
    command += ["--role", "purchaser", "--org", PURCHASER, "--password-stdin"]
    added = subprocess.run(
        command,
        input=PASSWORD.encode(),
        capture_output=True,
        check=False,
    )
    assert added.returncode == 0, added.stderr.decode()
    return overdue, xss


@contextlib.contextmanager
def seeded_site(db_url: str) -> Iterator[Site]:
    overdue, xss = seed(db_url)
    with serving(db_url, now=NOW) as server:
        yield Site(server.url, db_url, overdue, xss)


@pytest.fixture
def site(db_url: str) -> Iterator[Site]:
    """A site of its own, on SQLite and on PostgreSQL (the test writes)."""
    with seeded_site(db_url) as seeded:
        yield seeded


@pytest.fixture(scope="module")
def shared_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One site on a SQLite file for the tests that only read pages."""
    path = tmp_path_factory.mktemp("browser") / "gpw.db"
    with seeded_site(f"sqlite:///{path}") as seeded:
        yield seeded


def log_in(tab: Page, login: str = CLERK_LOGIN, password: str = PASSWORD) -> None:
    tab.goto("/")
    expect(tab.locator("#login")).to_be_visible()  # every page needs a login
    tab.locator("#login").fill(login)
    tab.locator("#password").fill(password)
    tab.locator("#password").press("Enter")
    expect(tab.locator("#password")).to_have_count(0)


def overdue_link(tab: Page, project_id: int) -> Any:
    """The overview's link to a project from its list of overdue deadlines."""
    row = tab.locator(f'[data-testid="overdue-list"] tr.late[data-project="{project_id}"]')
    return row.locator(f'a[href$="/projects/{project_id}"]').first


def diagram_current(tab: Page) -> Any:
    """The current state's box in the project page's drawn state diagram."""
    expect(tab.locator('[data-testid=state-diagram][data-drawn="1"]')).to_have_count(1)
    return tab.locator("[data-testid=state-diagram] svg g.current")


def pay(tab: Page, tranche: int, amount: str) -> None:
    form = tab.locator('form[data-event="pay"]')
    form.locator('[name="tranche"]').fill(str(tranche))
    form.locator('[name="amount"]').fill(amount)
    form.locator('[name="on"]').fill(TODAY)
    form.locator('[type="submit"]').click()
    tab.wait_for_load_state()


def test_clerk_pays_is_refused_and_switches_to_english(
    site: Site, chromium: Any, backend: str
) -> None:
    with page(chromium, site.url) as (tab, watched):
        log_in(tab)
        # the overview shows the overdue project; it links to its page
        link = overdue_link(tab, site.overdue)
        expect(link).to_be_visible()
        shot(tab, f"overview-desktop-zh-{backend}")
        link.click()
        expect(tab.locator("[data-testid=project-title]")).to_have_text(OVERDUE_TITLE)
        expect(tab.locator('form[data-event="pay"]')).to_be_visible()
        # the state diagram, drawn by the vendored script with no network, marks the state
        current = diagram_current(tab)
        expect(current).to_contain_text("服务中")
        current.scroll_into_view_if_needed()
        shot(tab, f"project-desktop-zh-{backend}")

        # allowed: the first tranche (R7: the contract is in effect); recorded in the database
        pay(tab, 1, FIRST_TRANCHE)
        expect(tab.locator('[data-testid=flash][data-event="pay"]')).to_be_visible()
        expect(tab.locator("[data-testid=refusal]")).to_have_count(0)
        assert [(p.tranche, p.amount) for p in site.payments()] == [(1, Decimal(FIRST_TRANCHE))]
        shot(tab, f"project-paid-desktop-zh-{backend}")

        # refused: the second tranche needs a passed mid-term evaluation (R7), said in plain words
        pay(tab, 2, FIRST_TRANCHE)
        refusal = tab.locator("[data-testid=refusal]")
        expect(refusal).to_be_visible()
        expect(refusal).to_contain_text("R7")
        expect(refusal).to_contain_text("中期评估")
        assert len(site.payments()) == 1  # nothing written
        shot(tab, f"project-refused-desktop-zh-{backend}")

        # English: the switch on the refused page shows this project in English (a GET of the
        # page, not of the form's action), and the choice holds on the next page
        tab.locator("#lang-switch").click()
        expect(tab).to_have_url(f"{site.url}/projects/{site.overdue}?lang=en")
        expect(tab.locator("html")).to_have_attribute("lang", "en")
        expect(tab.locator("[data-testid=project-title]")).to_have_text(OVERDUE_TITLE)
        expect(tab.locator("#actions-h")).to_have_text(TEXT["actions"][1])
        expect(tab.locator("#payments-h")).to_have_text(TEXT["payments"][1])
        shot(tab, f"project-desktop-en-{backend}")
        tab.locator("[data-testid=nav-overview]").click()
        expect(tab.locator("html")).to_have_attribute("lang", "en")
        expect(tab.locator("h1")).to_contain_text(TEXT["overview"][1])
        shot(tab, f"overview-desktop-en-{backend}")
        assert watched.errors == [] and watched.dialogs == []
        assert watched.external == []


def test_a_title_with_a_script_tag_shows_as_text(shared_site: Site, chromium: Any) -> None:
    with page(chromium, shared_site.url) as (tab, watched):
        log_in(tab)
        for path, name in [("/projects", "projects"), (f"/projects/{shared_site.xss}", "project")]:
            tab.goto(path)
            expect(tab.get_by_text(XSS, exact=True).first).to_be_visible()
            scripts = tab.evaluate(
                "[...document.scripts].filter(s => s.textContent.includes('alert(1)')).length"
            )
            assert scripts == 0, f"{path}: the title became a script"
            shot(tab, f"{name}-xss-desktop-zh")
        assert tab.title().startswith(XSS)  # the <title> too, as text
        assert watched.dialogs == []  # alert(1) never ran
        assert watched.errors == [] and watched.external == []


def test_phone_width_has_no_sideways_scroll(shared_site: Site, chromium: Any) -> None:
    with page(chromium, shared_site.url, size=PHONE) as (tab, watched):
        log_in(tab)
        for path, name in [("/", "overview"), (f"/projects/{shared_site.overdue}", "project")]:
            tab.goto(path)
            scroll, inner = widths(tab)
            shot(tab, f"{name}-phone-zh")
            # laid out at the phone's width (a <meta name=viewport>), and nothing wider than it
            assert inner == PHONE["viewport"]["width"], f"{path}: laid out {inner} px wide"
            assert scroll <= inner, f"{path}: {scroll} px wide in a {inner} px window"
        assert watched.errors == [] and watched.external == []


def test_chinese_is_drawn_with_a_cjk_font(shared_site: Site, chromium: Any) -> None:
    with page(chromium, shared_site.url) as (tab, _):
        log_in(tab)
        tab.goto(f"/projects/{shared_site.overdue}")
        heading = tab.locator("h1").first
        expect(heading).to_contain_text(OVERDUE_TITLE)
        han = len(HAN.findall(heading.inner_text()))
        fonts = platform_fonts(tab, "h1")
        shot(tab, "project-glyphs-desktop-zh")
        assert han >= len(OVERDUE_TITLE)
        assert cjk_glyphs(fonts) >= han, f"Chinese drawn by {fonts}"


def test_the_font_check_tells_glyphs_from_boxes(chromium: Any) -> None:
    """The check above can fail: characters no installed font has (Private Use Area) are drawn
    as boxes by a font that is no CJK font; Chinese is drawn by one."""
    with page(chromium, "about:blank") as (tab, _):
        tab.set_content('<p id="zh">入户核查</p><p id="boxes">\ue000\ue001\ue002\ue003</p>')
        assert cjk_glyphs(platform_fonts(tab, "#zh")) == 4
        assert cjk_glyphs(platform_fonts(tab, "#boxes")) == 0
