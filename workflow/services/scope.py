"""What a reader may see: the projects a user's role and organisation open to them.

Every read of the dashboard and the JSON API goes through a :class:`Scope`, on the server, not
by hiding buttons (issue #8, Security). Writes are checked by the engine itself (an actor acts
only for its own organisation, ``workflow.services.access`` and ``states.machine``).

* ``admin``: every project.
* ``supervisor`` and ``evaluator``: the projects of the purchasers in their ``region``: each
  entry a name prefix matched against the purchaser's name (``大武口区`` reads 大武口区民政局's
  and 大武口区星海镇人民政府's projects), ``*`` for all; plus, like everyone, the projects their
  own organisation is a party to.
* ``purchaser``, ``contractor``, ``government``, ``finance``: the projects their organisation is a
  party to: the purchaser, the awarded contractor (by its registered name), or one of the
  project's supervising bodies (recorded at 立项).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from states.enums import Role

#: a region entry that opens every project
EVERYWHERE = "*"


@dataclass(frozen=True, slots=True)
class Scope:
    """The projects a reader may see.

    Attributes:
        everything: every project.
        orgs: projects whose purchaser, awarded contractor or a supervising body is one of these.
        prefixes: projects whose purchaser's name starts with one of these.
    """

    everything: bool = False
    orgs: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()

    @classmethod
    def all(cls) -> Scope:
        return cls(everything=True)

    @classmethod
    def of(cls, role: str, org: str, region: Iterable[str] = ()) -> Scope:
        """The scope of a user with this role, organisation and region."""
        if role == Role.ADMIN:
            return cls.all()
        prefixes: tuple[str, ...] = ()
        if role in (Role.SUPERVISOR, Role.EVALUATOR):
            entries = tuple(r for r in region if r)
            if EVERYWHERE in entries:
                return cls.all()
            prefixes = entries
        return cls(orgs=frozenset({org}) if org else frozenset(), prefixes=prefixes)

    def parties_match(self, parties: Iterable[str]) -> bool:
        return any(p in self.orgs for p in parties)

    def allows(self, purchaser: str, parties: Iterable[str]) -> bool:
        """Whether a project with this purchaser and these parties (purchaser, contractor name,
        supervising bodies) is visible."""
        if self.everything:
            return True
        if purchaser in self.orgs or self.parties_match(parties):
            return True
        return any(purchaser.startswith(p) for p in self.prefixes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "everything": self.everything,
            "orgs": sorted(self.orgs),
            "prefixes": list(self.prefixes),
        }


def project_parties(
    purchaser: str, contractor_name: str | None, supervisors: Mapping[str, Any] | None
) -> frozenset[str]:
    """Every organisation party to a project: its purchaser, awarded contractor, supervisors."""
    parties = {purchaser}
    if contractor_name:
        parties.add(contractor_name)
    for body in (supervisors or {}).values():
        if isinstance(body, str) and body:
            parties.add(body)
    return frozenset(parties)
