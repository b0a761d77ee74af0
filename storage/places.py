"""Zones, buildings and the site ledger (实地点位台账) of a community."""

from __future__ import annotations

from bot.domain.errors import NotFound
from bot.domain.models import Building, Site, Zone
from storage.rows import Repository, Row


class ZoneRepository(Repository):
    async def add(self, community_id: int, code: str, name: str) -> Zone:
        new_id = await self._insert(
            "INSERT INTO zones (community_id, code, name) VALUES (?, ?, ?)",
            (community_id, code, name),
        )
        return await self.get(new_id)

    async def get(self, zone_id: int) -> Zone:
        row = await self._one("SELECT * FROM zones WHERE id = ?", (zone_id,))
        if row is None:
            raise NotFound("errors.zone_not_found")
        return _to_zone(row)

    async def find_by_code(self, community_id: int, code: str) -> Zone | None:
        row = await self._one(
            "SELECT * FROM zones WHERE community_id = ? AND lower(code) = lower(?)",
            (community_id, code),
        )
        return None if row is None else _to_zone(row)

    async def list_by_community(self, community_id: int) -> list[Zone]:
        rows = await self._all(
            "SELECT * FROM zones WHERE community_id = ? AND active = 1 ORDER BY code",
            (community_id,),
        )
        return [_to_zone(r) for r in rows]

    async def update(self, zone_id: int, name: str) -> None:
        await self._exec("UPDATE zones SET name = ? WHERE id = ?", (name, zone_id))

    async def set_responsible(self, zone_id: int, person_id: int | None) -> None:
        await self._exec(
            "UPDATE zones SET responsible_person_id = ? WHERE id = ?", (person_id, zone_id)
        )


class BuildingRepository(Repository):
    async def upsert(
        self, community_id: int, zone_id: int, name: str, lat: float | None, lon: float | None
    ) -> int:
        await self._exec(
            "INSERT INTO buildings (community_id, zone_id, name, lat, lon) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (community_id, name) DO UPDATE SET zone_id = excluded.zone_id, "
            "lat = excluded.lat, lon = excluded.lon",
            (community_id, zone_id, name, lat, lon),
        )
        building_id: int = await self._scalar(
            "SELECT id FROM buildings WHERE community_id = ? AND name = ?", (community_id, name)
        )
        return building_id

    async def get(self, building_id: int) -> Building:
        row = await self._one("SELECT * FROM buildings WHERE id = ?", (building_id,))
        if row is None:
            raise NotFound("errors.building_not_found")
        return _to_building(row)

    async def list_by_community(self, community_id: int) -> list[Building]:
        rows = await self._all(
            "SELECT * FROM buildings WHERE community_id = ? ORDER BY zone_id, name",
            (community_id,),
        )
        return [_to_building(r) for r in rows]


class SiteRepository(Repository):
    async def upsert(self, site: Site) -> int:
        await self._exec(
            "INSERT INTO sites (community_id, zone_id, name, category, contact, phone, address, "
            "lat, lon) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (community_id, name) DO UPDATE SET zone_id = excluded.zone_id, "
            "category = excluded.category, contact = excluded.contact, phone = excluded.phone, "
            "address = excluded.address, lat = excluded.lat, lon = excluded.lon",
            (
                site.community_id,
                site.zone_id,
                site.name,
                site.category,
                site.contact,
                site.phone,
                site.address,
                site.lat,
                site.lon,
            ),
        )
        site_id: int = await self._scalar(
            "SELECT id FROM sites WHERE community_id = ? AND name = ?",
            (site.community_id, site.name),
        )
        return site_id

    async def get(self, site_id: int) -> Site:
        row = await self._one("SELECT * FROM sites WHERE id = ?", (site_id,))
        if row is None:
            raise NotFound("errors.site_not_found")
        return _to_site(row)

    async def list_by_community(self, community_id: int) -> list[Site]:
        rows = await self._all(
            "SELECT * FROM sites WHERE community_id = ? ORDER BY zone_id, category, name",
            (community_id,),
        )
        return [_to_site(r) for r in rows]

    async def count_by_community(self, community_id: int) -> int:
        count: int = await self._scalar(
            "SELECT COUNT(*) FROM sites WHERE community_id = ?", (community_id,)
        )
        return count


def _to_zone(row: Row) -> Zone:
    return Zone(
        id=row["id"],
        community_id=row["community_id"],
        code=row["code"],
        name=row["name"],
        responsible_person_id=row["responsible_person_id"],
        active=bool(row["active"]),
    )


def _to_building(row: Row) -> Building:
    return Building(
        id=row["id"],
        community_id=row["community_id"],
        zone_id=row["zone_id"],
        name=row["name"],
        lat=row["lat"],
        lon=row["lon"],
    )


def _to_site(row: Row) -> Site:
    return Site(
        id=row["id"],
        community_id=row["community_id"],
        zone_id=row["zone_id"],
        name=row["name"],
        category=row["category"],
        contact=row["contact"],
        phone=row["phone"],
        address=row["address"],
        lat=row["lat"],
        lon=row["lon"],
    )
