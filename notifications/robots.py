"""Group-chat robots (issue #11): the ``dingtalk`` (钉钉) and ``wecom`` (企业微信) channels.

A robot belongs to an organisation (the directory's ``add_robot``); a notice addressed to an
organisation, any role, is also posted to that organisation's robots of each enabled kind, once
per notice and robot. These channels reach no person (``address`` is None for everyone): the
relay calls :meth:`RobotChannel.post` with each robot, recording the delivery under the address
``robot:<id>`` (never the URL, which carries the robot's access token).

* DingTalk: ``{"msgtype": "markdown", "markdown": {"title", "text"}}``; with a secret the request
  URL carries ``timestamp`` (milliseconds) and ``sign``, the URL-encoded Base64 of HMAC-SHA256
  keyed with the secret over ``timestamp + "\\n" + secret`` (DingTalk's 加签).
* WeCom: ``{"msgtype": "markdown", "markdown": {"content"}}``, the content at most 4,096 bytes of
  UTF-8: a longer text is cut at a character boundary, marked ``…``, and always ends with the link
  to the project's page.

Both services take at most 20 messages a minute per robot (:data:`PER_MINUTE`; the relay keeps
the count in the database) and answer HTTP 200 with ``errcode`` 0 when they took a message: any
other answer is a failed delivery (:class:`RobotError`), retried. The text is the notice as
rendered (subject and body) in a markdown template per language, ``{lang}/robot.md``, which a
host's template folder may override. A robot's URL and secret never appear in a repr, a log
line or an error (:func:`masked_url`, :func:`scrub`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    TemplateError,
)

from notifications import outbound
from notifications.channels import Outgoing, Person
from notifications.render import LANGUAGES, stage_label
from states.errors import ConfigurationError

#: the kinds of robot, which are also the channels' names
KINDS = ("dingtalk", "wecom")
#: what each kind is called in a message and a delivery record, Chinese then English
KIND_LABELS = {
    "dingtalk": ("钉钉群机器人", "DingTalk robot"),
    "wecom": ("企业微信群机器人", "WeCom robot"),
}
#: both services' limit: messages a minute per robot (DingTalk: 每个机器人每分钟最多发送20条;
#: WeCom: 每个机器人发送的消息不能超过20条/分钟)
PER_MINUTE = 20
#: WeCom's limit on a markdown message's content, in bytes of UTF-8
WECOM_MAX_BYTES = 4096
#: what marks a cut text
ELLIPSIS = "…"
#: the template of a robot's markdown, per language
TEMPLATE = "robot.md"
#: how much of a robot's answer is read
_MAX_ANSWER = 64 * 1024
MASK = "****"


@dataclass(frozen=True, slots=True)
class Robot:
    """A group robot of an organisation. Its ``url`` (holding the access token) and ``secret``
    are left out of the repr; :meth:`to_dict` shows the URL masked and the secret as ``****``."""

    id: int
    org: str
    kind: str
    url: str = field(repr=False)
    secret: str | None = field(default=None, repr=False)

    @property
    def address(self) -> str:
        """Where a delivery record says it went: ``robot:<id>`` (never the URL)."""
        return f"robot:{self.id}"

    def label(self) -> str:
        """The delivery record's ``person``: the organisation and the kind of robot."""
        return f"{self.org} {KIND_LABELS.get(self.kind, (self.kind,))[0]}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "org": self.org,
            "kind": self.kind,
            "url": masked_url(self.url),
            "secret": MASK if self.secret else None,
            "address": self.address,
        }


def masked_url(url: str) -> str:
    """The URL with every query value (the access token, a key) and any password shown as
    ``****``: what listings and the audit trail show of a robot."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        if parts.port is not None:
            host = f"{host}:{parts.port}"
    except ValueError:
        return MASK
    if parts.username is not None:
        host = f"{MASK}@{host}"
    query = "&".join(
        f"{name}={MASK}" for name, _ in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    )
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, query, ""))


def _secrets_of(robot: Robot) -> list[str]:
    """Every text of a robot that must not be shown: its URL, its query values, its secret."""
    found = [robot.url]
    try:
        parts = urllib.parse.urlsplit(robot.url)
        found += [v for _, v in urllib.parse.parse_qsl(parts.query) if v]
        found += [p for p in (parts.password, parts.username, parts.query) if p]
    except ValueError:
        pass
    if robot.secret:
        found.append(robot.secret)
    # the longest first, so that a value inside another is not left half-shown
    return sorted({s for s in found if len(s) >= 4}, key=len, reverse=True)


def scrub(text: str, robot: Robot) -> str:
    """``text`` with the robot's URL, token and secret replaced by ``****`` (also in their
    URL-encoded forms)."""
    for secret in _secrets_of(robot):
        for form in {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}:
            text = text.replace(form, MASK)
    return text


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature (加签): Base64 of HMAC-SHA256 keyed with the secret over
    ``timestamp + "\\n" + secret`` (UTF-8), before URL-encoding."""
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode("ascii")


