"""Outbound POSTs to robots and subscribers (issue #11, the review), against real local servers
that misbehave as a hostile or broken network would (tests/hostile_servers.py): a redirect to an
internal address, a status line or a body dripped a byte at a time, an answer that never ends, a
TLS handshake that never finishes. The exchange never outlives its deadline, never follows a
redirect and never reads more than its bound; only http and https are posted to."""

from __future__ import annotations

import json
import socket
import threading

import pytest
from hostile_servers import drip, dripping_answer, raw_server, read_request, redirecting_server

from notifications.outbound import DeadlineExceeded, post

#: far shorter than what the misbehaving servers take to answer (each byte comes well within a
#: socket timeout of it: only a deadline for the whole exchange stops them)
DEADLINE = 0.5


def test_a_status_line_dripped_byte_by_byte_is_cut_at_the_deadline() -> None:
    with raw_server(dripping_answer()) as port, pytest.raises(DeadlineExceeded):
        post(f"http://127.0.0.1:{port}/", b"{}", {}, timeout=DEADLINE)


def test_a_body_dripped_byte_by_byte_is_cut_at_the_deadline() -> None:
    body = json.dumps({"errcode": 0, "errmsg": "ok"}).encode()

    def talk(conn: socket.socket, stop: threading.Event) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body))
        drip(conn, stop, body)

    with raw_server(talk) as port, pytest.raises(DeadlineExceeded):
        post(f"http://127.0.0.1:{port}/", b"{}", {}, timeout=DEADLINE)


def test_a_tls_handshake_that_never_ends_is_cut_at_the_deadline() -> None:
    def talk(conn: socket.socket, stop: threading.Event) -> None:
        conn.settimeout(5)
        conn.recv(65536)  # the ClientHello
        # a TLS record header announcing 16 KB, then its bytes one at a time
        drip(conn, stop, b"\x16\x03\x03\x40\x00" + b"\x00" * 0x4000)

    with raw_server(talk) as port, pytest.raises(DeadlineExceeded):
        post(f"https://127.0.0.1:{port}/", b"{}", {}, timeout=DEADLINE)


def test_an_answer_that_never_ends_is_read_only_to_its_bound() -> None:
    def talk(conn: socket.socket, stop: threading.Event) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n")
        while not stop.is_set():
            conn.sendall(b"x" * 4096)

    with raw_server(talk) as port:
        answer = post(f"http://127.0.0.1:{port}/", b"{}", {}, timeout=10, max_answer=1000)
    assert (answer.status, answer.body) == (200, b"x" * 1000)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_the_answer_never_followed(status: int) -> None:
    with redirecting_server() as (base, gets):
        answer = post(f"{base}/{status}", b"{}", {}, timeout=5)
    assert (answer.status, answer.body) == (status, b"")
    assert gets == []


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/x", "data:,hello"])
def test_only_http_and_https_are_posted_to(url: str) -> None:
    with pytest.raises(ValueError):
        post(url, b"{}", {}, timeout=5)


def test_a_plain_answer_comes_back_with_its_status_and_body() -> None:
    seen: list[bytes] = []

    def talk(conn: socket.socket, stop: threading.Event) -> None:
        seen.append(read_request(conn))
        conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n{"errcode":0}')

    with raw_server(talk) as port:
        answer = post(f"http://127.0.0.1:{port}/send?key=k", b"{}", {"X-Test": "1"}, timeout=5)
    assert (answer.status, answer.body) == (200, b'{"errcode":0}')
    assert seen[0].startswith(b"POST /send?key=k HTTP/1.1") and b"X-Test: 1" in seen[0]
