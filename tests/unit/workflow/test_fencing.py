"""A relay's lease is a fencing token: once it ran out and another relay took the notice over, the
first relay records nothing over the new holder's deliveries (issue #7)."""

from __future__ import annotations

from datetime import timedelta

from support import at, project_in

from workflow import Workflow
from workflow.store import outbox


def test_an_expired_lease_cannot_record_over_the_new_holder(wf: Workflow) -> None:
    project_in(wf, "contracted")
    now = at("2025-10-22")
    assert wf.tick(now)  # two reminders in the outbox
    with wf.db.transaction() as conn:
        first = outbox.claim_notices(conn, now, batch=10, token="A", lease_seconds=60)
    assert first
    later = now + timedelta(seconds=61)  # A's lease has run out
    with wf.db.transaction() as conn:
        second = outbox.claim_notices(conn, later, batch=10, token="B", lease_seconds=60)
    assert [n.id for n in second] == [n.id for n in first]
    notice = first[0].id
    with wf.db.transaction() as conn:
        assert not outbox.record_delivery(
            conn, notice, "email", "a@example.org", "甲", None, later, token="A", until=later
        )
        assert outbox.renew_leases(conn, [n.id for n in first], "A", later) == set()
    with wf.db.transaction() as conn:
        assert outbox.record_delivery(
            conn, notice, "email", "a@example.org", "甲", None, later, token="B", until=later
        )
        assert outbox.renew_leases(conn, [notice], "B", later) == {notice}
    assert [d["status"] for d in wf.deliveries(notice)] == ["sent"]
