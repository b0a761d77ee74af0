"""People, their roles per community, and invites that hand roles out."""

from __future__ import annotations

from datetime import datetime

from bot.domain.errors import NotFound
from bot.domain.models import Invite, Language, Person, Role, RoleGrant
from storage.rows import Repository, Row, from_db_time, to_db_time

# Reachability is per bot (migration 022): a person read here is as this bot sees them.
_PERSON = (
    "p.*, NOT EXISTS (SELECT 1 FROM unreachable_people u"
    " WHERE u.person_id = p.id AND u.bot_id = ?) AS reachable"
)


class PersonRepository(Repository):
    async def add(
        self,
        name: str,
        now: datetime,
        *,
        telegram_id: int | None = None,
        phone: str | None = None,
        language: Language | None = None,
    ) -> Person:
        new_id = await self._insert(
            "INSERT INTO people (telegram_id, name, phone, language, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (telegram_id, name, phone, language.value if language else None, to_db_time(now)),
        )
        return await self.get(new_id)

    async def get(self, person_id: int) -> Person:
        row = await self._one(
            f"SELECT {_PERSON} FROM people p WHERE p.id = ?", (self._bot, person_id)
        )
        if row is None:
            raise NotFound("errors.person_not_found")
        return _to_person(row)

    async def find_by_telegram(self, telegram_id: int) -> Person | None:
        row = await self._one(
            f"SELECT {_PERSON} FROM people p WHERE p.telegram_id = ?", (self._bot, telegram_id)
        )
        return None if row is None else _to_person(row)

    async def find_with_home_elsewhere(
        self, *, telegram_id: int | None = None, person_id: int | None = None
    ) -> tuple[Person, bool] | None:
        """The person, and whether their home is a community this bot does not serve
        (another bot's, or none's yet): one statement, as it runs for every update."""
        column, value = ("telegram_id", telegram_id) if person_id is None else ("id", person_id)
        row = await self._one(
            f"SELECT {_PERSON}, c.bot_id AS home_bot FROM people p"
            f" LEFT JOIN communities c ON c.id = p.community_id WHERE p.{column} = ?",
            (self._bot, value),
        )
        if row is None:
            return None
        elsewhere = (
            self._bot_id is not None
            and row["community_id"] is not None
            and row["home_bot"] != self._bot_id
        )
        return _to_person(row), elsewhere

    async def find_unlinked(self, name: str, phone: str | None) -> Person | None:
        """An imported person (no Telegram account yet) with this name and phone."""
        row = await self._one(
            f"SELECT {_PERSON} FROM people p WHERE p.telegram_id IS NULL AND p.name = ? AND "
            "COALESCE(p.phone, '') = COALESCE(?, '') ORDER BY p.id LIMIT 1",
            (self._bot, name, phone),
        )
        return None if row is None else _to_person(row)

    async def link_telegram(self, person_id: int, telegram_id: int) -> None:
        await self._exec(
            "UPDATE people SET telegram_id = ? WHERE id = ?",
            (telegram_id, person_id),
        )

    async def merge_into(self, source_id: int, target_id: int) -> None:
        """Move an imported person's roles and zones onto the account that claimed them."""
        await self._exec(
            "INSERT INTO role_grants (person_id, community_id, role, zone_id, "
            "granted_by, granted_at) SELECT ?, community_id, role, zone_id, granted_by, "
            "granted_at FROM role_grants WHERE person_id = ? ON CONFLICT DO NOTHING",
            (target_id, source_id),
        )
        await self._exec("DELETE FROM role_grants WHERE person_id = ?", (source_id,))
        await self._exec(
            "UPDATE zones SET responsible_person_id = ? WHERE responsible_person_id = ?",
            (target_id, source_id),
        )
        await self._exec(
            "UPDATE invites SET person_id = ? WHERE person_id = ?", (target_id, source_id)
        )
        # Tickets already dispatched to the imported record wait for the person who claims it.
        await self._exec(
            "UPDATE tickets SET assignee_person_id = ? WHERE assignee_person_id = ?",
            (target_id, source_id),
        )
        await self._exec(
            "UPDATE ticket_events SET actor_person_id = ? WHERE actor_person_id = ?",
            (target_id, source_id),
        )
        await self._exec("DELETE FROM people WHERE id = ?", (source_id,))

    async def update_profile(
        self, person_id: int, *, name: str | None = None, phone: str | None = None
    ) -> None:
        if name is not None:
            await self._exec("UPDATE people SET name = ? WHERE id = ?", (name, person_id))
        if phone is not None:
            await self._exec("UPDATE people SET phone = ? WHERE id = ?", (phone, person_id))

    async def set_language(self, person_id: int, language: Language) -> None:
        await self._exec(
            "UPDATE people SET language = ? WHERE id = ?", (language.value, person_id)
        )

    async def set_home(
        self,
        person_id: int,
        community_id: int,
        building_id: int | None,
        zone_id: int | None,
    ) -> None:
        await self._exec(
            "UPDATE people SET community_id = ?, building_id = ?, zone_id = ? WHERE id = ?",
            (community_id, building_id, zone_id, person_id),
        )

    async def set_reachable(self, telegram_id: int, reachable: bool) -> None:
        """Whether this bot's messages reach the person: another bot's are its own."""
        if reachable:
            await self._exec(
                "DELETE FROM unreachable_people WHERE bot_id = ?"
                " AND person_id IN (SELECT id FROM people WHERE telegram_id = ?)",
                (self._bot, telegram_id),
            )
        else:
            await self._exec(
                "INSERT INTO unreachable_people (bot_id, person_id)"
                " SELECT ?, id FROM people WHERE telegram_id = ? ON CONFLICT DO NOTHING",
                (self._bot, telegram_id),
            )

    async def list_with_roles(self, community_id: int) -> list[tuple[Person, list[RoleGrant]]]:
        rows = await self._all(
            f"SELECT DISTINCT {_PERSON} FROM people p JOIN role_grants g ON g.person_id = p.id "
            "WHERE g.community_id = ? ORDER BY p.name, p.id",
            (self._bot, community_id),
        )
        people = [_to_person(r) for r in rows]
        grants = await RoleRepository(self._conn).list_by_community(community_id)
        by_person: dict[int, list[RoleGrant]] = {}
        for grant in grants:
            by_person.setdefault(grant.person_id, []).append(grant)
        return [(p, by_person.get(p.id, [])) for p in people]

    async def list_with_role(self, community_id: int, role: Role) -> list[Person]:
        rows = await self._all(
            f"SELECT DISTINCT {_PERSON} FROM people p JOIN role_grants g ON g.person_id = p.id "
            "WHERE g.community_id = ? AND g.role = ? ORDER BY p.id",
            (self._bot, community_id, role.value),
        )
        return [_to_person(r) for r in rows]

    async def list_in_community(self, community_id: int) -> list[Person]:
        """Everyone who chose this community as home."""
        rows = await self._all(
            f"SELECT {_PERSON} FROM people p WHERE p.community_id = ? ORDER BY p.id",
            (self._bot, community_id),
        )
        return [_to_person(r) for r in rows]

    async def count_residents(self, community_id: int) -> int:
        count: int = await self._scalar(
            "SELECT COUNT(*) FROM people WHERE community_id = ?", (community_id,)
        )
        return count


