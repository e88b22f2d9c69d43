"""A host's transaction (issue #7): every call that writes takes ``connection=``, a SQLAlchemy
``Connection`` the host has begun. gpw writes inside it (in a SAVEPOINT) and neither commits nor
rolls back:

- what gpw wrote is visible inside the host's transaction and nowhere else until the host commits;
- the host's rollback leaves no project row, audit entry, deadline row or outbox row;
- a refusal, or a driver error gpw translates, rolls back only gpw's writes: the host's own earlier
  writes stand and its transaction goes on;
- ``on_schedule`` listeners hear of a stage only once the host commits, never after a rollback.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from dbtools import count, dump
from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, select
from support import CLERK, project_in, sign_data
from support import at as day

from workflow import ConcurrentUpdate, GuardRefused, ProjectNotFound, Workflow
from workflow.tables import audit_t

GPW_ROWS = ("gpw_project", "gpw_audit", "gpw_deadline", "gpw_notice", "gpw_contractor")

host_meta = MetaData()
#: a table of the host's own, beside gpw's
note_t = Table(
    "host_note",
    host_meta,
    Column("id", Integer, primary_key=True),
    Column("text", String(100), nullable=False),
)


class Joined:
    """The support walkers' view of a workflow, writing in the host's transaction ``conn``."""

    def __init__(self, wf: Workflow, conn: Connection) -> None:
        self.wf, self.conn = wf, conn

    def create_project(self, **kw: Any) -> int:
        return self.wf.create_project(connection=self.conn, **kw)

    def register_contractor(self, **kw: Any) -> int:
        return self.wf.register_contractor(connection=self.conn, **kw)

    def fire(self, pid: int, event: str, **kw: Any) -> Any:
        return self.wf.fire(pid, event, connection=self.conn, **kw)


def counts(db_url: str) -> dict[str, int]:
    """gpw's rows as another connection sees them (committed rows only)."""
    return {name: count(db_url, name) for name in GPW_ROWS}


def contracted_with_notices(wf: Workflow, conn: Connection) -> int:
    """In the host's transaction: a contractor, a project walked to ``contracted`` (deadlines
    open) and a tick that writes its first notices into the outbox. Returns the project's id."""
    pid, _ = project_in(Joined(wf, conn), "contracted")
    assert wf.tick(day("2025-10-22"), connection=conn)  # the dispatch reminder, …
    return pid


def test_writes_are_seen_inside_the_host_transaction_and_outside_only_after_commit(
    wf: Workflow, db_url: str
) -> None:
    before = counts(db_url)
    with wf.engine.connect() as conn:
        with conn.begin() as tx:
            pid = contracted_with_notices(wf, conn)
            inside = wf.project(pid, connection=conn)
            assert inside.state == "contracted" and inside.deadline("dispatch") is not None
            assert len(wf.history(pid, connection=conn)) == 9
            assert wf.notices(project_id=pid, connection=conn)
            assert "dispatch_staff" in wf.available_events(
                pid, CLERK, day("2025-10-20"), connection=conn
            )
            # another connection sees nothing yet
            with pytest.raises(ProjectNotFound):
                wf.project(pid)
            assert wf.notices(project_id=pid) == []
            assert counts(db_url) == before
            tx.commit()
        assert not conn.in_transaction()  # gpw left the host's connection as the host left it
    after = counts(db_url)
    assert after["gpw_project"] == before["gpw_project"] + 1
    assert after["gpw_notice"] > 0 and after["gpw_deadline"] > 0
    assert wf.project(pid).state == "contracted"
    assert len(wf.history(pid)) == 9
    assert wf.verify().ok


def test_the_host_s_rollback_leaves_no_trace(wf: Workflow, db_url: str) -> None:
    project_in(wf, "approved")  # something committed before, which must stay as it is
    before = dump(db_url)
    with wf.engine.connect() as conn, conn.begin() as tx:
        pid = contracted_with_notices(wf, conn)
        wf.directory.add(org="大武口区民政局", role="purchaser", name="李四", connection=conn)
        assert wf.project(pid, connection=conn).version == 9
        tx.rollback()
    assert dump(db_url) == before  # no project, audit entry, deadline, notice, person, head…
    with pytest.raises(ProjectNotFound):
        wf.project(pid)
    assert wf.verify().ok
    # and gpw goes on as if nothing happened: the same walk, committed this time
    again, _ = project_in(wf, "contracted")
    assert wf.project(again).state == "contracted" and wf.verify().ok


