"""Report drafts: what a resident has typed so far, kept until it expires."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from storage.rows import Repository, from_db_time, to_db_time


class DraftRepository(Repository):
    async def get(self, person_id: int) -> tuple[int, dict[str, Any], datetime] | None:
        row = await self._one("SELECT * FROM report_drafts WHERE person_id = ?", (person_id,))
        if row is None:
            return None
        return row["community_id"], json.loads(row["data"]), from_db_time(row["expires_at"])

    async def put(
        self,
        person_id: int,
        community_id: int,
        data: dict[str, Any],
        now: datetime,
        expires_at: datetime,
    ) -> None:
        await self._exec(
            "INSERT INTO report_drafts (person_id, community_id, data, updated_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (person_id) DO UPDATE SET "
            "community_id = excluded.community_id, data = excluded.data, "
            "updated_at = excluded.updated_at, expires_at = excluded.expires_at",
            (
                person_id,
                community_id,
                json.dumps(data, ensure_ascii=False),
                to_db_time(now),
                to_db_time(expires_at),
            ),
        )

    async def delete(self, person_id: int) -> bool:
        return await self._exec("DELETE FROM report_drafts WHERE person_id = ?", (person_id,)) > 0

    async def expired(self, now: datetime) -> list[int]:
        rows = await self._all(
            f"SELECT person_id FROM report_drafts WHERE expires_at <= ? AND {self._served()}",
            (to_db_time(now), *self._served_params),
        )
        return [r["person_id"] for r in rows]
