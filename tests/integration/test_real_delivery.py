"""Delivery to a real SMTP server (aiosmtpd) and a real HTTP server, faults included; the outbox
on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from typing import Any

import pytest
from servers import free_port, http_server, smtp_server
from support import at, project_in

from notifications.channels import EmailChannel, NoticeConfig, SmtpConfig
from workflow import Workflow

TITLE = "入户核查 <script>alert(1)</script>"


def _email_wf(db_url: str, port: int, **smtp: Any) -> Workflow:
    config = NoticeConfig(
        channels=("inbox", "email"),
        smtp=SmtpConfig(
            host="127.0.0.1", port=port, security="none", sender="gpw@example.org", **smtp
        ),
    )
    return Workflow.open(db_url, notices=config)


def test_email_arrives_with_headers_chinese_text_and_escaped_html(db_url: str) -> None:
    with smtp_server() as (sink, port):
        wf = _email_wf(db_url, port)
        project_in(wf, "contracted", title=TITLE)
        zm = wf.directory.add(
            org="大武口区民政局", role="purchaser", name="张敏", email="zm@example.org"
        )
        fin = wf.directory.add(
            org="大武口区财政局", role="finance", name="李财", email="lc@example.org"
        )
        notices = wf.tick(at("2025-10-22"))
        report = wf.relay(at("2025-10-22", 11))
        wf.close()
    assert report.sent == 2
    # dispatch → purchaser (and the contractor, who has no e-mail); payment_1 → purchaser, finance
    assert sorted(str(m["To"]) for m in sink.messages) == [
        "lc@example.org",
        "zm@example.org",
        "zm@example.org",
    ]
    by_id = {str(m["Message-ID"]): m for m in sink.messages}
    dispatch = next(n for n in notices if n.deadline_kind == "dispatch")
    key = dispatch.key.replace(":", "-")
    msg = by_id[f"<gpw.{key}.p{zm.id}@gpw.local>"]
    assert str(msg["X-GPW-Notice"]) == dispatch.key
    assert str(msg["From"]) == "gpw@example.org"
    assert str(msg["Subject"]) == f"【提醒】{TITLE}：人员派遣截止 2025-10-23"
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert "承接主体应在合同签订之日起15个工作日内" in text.get_content()
    assert "&lt;script&gt;" in html.get_content() and "<script>" not in html.get_content()
    assert f"<gpw.{key}.p{fin.id}@gpw.local>" not in by_id  # finance gets the payment only


# aiosmtpd warns that AUTH without TLS is unsafe: true, and irrelevant on a loopback test server
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_smtp_login_and_no_password_in_reprs(db_url: str) -> None:
    with smtp_server(user="gpw", password="hunter2") as (sink, port):
        wf = _email_wf(db_url, port, username="gpw", password="hunter2")
        project_in(wf, "contracted")
        wf.directory.add(
            org="大武口区民政局", role="purchaser", name="张敏", email="zm@example.org"
        )
        wf.tick(at("2025-10-22"))
        assert wf.relay(at("2025-10-22", 11)).sent == 2
        wf.close()
    assert sink.logins and set(sink.logins) == {("gpw", "hunter2")}
    config = SmtpConfig(host="h", username="gpw", password="hunter2")
    assert "hunter2" not in repr(config) and "hunter2" not in repr(EmailChannel(config))


def test_smtp_down_then_back_retries_and_delivers_once(db_url: str) -> None:
    port = free_port()  # nothing listens here yet
    wf = _email_wf(db_url, port)
    project_in(wf, "contracted")
    wf.directory.add(org="大武口区民政局", role="purchaser", name="张敏", email="zm@example.org")
    wf.tick(at("2025-10-22"))
    now = at("2025-10-22", 11)
    first = wf.relay(now)
    assert (first.sent, first.failed) == (0, 2)
    assert all(
        "Connection" in (n.last_error or "") or "refused" in (n.last_error or "")
        for n in wf.notices()
    )
    assert wf.relay(now + timedelta(seconds=30)).claimed == 0  # backoff: 60 s first
    with smtp_server(port) as (sink, _):
        again = wf.relay(now + timedelta(seconds=61))
    assert again.sent == 2
    assert sorted(sink.message_ids()) == sorted(set(sink.message_ids()))
    assert len(sink.messages) == 2
    assert {n.status for n in wf.notices()} == {"sent"}
    wf.close()


def test_smtp_down_for_good_ends_as_a_dead_letter(db_url: str) -> None:
    wf = _email_wf(db_url, free_port())
    project_in(wf, "contracted")
    wf.directory.add(org="大武口区民政局", role="purchaser", name="张敏", email="zm@example.org")
    wf.tick(at("2025-10-22"))
    now = at("2025-10-22", 11)
    for _ in range(8):
        wf.relay(now)
        now += timedelta(hours=1)
    assert {(n.status, n.attempts) for n in wf.notices()} == {("dead", 6)}
    wf.close()


def _hook_wf(db_url: str, port: int, *, email_port: int | None = None) -> Workflow:
    channels = ("inbox", "webhook") if email_port is None else ("inbox", "email", "webhook")
    smtp = (
        None
        if email_port is None
        else SmtpConfig(host="127.0.0.1", port=email_port, security="none")
    )
    wf = Workflow.open(
        db_url,
        notices=NoticeConfig(channels=channels, webhook_secret="s3cret", smtp=smtp),
    )
    project_in(wf, "contracted")
    wf.directory.add(
        org="大武口区民政局",
        role="purchaser",
        name="张敏",
        email="zm@example.org",
        webhook=f"http://127.0.0.1:{port}/hook",
    )
    return wf


def test_webhook_posts_signed_json_with_chinese_intact(db_url: str) -> None:
    with http_server() as (hook, port):
        wf = _hook_wf(db_url, port)
        notices = {n.key: n for n in wf.tick(at("2025-10-22"))}
        assert wf.relay(at("2025-10-22", 11)).sent == 2
        wf.close()
    assert len(hook.requests) == 2
    for headers, raw in hook.requests:
        expected = "sha256=" + hmac.new(b"s3cret", raw, hashlib.sha256).hexdigest()
        assert headers["x-gpw-signature"] == expected
        assert headers["content-type"].startswith("application/json")
    body = hook.json(0)
    assert set(body) == {
        "key",
        "project_id",
        "deadline_kind",
        "stage",
        "subject",
        "body",
        "recipients",
        "person",
    }
    assert body["key"] in notices and body["stage"] == "reminder"
    assert body["person"] == {"org": "大武口区民政局", "role": "purchaser", "name": "张敏"}
    assert "【提醒】" in body["subject"] and "工作日" in body["body"]
    assert hook.requests[0][0]["x-gpw-notice"] == body["key"]


def test_a_failing_webhook_retries_without_resending_the_email(db_url: str) -> None:
    with http_server() as (hook, port), smtp_server() as (sink, smtp_port):
        wf = _hook_wf(db_url, port, email_port=smtp_port)
        wf.tick(at("2025-10-22"))
        hook.status = 500
        now = at("2025-10-22", 11)
        first = wf.relay(now)
        assert first.failed == 2
        assert all("500" in (n.last_error or "") for n in wf.notices())
        assert len(sink.messages) == 2  # the e-mails went out once
        hook.status = 200
        assert wf.relay(now + timedelta(seconds=61)).sent == 2
        notice = wf.notices()[0]
        deliveries = {d["channel"]: d for d in wf.deliveries(notice.id)}
        wf.close()
    assert len(sink.messages) == 2  # not again
    assert len(hook.requests) == 4  # 2 refused, 2 accepted
    assert deliveries["email"]["attempts"] == 1 and deliveries["webhook"]["attempts"] == 2
    assert {d["status"] for d in deliveries.values()} == {"sent"}
