"""Each person's digest preference (daily, weekly, off) per community."""

from __future__ import annotations

from storage.rows import Repository


class DigestPrefRepository(Repository):
    async def mode(self, person_id: int, community_id: int) -> str:
        value = await self._scalar(
            "SELECT mode FROM digest_prefs WHERE person_id = ? AND community_id = ?",
            (person_id, community_id),
        )
        return str(value) if value else "daily"

    async def set_mode(self, person_id: int, community_id: int, mode: str) -> None:
        await self._exec(
            "INSERT INTO digest_prefs (person_id, community_id, mode) VALUES (?, ?, ?) "
            "ON CONFLICT (person_id, community_id) DO UPDATE SET mode = excluded.mode",
            (person_id, community_id, mode),
        )
