"""R20 on the dashboard (both backends): the clerk's forms for ``dispute_payment`` and
``resolve_dispute`` are built from their payload models and go through; a payment of the disputed
part is refused on the page naming R20; the payment ledger shows the dispute and, for a small or
medium enterprise, the late interest."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import lxml.html
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from support import advance, contractor, new_project
from webapi import PASSWORD, USERS

from workflow.web import create_app
from workflow.web.session import CSRF_FIELD

SECRET = "s" * 48


def html(response: Any) -> Any:
    return lxml.html.fromstring(response.text)


def text_of(element: Any) -> str:
    return " ".join(element.text_content().split())


@pytest.fixture
def clerk(wf: Any) -> Iterator[tuple[TestClient, str, Any]]:
    """The clerk logged in, and a project in service with an SME (signed 2025-09-26: the first
    tranche, 300,000.00, due 2025-10-23, 15 working days across National Day)."""
    wf.users.hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    for login, (role, org, region) in USERS.items():
        wf.users.add(login, role=role, org=org, password=PASSWORD, region=region)
    cid = contractor(wf, sme=True)
    pid = new_project(wf)
    advance(lambda ev, **kw: wf.fire(pid, ev, **kw), "in_service", cid)
    with TestClient(create_app(wf, secret_key=SECRET)) as client:
        token = html(client.get("/login")).xpath(f'//input[@name="{CSRF_FIELD}"]/@value')[0]
        data = {"login": "clerk", "password": PASSWORD, CSRF_FIELD: token, "next": "/"}
        assert client.post("/login", data=data, follow_redirects=False).status_code == 303
        yield client, f"/projects/{pid}", wf


def submit(client: TestClient, path: str, event: str, **values: Any) -> Any:
    form = html(client.get(path)).xpath(f'//form[@data-event="{event}"]')[0]
    fields = dict(form.fields)
    fields.update(values)
    action = str(form.get("action"))
    return client.post(action, data=fields, follow_redirects=False)


def test_R20_the_dispute_forms_render_go_through_and_the_ledger_shows_them(
    clerk: tuple[TestClient, str, Any],
) -> None:
    client, path, wf = clerk
    page = html(client.get(path))
    dispute = page.xpath('//form[@data-event="dispute_payment"]')[0]
    assert dispute.xpath('.//input[@name="tranche"]/@type') == ["number"]
    assert dispute.xpath('.//input[@name="amount"]/@inputmode') == ["decimal"]
    assert dispute.xpath('.//input[@name="on"]/@type') == ["date"]
    assert dispute.xpath('.//textarea[@name="reason"]')
    assert "对部分款项提出争议" in text_of(dispute)
    resolve = page.xpath('//form[@data-event="resolve_dispute"]')[0]
    assert resolve.xpath('.//input[@name="found_due"]/@inputmode') == ["decimal"]
    assert resolve.xpath('.//input[@name="dispute"]/@type') == ["number"]
    assert "认定应付金额" in text_of(resolve)
    done = submit(
        client, path, "dispute_payment", tranche="1", amount="50000.00", reason="记录不全",
        on="2025-10-20",
    )  # fmt: skip
    assert done.status_code == 303, done.text[:2000]
    # the whole tranche while the dispute is open: refused on the page, naming R20
    refused = submit(client, path, "pay", tranche="1", amount="300000.00", on="2025-10-27")
    assert refused.status_code == 422
    box = html(refused).xpath('//*[@data-testid="refusal"]')[0]
    assert box.get("data-rule") == "R20"
    done = submit(client, path, "pay", tranche="1", amount="250000.00", on="2025-10-27")
    assert done.status_code == 303, done.text[:2000]
    page = html(client.get(path))
    row = page.xpath('//*[@data-testid="payments"]//tr[@data-tranche="1"]')[0]
    assert "50,000.00" in text_of(row.xpath('.//*[@data-testid="dispute"]')[0])
    assert "争议部分待解决" in text_of(row)
    # an SME: 4 days late (10-24..10-27): 250,000 × 0.0005 × 4 = 500.00
    assert text_of(row.xpath('.//*[@data-testid="interest"]')[0]) == "500.00"
    assert "逾期利息（R20）" in text_of(page.xpath('//*[@data-testid="payments"]')[0])
    total = page.xpath('//*[@data-testid="interest-total"]')[0]
    assert text_of(total).startswith("500.00")
    pid = int(path.rsplit("/", 1)[1])
    assert [p.amount for p in wf.project(pid).payments] == [Decimal("250000.00")]
