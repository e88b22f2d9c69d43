"""Servers that misbehave as a hostile or broken network would (issue #11, the review), for the
tests of what gpw POSTs to robots and subscribers: all on 127.0.0.1 and a free port, each in a
thread, started and stopped by the test that uses it.

* :func:`raw_server`: a TCP server running a script on each connection (a status line or a body
  dripped a byte at a time, an answer that never ends, a TLS handshake that never finishes);
* :func:`redirecting_server`: an HTTP server answering every POST with a redirect (its status
  from the path, ``/302``) to its own ``/internal``, and recording every GET that follows.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: how long each dripped byte waits: a whole answer takes seconds, many deadlines of the tests
DRIP = 0.25
#: what the internal address answers a GET that followed a redirect
INTERNAL = b'{"errcode": 1, "errmsg": "internal data: instance credentials"}'


@contextmanager
def raw_server(talk: Callable[[socket.socket, threading.Event], None]) -> Iterator[int]:
    """A TCP server running ``talk(connection, stop)`` on each connection (in a thread) until the
    client goes or the server stops; yields its port. Stopped on exit."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.1)
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return

            def run(conn: socket.socket = conn) -> None:
                with conn:
                    try:
                        talk(conn, stop)
                    except OSError:  # the client shut the connection: done
                        pass

            thread = threading.Thread(target=run, daemon=True)
            threads.append(thread)
            thread.start()

    accepting = threading.Thread(target=serve, daemon=True)
    accepting.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        accepting.join(5)
        listener.close()
        for thread in threads:
            thread.join(5)


def read_request(conn: socket.socket) -> bytes:
    """The request, its head and its body (as long as its Content-Length says)."""
    conn.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def slow_answer(seconds: float, log: list[bytes]) -> Callable[..., None]:
    """A ``talk`` answering 204 to each request ``seconds`` after it came (within any
    deadline), each request appended to ``log``."""

    def talk(conn: socket.socket, stop: threading.Event) -> None:
        log.append(read_request(conn))
        stop.wait(seconds)
        conn.sendall(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")

    return talk


def drip(conn: socket.socket, stop: threading.Event, data: bytes) -> None:
    """Send ``data`` a byte every :data:`DRIP` seconds (each well within a socket timeout)."""
    for i in range(len(data)):
        if stop.wait(DRIP):
            return
        conn.sendall(data[i : i + 1])


def dripping_answer(body: bytes = b'{"errcode":0,"errmsg":"ok"}') -> Callable[..., None]:
    """A ``talk`` answering 200 with ``body``, its status line dripped."""
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body

    def talk(conn: socket.socket, stop: threading.Event) -> None:
        read_request(conn)
        drip(conn, stop, answer)

    return talk


@contextmanager
def redirecting_server() -> Iterator[tuple[str, list[str]]]:
    """Yields the server's base URL and the list of the paths it was sent a GET for."""
    gets: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = int(self.path.strip("/").split("?")[0].split("/")[0] or "302")
            self.send_response(status)
            self.send_header("Location", f"http://127.0.0.1:{server.server_address[1]}/internal")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            gets.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(INTERNAL)))
            self.end_headers()
            self.wfile.write(INTERNAL)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", gets
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
