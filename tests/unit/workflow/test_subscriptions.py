"""Event subscriptions for host platforms (issue #11), on SQLite and PostgreSQL.

A real subscriber (``tests/subscriber.py``: an HTTP server on 127.0.0.1) checks what a platform
checks: the signature, the CloudEvents 1.0 document (the ``cloudevents`` SDK and the spec's rules)
and the order per project (``gpwseq`` increasing, without a gap for a subscriber to every event).
Backoff is reckoned on the ``now`` each pass is given (the workflow's clock), never the wall clock.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from hostile_servers import dripping_answer, raw_server, redirecting_server, slow_answer
from sqlalchemy import func, select
from subscriber import Subscriber, spec_problems, subscriber
from support import ADMIN, CLERK, CONTRACTOR, FINANCE, GOV, STAFF, at, new_project, project_in

from states.errors import Forbidden, IllegalTransition, InvalidInput, NotFound
from workflow import Workflow
from workflow.services.subscriptions import KNOWN_EVENTS, event_id, sign
from workflow.store.subscriptions import instance_urn
from workflow.tables import audit_t, cloudevent_t, subscription_delivery_t

SECRET = "s3cret-for-the-platform-0123456789"
#: the workflows' clock in these tests (tests/conftest.py's FAR_AHEAD)
NOW = datetime.fromisoformat("2031-01-01T00:00:00+08:00")


def drain(wf: Workflow, now: datetime = NOW) -> None:
    """Deliver until nothing more is due at ``now`` (one pass does, unless a lane is long)."""
    for _ in range(20):
        if wf.subscriptions.deliver(now).lanes == 0:
            return
    raise AssertionError("deliveries never settled")


def outbox_rows(wf: Workflow) -> int:
    with wf.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(cloudevent_t)).scalar_one())


def in_service(wf: Workflow) -> int:
    pid, _ = project_in(wf, "in_service")
    return pid


def test_every_entry_reaches_a_subscriber_as_a_signed_cloudevent_in_order(wf: Workflow) -> None:
    with subscriber(SECRET) as (sub, url):
        made = wf.subscriptions.add(url=url, secret=SECRET)
        pid = in_service(wf)
        other = new_project(wf)
        drain(wf)
    assert sub.errors == []
    history = wf.history(pid)
    assert sub.sequence(str(pid)) == [e.seq for e in history] == list(range(1, len(history) + 1))
    assert sub.sequence(str(other)) == [1]
    with wf.engine.connect() as conn:
        source = instance_urn(conn)
    assert source is not None and source.startswith("urn:uuid:")
    by_seq = {e["gpwseq"]: e for e in sub.events if e["subject"] == str(pid)}
    versions = {e.seq: e.version for e in history}
    for entry in history:
        doc = by_seq[entry.seq]
        assert doc["id"] == event_id(source, pid, entry.seq)
        assert doc["source"] == source and doc["specversion"] == "1.0"
        assert doc["type"] == f"gpw.project.{entry.event}"
        assert datetime.fromisoformat(doc["time"]) == entry.at
        assert doc["data"]["state_before"] == entry.from_state
        assert doc["data"]["state_after"] == entry.to_state
        assert doc["data"]["version"] == versions[entry.seq]
    assert by_seq[len(history)]["data"]["state_after"] == "in_service"
    assert {e["id"] for e in sub.events} == sub.ids and len(sub.ids) == len(sub.events)
    listed = wf.subscriptions.list()
    assert [s.id for s in listed] == [made.id]
    assert listed[0].deliveries == {"sent": len(history) + 1}


def test_the_document_follows_the_cloudevents_rules_and_holds_no_personal_data(
    wf: Workflow,
) -> None:
    with subscriber(SECRET) as (sub, url):
        wf.subscriptions.add(url=url, secret=SECRET)
        pid = in_service(wf)
        reason = "承接主体联系人 13912345678 拒不整改，住址 朝阳路12号3栋"
        wf.fire(pid, "terminate", actor=CLERK, at=at("2025-11-03"), reason=reason)
        drain(wf)
    assert sub.errors == []
    for doc in sub.events:
        assert spec_problems(doc) == []
        assert all(k.isalnum() and k.islower() for k in doc if k != "data")
        assert isinstance(doc["gpwseq"], int) and isinstance(doc["subject"], str)
    text = json.dumps(sub.events, ensure_ascii=False)
    for private in (STAFF[0]["name"], STAFF[1]["name"], "13912345678", "朝阳路12号"):
        assert private not in text
    dispatch = next(e for e in sub.events if e["type"] == "gpw.project.dispatch_staff")
    assert [s.get("education") for s in dispatch["data"]["data"]["staff"]] == ["大专", "本科"]
    terminate = next(e for e in sub.events if e["type"] == "gpw.project.terminate")
    assert "拒不整改" in terminate["data"]["data"]["reason"]
    assert terminate["data"]["state_before"] == "in_service"
    assert terminate["data"]["state_after"] == "terminated"


def test_a_refused_event_and_a_rolled_back_host_transaction_announce_nothing(
    wf: Workflow,
) -> None:
    with subscriber(SECRET) as (sub, url):
        wf.subscriptions.add(url=url, secret=SECRET)
        pid = new_project(wf)
        assert outbox_rows(wf) == 1  # create_project
        with pytest.raises(IllegalTransition):
            wf.fire(pid, "approve", actor=GOV, at=at("2025-08-01"))
        with wf.engine.connect() as conn, conn.begin() as tx:
            wf.fire(pid, "submit", actor=CLERK, at=at("2025-08-01"), connection=conn)
            with conn.begin_nested():  # the host sees gpw's row inside its transaction
                assert conn.execute(select(func.count()).select_from(cloudevent_t)).scalar() == 2
            tx.rollback()
        assert outbox_rows(wf) == 1
        drain(wf)
        assert [e["type"] for e in sub.events] == ["gpw.project.create_project"]
        # the next committed event takes the seq the rolled-back one had: no gap, no ghost
        wf.fire(pid, "submit", actor=CLERK, at=at("2025-08-02"))
        drain(wf)
    assert sub.errors == []
    assert sub.sequence(str(pid)) == [1, 2]
    assert sub.events[-1]["time"] == "2025-08-02T02:00:00Z"


def test_events_filter_what_a_subscription_receives_and_remove_stops_it(wf: Workflow) -> None:
    with subscriber(SECRET, gap_free=False) as (few, few_url), subscriber(SECRET) as (all_, url):
        picky = wf.subscriptions.add(url=few_url, events=["submit", "approve"], secret=SECRET)
        wf.subscriptions.add(url=url, secret=SECRET)
        pid = new_project(wf)
        wf.fire(pid, "submit", actor=CLERK, at=at("2025-08-01"))
        drain(wf)
        assert [e["type"] for e in few.events] == ["gpw.project.submit"]
        wf.fire(pid, "review_budget", actor=FINANCE, at=at("2025-08-04"), approved=True)
        wf.fire(pid, "approve", actor=GOV, at=at("2025-08-05"))
        assert wf.subscriptions.remove(picky.id, actor=ADMIN) == 1  # approve, still owed
        wf.fire(
            pid,
            "publish_notice",
            actor=CLERK,
            at=at("2025-08-06"),
            method="open_tender",
            notice="公告",
        )
        drain(wf)
    assert few.errors == [] and all_.errors == []
    assert [e["type"] for e in few.events] == ["gpw.project.submit"]
    assert few.sequence(str(pid)) == [2]
    assert all_.sequence(str(pid)) == [1, 2, 3, 4, 5]
    assert [s.id for s in wf.subscriptions.list()] != [picky.id]
    assert wf.subscriptions.deliveries(picky.id, status="cancelled")[0]["type"] == (
        "gpw.project.approve"
    )
    with pytest.raises(NotFound) as err:
        wf.subscriptions.remove(picky.id)
    assert err.value.field == "subscription_id"


def test_a_failing_delivery_blocks_its_lane_then_dies_and_an_operator_rearms_it(
    wf: Workflow,
) -> None:
    wf.subscriptions.max_attempts = 3
    with subscriber(SECRET) as (sub, url):
        made = wf.subscriptions.add(url=url, secret=SECRET)
        first, second = new_project(wf), new_project(wf)
        for pid in (first, second):
            wf.fire(pid, "submit", actor=CLERK, at=at("2025-08-01"))
        sub.status = 500
        assert wf.subscriptions.deliver(NOW).failed == 2  # each project's head, nothing behind
        assert sub.posts == 2
        # backoff on the workflow's clock: 60 s, then 120 s
        assert wf.subscriptions.deliver(NOW + timedelta(seconds=59)).lanes == 0
        assert wf.subscriptions.deliver(NOW + timedelta(seconds=61)).failed == 2
        assert wf.subscriptions.deliver(NOW + timedelta(seconds=61 + 119)).lanes == 0
        report = wf.subscriptions.deliver(NOW + timedelta(seconds=61 + 121))
        assert (report.failed, report.dead) == (0, 2) and sub.posts == 6
        sub.status = 200
        later = NOW + timedelta(days=30)
        assert wf.subscriptions.deliver(later).lanes == 0  # a dead letter keeps blocking
        wf.fire(first, "review_budget", actor=FINANCE, at=at("2025-08-04"), approved=True)
        assert wf.subscriptions.deliver(later).lanes == 0 and sub.events == []
        health = wf.health(NOW)
        assert health["subscriptions"]["dead"] == 2 and health["ok"] is False
        assert "dead_subscription_deliveries" in {p["code"] for p in health["problems"]}
        dead = wf.subscriptions.deliveries(made.id, status="dead")
        assert {(d["project_id"], d["seq"], d["attempts"]) for d in dead} == {
            (first, 1, 3),
            (second, 1, 3),
        }
        assert dead[0]["last_error"] == "HTTP 500"
        assert wf.subscriptions.retry(made.id, project_id=first, actor=ADMIN) == 1
        drain(wf, later)
        assert sub.sequence(str(first)) == [1, 2, 3] and sub.sequence(str(second)) == []
        assert wf.subscriptions.retry(made.id, actor=ADMIN) == 1
        drain(wf, later)
    assert sub.errors == [] and sub.duplicates == 0
    assert sub.sequence(str(second)) == [1, 2]
    assert wf.health(NOW)["subscriptions"]["dead"] == 0


def test_a_subscription_added_or_removed_elsewhere_is_seen_by_the_next_event(
    wf: Workflow, db_url: str
) -> None:
    """The cached set follows the database: another process's add or remove counts at once."""
    pid = new_project(wf)
    assert outbox_rows(wf) == 0  # nobody subscribed: nothing written
    other = Workflow.open(db_url, clock=lambda: NOW)
    try:
        made = other.subscriptions.add(url="http://127.0.0.1:9/hook", secret=SECRET)
        wf.fire(pid, "submit", actor=CLERK, at=at("2025-08-01"))
        assert outbox_rows(wf) == 1
        other.subscriptions.remove(made.id)
        wf.fire(pid, "review_budget", actor=FINANCE, at=at("2025-08-04"), approved=True)
        assert outbox_rows(wf) == 1
    finally:
        other.close()


