"""Public disclosure (全程公开, R15, issue #9): OCDS releases published on commit, compiled
records, the public view of a project, and published anchors (the audit chains' heads).

**Published on commit.** Each accepted event that changes what the public may know
(:data:`states.ocds.PUBLIC_EVENTS`) writes its release into ``gpw_release`` in the event's own
transaction, built from the project as that transaction leaves it: a refused event, a lost
race or a host's rollback publishes nothing, and nothing is ever published from a half-written
state. Events that publish nothing (the budget review, a draft's revision …) cost one dictionary
lookup. A published release is never rewritten (OCDS releases are immutable); the public feed
and the compiled records read these rows only.

**Backfill.** Projects made before this release have no releases: :meth:`Disclosure.backfill`
publishes one per such project, its current public state dated at its last public entry, with
the dates of its notice and awards taken from its audit trail.

**Anchors.** :meth:`Disclosure.publish_anchor` stores ``wf.anchor()`` in ``gpw_anchor`` for the
public feed (the worker does once a day, ``gpw anchor --publish`` on demand);
:func:`load_anchor` reads one back from a file or a URL for ``gpw verify --anchor``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, time
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import Connection

from states import deadlines as dl
from states import ocds
from states.errors import InvalidInput, NotFound
from states.machine import Record
from states.model import Contractor, Project
from states.redaction import Redaction, load_rules, public_project
from workflow import audit
from workflow.db import Database
from workflow.store import contractors as contractor_store
from workflow.store import disclosure as store
from workflow.store import projects as project_store

#: how long ``gpw verify --anchor URL`` waits for the server
ANCHOR_TIMEOUT = 10.0
#: the largest anchor document read from a file or a URL
ANCHOR_MAX_BYTES = 16 * 1024 * 1024


class Version(NamedTuple):
    """What a public page of releases or anchors holds, read without reading it (the public
    routes' ETag and Last-Modified, answered 304 without any release being read): how many,
    the newest id, the newest publication time (``None``: nothing published)."""

    size: int
    newest: int
    modified: datetime | None


@cache
def _merger() -> Any:
    import ocdsmerge

    return ocdsmerge.Merger(schema=ocds.schema())


def _facts(contractors: Mapping[int, Contractor] | None) -> dict[int, dict[str, Any]]:
    """What the public may know of registered contractors: name and SME status (R20)."""
    return {
        cid: {"name": c.name, "sme": c.sme}
        for cid, c in (contractors or {}).items()
        if c is not None
    }


class Disclosure:
    """Releases, packages, records, the public view of a project, published anchors.

    Args:
        db: the database.
        ocid_prefix: the prefix of every ocid this engine publishes (``ocds-xxxxxx`` as the
            publisher registered it; default :data:`states.ocds.DEFAULT_OCID_PREFIX`).
        redaction: the redaction rules (gpw's own by default, or a host's file).
    """

    def __init__(
        self,
        db: Database,
        *,
        ocid_prefix: str = ocds.DEFAULT_OCID_PREFIX,
        redaction: str | Path | Redaction | None = None,
    ) -> None:
        self._db = db
        self.ocid_prefix = _check_prefix(ocid_prefix)
        self.rules = redaction if isinstance(redaction, Redaction) else load_rules(redaction)

    # -- published on commit --------------------------------------------------------------------

    def on_written(
        self,
        conn: Connection,
        project: Project,
        records: Sequence[Record],
        first_seq: int,
        contractors: Mapping[int, Contractor] | None = None,
        data: Mapping[str, Any] | None = None,
        **_: Any,
    ) -> None:
        """Publish the releases of an event's public entries, in the event's transaction
        (``first_seq``: the seq of ``records[0]`` in the project's stream)."""
        public = [(i, r) for i, r in enumerate(records) if r.event in ocds.PUBLIC_EVENTS]
        if not public:
            return
        assert project.id is not None
        facts = _facts(contractors)
        now = self._db.now()
        rows = []
        for i, rec in public:
            seq = first_seq + i
            entry = {
                "seq": seq,
                "event": rec.event,
                "at": rec.at,
                "from_state": rec.from_state.value,
                "data": rec.data,
            }
            made = ocds.release(
                project,
                entry,
                prefix=self.ocid_prefix,
                contractors=facts,
                rules=self.rules,
                data=data,
            )
            if made is not None:
                rows.append(self._row(project.id, seq, rec.at, made, now))
        store.insert_releases(conn, rows)

    def _row(
        self, project_id: int, seq: int, at: datetime, made: dict[str, Any], now: datetime
    ) -> dict[str, Any]:
        return {
            "ocid": made["ocid"],
            "release_id": made["id"],
            "project_id": project_id,
            "seq": seq,
            "tag": ",".join(made["tag"]),
            "date": at,
            "release": made,
            "published_at": now,
        }

    def backfill(self, *, connection: Connection | None = None) -> list[int]:
        """Publish one release for each project that has a public state but no release yet
        (made before disclosure existed): its current public state, dated at its last public
        entry, tagged with every stage it went through. Returns the projects published."""
        done: list[int] = []
        with self._db.transaction(connection) as conn:
            now = self._db.now()
            for pid in store.projects_without_releases(conn):
                row = project_store.load(conn, pid)
                project = project_store.to_project(row)
                history = [_entry(e) for e in store.entries(conn, [pid])]
                tags: list[str] = []
                last: dict[str, Any] | None = None
                for e in history:
                    tag = ocds.tag_for(e["event"], e["from_state"], project)
                    if tag is not None:
                        last = e
                        if tag not in tags:
                            tags.append(tag)
                if last is None:
                    continue
                ids = {int(k) for r in project.reviews for k in r.scores}
                ids.update(c for c in [project.contractor_id] if c is not None)
                facts = _facts(contractor_store.load_many(conn, ids))
                made = ocds.release(
                    project,
                    last,
                    prefix=self.ocid_prefix,
                    contractors=facts,
                    history=history,
                    rules=self.rules,
                )
                if made is None:
                    continue
                made["tag"] = tags
                store.insert_releases(conn, [self._row(pid, last["seq"], last["at"], made, now)])
                done.append(pid)
        return done

    # -- reads ----------------------------------------------------------------------------------

    def releases(
        self,
        project_ids: Iterable[int] | None = None,
        *,
        ocid_prefix: str | None = None,
        connection: Connection | None = None,
    ) -> list[dict[str, Any]]:
        """The published releases of some projects (all: ``None``), oldest first per project."""
        with self._db.read(connection) as conn:
            rows = store.releases(conn, project_ids)
        return [self._shown(r, ocid_prefix) for r in rows]

    def _shown(self, row: Any, prefix: str | None) -> dict[str, Any]:
        value: dict[str, Any] = row.release
        if prefix is not None and prefix != self.ocid_prefix:
            value = ocds.reprefix(value, _check_prefix(prefix), int(row.project_id))
        return value

    def package(
        self,
        project_id: int,
        *,
        ocid_prefix: str | None = None,
        connection: Connection | None = None,
    ) -> dict[str, Any]:
        """The project's release package (every release it published, oldest first)."""
        with self._db.read(connection) as conn:
            project_store.load(conn, project_id)  # ProjectNotFound
            rows = store.releases(conn, [project_id])
        return ocds.package(
            [self._shown(r, ocid_prefix) for r in rows], published_date=self._published(rows)
        )

    def _published(self, rows: Sequence[Any]) -> datetime:
        latest = max((r.published_at for r in rows), default=None)
        return latest if latest is not None else self._db.now()

    def packages(
        self,
        ids: Iterable[int] | None = None,
        *,
        ocid_prefix: str | None = None,
        connection: Connection | None = None,
    ) -> dict[str, Any]:
        """One release package holding the releases of ``ids`` (every project: ``None``)."""
        with self._db.read(connection) as conn:
            rows = store.releases(conn, ids)
        return ocds.package(
            [self._shown(r, ocid_prefix) for r in rows], published_date=self._published(rows)
        )

    def records(
        self,
        ids: Iterable[int] | None = None,
        *,
        ocid_prefix: str | None = None,
        connection: Connection | None = None,
    ) -> dict[str, Any]:
        """A record package: for each ocid its releases and the compiled release (the latest
        value of every field, merged by ``ocdsmerge`` by the standard's merge rules)."""
        with self._db.read(connection) as conn:
            rows = store.releases(conn, ids)
        by_ocid: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            shown = self._shown(r, ocid_prefix)
            by_ocid.setdefault(shown["ocid"], []).append(shown)
        merger = _merger()
        records = [
            {
                "ocid": key,
                "releases": releases,
                "compiledRelease": merger.create_compiled_release(releases),
            }
            for key, releases in by_ocid.items()
        ]
        published = ocds.package([], published_date=self._published(rows))
        published.pop("releases")
        return {**published, "records": records}

    def record(
        self,
        ocid: str,
        *,
        ocid_prefix: str | None = None,
        connection: Connection | None = None,
    ) -> dict[str, Any]:
        """The record package of one ocid (``GET /public/ocds/records/{ocid}``); an ocid that
        is not this engine's, or a project that published nothing, is ``NotFound``."""
        found = self.records(
            [self._project_of(ocid, ocid_prefix)], ocid_prefix=ocid_prefix, connection=connection
        )
        if not found["records"]:
            raise _no_record(ocid)
        return found

    def _project_of(self, ocid: str, ocid_prefix: str | None = None) -> int:
        """The project an ocid of this engine names (``NotFound`` for any other)."""
        prefix = _check_prefix(ocid_prefix or self.ocid_prefix)
        head, _, tail = str(ocid).rpartition("-")
        if head != prefix or not tail.isascii() or not tail.isdigit() or len(tail) > 18:
            raise _no_record(ocid)
        return int(tail)

    # -- versions: what a public page holds, without reading it ---------------------------------

    def feed_version(
        self, *, after_id: int | None = None, limit: int = 100, connection: Connection | None = None
    ) -> Version:
        """What :meth:`feed` would answer for the same page, from the ids and times alone."""
        limit = max(1, min(int(limit), 1000))
        with self._db.read(connection) as conn:
            return Version(*store.release_window(conn, after_id=after_id, limit=limit))

    def record_version(self, ocid: str, *, connection: Connection | None = None) -> Version:
        """What :meth:`record` would answer for ``ocid``, from the ids and times alone
        (``NotFound`` as :meth:`record`)."""
        project_id = self._project_of(ocid)
        with self._db.read(connection) as conn:
            found = Version(*store.release_window(conn, project_id=project_id))
        if not found.size:
            raise _no_record(ocid)
        return found

    def anchors_version(
        self,
        *,
        limit: int = 100,
        before_id: int | None = None,
        connection: Connection | None = None,
    ) -> Version:
        """What :meth:`anchors` would answer for the same page, without reading an anchor."""
        with self._db.read(connection) as conn:
            return Version(
                *store.anchor_window(conn, limit=max(1, min(limit, 1000)), before_id=before_id)
            )

    def public_projects(
        self,
        *,
        after_id: int | None = None,
        limit: int = 50,
        connection: Connection | None = None,
    ) -> dict[str, Any]:
        """A page of the projects that published something (``GET /public/projects``), by id:
        what is bought, from whom, for how much, how much is paid, whether anything was late."""
        limit = max(1, min(int(limit), 500))
        with self._db.read(connection) as conn:
            rows = store.public_project_rows(conn, after_id=after_id, limit=limit)
        items = []
        for row in rows:
            project = project_store.to_project(row)
            items.append(
                {
                    "id": int(row.id),
                    "ocid": ocds.ocid(self.ocid_prefix, int(row.id)),
                    "title": self.rules.redact_text(project.title),
                    "purchaser": project.purchaser,
                    "state": project.state.value,
                    "method": project.procurement_method.value
                    if project.procurement_method
                    else None,
                    "contractor": project.contractor_name,
                    "budget": f"{project.budget:.2f}",
                    "price": f"{project.contract.price:.2f}" if project.contract else None,
                    "paid_total": f"{project.paid_total():.2f}",
                    "late": any(d.late for d in project.deadlines),
                    "updated_at": row.updated_at.isoformat(),
                }
            )
        return {"items": items, "next": items[-1]["id"] if len(items) == limit else None}

    def feed(
        self, *, after_id: int | None = None, limit: int = 100, connection: Connection | None = None
    ) -> dict[str, Any]:
        """A page of every published release in publication order, for the public feed
        (``next``: the id to page on; ``etag``/``last_modified``: the newest release's)."""
        limit = max(1, min(int(limit), 1000))
        with self._db.read(connection) as conn:
            rows = store.releases(conn, after_id=after_id, limit=limit)
            newest, modified = store.latest_release(conn)
        return {
            "releases": [self._shown(r, None) for r in rows],
            "next": int(rows[-1].id) if len(rows) == limit else None,
            "etag": f'"gpw-releases-{newest}"',
            "last_modified": modified,
        }

    def public_project(
        self, project_id: int, *, names: Iterable[str] = (), connection: Connection | None = None
    ) -> dict[str, Any]:
        """What the public page of a project may show (:func:`states.redaction.public_project`),
        or nothing for a plan never approved (``None`` keys: not public)."""
        with self._db.read(connection) as conn:
            row = project_store.load(conn, project_id)
        project = project_store.to_project(row)
        shown = public_project(project, rules=self.rules, names=names)
        shown["public"] = project.approved_at is not None or bool(project.prior_contracts)
        shown["ocid"] = ocds.ocid(self.ocid_prefix, project_id)
        return shown

    def redact_text(
        self,
        text: str,
        *,
        project_id: int | None = None,
        names: Iterable[str] = (),
        connection: Connection | None = None,
    ) -> str:
        """A free text (a reason, a finding) as the public may see it: the patterns applied,
        and the personal names of ``project_id`` (its staff, its reviewers) and ``names``
        masked."""
        known = list(names)
        if project_id is not None:
            with self._db.read(connection) as conn:
                row = project_store.load(conn, project_id)
            known.extend(self.rules.names_in(row.data))
        return self.rules.redact_text(text, tuple(n for n in known if len(n.strip()) >= 2))

    # -- anchors ------------------------------------------------------------------------------

    def publish_anchor(
        self, now: datetime | None = None, *, connection: Connection | None = None
    ) -> dict[str, Any]:
        """Publish the audit chains' heads now (``wf.anchor()``) into the public feed's table;
        returns the anchor with its ``id``."""
        with self._db.transaction(connection) as conn:
            when = self._db.at(now)
            anchor = audit.anchor(conn, when)
            anchor_id = store.insert_anchor(conn, anchor, when, self._db.now())
        return {"id": anchor_id, **anchor}

    def publish_anchor_if_due(
        self, now: datetime | None = None, *, connection: Connection | None = None
    ) -> dict[str, Any] | None:
        """The worker's daily anchor: published unless one was already published on this
        Asia/Shanghai day (by ``now``, the workflow's clock)."""
        when = self._db.at(now)
        day_start = datetime.combine(dl.business_date(when), time(0), tzinfo=dl.SHANGHAI)
        with self._db.read(connection) as conn:
            if store.anchor_since(conn, day_start):
                return None
        return self.publish_anchor(when, connection=connection)

    def anchors(
        self,
        *,
        limit: int = 100,
        before_id: int | None = None,
        connection: Connection | None = None,
    ) -> list[dict[str, Any]]:
        """Published anchors, newest first (each with its ``id`` and ``published_at``)."""
        with self._db.read(connection) as conn:
            rows = store.anchors(conn, limit=max(1, min(limit, 1000)), before_id=before_id)
        return [
            {"id": int(r.id), "published_at": r.published_at.isoformat(), **r.anchor} for r in rows
        ]


def _no_record(ocid: str) -> NotFound:
    return NotFound(f"没有公开记录：{ocid}", f"no published record for {ocid}", field="ocid")


def _check_prefix(prefix: str) -> str:
    if not isinstance(prefix, str) or not prefix or any(c.isspace() for c in prefix):
        raise InvalidInput(
            f"ocid 前缀无效：{prefix!r}（例：ocds-gpw000）",
            f"invalid ocid prefix: {prefix!r} (e.g. ocds-gpw000)",
            field="ocid_prefix",
        )
    return prefix


def _entry(row: Any) -> dict[str, Any]:
    return {
        "seq": int(row.seq),
        "event": row.event,
        "at": row.at,
        "from_state": row.from_state,
        "data": row.data,
    }


def load_anchor(source: str | Path, *, timeout: float = ANCHOR_TIMEOUT) -> Any:
    """A published anchor from a file or an ``http(s)://`` URL, parsed as JSON (its shape is
    checked by ``verify``). Errors are ``InvalidInput`` naming the source (field ``anchor``)."""
    text = str(source)
    if text.startswith(("http://", "https://")):
        raw = _fetch(text, timeout)
    else:
        try:
            raw = Path(text).read_bytes()[: ANCHOR_MAX_BYTES + 1]
        except OSError as exc:
            raise _unreadable(text, exc.strerror or str(exc)) from exc
    if len(raw) > ANCHOR_MAX_BYTES:
        raise _unreadable(text, f"larger than {ANCHOR_MAX_BYTES} bytes")
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _unreadable(text, f"not JSON: {exc}") from exc
    # a feed page of anchors: the newest one
    if isinstance(value, Mapping) and isinstance(value.get("anchors"), list) and value["anchors"]:
        value = value["anchors"][0]
    return value


def _fetch(url: str, timeout: float) -> bytes:
    request = urllib.request.Request(
        url, headers={"Accept": "application/json", "User-Agent": "gpw-verify"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data: bytes = response.read(ANCHOR_MAX_BYTES + 1)
            return data
    except urllib.error.HTTPError as exc:
        raise _unreadable(url, f"HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise _unreadable(url, str(exc.reason)) from exc
    except TimeoutError as exc:
        raise _unreadable(url, f"no answer within {timeout:g} s") from exc
    except (OSError, ValueError) as exc:
        raise _unreadable(url, str(exc)) from exc


def _unreadable(source: str, why: str) -> InvalidInput:
    if source.startswith(("http://", "https://")):
        zh, en = f"无法读取锚点网址 {source}", f"cannot read the anchor at {source}"
    else:
        zh, en = f"无法读取锚点文件 {source}", f"cannot read the anchor file {source}"
    return InvalidInput(f"{zh}：{why}", f"{en}: {why}", field="anchor", rule="R15")
