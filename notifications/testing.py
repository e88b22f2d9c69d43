"""Test doubles shipped with the product, so hosts can test without SMTP or HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from notifications.channels import Outgoing, Person


class RecordingChannel:
    """Records every delivery; ``fail_times`` makes the first N sends raise ``OSError``."""

    def __init__(self, name: str = "recording", *, fail_times: int = 0) -> None:
        self.name = name
        self.fail_times = fail_times
        self.sent: list[tuple[Outgoing, Person, str]] = []
        self.attempts = 0

    def address(self, person: Person) -> str | None:
        return f"{person.org}/{person.role}/{person.name}"

    def send(self, notice: Outgoing, person: Person, address: str) -> None:
        self.attempts += 1
        if self.fail_times > 0:
            self.fail_times -= 1
            raise OSError("recording channel told to fail")
        self.sent.append((notice, person, address))

    @contextmanager
    def session(self) -> Iterator[None]:
        yield
