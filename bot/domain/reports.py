"""A resident's report while it is being put together, and the rules for what to ask next."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Literal

from bot.domain.models import Building, Site

MAX_PHOTOS = 5
MAX_DESCRIPTION = 500
PLACES_PER_PAGE = 10

# Mainland mobile numbers; spaces, dashes, dots and brackets are how people group digits.
_MOBILE = re.compile(r"(?:\+?86|0086)?(1[3-9]\d{9})")
_PHONE_SEPARATORS = re.compile(r"[\s\-.()（）]")

# The common problem categories of DOMAIN.md; each community sees them in this order.
CATEGORIES: tuple[str, ...] = (
    "litter",
    "ads",
    "clutter",
    "stalls",
    "structures",
    "facilities",
    "green",
    "parking",
    "fire",
    "order",
    "other",
)


class Step(StrEnum):
    PHOTO = "photo"  # text-only report: nudge for a photo once
    CATEGORY = "category"
    PLACE = "place"
    DESCRIPTION = "description"
    CONFIRM = "confirm"


@dataclass(frozen=True, slots=True)
class DraftPhoto:
    sha256: str
    path: str
    file_id: str | None


@dataclass(frozen=True, slots=True)
class Place:
    zone_id: int
    building_id: int | None = None
    site_id: int | None = None
    lat: float | None = None
    lon: float | None = None


def place_of(spot: Building | Site, lat: float | None = None, lon: float | None = None) -> Place:
    """Where a report about this building or site lies: the spot itself and its zone."""
    if isinstance(spot, Building):
        return Place(spot.zone_id, building_id=spot.id, lat=lat, lon=lon)
    return Place(spot.zone_id, site_id=spot.id, lat=lat, lon=lon)


@dataclass(frozen=True, slots=True)
class Draft:
    origin_key: str
    photos: tuple[DraftPhoto, ...] = ()
    category: str | None = None
    place: Place | None = None
    description: str | None = None
    photo_nudged: bool = False
    anonymous: bool = True
    share_phone: bool = False
    duplicates_seen: bool = False
    media_group_id: str | None = None
    # Set when filed: a re-delivered "submit" then finds the ticket instead of a gap.
    filed_ticket_id: int | None = None

    def next_step(self) -> Step:
        """Ask only for what is missing, in the order a person would answer."""
        if not self.photos and not self.photo_nudged:
            return Step.PHOTO
        if self.category is None:
            return Step.CATEGORY
        if self.place is None:
            return Step.PLACE
        if self.description is None:
            return Step.DESCRIPTION
        return Step.CONFIRM

    def with_photo(self, photo: DraftPhoto) -> Draft:
        if any(p.sha256 == photo.sha256 for p in self.photos):
            return self  # the same picture twice, or a re-delivered update
        if len(self.photos) >= MAX_PHOTOS:
            raise ValueError("too many photos")
        return replace(self, photos=(*self.photos, photo))

    def with_description(self, text: str) -> Draft:
        return replace(self, description=clean_description(text)[:MAX_DESCRIPTION])

    def to_json(self) -> dict[str, Any]:
        place = self.place
        return {
            "origin_key": self.origin_key,
            "photos": [[p.sha256, p.path, p.file_id] for p in self.photos],
            "category": self.category,
            "place": None
            if place is None
            else [place.zone_id, place.building_id, place.site_id, place.lat, place.lon],
            "description": self.description,
            "photo_nudged": self.photo_nudged,
            "anonymous": self.anonymous,
            "share_phone": self.share_phone,
            "duplicates_seen": self.duplicates_seen,
            "media_group_id": self.media_group_id,
            "filed_ticket_id": self.filed_ticket_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Draft:
        place = data.get("place")
        return cls(
            origin_key=str(data["origin_key"]),
            photos=tuple(DraftPhoto(p[0], p[1], p[2]) for p in data.get("photos", [])),
            category=data.get("category"),
            place=None
            if place is None
            else Place(place[0], place[1], place[2], place[3], place[4]),
            description=data.get("description"),
            photo_nudged=bool(data.get("photo_nudged")),
            anonymous=bool(data.get("anonymous", True)),
            share_phone=bool(data.get("share_phone")),
            duplicates_seen=bool(data.get("duplicates_seen")),
            media_group_id=data.get("media_group_id"),
            filed_ticket_id=data.get("filed_ticket_id"),
        )


def clean_description(text: str) -> str:
    """Whitespace folded, as stored (before the length limit)."""
    return " ".join(text.split())


def description_clipped(text: str) -> bool:
    """True when the stored description would lose the end of ``text``."""
    return len(clean_description(text)) > MAX_DESCRIPTION


def parse_mobile(text: str) -> str | None:
    """The 11 digits of a mainland mobile number typed any usual way, else None."""
    compact = _PHONE_SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    match = _MOBILE.fullmatch(compact)
    return match.group(1) if match else None


@dataclass(frozen=True, slots=True)
class PlaceOption:
    """A building or site a resident can pick as the place of a report."""

    kind: Literal["bld", "site"]
    id: int
    name: str
    zone_id: int
    zone_name: str = ""


@dataclass(frozen=True, slots=True)
class PlacePage:
    options: tuple[PlaceOption, ...]
    page: int  # 0-based, clamped into range
    pages: int


def order_places(
    options: Sequence[PlaceOption],
    home_zone_id: int | None,
    home_building_id: int | None,
    zone_order: Sequence[int] = (),
) -> list[PlaceOption]:
    """Grouped by zone, the resident's own zone first; buildings before sites; by name."""
    rank = {zone_id: i for i, zone_id in enumerate(zone_order)}
    return sorted(
        options,
        key=lambda o: (
            o.zone_id != home_zone_id,
            rank.get(o.zone_id, len(rank)),
            o.zone_id,
            o.kind != "bld",
            not (o.kind == "bld" and o.id == home_building_id),
            o.name,
            o.id,
        ),
    )


def place_page(
    options: Sequence[PlaceOption], page: int, size: int = PLACES_PER_PAGE
) -> PlacePage:
    """One page of the picker; every option is on exactly one page."""
    pages = max(1, -(-len(options) // size))
    page = min(max(page, 0), pages - 1)
    return PlacePage(tuple(options[page * size : (page + 1) * size]), page, pages)


def search_places(options: Sequence[PlaceOption], query: str) -> list[PlaceOption]:
    """Options whose name contains the typed text (case- and width-insensitive), in order."""
    needle = _fold(query)
    if not needle:
        return []
    return [o for o in options if needle in _fold(o.name)]


def _fold(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())