#: markdown a value must not carry into a group chat: a link or an image (``[…](…)``), inline
#: HTML, emphasis, code; each becomes its full-width twin, as Chinese text writes them anyway
_MARKDOWN_INLINE = str.maketrans({"[": "［", "]": "］", "<": "＜", ">": "＞", "*": "＊", "`": "｀"})


def plain_markdown(value: Any) -> str:
    """A value of the notice (a title, a name, a finding) as text in a robot's markdown, never as
    markdown: a project titled ``[领取补贴](http://…)`` shows those characters, not a link. A
    bare address is no link either (``http：//``). Every value the robot template prints passes
    here (the environment's ``finalize``); the template's own markup does not."""
    text = str(value).translate(_MARKDOWN_INLINE).replace("://", "：//")
    # a line a value opens with ``#`` would be a heading (a quote's ``>`` is full-width already)
    return "\n".join("＃" + line[1:] if line.startswith("#") else line for line in text.split("\n"))


def cut_utf8(text: str, limit: int) -> str:
    """The longest start of ``text`` whose UTF-8 takes at most ``limit`` bytes (never half a
    character)."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[: max(0, limit)].decode("utf-8", errors="ignore")


class RobotError(OSError):
    """A robot did not take a message (an HTTP error, an ``errcode``, no answer); the message
    never holds the robot's URL or secret."""


class RobotChannel:
    """What the ``dingtalk`` and ``wecom`` channels share: markdown from the rendered notice, a
    link to the project's page under ``base_url``, the POST and the reading of the answer.

    Args:
        base_url: where gpw's dashboard is served (``https://gpw.example.gov.cn``): a message
            ends with a link to ``{base_url}/projects/{id}``.
        lang: the language of the markdown template (``zh`` or ``en``).
        template_dir: a host's template folder, searched before the shipped templates.
        timeout: seconds the whole exchange with a robot may take (connecting, sending, its
            whole answer; :mod:`notifications.outbound`: no redirect is followed).
    """

    name = "robot"
    #: messages a minute per robot
    per_minute = PER_MINUTE
    #: what separates the notice's lines in the markdown
    line_break = "\n"

    def __init__(
        self,
        *,
        base_url: str,
        lang: str = "zh",
        template_dir: str | Path | None = None,
        timeout: float = 10.0,
    ) -> None:
        if lang not in LANGUAGES:
            raise ConfigurationError(
                f"不支持的通知语言 {lang!r}", f"unsupported notice language {lang!r}", field="lang"
            )
        self.base_url = check_base_url(base_url)
        self.lang = lang
        self.timeout = timeout
        loaders: list[Any] = []
        if template_dir is not None:
            loaders.append(FileSystemLoader(str(template_dir)))
        loaders.append(PackageLoader("notifications", "templates"))
        self._env = Environment(
            loader=ChoiceLoader(loaders),
            autoescape=False,
            finalize=plain_markdown,
            undefined=StrictUndefined,
            keep_trailing_newline=False,
            auto_reload=False,
        )
        name = f"{lang}/{TEMPLATE}"
        try:
            self._template = self._env.get_template(name)
            self.markdown(_SAMPLE)  # a broken template is refused now, not at the first send
        except TemplateError as exc:
            raise ConfigurationError(
                f"通知模板 {name} 出错：{exc}", f"notice template {name} failed: {exc}", field=name
            ) from exc

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, lang={self.lang!r})"

    # -- the Channel protocol: a robot is no person's address -----------------------------------

    def address(self, person: Person) -> str | None:
        return None

    def send(self, notice: Outgoing, person: Person, address: str) -> None:
        raise TypeError(f"{self.name}: a group robot is posted to with post(), not send()")

    @contextmanager
    def session(self) -> Iterator[None]:
        yield

    # -- the message ----------------------------------------------------------------------------

    def link(self, notice: Outgoing) -> str:
        """The markdown link to the notice's project page."""
        label = "查看项目" if self.lang == "zh" else "Open project"
        return f"[{label} #{notice.project_id}]({self.base_url}/projects/{notice.project_id})"

    def markdown(self, notice: Outgoing) -> str:
        """The notice as markdown (the template), without the link."""
        lines = [line.rstrip() for line in notice.text.splitlines()]
        return self._template.render(
            subject=notice.subject,
            stage=notice.stage,
            stage_label=stage_label(notice.stage, self.lang),
            project_id=notice.project_id,
            deadline_kind=notice.deadline_kind,
            key=notice.key,
            lines=[line for line in lines if line],
            br=self.line_break,
        ).strip()

    def message(self, notice: Outgoing) -> dict[str, Any]:
        raise NotImplementedError

    def request_url(self, robot: Robot, now: datetime) -> str:
        """Where the message is POSTed (the robot's URL; DingTalk adds its signature)."""
        return robot.url

    # -- posting --------------------------------------------------------------------------------

    def post(self, notice: Outgoing, robot: Robot, now: datetime) -> None:
        """POST the notice to ``robot``; ``now`` is the relay's clock (DingTalk signs with it).
        Raises :class:`RobotError`, whose message holds neither the URL nor the secret, unless
        the robot answered HTTP 200 with ``errcode`` 0."""
        body = json.dumps(self.message(notice), ensure_ascii=False).encode("utf-8")
        who = f"{self.name} {robot.address}"
        try:
            # no redirect followed, the whole exchange within ``timeout``, the answer bounded
            answer = outbound.post(
                self.request_url(robot, now),
                body,
                {"Content-Type": "application/json; charset=utf-8", "User-Agent": "gpw"},
                timeout=self.timeout,
                max_answer=_MAX_ANSWER,
            )
        except Exception as exc:  # refused, timed out, a bad URL: said without the URL
            reason = scrub(f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}", robot)
            raise RobotError(f"{who} 无法送达 / unreachable: {reason}"[:500]) from None
        status, raw = answer.status, answer.body
        if not 200 <= status < 300:
            raise RobotError(f"{who} 返回 HTTP {status} / answered HTTP {status}")
        try:
            answer = json.loads(raw.decode("utf-8"))
            code = answer.get("errcode")
            text = str(answer.get("errmsg", ""))
        except (ValueError, AttributeError):
            raise RobotError(f"{who} 的应答不是 JSON / answered no JSON") from None
        if code != 0:
            text = scrub(text, robot)[:300]
            raise RobotError(f"{who} 返回 errcode {code} / answered errcode {code}: {text}")


