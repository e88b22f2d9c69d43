"""`relay` to a local SMTP server vs a bare smtplib send loop over one connection.

Run: .venv/bin/python benchmarks/bench_relay.py      (goal: relay ≥ 0.5× the bare loop's rate)

Relay does everything a notice needs: claims with a lease, resolves the directory, sends, records
each delivery in its own commit (so a crash doubles at most one e-mail), writes the inbox.
"""

from __future__ import annotations

import smtplib
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))

from _setup import at, clone, contracted_project
from servers import smtp_server

from notifications.channels import NoticeConfig, SmtpConfig
from workflow import Workflow

N = 1000


def bare(port: int, n: int) -> float:
    body = "承接主体应在合同签订之日起15个工作日内完成人员招聘、培训并派遣到岗。\n" * 5
    t0 = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as conn:
        for i in range(n):
            msg = EmailMessage()
            msg["Subject"] = f"【提醒】入户核查员服务：人员派遣截止 2025-10-23 #{i}"
            msg["From"] = "gpw@example.org"
            msg["To"] = "zm@example.org"
            msg["Message-ID"] = f"<bare.{i}@gpw.local>"
            msg.set_content(body)
            msg.add_alternative(f"<p>{body}</p>", subtype="html")
            conn.send_message(msg)
    return time.perf_counter() - t0


def ours(path: Path, port: int, n: int) -> float:
    config = NoticeConfig(
        channels=("inbox", "email"),
        smtp=SmtpConfig(host="127.0.0.1", port=port, security="none", sender="gpw@example.org"),
    )
    wf = Workflow.open(f"sqlite:///{path}", notices=config)
    contracted_project(wf)
    clone(wf.engine, projects=n, deadlines_per_project=1, due=n)
    wf.directory.add(org="大武口区民政局", role="purchaser", name="张敏", email="zm@example.org")
    now = at("2025-10-22")
    created = wf.tick(now)
    t0 = time.perf_counter()
    report = wf.relay(now)
    elapsed = time.perf_counter() - t0
    wf.close()
    assert report.sent == len(created), report
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, smtp_server() as (sink, port):
        b = bare(port, N)
        sent_before = len(sink.messages)
        o = ours(Path(tmp) / "relay.db", port, N)
        emails = len(sink.messages) - sent_before
    print(f"bare smtplib loop, one connection: {N / b:7.0f} e-mails/s ({N} sent)")
    print(
        f"relay (lease, directory, per-delivery commit, inbox): {emails / o:7.0f} e-mails/s "
        f"({emails} sent)"
    )
    print(f"ratio relay / bare: {(emails / o) / (N / b):.2f}×  (goal ≥ 0.5×)")


if __name__ == "__main__":
    main()
