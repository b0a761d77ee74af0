"""Who may do what: the role rules, kept in one place so every button re-checks them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.domain.errors import InvalidInput, NotAllowed
from bot.domain.models import Role, RoleGrant


@dataclass(frozen=True, slots=True)
class Actor:
    """A person acting in one community, with their grants there."""

    person_id: int
    telegram_id: int
    community_id: int | None
    grants: tuple[RoleGrant, ...]
    super_admin: bool = False

    @property
    def roles(self) -> frozenset[Role]:
        own = {g.role for g in self.grants if g.community_id == self.community_id}
        if self.community_id is not None:
            own.add(Role.RESIDENT)
        return frozenset(own)

    def has(self, role: Role) -> bool:
        return role in self.roles

    def is_admin(self) -> bool:
        return self.super_admin or Role.ADMIN in self.roles

    def cadre_zone_ids(self) -> frozenset[int]:
        return frozenset(
            g.zone_id
            for g in self.grants
            if g.role is Role.CADRE and g.community_id == self.community_id and g.zone_id
        )

    def can_manage_community(self) -> bool:
        return self.is_admin()

    def can_invite(self, role: Role) -> bool:
        # Only an admin hands out admin; leaders may invite cadres and inspectors.
        if self.is_admin():
            return True
        return Role.LEADER in self.roles and role in (Role.CADRE, Role.INSPECTOR)


def visible_roles(roles: Iterable[Role]) -> list[Role]:
    """Roles in the order help and lists show them."""
    order = list(Role)
    return sorted(set(roles), key=order.index)


def admin_community(actor: Actor) -> int:
    """The community an admin is acting in; refuses a missing community, then a non-admin."""
    if actor.community_id is None:
        raise InvalidInput("start.pick_community_first")
    if not actor.can_manage_community():
        raise NotAllowed()
    return actor.community_id