class DingTalkChannel(RobotChannel):
    """钉钉群机器人: a ``markdown`` message (``title``, ``text``), signed where a secret is set."""

    name = "dingtalk"
    #: DingTalk's markdown keeps single line breaks inside a paragraph: a blank line each
    line_break = "\n\n"

    def message(self, notice: Outgoing) -> dict[str, Any]:
        text = f"{self.markdown(notice)}\n\n{self.link(notice)}"
        return {"msgtype": "markdown", "markdown": {"title": notice.subject, "text": text}}

    def request_url(self, robot: Robot, now: datetime) -> str:
        if not robot.secret:
            return robot.url
        timestamp = int(now.timestamp() * 1000)
        parts = urllib.parse.urlsplit(robot.url)
        query = [
            (k, v)
            for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
            if k not in ("timestamp", "sign")
        ]
        query += [("timestamp", str(timestamp)), ("sign", dingtalk_sign(robot.secret, timestamp))]
        # urlencode quotes each value (quote_plus): the sign goes URL-encoded, as documented
        return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


class WeComChannel(RobotChannel):
    """企业微信群机器人: a ``markdown`` message (``content``) of at most 4,096 bytes, ending with
    the link to the project's page."""

    name = "wecom"

    def content(self, notice: Outgoing) -> str:
        """The markdown, cut at a character boundary (marked ``…``) so that with the link it
        takes at most :data:`WECOM_MAX_BYTES` bytes of UTF-8; the link is always whole."""
        tail = f"\n\n{self.link(notice)}"
        text = self.markdown(notice)
        room = WECOM_MAX_BYTES - len(tail.encode("utf-8"))
        if len(text.encode("utf-8")) > room:
            text = cut_utf8(text, room - len(ELLIPSIS.encode("utf-8"))).rstrip() + ELLIPSIS
        return text + tail

    def message(self, notice: Outgoing) -> dict[str, Any]:
        return {"msgtype": "markdown", "markdown": {"content": self.content(notice)}}


CHANNELS: dict[str, type[RobotChannel]] = {"dingtalk": DingTalkChannel, "wecom": WeComChannel}
#: the longest base URL accepted (a message must keep room for its text)
MAX_BASE_URL = 512


def check_base_url(base_url: Any, name: str = "base_url") -> str:
    """The dashboard's base URL, http(s), without a trailing slash; else ConfigurationError."""
    ok = isinstance(base_url, str) and 0 < len(base_url) <= MAX_BASE_URL
    if ok:
        try:
            parts = urllib.parse.urlsplit(base_url)
            ok = parts.scheme in ("http", "https") and bool(parts.hostname)
            ok = ok and not parts.query and not parts.fragment
            ok = ok and not any(c.isspace() or ord(c) < 32 for c in base_url)
        except ValueError:
            ok = False
    if not ok:
        raise ConfigurationError(
            f"群机器人渠道需要 dashboard 的 http(s) 地址 {name}（如 https://gpw.example.gov.cn，"
            f"不超过 {MAX_BASE_URL} 字符）：消息末尾链接到项目页",
            f"the group-robot channels need {name}, the dashboard's http(s) address (e.g. "
            f"https://gpw.example.gov.cn, at most {MAX_BASE_URL} characters): a message ends "
            "with a link to the project's page",
            field=name,
        )
    return str(base_url).rstrip("/")


_SAMPLE = Outgoing(
    id=1,
    key="1:reminder:1",
    project_id=1,
    deadline_kind="payment_1",
    stage="reminder",
    subject="【提醒】示例项目 <sample>：第1期资金拨付截止 2026-10-15",
    text="大武口区民政局（购买主体）：\n\n项目：#1 示例项目\n事项：按期拨付（R7）",
    html="",
    recipients=({"org": "大武口区民政局", "role": "purchaser", "name": ""},),
)