def test_secrets_stay_out_of_reprs_listings_audit_entries_errors_and_logs(
    wf: Workflow, caplog: pytest.LogCaptureFixture
) -> None:
    made = wf.subscriptions.add(url="http://127.0.0.1:9/private/path", secret=SECRET)
    generated = wf.subscriptions.add(url="http://127.0.0.1:9/other")
    assert len(generated.secret) >= 32 and generated.secret != SECRET
    for shown in (repr(made), repr(wf.subscriptions.list()), json.dumps(made.to_dict())):
        assert SECRET not in shown and generated.secret not in shown
    assert made.to_dict()["secret"] == "****"
    with wf.engine.connect() as conn:
        trail = conn.execute(
            select(audit_t.c.event, audit_t.c.data).where(audit_t.c.stream == "subscriptions")
        ).all()
    assert [e for e, _ in trail] == ["subscription_add", "subscription_add"]
    assert all(d["secret"] == "set" for _, d in trail)
    assert SECRET not in json.dumps([d for _, d in trail])
    bad = "short" + "x" * 4
    with pytest.raises(InvalidInput) as err:
        wf.subscriptions.add(url="http://127.0.0.1:9/h", secret=bad)
    assert err.value.field == "secret" and bad not in err.value.message
    new_project(wf)
    with caplog.at_level(logging.DEBUG):
        wf.subscriptions.deliver(NOW)  # nobody listens on port 9: both fail
    logged = caplog.text
    assert "failed" in logged
    assert SECRET not in logged and generated.secret not in logged and "private" not in logged
    errors = json.dumps(wf.subscriptions.deliveries(made.id), default=str)
    assert SECRET not in errors and "private" not in errors


