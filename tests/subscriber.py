"""A host platform's subscriber for the event-subscription tests (issue #11): a real HTTP server on
127.0.0.1 that checks what a careful platform checks, in a thread (:func:`subscriber`) or as a
process of its own (``python tests/subscriber.py --port P --secret S --log FILE``, for the SIGKILL
test), started and stopped by the test that uses it.

For each POST it checks the signature (``X-GPW-Signature: sha256=<hex HMAC-SHA256 of the body>``),
the content type (``application/cloudevents+json``), the document with the CloudEvents SDK
(``cloudevents`` on PyPI: structured mode, v1.0 required attributes, extension names) and the
spec's rules directly (attribute names lowercase alphanumeric, types: ``gpwseq`` an Integer,
``time`` an RFC 3339 Timestamp, ``subject`` a String), then de-duplicates by ``id`` and checks the
order per project: ``gpwseq`` strictly increasing, and with ``gap_free`` exactly one more than the
last (a subscriber to every event sees every entry of a project's stream). A problem is recorded
in ``errors`` (the tests assert there is none) and answered 400. With ``log`` every accepted event
is appended to that file (and fsynced) before the answer, errors and duplicates to ``.notes``
beside it, and both are read back at start: a killed and restarted subscriber remembers what it
had.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cloudevents.core.bindings.http import HTTPMessage, from_http
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

#: CloudEvents 1.0: attribute names are lowercase letters and digits
NAME = re.compile(r"^[a-z0-9]+$")
#: RFC 3339 date-time (the spec's Timestamp)
RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE
)
INT32 = range(-(2**31), 2**31)


def spec_problems(doc: Any) -> list[str]:
    """What breaks the CloudEvents 1.0 rules (and gpw's contract) in a structured document."""
    if not isinstance(doc, dict):
        return ["not a JSON object"]
    problems = [f"attribute name {k!r}" for k in doc if k != "data" and not NAME.match(k)]
    for name in ("id", "source", "specversion", "type"):
        if not isinstance(doc.get(name), str) or not doc[name]:
            problems.append(f"required {name} missing or not a non-empty String")
    if doc.get("specversion") != "1.0":
        problems.append("specversion is not 1.0")
    if not str(doc.get("type", "")).startswith("gpw.project."):
        problems.append("type is not gpw.project.<event>")
    subject = doc.get("subject")
    if not isinstance(subject, str) or not subject.isdigit():
        problems.append("subject is not the project id as a String")
    if not isinstance(doc.get("time"), str) or not RFC3339.match(doc["time"]):
        problems.append("time is not an RFC 3339 Timestamp")
    if doc.get("datacontenttype") != "application/json":
        problems.append("datacontenttype is not application/json")
    seq = doc.get("gpwseq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq not in INT32 or seq < 1:
        problems.append("gpwseq is not a positive Integer")
    data = doc.get("data")
    if not isinstance(data, dict) or not {
        "project_id",
        "event",
        "state_before",
        "state_after",
        "version",
        "data",
    } <= set(data):
        problems.append("data lacks the project's states, version or event data")
    elif str(data["project_id"]) != subject or f"gpw.project.{data['event']}" != doc.get("type"):
        problems.append("data does not match subject and type")
    return problems


class Subscriber:
    """What one subscriber received and found (see the module)."""

    def __init__(self, secret: str, *, gap_free: bool = True, log: Path | None = None) -> None:
        self.secret = secret.encode("utf-8")
        self.gap_free = gap_free
        self.log = log
        self.lock = threading.Lock()
        #: accepted events (each once), in arrival order
        self.events: list[dict[str, Any]] = []
        self.ids: set[str] = set()
        self.last: dict[str, int] = {}
        self.duplicates = 0
        self.errors: list[str] = []
        self.posts = 0
        #: the status answered (tests set 500 to make deliveries fail)
        self.status = 200
        #: after accepting (and logging) this many events, hang before answering (the SIGKILL
        #: test kills the process then: an event kept but never acknowledged)
        self.stall_after: int | None = None
        if log is not None and log.exists():
            for line in log.read_text(encoding="utf-8").splitlines():
                self._accept(json.loads(line), write=False)
        if log is not None and log.with_suffix(".notes").exists():
            for line in log.with_suffix(".notes").read_text(encoding="utf-8").splitlines():
                note = json.loads(line)
                self.errors.extend([note["error"]] if "error" in note else [])
                self.duplicates += "duplicate" in note

    def _write(self, path: Path, value: Any) -> None:
        with path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(value, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def _error(self, problem: str) -> None:
        self.errors.append(problem)
        if self.log is not None:
            self._write(self.log.with_suffix(".notes"), {"error": problem})

    def _accept(self, doc: dict[str, Any], *, write: bool = True) -> None:
        subject, seq = doc["subject"], doc["gpwseq"]
        last = self.last.get(subject, 0)
        if seq <= last or (self.gap_free and seq != last + 1):
            self._error(f"project {subject}: gpwseq {seq} after {last}")
        self.last[subject] = max(seq, last)
        self.ids.add(doc["id"])
        self.events.append(doc)
        if write and self.log is not None:
            self._write(self.log, doc)

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        with self.lock:
            self.posts += 1
            if self.status != 200:
                return self.status
            expected = "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(headers.get("x-gpw-signature", ""), expected):
                self._error("bad signature")
                return 401
            if headers.get("content-type") != "application/cloudevents+json":
                self._error(f"content type {headers.get('content-type')!r}")
                return 415
            try:
                event = from_http(HTTPMessage(headers=headers, body=body), JSONFormat(), CloudEvent)
                doc = json.loads(body)
            except Exception as exc:  # the SDK refuses the document
                self._error(f"not a CloudEvent: {exc}")
                return 400
            problems = spec_problems(doc)
            if event.get_extension("gpwseq") != doc.get("gpwseq"):
                problems.append("the SDK reads another gpwseq")
            if problems:
                for problem in problems:
                    self._error(problem)
                return 400
            if doc["id"] in self.ids:
                self.duplicates += 1
                if self.log is not None:
                    self._write(self.log.with_suffix(".notes"), {"duplicate": doc["id"]})
                return 200
            self._accept(doc)
            stall = self.stall_after is not None and len(self.events) >= self.stall_after
        if stall:
            time.sleep(3600)  # killed here
        return 200

    def sequence(self, subject: str) -> list[int]:
        return [e["gpwseq"] for e in self.events if e["subject"] == subject]


def _handler(sub: Subscriber) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = sub.handle({k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def subscriber(secret: str, *, gap_free: bool = True) -> Iterator[tuple[Subscriber, str]]:
    """A subscriber in a thread; yields it and its URL. Stopped on exit."""
    sub = Subscriber(secret, gap_free=gap_free)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(sub))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sub, f"http://127.0.0.1:{server.server_address[1]}/gpw/events"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--stall-after", type=int)
    args = parser.parse_args()
    sub = Subscriber(args.secret, log=args.log)
    sub.stall_after = args.stall_after
    server = ThreadingHTTPServer(("127.0.0.1", args.port), _handler(sub))
    server.serve_forever()


if __name__ == "__main__":
    main()
