"""Delivery channels behind one small protocol, and their configuration.

``inbox`` (a table, always on, needs nothing) is written by the relay itself; the channels here
deliver to a person from the directory: ``email`` (SMTP with STARTTLS or SSL and login; a
deterministic Message-ID per notice and person, so mail systems can de-duplicate a redelivery),
``webhook`` (a JSON POST signed with an HMAC-SHA256 header) and ``log``; ``dingtalk`` and ``wecom``
post to an organisation's group robots instead (notifications/robots.py). Configuration comes from a
TOML file or ``GPW_*`` environment variables and is checked at start; secrets are never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import smtplib
import ssl
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any, Protocol

from notifications import outbound
from states.errors import ConfigurationError

_LOGGER = logging.getLogger("gpw.notices")
#: ``dingtalk`` and ``wecom``: group robots of an organisation (notifications/robots.py)
KNOWN_CHANNELS = ("inbox", "email", "webhook", "log", "dingtalk", "wecom")


@dataclass(frozen=True, slots=True)
class Person:
    """Someone in the directory who holds ``role`` at ``org``."""

    id: int
    org: str
    role: str
    name: str
    email: str | None = None
    webhook: str | None = None


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A notice on its way out, as channels see it."""

    id: int
    key: str
    project_id: int
    deadline_kind: str
    stage: str
    subject: str
    text: str
    html: str
    recipients: tuple[dict[str, str], ...]

    @classmethod
    def of(cls, notice: Any) -> Outgoing:
        """A stored notice on its way out (a row with the notice's ``id``, ``key``,
        ``project_id``, ``deadline_kind``, ``stage``, ``subject``, ``body``, ``html`` and
        ``recipients``)."""
        return cls(
            id=notice.id,
            key=notice.key,
            project_id=notice.project_id,
            deadline_kind=notice.deadline_kind,
            stage=notice.stage,
            subject=notice.subject,
            text=notice.body,
            html=notice.html,
            recipients=tuple(notice.recipients),
        )


class Channel(Protocol):
    """A way to reach a person. ``address`` says where (None: this person has none here)."""

    name: str

    def address(self, person: Person) -> str | None: ...

    def send(self, notice: Outgoing, person: Person, address: str) -> None: ...

    def session(self) -> Any:
        """A context manager around a batch (an SMTP connection kept open); may be a no-op."""
        ...


class _NoSession:
    @contextmanager
    def session(self) -> Iterator[None]:
        yield


class LogChannel(_NoSession):
    """Writes each notice to the ``gpw.notices`` logger (and to ``echo`` if given)."""

    name = "log"

    def __init__(self, echo: Any = None) -> None:
        self.echo = echo

    def address(self, person: Person) -> str | None:
        return f"{person.org}/{person.role}/{person.name}"

    def send(self, notice: Outgoing, person: Person, address: str) -> None:
        line = f"通知 notice {notice.key} → {address}: {notice.subject}"
        _LOGGER.info(line)
        if self.echo is not None:
            self.echo(line)


def _safe_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "-", text)


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 25
    #: "starttls", "ssl" or "none"
    security: str = "starttls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "gpw@localhost"
    timeout: float = 30.0
    #: the domain in Message-IDs
    domain: str = "gpw.local"
    #: verify the server's certificate (turn off only for a test server)
    verify: bool = True

    def __post_init__(self) -> None:
        if not self.host:
            raise ConfigurationError(
                "未配置 SMTP 服务器", "SMTP host is missing", field="smtp.host"
            )
        if self.security not in ("starttls", "ssl", "none"):
            raise ConfigurationError(
                f"SMTP 加密方式无效：{self.security}",
                f"smtp.security must be starttls, ssl or none, not {self.security!r}",
                field="smtp.security",
            )
        if self.username and not self.password:
            raise ConfigurationError(
                "SMTP 用户名已配置但缺少密码",
                "smtp.username is set but smtp.password is missing",
                field="smtp.password",
            )


