"""Real servers for tests, on 127.0.0.1, started and stopped by the tests that use them."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpSink:
    """Records every message an SMTP client delivers."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[Any] = []
        self.logins: list[tuple[str, str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        msg = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        return "250 OK"

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages]


class _Auth:
    def __init__(self, sink: SmtpSink, user: str, password: str) -> None:
        self.sink, self.user, self.password = sink, user, password

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        if isinstance(auth_data, LoginPassword):
            user = auth_data.login.decode()
            password = auth_data.password.decode()
            self.sink.logins.append((user, password))
            return AuthResult(success=(user, password) == (self.user, self.password))
        return AuthResult(success=False)


@contextmanager
def smtp_server(
    port: int | None = None, *, user: str | None = None, password: str | None = None
) -> Iterator[tuple[SmtpSink, int]]:
    sink = SmtpSink()
    port = port or free_port()
    kwargs: dict[str, Any] = {}
    if user is not None:
        kwargs = {
            "authenticator": _Auth(sink, user, password or ""),
            "auth_require_tls": False,
            "auth_required": True,
        }
    controller = Controller(sink, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


class HookRecorder:
    """Requests received (header names lower-cased) and the status to answer with."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.status = 200

    def json(self, i: int) -> Any:
        return json.loads(self.requests[i][1].decode("utf-8"))


@contextmanager
def http_server() -> Iterator[tuple[HookRecorder, int]]:
    recorder = HookRecorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            recorder.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(recorder.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorder, int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