@pytest.mark.parametrize(
    ("given", "field", "named"),
    [
        ({"url": "ftp://example.org/x"}, "url", "ftp://example.org/x"),
        ({"url": "http:///no-host"}, "url", "http"),
        ({"url": "https://example.org/a b"}, "url", "http(s)"),
        ({"url": 7}, "url", "http(s)"),
        ({"events": ["award", "awrad"]}, "events", "awrad"),
        ({"events": []}, "events", "events"),
        ({"events": "award"}, "events", "events"),
        ({"secret": "x" * 300}, "secret", "secret"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_writes_nothing(
    wf: Workflow, given: dict[str, Any], field: str, named: str
) -> None:
    call = {"url": "https://platform.example.org/gpw", "secret": SECRET, **given}
    with pytest.raises(InvalidInput) as err:
        wf.subscriptions.add(**call)
    assert err.value.field == field and named in err.value.message
    assert err.value.message_zh and err.value.message_en  # Chinese, then English
    assert wf.subscriptions.list() == []
    with wf.engine.connect() as conn:
        assert (
            conn.execute(
                select(func.count()).select_from(audit_t).where(audit_t.c.stream == "subscriptions")
            ).scalar()
            == 0
        )


def test_only_an_admin_or_the_system_manages_subscriptions(wf: Workflow) -> None:
    with pytest.raises(Forbidden):
        wf.subscriptions.add(url="https://platform.example.org/gpw", actor=CONTRACTOR)
    made = wf.subscriptions.add(url="https://platform.example.org/gpw", actor=ADMIN)
    with pytest.raises(Forbidden):
        wf.subscriptions.remove(made.id, actor=CLERK)
    assert {"award", "create_project", "recompute_deadlines"} <= KNOWN_EVENTS


def test_two_workers_deliver_each_event_once_per_subscriber_in_order(
    wf: Workflow, db_url: str
) -> None:
    """Two workers (threads, each with its own workflow and pool) drain one backlog at once:
    every event arrives once per subscriber, in order per project (the subscriber checks)."""
    with subscriber(SECRET) as (one, url_one), subscriber(SECRET) as (two, url_two):
        wf.subscriptions.add(url=url_one, secret=SECRET)
        wf.subscriptions.add(url=url_two, secret=SECRET)
        pids = [new_project(wf) for _ in range(12)]
        for pid in pids:
            wf.fire(pid, "submit", actor=CLERK, at=at("2025-08-01"))
            wf.fire(pid, "review_budget", actor=FINANCE, at=at("2025-08-04"), approved=True)
            wf.fire(pid, "approve", actor=GOV, at=at("2025-08-05"))
        workers = [Workflow.open(db_url, clock=lambda: NOW) for _ in range(2)]
        failures: list[BaseException] = []

        def work(w: Workflow) -> None:
            try:
                for _ in range(200):
                    # small batches, so the two interleave lane by lane
                    w.subscriptions.deliver(NOW, batch=2)
                    if not pending(w):
                        return
            except BaseException as exc:  # reported below
                failures.append(exc)

        threads = [threading.Thread(target=work, args=(w,)) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        for w in workers:
            w.close()
    assert failures == []
    for sub in (one, two):
        assert sub.errors == [] and sub.duplicates == 0
        for pid in pids:
            assert sub.sequence(str(pid)) == [1, 2, 3, 4]


def pending(wf: Workflow) -> int:
    with wf.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(subscription_delivery_t)
                .where(subscription_delivery_t.c.status != "sent")
            ).scalar_one()
        )


def test_the_signature_is_the_hmac_sha256_of_the_body() -> None:
    # RFC 4231, test case 2
    assert sign("Jefe", b"what do ya want for nothing?") == (
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )
    body = b'{"specversion":"1.0"}'
    sub = Subscriber("key")
    assert sub.handle({"x-gpw-signature": sign("other", body)}, body) == 401
    assert sub.errors == ["bad signature"]


def test_the_worker_delivers_on_its_pass(wf: Workflow) -> None:
    """``gpw worker`` (and ``serve --with-worker``): each pass delivers what is due on the
    workflow's clock, after tick and relay."""
    from workflow.scheduler import Worker

    with subscriber(SECRET) as (sub, url):
        wf.subscriptions.add(url=url, secret=SECRET)
        pid = new_project(wf)
        worker = Worker(wf, tick_seconds=3600.0, relay_seconds=3600.0)
        worker.start()
        try:
            end = time.monotonic() + 20  # bounds a hung test; asserts nothing by itself
            while worker.passes < 1 and time.monotonic() < end:
                time.sleep(0.02)
        finally:
            worker.stop()
    assert worker.passes == 1
    assert sub.sequence(str(pid)) == [1] and sub.errors == []


def test_a_subscriber_that_drips_or_redirects_fails_within_the_deadline(wf: Workflow) -> None:
    """Review: ``timeout`` bounds the whole exchange (a subscriber dripping its answer a byte
    every quarter second held the worker for seconds under a per-read timeout), and a redirect
    is a failure never followed (no GET reaches the internal address)."""
    wf.subscriptions.timeout = 0.5
    with raw_server(dripping_answer(b"")) as port, redirecting_server() as (base, gets):
        slow = wf.subscriptions.add(url=f"http://127.0.0.1:{port}/events", secret=SECRET)
        moved = wf.subscriptions.add(url=f"{base}/307/events", secret=SECRET)
        new_project(wf)
        report = wf.subscriptions.deliver(NOW)
    assert (report.sent, report.failed) == (0, 2)
    (dripped,) = wf.subscriptions.deliveries(slow.id)
    assert dripped["status"] == "failed" and "DeadlineExceeded" in dripped["last_error"]
    (redirected,) = wf.subscriptions.deliveries(moved.id)
    assert redirected["status"] == "failed" and redirected["last_error"] == "HTTP 307"
    assert gets == []


@pytest.mark.parametrize(
    "url",
    [
        "http://platform:TOPSECRET-TOKEN@127.0.0.1/gpw",  # urllib sent the password to DNS
        "http://TOPSECRET-TOKEN@127.0.0.1:9/gpw",
        "http://127.0.0.1:TOPSECRET/gpw",
        "http://127.0.0.1:70000/gpw",
    ],
)
def test_a_url_with_credentials_or_a_bad_port_is_refused_without_echoing_it(
    wf: Workflow, url: str
) -> None:
    """Review: urllib takes ``user:password@`` for part of the host (the password went into a
    DNS query and, as a "nonnumeric port", into ``last_error`` and the log)."""
    with pytest.raises(InvalidInput) as err:
        wf.subscriptions.add(url=url, secret=SECRET)
    assert err.value.field == "url" and "TOPSECRET" not in str(err.value)
    assert err.value.message_zh and err.value.message_en
    assert wf.subscriptions.list() == []


def test_a_token_in_the_url_is_masked_in_listings_and_the_audit_trail(
    wf: Workflow,
) -> None:
    """Review: a platform's access token in the query (``?token=…``) is a secret: stored (it
    must be, to post) but shown as ``****`` in reprs, listings and the append-only audit trail."""
    url = "https://platform.example.org/gpw/events?token=TOPSECRET-TOKEN&v=2"
    made = wf.subscriptions.add(url=url, secret=SECRET)
    masked = "https://platform.example.org/gpw/events?token=****&v=****"
    assert made.to_dict()["url"] == masked
    listed = wf.subscriptions.list()
    assert [s.to_dict()["url"] for s in listed] == [masked]
    with wf.engine.connect() as conn:
        trail = conn.execute(
            select(audit_t.c.data).where(audit_t.c.stream == "subscriptions")
        ).scalars()
        assert [d["url"] for d in trail] == [masked]
    for shown in (repr(made), repr(listed), json.dumps(made.to_dict())):
        assert "TOPSECRET" not in shown


def test_an_event_committed_after_its_subscription_was_removed_is_not_delivered(
    wf: Workflow, db_url: str
) -> None:
    """Review: an event reads the subscription set with its project's row; a removal committed
    while that event's transaction is open cannot cancel the event's deliveries (not yet
    committed, invisible to it), so on PostgreSQL the removed subscriber still got the event.
    Deliveries of a removed subscription are never sent: cancelled when found. (On SQLite the
    removal waits for the event's transaction and cancels what it wrote.)"""
    with subscriber(SECRET) as (sub, url):
        made = wf.subscriptions.add(url=url, secret=SECRET)
        pid = new_project(wf)
        drain(wf)
        other = Workflow.open(db_url, clock=lambda: NOW)
        failures: list[BaseException] = []

        def remove() -> None:
            try:
                other.subscriptions.remove(made.id, actor=ADMIN)
            except BaseException as exc:  # reported below
                failures.append(exc)

        try:
            with wf.engine.connect() as conn, conn.begin():
                wf.fire(pid, "submit", actor=CLERK, at=at("2025-08-01"), connection=conn)
                remover = threading.Thread(target=remove)
                remover.start()
                remover.join(2)  # PostgreSQL: done now; SQLite: waits for this commit
            remover.join(60)
        finally:
            other.close()
        assert failures == [] and not remover.is_alive()
        drain(wf)
    assert sub.sequence(str(pid)) == [1]
    assert [d["status"] for d in wf.subscriptions.deliveries(made.id)] == ["sent", "cancelled"]
    assert wf.health(NOW)["subscriptions"]["pending"] == 0


def test_what_the_disclosure_rules_keep_internal_is_not_in_the_documents(wf: Workflow) -> None:
    """Review: the rules' ``never_public`` paths are the project's (``budget_review.note``,
    ``disputes``) and an event's data sits under none of them, so a budget review's note and a
    payment dispute's reason (internal while open, issue #10) went to every subscriber. An
    event's data is checked where it lands in the project."""
    note = "内部意见：预算单价偏高，请压减"
    with subscriber(SECRET, gap_free=False) as (sub, url):
        wf.subscriptions.add(url=url, secret=SECRET)
        pid = in_service(wf)
        plan = new_project(wf)
        wf.fire(plan, "submit", actor=CLERK, at=at("2025-08-01"))
        wf.fire(plan, "review_budget", actor=FINANCE, at=at("2025-08-04"), approved=True, note=note)
        wf.fire(
            pid,
            "dispute_payment",
            actor=CLERK,
            at=at("2025-10-21"),
            tranche=1,
            amount="1000.00",
            reason="三户入户核查记录不完整，承接方拒绝补录",
        )
        drain(wf)
    assert sub.errors == []
    text = json.dumps(sub.events, ensure_ascii=False)
    assert note not in text and "拒绝补录" not in text
    review = next(e for e in sub.events if e["type"] == "gpw.project.review_budget")
    assert review["data"]["data"] == {"approved": True}
    disputed = next(e for e in sub.events if e["type"] == "gpw.project.dispute_payment")
    assert disputed["data"]["data"] == {} and disputed["data"]["state_after"] == "in_service"


def test_a_pass_stops_starting_posts_past_its_time_and_frees_the_rest_at_once(
    wf: Workflow,
) -> None:
    """Review: a pass ran until the backlog was empty, a subscriber's slow answers (each within
    the deadline) one after another, while the worker's tick and relay waited on the same lock
    and the later lanes' leases ran out before their turn. Past ``max_seconds`` (default: half
    the lease) a pass starts no more POSTs and releases what it leased: the next pass, here or
    in another worker, goes on at once."""
    posts: list[bytes] = []
    with raw_server(slow_answer(0.3, posts)) as port:
        made = wf.subscriptions.add(url=f"http://127.0.0.1:{port}/events", secret=SECRET)
        pid = in_service(wf)  # one lane of a dozen events
        total = len(wf.history(pid))
        first = wf.subscriptions.deliver(NOW, max_seconds=0.5)
        assert 1 <= first.sent <= 2 and len(posts) == first.sent  # 0.3 s each
        second = wf.subscriptions.deliver(NOW, max_seconds=0.5)  # the same instant: no lease
        assert second.sent >= 1  # to wait out
        while wf.subscriptions.deliver(NOW, max_seconds=0.5).sent:
            pass
    assert [d["status"] for d in wf.subscriptions.deliveries(made.id)] == ["sent"] * total
    assert len(posts) == total


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"limit": "x"}, "limit"),
        ({"limit": -1}, "limit"),
        ({"limit": True}, "limit"),
        ({"project_id": "1"}, "project_id"),
        ({"project_id": 0}, "project_id"),
    ],
)
def test_a_bad_listing_of_deliveries_is_refused_naming_the_field(
    wf: Workflow, given: dict[str, Any], field: str
) -> None:
    """Review: ``deliveries`` took any ``limit`` and ``project_id`` to the database (a ValueError
    or PostgreSQL's refusal of a negative LIMIT, not an InvalidInput)."""
    made = wf.subscriptions.add(url="https://platform.example.org/gpw", secret=SECRET)
    with pytest.raises(InvalidInput) as err:
        wf.subscriptions.deliveries(made.id, **given)
    assert err.value.field == field and err.value.message_zh and err.value.message_en
