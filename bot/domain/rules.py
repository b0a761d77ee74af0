"""Community rules with the defaults of DOMAIN.md; every community may change them."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import time
from typing import Any


@dataclass(frozen=True, slots=True)
class CommunityRules:
    rectify_workdays: int = 5
    accept_workdays: int = 1
    recheck_workdays: int = 3
    clean_day: int = 18
    clean_day_eve_time: time = time(19, 0)
    clean_day_time: time = time(8, 0)
    inspection_days: tuple[int, ...] = (9, 19, 29)
    talk_threshold: float = 83.0
    award_threshold: float = 85.0
    awards: tuple[int, ...] = (1, 2, 3)
    digest_time: time = time(8, 30)
    monthly_review_time: time = time(9, 0)
    duplicate_radius_m: int = 100
    reports_per_hour: int = 10
    report_expiry_minutes: int = 30
    notice_days: int = 5
    invite_days: int = 7

    def to_mapping(self) -> dict[str, str]:
        return {f.name: _dump(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_mapping(cls, values: dict[str, str]) -> CommunityRules:
        """Build from stored text values; unknown keys are ignored, bad values raise ValueError."""
        base = cls()
        changes: dict[str, Any] = {}
        for f in fields(cls):
            if f.name in values:
                changes[f.name] = _load(getattr(base, f.name), values[f.name], f.name)
        return replace(base, **changes)

    def with_value(self, name: str, raw: str) -> CommunityRules:
        if name not in {f.name for f in fields(self)}:
            raise KeyError(name)
        return replace(self, **{name: _load(getattr(self, name), raw, name)})


def _dump(value: object) -> str:
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def _load(default: object, raw: str, name: str) -> Any:
    raw = raw.strip()
    if isinstance(default, time):
        hour, _, minute = raw.partition(":")
        if not (hour.isdigit() and minute.isdigit()):
            raise ValueError(f"{name}: expected HH:MM")
        return time(int(hour), int(minute))
    if isinstance(default, tuple):
        items = tuple(int(p) for p in raw.split(",") if p.strip())
        if not items:
            raise ValueError(f"{name}: expected a comma-separated list of numbers")
        return items
    if isinstance(default, bool):
        return raw.lower() in ("1", "true", "yes")
    if isinstance(default, int):
        value = int(raw)
        if value < 0:
            raise ValueError(f"{name}: must not be negative")
        return value
    if isinstance(default, float):
        return float(raw)
    return raw