class EmailChannel:
    """SMTP delivery, one connection per relay batch."""

    name = "email"

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._conn: smtplib.SMTP | None = None

    def __repr__(self) -> str:  # never show the password
        c = self.config
        return f"EmailChannel(host={c.host!r}, port={c.port}, security={c.security!r})"

    def message_id(self, notice: Outgoing, person: Person) -> str:
        return f"<gpw.{_safe_id(notice.key)}.p{person.id}@{self.config.domain}>"

    def address(self, person: Person) -> str | None:
        return person.email or None

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        context = ssl.create_default_context()
        if not c.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        conn: smtplib.SMTP
        if c.security == "ssl":
            conn = smtplib.SMTP_SSL(c.host, c.port, timeout=c.timeout, context=context)
        else:
            conn = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
            if c.security == "starttls":
                conn.starttls(context=context)
        if c.username:
            conn.login(c.username, c.password or "")
        return conn

    @contextmanager
    def session(self) -> Iterator[None]:
        try:
            yield
        finally:
            if self._conn is not None:
                try:
                    self._conn.quit()
                except (smtplib.SMTPException, OSError):
                    pass
                self._conn = None

    def build(self, notice: Outgoing, person: Person, address: str) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = notice.subject
        msg["From"] = self.config.sender
        msg["To"] = address
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = self.message_id(notice, person)
        msg["X-GPW-Notice"] = notice.key
        msg.set_content(notice.text)
        msg.add_alternative(notice.html, subtype="html")
        return msg

    def send(self, notice: Outgoing, person: Person, address: str) -> None:
        msg = self.build(notice, person, address)
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = self._connect()
            try:
                self._conn.send_message(msg)
                return
            except smtplib.SMTPServerDisconnected:
                self._conn = None  # a kept connection went stale: reconnect once
                if attempt == 2:
                    raise


class WebhookChannel(_NoSession):
    """POSTs the notice as JSON; ``X-GPW-Signature: sha256=<hex HMAC of the body>``."""

    name = "webhook"

    def __init__(self, secret: str, timeout: float = 10.0) -> None:
        if not secret:
            raise ConfigurationError(
                "webhook 渠道缺少签名密钥", "webhook secret is missing", field="webhook.secret"
            )
        self._secret = secret.encode("utf-8")
        self.timeout = timeout

    def __repr__(self) -> str:
        return "WebhookChannel(secret=***)"

    def address(self, person: Person) -> str | None:
        return person.webhook or None

    def payload(self, notice: Outgoing, person: Person) -> bytes:
        return json.dumps(
            {
                "key": notice.key,
                "project_id": notice.project_id,
                "deadline_kind": notice.deadline_kind,
                "stage": notice.stage,
                "subject": notice.subject,
                "body": notice.text,
                "recipients": list(notice.recipients),
                "person": {"org": person.org, "role": person.role, "name": person.name},
            },
            ensure_ascii=False,
            sort_keys=True,
        ).encode("utf-8")

    def sign(self, body: bytes) -> str:
        return "sha256=" + hmac.new(self._secret, body, hashlib.sha256).hexdigest()

    def send(self, notice: Outgoing, person: Person, address: str) -> None:
        body = self.payload(notice, person)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "gpw-notices",
            "X-GPW-Notice": notice.key,
            "X-GPW-Signature": self.sign(body),
        }
        # no redirect followed, the whole exchange within ``timeout`` (issue #11, the review)
        answer = outbound.post(address, body, headers, timeout=self.timeout, max_answer=0)
        if not 200 <= answer.status < 300:
            raise OSError(f"webhook answered HTTP {answer.status}")


