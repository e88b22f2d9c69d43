"""The policies a workflow knows: built-ins, a host's files, the default for new projects."""

from __future__ import annotations

from pathlib import Path

from states.policy import BUILTIN_POLICIES, Policy, load_policy


class PolicyRegistry:
    """Policies by name; a built-in is loaded the first time a project names it."""

    def __init__(self, default: str | Path | Policy) -> None:
        self._policies: dict[str, Policy] = {}
        self.default = self.register(default)

    def register(self, policy: str | Path | Policy) -> Policy:
        loaded = policy if isinstance(policy, Policy) else load_policy(policy)
        self._policies[loaded.name] = loaded
        return loaded

    def known(self) -> tuple[Policy, ...]:
        """Every policy this registry knows: the built-ins (loaded now if need be) and those
        registered."""
        for name in BUILTIN_POLICIES:
            self.named(name)
        return tuple(self._policies.values())

    def named(self, name: str) -> Policy:
        found = self._policies.get(name)
        if found is None:
            found = self.register(name)
        return found
