"""Distances on the Earth's surface, for 'share a location → nearest zone'."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TypeVar

from bot.domain.models import Building, Site

EARTH_RADIUS_M = 6_371_000.0

T = TypeVar("T")


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in metres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def nearest(
    lat: float,
    lon: float,
    places: Iterable[tuple[T, float | None, float | None]],
    *,
    max_distance_m: float | None = None,
) -> tuple[T, float] | None:
    """The closest place that has coordinates, with its distance; None if none qualifies."""
    best: tuple[T, float] | None = None
    for item, plat, plon in places:
        if plat is None or plon is None:
            continue
        d = distance_m(lat, lon, plat, plon)
        if max_distance_m is not None and d > max_distance_m:
            continue
        if best is None or d < best[1]:
            best = (item, d)
    return best


def nearest_place(
    lat: float,
    lon: float,
    buildings: Iterable[Building],
    sites: Iterable[Site],
    *,
    max_distance_m: float,
) -> tuple[Building | Site, float] | None:
    """The building or site closest to the point, with its distance; a building wins a tie."""
    candidates: list[tuple[Building | Site, float | None, float | None]]
    candidates = [(b, b.lat, b.lon) for b in buildings]
    candidates += [(s, s.lat, s.lon) for s in sites]
    return nearest(lat, lon, candidates, max_distance_m=max_distance_m)