@dataclass(frozen=True)
class NoticeConfig:
    """Which channels deliver, and how; the language and an optional template folder."""

    channels: tuple[str, ...] = ("inbox",)
    smtp: SmtpConfig | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    lang: str = "zh"
    template_dir: str | None = None
    #: the dashboard's address (``https://gpw.example.gov.cn``): group-robot messages end with a
    #: link to ``{base_url}/projects/{id}``; needed by ``dingtalk`` and ``wecom``
    base_url: str | None = None

    def __post_init__(self) -> None:
        unknown = [c for c in self.channels if c not in KNOWN_CHANNELS]
        if unknown:
            raise ConfigurationError(
                f"未知的通知渠道：{unknown[0]}（可用：{', '.join(KNOWN_CHANNELS)}）",
                f"unknown channel {unknown[0]!r}; known: {', '.join(KNOWN_CHANNELS)}",
                field="channels",
            )
        if "email" in self.channels and self.smtp is None:
            raise ConfigurationError(
                "启用了 email 渠道但未配置 SMTP 服务器",
                "the email channel needs an SMTP host",
                field="smtp.host",
            )
        if "webhook" in self.channels and not self.webhook_secret:
            raise ConfigurationError(
                "启用了 webhook 渠道但未配置签名密钥",
                "the webhook channel needs a secret",
                field="webhook.secret",
            )
        if {"dingtalk", "wecom"} & set(self.channels):
            from notifications.robots import check_base_url

            check_base_url(self.base_url)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> NoticeConfig:
        """From a parsed file: ``channels``, ``lang``, ``template_dir``, ``base_url``,
        ``[smtp]``, ``[webhook]`` (``secret``)."""
        smtp = data.get("smtp")
        channels = data.get("channels", ["inbox"])
        if isinstance(channels, str):
            channels = [c.strip() for c in channels.split(",") if c.strip()]
        smtp_config = None
        if smtp is not None:
            try:
                smtp_config = SmtpConfig(**dict(smtp))
            except TypeError as exc:
                raise ConfigurationError(
                    f"SMTP 配置有误：{exc}", f"bad smtp settings: {exc}", field="smtp"
                ) from exc
        return cls(
            channels=tuple(channels),
            smtp=smtp_config,
            webhook_secret=(data.get("webhook") or {}).get("secret"),
            lang=data.get("lang", "zh"),
            template_dir=data.get("template_dir"),
            base_url=data.get("base_url"),
        )

    @classmethod
    def from_file(cls, path: str | Path) -> NoticeConfig:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigurationError(
                f"无法读取通知配置 {path}：{exc}",
                f"cannot read notice configuration {path}: {exc}",
                field="config",
            ) from exc
        return cls.from_mapping(data)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> NoticeConfig:
        """``GPW_CHANNELS`` (comma list), ``GPW_SMTP_HOST``, ``_PORT``, ``_SECURITY``,
        ``_USERNAME``, ``_PASSWORD``, ``_FROM``, ``_VERIFY``, ``GPW_WEBHOOK_SECRET``,
        ``GPW_NOTICE_LANG``, ``GPW_TEMPLATE_DIR``, ``GPW_BASE_URL``."""
        data: dict[str, Any] = {"channels": env.get("GPW_CHANNELS", "inbox")}
        if env.get("GPW_SMTP_HOST"):
            data["smtp"] = {
                "host": env["GPW_SMTP_HOST"],
                "port": int(env.get("GPW_SMTP_PORT", "25")),
                "security": env.get("GPW_SMTP_SECURITY", "starttls"),
                "username": env.get("GPW_SMTP_USERNAME") or None,
                "password": env.get("GPW_SMTP_PASSWORD") or None,
                "sender": env.get("GPW_SMTP_FROM", "gpw@localhost"),
                "verify": env.get("GPW_SMTP_VERIFY", "1") not in ("0", "false", "no"),
            }
        if env.get("GPW_WEBHOOK_SECRET"):
            data["webhook"] = {"secret": env["GPW_WEBHOOK_SECRET"]}
        if env.get("GPW_NOTICE_LANG"):
            data["lang"] = env["GPW_NOTICE_LANG"]
        if env.get("GPW_TEMPLATE_DIR"):
            data["template_dir"] = env["GPW_TEMPLATE_DIR"]
        if env.get("GPW_BASE_URL"):
            data["base_url"] = env["GPW_BASE_URL"]
        return cls.from_mapping(data)

    def build_channels(self, echo: Any = None) -> list[Channel]:
        """The person-addressed channels (inbox is the relay's own), and the group robots'
        (``dingtalk``, ``wecom``: they reach no person; the relay posts to robots)."""
        from notifications.robots import CHANNELS as ROBOT_CHANNELS

        out: list[Channel] = []
        for name in self.channels:
            if name == "email":
                assert self.smtp is not None
                out.append(EmailChannel(self.smtp))
            elif name == "webhook":
                out.append(WebhookChannel(self.webhook_secret or ""))
            elif name == "log":
                out.append(LogChannel(echo))
            elif name in ROBOT_CHANNELS:
                out.append(
                    ROBOT_CHANNELS[name](
                        base_url=self.base_url or "",
                        lang=self.lang,
                        template_dir=self.template_dir,
                    )
                )
        return out
