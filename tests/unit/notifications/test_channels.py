"""Channel configuration from a file or the environment; secrets never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from notifications.channels import (
    EmailChannel,
    NoticeConfig,
    Outgoing,
    Person,
    SmtpConfig,
    WebhookChannel,
)
from states.errors import ConfigurationError


def test_config_from_a_toml_file(tmp_path: Path) -> None:
    path = tmp_path / "notices.toml"
    path.write_text(
        'channels = ["inbox", "email", "webhook"]\nlang = "en"\n'
        '[smtp]\nhost = "smtp.example.org"\nport = 465\nsecurity = "ssl"\n'
        'username = "gpw"\npassword = "hunter2"\n[webhook]\nsecret = "s3cret"\n',
        encoding="utf-8",
    )
    config = NoticeConfig.from_file(path)
    assert config.channels == ("inbox", "email", "webhook")
    assert config.smtp is not None and config.smtp.port == 465 and config.lang == "en"
    assert "hunter2" not in repr(config) and "s3cret" not in repr(config)
    channels = config.build_channels()
    assert [c.name for c in channels] == ["email", "webhook"]
    assert all("hunter2" not in repr(c) and "s3cret" not in repr(c) for c in channels)


def test_config_from_the_environment() -> None:
    config = NoticeConfig.from_env(
        {
            "GPW_CHANNELS": "inbox,email,log",
            "GPW_SMTP_HOST": "127.0.0.1",
            "GPW_SMTP_PORT": "2525",
            "GPW_SMTP_SECURITY": "none",
            "GPW_SMTP_FROM": "gpw@example.org",
        }
    )
    assert config.channels == ("inbox", "email", "log")
    assert config.smtp == SmtpConfig(
        host="127.0.0.1", port=2525, security="none", sender="gpw@example.org"
    )


@pytest.mark.parametrize(
    ("env", "field"),
    [
        ({"GPW_CHANNELS": "inbox,fax"}, "channels"),
        ({"GPW_CHANNELS": "email"}, "smtp.host"),
        (
            {"GPW_CHANNELS": "email", "GPW_SMTP_HOST": "h", "GPW_SMTP_SECURITY": "tls13"},
            "smtp.security",
        ),
        (
            {"GPW_CHANNELS": "email", "GPW_SMTP_HOST": "h", "GPW_SMTP_USERNAME": "u"},
            "smtp.password",
        ),
        ({"GPW_CHANNELS": "webhook"}, "webhook.secret"),
    ],
)
def test_bad_configuration_names_the_field(env: dict[str, str], field: str) -> None:
    with pytest.raises(ConfigurationError) as err:
        NoticeConfig.from_env(env)
    assert err.value.field == field


def test_an_unreadable_file_is_a_configuration_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("channels = [", encoding="utf-8")
    with pytest.raises(ConfigurationError):
        NoticeConfig.from_file(bad)


NOTICE = Outgoing(
    id=7,
    key="12:overdue:3",
    project_id=1,
    deadline_kind="dispatch",
    stage="overdue",
    subject="【逾期通知】核查",
    text="正文",
    html="<p>正文</p>",
    recipients=({"org": "大武口区民政局", "role": "purchaser", "name": "购买主体"},),
)
PERSON = Person(
    id=5,
    org="大武口区民政局",
    role="purchaser",
    name="张敏",
    email="zm@example.org",
    webhook="http://127.0.0.1:9/hook",
)


def test_email_message_id_is_deterministic_and_parts_are_text_and_html() -> None:
    channel = EmailChannel(SmtpConfig(host="h", security="none", domain="gpw.example.org"))
    msg = channel.build(NOTICE, PERSON, "zm@example.org")
    assert msg["Message-ID"] == "<gpw.12-overdue-3.p5@gpw.example.org>"
    assert channel.build(NOTICE, PERSON, "zm@example.org")["Message-ID"] == msg["Message-ID"]
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert msg["Subject"] == "【逾期通知】核查"


def test_webhook_signature_is_an_hmac_of_the_body() -> None:
    import hashlib
    import hmac

    channel = WebhookChannel("s3cret")
    body = channel.payload(NOTICE, PERSON)
    assert channel.sign(body) == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert "正文".encode() in body


def test_a_person_webhook_follows_no_redirect_and_ends_within_its_deadline() -> None:
    """Review (issue #11): the person channel POSTs as the robots do (notifications.outbound):
    a redirect is a failure, never followed to the internal address; a dripped answer is cut at
    the deadline."""
    from hostile_servers import dripping_answer, raw_server, redirecting_server

    from notifications.outbound import DeadlineExceeded

    with redirecting_server() as (base, gets):
        with pytest.raises(OSError, match="HTTP 302"):
            WebhookChannel("s3cret").send(NOTICE, PERSON, f"{base}/302")
    assert gets == []
    with raw_server(dripping_answer(b"")) as port, pytest.raises(DeadlineExceeded):
        WebhookChannel("s3cret", timeout=0.5).send(NOTICE, PERSON, f"http://127.0.0.1:{port}/")
