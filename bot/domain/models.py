"""The community's structure and its people, as plain values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    RESIDENT = "resident"
    VOLUNTEER = "volunteer"
    CADRE = "cadre"
    INSPECTOR = "inspector"
    LEADER = "leader"
    ADMIN = "admin"


# Roles that an invite can hand out; residents and volunteers join on their own.
INVITABLE_ROLES: tuple[Role, ...] = (Role.CADRE, Role.INSPECTOR, Role.LEADER, Role.ADMIN)
# Roles that only make sense tied to one zone.
ZONED_ROLES: frozenset[Role] = frozenset({Role.CADRE})


class Language(StrEnum):
    ZH = "zh"
    EN = "en"

    @classmethod
    def from_telegram(cls, language_code: str | None) -> Language:
        """Pick zh or en from Telegram's IETF tag; Chinese first for anything else."""
        if language_code and language_code.lower().startswith("en"):
            return cls.EN
        return cls.ZH


@dataclass(frozen=True, slots=True)
class Community:
    id: int
    code: str
    name: str
    timezone: str
    created_at: datetime
    # The Telegram bot that serves it (several may share a database); None until bound.
    bot_id: int | None = None


@dataclass(frozen=True, slots=True)
class Zone:
    id: int
    community_id: int
    code: str
    name: str
    responsible_person_id: int | None
    active: bool = True


@dataclass(frozen=True, slots=True)
class Building:
    id: int
    community_id: int
    zone_id: int
    name: str
    lat: float | None
    lon: float | None


@dataclass(frozen=True, slots=True)
class Site:
    id: int
    community_id: int
    zone_id: int
    name: str
    category: str
    contact: str | None
    phone: str | None
    address: str | None
    lat: float | None
    lon: float | None


@dataclass(frozen=True, slots=True)
class Person:
    """Someone the bot knows; ``telegram_id`` is None until they open the bot."""

    id: int
    telegram_id: int | None
    name: str
    phone: str | None
    language: Language | None
    community_id: int | None
    building_id: int | None
    zone_id: int | None
    reachable: bool = True


@dataclass(frozen=True, slots=True)
class RoleGrant:
    person_id: int
    community_id: int
    role: Role
    zone_id: int | None


@dataclass(frozen=True, slots=True)
class GroupChat:
    chat_id: int
    community_id: int
    title: str
    bound_by: int
    bound_at: datetime
    active: bool = True


@dataclass(frozen=True, slots=True)
class Invite:
    code: str
    community_id: int
    role: Role
    zone_id: int | None
    person_id: int | None
    max_uses: int
    uses: int
    expires_at: datetime
    created_by: int
    revoked: bool

    def usable_at(self, now: datetime) -> bool:
        return not self.revoked and self.uses < self.max_uses and now < self.expires_at
