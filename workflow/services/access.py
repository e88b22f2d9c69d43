"""Checks every service makes on who calls: an ``Actor``, of a known role, allowed to act."""

from __future__ import annotations

from states.enums import Role
from states.errors import Forbidden, InvalidInput
from states.model import Actor

#: the roles an actor may have (built once: every call checks its actor)
_ROLES = frozenset(r.value for r in Role)


def check_actor(actor: object) -> Actor:
    if not isinstance(actor, Actor):
        raise InvalidInput("actor 须为 Actor", "actor must be an Actor", field="actor")
    if actor.role not in _ROLES:
        raise InvalidInput(
            f"未知角色 {actor.role!r}", f"unknown role {actor.role!r}", field="actor.role"
        )
    return actor


def require_role(actor: Actor, roles: set[Role], what: str) -> None:
    if Role(actor.role) not in roles:
        allowed = ", ".join(sorted(r.value for r in roles))
        raise Forbidden(
            f"角色 {actor.role} 无权{what}；允许：{allowed}",
            f"role {actor.role} may not {what}; allowed: {allowed}",
            field="actor.role",
        )