class RoleRepository(Repository):
    async def grant(
        self,
        person_id: int,
        community_id: int,
        role: Role,
        zone_id: int | None,
        granted_by: int | None,
        now: datetime,
    ) -> bool:
        """Give a role; False when the person already had it."""
        changed = await self._exec(
            "INSERT INTO role_grants (person_id, community_id, role, zone_id, "
            "granted_by, granted_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (person_id, community_id, role.value, zone_id, granted_by, to_db_time(now)),
        )
        return changed > 0

    async def revoke(self, person_id: int, community_id: int, role: Role) -> int:
        return await self._exec(
            "DELETE FROM role_grants WHERE person_id = ? AND community_id = ? AND role = ?",
            (person_id, community_id, role.value),
        )

    async def list_for_person(self, person_id: int) -> list[RoleGrant]:
        """A person's roles in the communities this bot serves: one Telegram user may
        be a cadre here and a leader in a community of another bot."""
        rows = await self._all(
            f"SELECT * FROM role_grants WHERE person_id = ? AND {self._served()}"
            " ORDER BY community_id, role",
            (person_id, *self._served_params),
        )
        return [_to_grant(r) for r in rows]

    async def list_by_community(
        self, community_id: int, role: Role | None = None
    ) -> list[RoleGrant]:
        if role is None:
            rows = await self._all(
                "SELECT * FROM role_grants WHERE community_id = ?", (community_id,)
            )
        else:
            rows = await self._all(
                "SELECT * FROM role_grants WHERE community_id = ? AND role = ?",
                (community_id, role.value),
            )
        return [_to_grant(r) for r in rows]

    async def exists_admin(self, community_id: int) -> bool:
        found = await self._scalar(
            "SELECT 1 FROM role_grants WHERE community_id = ? AND role = 'admin' LIMIT 1",
            (community_id,),
        )
        return found is not None