def test_a_refusal_keeps_the_host_s_own_writes_and_its_transaction(
    wf: Workflow, db_url: str
) -> None:
    host_meta.create_all(wf.engine)
    with wf.engine.connect() as conn:
        with conn.begin():
            conn.execute(note_t.insert().values(text="before gpw"))
            pid = wf.create_project(
                actor=CLERK,
                at=day("2025-07-30"),
                title="入户核查员服务",
                purchaser="大武口区民政局",
                budget="1200000.00",
                connection=conn,
            )
            with pytest.raises(GuardRefused) as err:  # no service item (R1)
                wf.fire(pid, "submit", actor=CLERK, at=day("2025-08-01"), connection=conn)
            assert err.value.rule == "R1"
            conn.execute(note_t.insert().values(text="after the refusal"))
            wf.fire(
                pid,
                "revise_plan",
                actor=CLERK,
                at=day("2025-08-01"),
                items=[{"name": "入户核查", "quantity": 16}],
                connection=conn,
            )
        notes = list(conn.execute(select(note_t.c.text).order_by(note_t.c.id)).scalars())
    assert notes == ["before gpw", "after the refusal"]
    assert wf.project(pid).state == "draft" and wf.project(pid).version == 2
    assert [e.event for e in wf.history(pid)] == ["create_project", "revise_plan"]
    assert wf.verify().ok


def test_a_driver_error_in_gpw_s_savepoint_is_a_conflict_and_the_host_goes_on(
    wf: Workflow, db_url: str
) -> None:
    pid, _ = project_in(wf, "draft")
    seq = len(wf.history(pid))
    entry = wf.history(pid)[-1]
    with wf.engine.connect() as conn, conn.begin():
        # the host (or a race) already holds the project's next audit seq
        conn.execute(
            audit_t.insert().values(
                stream=f"project:{pid}",
                seq=seq + 1,
                project_id=pid,
                actor_id="x",
                role="purchaser",
                org="x",
                at=entry.at,
                recorded_at=entry.at,
                event="x",
                data={},
                prev_hash="x",
                hash="x",
            )
        )
        with pytest.raises(ConcurrentUpdate):
            wf.fire(pid, "submit", actor=CLERK, at=day("2025-08-01"), connection=conn)
        # the host's transaction is still usable (on PostgreSQL too: the savepoint rolled back)
        conn.execute(
            audit_t.delete().where(audit_t.c.stream == f"project:{pid}", audit_t.c.event == "x")
        )
        view = wf.fire(pid, "submit", actor=CLERK, at=day("2025-08-01"), connection=conn)
        assert view.state == "pending_approval"
    assert wf.project(pid).state == "pending_approval"
    assert wf.verify().ok


def test_listeners_hear_only_of_what_the_host_commits(wf: Workflow) -> None:
    heard: list[datetime] = []
    wf.on_schedule(heard.append)
    committed, _ = project_in(wf, "awarded")
    rolled_back, _ = project_in(wf, "awarded")
    assert heard == []  # no stage is scheduled before a contract is signed

    def sign(pid: int, conn: Connection) -> None:
        wf.fire(
            pid, "sign_contract", actor=CLERK, at=day("2025-09-26"), connection=conn, **sign_data()
        )

    with wf.engine.connect() as conn:
        with conn.begin() as tx:
            sign(rolled_back, conn)
            assert heard == []
            tx.rollback()
        assert heard == []
        with conn.begin():  # a later transaction on the same connection, without gpw
            pass
        assert heard == []  # the rolled-back schedule is not heard at the next commit either
        with conn.begin() as tx:
            sign(committed, conn)
            assert heard == []  # not before the host commits
            tx.commit()
        assert len(heard) == 1
        earliest = min(d.due for d in wf.project(committed).deadlines if d.status == "open")
        assert heard[0].date() <= earliest
        with conn.begin():
            pass
        assert len(heard) == 1  # heard once
    assert wf.project(rolled_back).state == "awarded"


def test_a_connection_without_a_transaction_gets_one_that_gpw_commits(wf: Workflow) -> None:
    heard: list[datetime] = []
    wf.on_schedule(heard.append)
    pid, _ = project_in(wf, "awarded")
    with wf.engine.connect() as conn:
        wf.fire(
            pid, "sign_contract", actor=CLERK, at=day("2025-09-26"), connection=conn, **sign_data()
        )
        assert not conn.in_transaction()
        assert len(heard) == 1  # committed: heard at once
        assert wf.project(pid).state == "contracted"  # from another connection
    assert wf.verify().ok
