"""An announcement to a community's audience and how far its delivery got."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Announcement:
    id: int
    community_id: int
    audience: str
    created_by: int
    queued: int
    reported: bool
