"""POSTs to addresses an operator configured: group robots and event subscribers (issue #11).

The address is an admin's choice (a host platform on the same machine may be ``127.0.0.1``), so
no destination is refused here; what the network on the other side does is bounded instead:

* **No redirect is followed.** A 3xx is an answer like any other (the caller's failure): urllib
  would resend a POST to wherever ``Location`` points, as a bodiless GET, and hand back what
  that host said (an internal service, ``169.254.169.254``).
* **One deadline for the whole exchange** (``timeout`` seconds): connecting, the TLS handshake,
  sending, the answer's status line, headers and body. A socket's own timeout bounds each read
  only, so a server that drips a byte every few seconds would hold a worker for ever; here a
  timer shuts the exchange's sockets when the deadline passes, which wakes any blocked read,
  and :class:`DeadlineExceeded` is raised. (Name resolution is the system resolver's and is not
  cut short; connecting is bounded by ``timeout`` for each address tried.)
* **A bounded answer**: at most ``max_answer`` bytes of the body are read.
* **http and https only**: the opener has no ``file:``, ``ftp:`` or ``data:`` handler.

Proxies set in the environment (``https_proxy`` …) are used as urllib uses them: an office
network may reach DingTalk and WeCom only through one.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from types import TracebackType
from typing import Any

#: the most of an answer read, by default
MAX_ANSWER = 64 * 1024
SCHEMES = ("http", "https")


#: the longest address accepted
MAX_URL = 2000


def postable(url: object, *, limit: int = MAX_URL) -> bool:
    """Whether ``url`` is an address gpw may be told to POST to: http(s), a host, a port that is
    a number in range, no ``user:password@`` (urllib takes it for part of the host: the password
    would go to a DNS query and, as a "nonnumeric port", into errors and logs), one line without
    spaces, control or format characters, at most ``limit`` characters. What the robots and the
    subscriptions accept; each says why in its own words, never echoing a token."""
    if not isinstance(url, str) or not 0 < len(url) <= limit:
        return False
    if any(c.isspace() or unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co") for c in url):
        return False
    try:
        parts = urllib.parse.urlsplit(url)
        return (
            parts.scheme.lower() in SCHEMES
            and bool(parts.hostname)
            and "@" not in parts.netloc
            and parts.port != 0  # ``.port`` raises for a port that is no number or out of range
        )
    except ValueError:
        return False


class DeadlineExceeded(TimeoutError):
    """The exchange did not end within its deadline (its sockets were shut)."""


@dataclass(frozen=True, slots=True)
class Answer:
    """What the server answered: its HTTP status and at most ``max_answer`` bytes of body."""

    status: int
    body: bytes


class _Watch:
    """The deadline of one exchange: when it passes, every socket of the exchange is shut."""

    def __init__(self, seconds: float) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self.expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Watch:
        self._timer.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._timer.cancel()

    def add(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            late = self.expired
        if late:
            _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)  # a read blocked in another thread returns at once
    except OSError:  # closed already, or never connected
        pass


class _HTTPConnection(http.client.HTTPConnection):
    """A connection whose sockets the exchange's watch can shut."""

    def __init__(self, *args: Any, watch: _Watch, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._watch = watch
        self._create_connection = self._create_watched

    def _create_watched(self, *args: Any, **kwargs: Any) -> socket.socket:
        sock = socket.create_connection(*args, **kwargs)
        self._watch.add(sock)
        return sock


class _HTTPSConnection(_HTTPConnection, http.client.HTTPSConnection):
    """As :class:`_HTTPConnection`, the TLS socket watched before its handshake."""

    def connect(self) -> None:
        # http.client.HTTPSConnection.connect, with the handshake after the watch has the socket
        http.client.HTTPConnection.connect(self)
        server_hostname = self._tunnel_host or self.host  # type: ignore[attr-defined]
        context: ssl.SSLContext = self._context  # type: ignore[attr-defined]
        tls = context.wrap_socket(
            self.sock, server_hostname=server_hostname, do_handshake_on_connect=False
        )
        self.sock = tls
        self._watch.add(tls)
        tls.do_handshake()


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, watch: _Watch) -> None:
        super().__init__()
        self._watch = watch

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(partial(_HTTPConnection, watch=self._watch), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, watch: _Watch) -> None:
        super().__init__(context=_context())
        self._watch = watch

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(
            partial(_HTTPSConnection, watch=self._watch),
            req,
            context=self._context,  # type: ignore[attr-defined]
        )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is not followed: the 3xx is the answer."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_CONTEXT: list[ssl.SSLContext] = []


def _context() -> ssl.SSLContext:
    """The default TLS context (certificates verified), made once."""
    if not _CONTEXT:
        _CONTEXT.append(ssl.create_default_context())
    return _CONTEXT[0]


def _opener(watch: _Watch) -> urllib.request.OpenerDirector:
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.UnknownHandler(),
        _HTTPHandler(watch),
        _HTTPSHandler(watch),
        urllib.request.HTTPDefaultErrorHandler(),
        _NoRedirect(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    timeout: float,
    max_answer: int = MAX_ANSWER,
) -> Answer:
    """POST ``body`` to ``url`` (http or https) and return the answer, whatever its status (a
    redirect included, never followed). The whole exchange ends within ``timeout`` seconds or
    raises :class:`DeadlineExceeded`; other failures raise as urllib raises them (``OSError``,
    ``http.client.HTTPException``, ``ValueError``)."""
    if urllib.parse.urlsplit(url).scheme.lower() not in SCHEMES:
        raise ValueError("only http and https are posted to")
    request = urllib.request.Request(url, data=body, method="POST", headers=dict(headers))
    with _Watch(timeout) as watch:
        try:
            opener = _opener(watch)
            try:
                response = opener.open(request, timeout=timeout)
            except urllib.error.HTTPError as exc:  # any status but 2xx, a redirect too
                exc.close()
                status, data = int(exc.code), b""
            else:
                with response:
                    status = int(response.status)
                    data = response.read(max_answer) if max_answer > 0 else b""
        except Exception:
            if watch.expired:
                raise DeadlineExceeded(f"no whole answer within {timeout:g} s") from None
            raise
        if watch.expired:  # a read cut short by the deadline may look whole
            raise DeadlineExceeded(f"no whole answer within {timeout:g} s")
    return Answer(status, data)