class InviteRepository(Repository):
    async def add(self, invite: Invite, now: datetime) -> None:
        await self._exec(
            "INSERT INTO invites (code, community_id, role, zone_id, person_id, max_uses, uses, "
            "expires_at, created_by, revoked, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                invite.code,
                invite.community_id,
                invite.role.value,
                invite.zone_id,
                invite.person_id,
                invite.max_uses,
                invite.uses,
                to_db_time(invite.expires_at),
                invite.created_by,
                int(invite.revoked),
                to_db_time(now),
            ),
        )

    async def find(self, code: str) -> Invite | None:
        row = await self._one("SELECT * FROM invites WHERE code = ?", (code,))
        return None if row is None else _to_invite(row)

    async def use(self, code: str) -> None:
        await self._exec("UPDATE invites SET uses = uses + 1 WHERE code = ?", (code,))

    async def revoke(self, code: str) -> int:
        return await self._exec("UPDATE invites SET revoked = 1 WHERE code = ?", (code,))

    async def list_open(self, community_id: int, now: datetime) -> list[Invite]:
        rows = await self._all(
            "SELECT * FROM invites WHERE community_id = ? AND revoked = 0 AND uses < max_uses "
            "AND expires_at > ? ORDER BY created_at",
            (community_id, to_db_time(now)),
        )
        return [_to_invite(r) for r in rows]


def _to_person(row: Row) -> Person:
    return Person(
        id=row["id"],
        telegram_id=row["telegram_id"],
        name=row["name"],
        phone=row["phone"],
        language=Language(row["language"]) if row["language"] else None,
        community_id=row["community_id"],
        building_id=row["building_id"],
        zone_id=row["zone_id"],
        reachable=bool(row["reachable"]),
    )


def _to_grant(row: Row) -> RoleGrant:
    return RoleGrant(
        person_id=row["person_id"],
        community_id=row["community_id"],
        role=Role(row["role"]),
        zone_id=row["zone_id"],
    )


def _to_invite(row: Row) -> Invite:
    return Invite(
        code=row["code"],
        community_id=row["community_id"],
        role=Role(row["role"]),
        zone_id=row["zone_id"],
        person_id=row["person_id"],
        max_uses=row["max_uses"],
        uses=row["uses"],
        expires_at=from_db_time(row["expires_at"]),
        created_by=row["created_by"],
        revoked=bool(row["revoked"]),
    )
