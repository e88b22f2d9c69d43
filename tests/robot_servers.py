"""Real local HTTP servers playing DingTalk's and WeCom's group robots (issue #11), checking what
those services check, on 127.0.0.1 and a free port, started and stopped by the tests.

* DingTalk (``/robot/send?access_token=…``): the token; with a secret, ``timestamp`` within one
  hour of the server's clock and ``sign`` = Base64 of HMAC-SHA256 keyed with the secret over
  ``timestamp + "\\n" + secret`` (errcode 310000 otherwise); a ``markdown`` message with a
  ``title`` and a ``text``; 20 messages a minute (errcode 130101 beyond).
* WeCom (``/cgi-bin/webhook/send?key=…``): the key (93000); a ``markdown`` message whose
  ``content`` takes at most 4,096 bytes of UTF-8 (40058 beyond); 20 messages a minute (45009).

Each server's clock is the relay's: a test sets it to the ``now`` it gives the relay
(:meth:`RobotServer.at`), and it runs on in real time from there, as the relay's does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: the services' documented limits
PER_MINUTE = 20
WECOM_MAX_BYTES = 4096
ONE_HOUR_MS = 3600 * 1000


@dataclass
class Received:
    """A request as the server saw it, and its answer."""

    path: str
    query: dict[str, str]
    body: bytes
    at: datetime | None
    errcode: int
    errmsg: str

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


@dataclass
class RobotServer:
    kind: str
    token: str
    secret: str | None = None
    port: int = 0
    received: list[Received] = field(default_factory=list)
    #: answer this errcode (with ``fail_message``) to the next N well-formed messages
    fail_next: int = 0
    fail_code: int = 500
    fail_message: str = "system busy"
    _clock: tuple[datetime, float] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        if self.kind == "dingtalk":
            return f"http://127.0.0.1:{self.port}/robot/send?access_token={self.token}"
        return f"http://127.0.0.1:{self.port}/cgi-bin/webhook/send?key={self.token}"

    def at(self, now: datetime) -> None:
        """Set the server's clock to the relay's ``now``; it runs on in real time."""
        self._clock = (now, time.monotonic())

    def now(self) -> datetime | None:
        if self._clock is None:
            return None
        start, since = self._clock
        return start + timedelta(seconds=time.monotonic() - since)

    @property
    def accepted(self) -> list[Received]:
        return [r for r in self.received if r.errcode == 0]

    def codes(self) -> list[int]:
        return [r.errcode for r in self.received]

    # -- what the services check ------------------------------------------------------------

    def _check(self, query: dict[str, str], body: bytes, now: datetime | None) -> tuple[int, str]:
        wanted = "access_token" if self.kind == "dingtalk" else "key"
        if query.get(wanted) != self.token:
            return (
                (300001, "token is not exist")
                if self.kind == "dingtalk"
                else (93000, "invalid webhook url")
            )
        if self.kind == "dingtalk" and self.secret is not None:
            stamp, sign = query.get("timestamp", ""), query.get("sign", "")
            if not stamp.isdigit() or now is None:
                return 310000, "sign not match, timestamp is missing"
            if abs(int(stamp) - int(now.timestamp() * 1000)) > ONE_HOUR_MS:
                return 310000, "sign not match, timestamp is not within one hour"
            digest = hmac.new(
                self.secret.encode(), f"{stamp}\n{self.secret}".encode(), hashlib.sha256
            ).digest()
            if not hmac.compare_digest(sign, base64.b64encode(digest).decode()):
                return 310000, "sign not match"
        try:
            message = json.loads(body.decode("utf-8"))
            markdown = message["markdown"]
        except (ValueError, KeyError, TypeError):
            return 40035, "missing parameter"
        if message.get("msgtype") != "markdown":
            return 40008, "invalid message type"
        if self.kind == "dingtalk":
            if not markdown.get("title") or not markdown.get("text"):
                return 40035, "missing parameter: title or text"
        else:
            content = markdown.get("content")
            if not isinstance(content, str) or not content:
                return 40035, "missing parameter: content"
            if len(content.encode("utf-8")) > WECOM_MAX_BYTES:
                return 40058, "markdown.content exceed max length 4096"
        if now is not None:
            recent = [
                r
                for r in self.received
                if r.errcode == 0 and r.at and r.at > now - timedelta(minutes=1)
            ]
            if len(recent) >= PER_MINUTE:
                return (
                    (130101, "send too fast")
                    if self.kind == "dingtalk"
                    else (45009, "api freq out of limit")
                )
        if self.fail_next > 0:
            self.fail_next -= 1
            return self.fail_code, self.fail_message
        return 0, "ok"

    def handle(self, path: str, body: bytes) -> tuple[int, str]:
        parts = urllib.parse.urlsplit(path)
        query = dict(urllib.parse.parse_qsl(parts.query))
        with self._lock:
            now = self.now()
            code, message = self._check(query, body, now)
            self.received.append(Received(parts.path, query, body, now, code, message))
        return code, message


@contextmanager
def robot_server(kind: str, token: str, secret: str | None = None) -> Iterator[RobotServer]:
    """A DingTalk (``dingtalk``) or WeCom (``wecom``) robot on 127.0.0.1, stopped at the end."""
    robot = RobotServer(kind=kind, token=token, secret=secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            code, message = robot.handle(self.path, self.rfile.read(length))
            answer = json.dumps({"errcode": code, "errmsg": message}).encode()
            self.send_response(200)  # both services answer 200 and say what went wrong inside
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    robot.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield robot
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
