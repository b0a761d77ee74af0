"""Community rules with the defaults of DOMAIN.md; every community may change them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from datetime import time
from typing import Any


class RuleValueError(ValueError):
    """A rule's value refused, with what was wrong, so the reader hears it in their language."""

    def __init__(self, name: str, problem: str, low: float = 0, high: float = 0) -> None:
        self.name, self.problem, self.low, self.high = name, problem, low, high
        detail = f" between {low:g} and {high:g}" if problem == "range" else ""
        super().__init__(f"{name}: bad value ({problem}{detail})")


# What was wrong with a value: each has a message admin.bad_setting_<problem>.
PROBLEMS = ("range", "time", "list", "whole", "number")


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
    def from_mapping(
        cls,
        values: dict[str, str],
        on_invalid: Callable[[str, str, ValueError], None] | None = None,
    ) -> CommunityRules:
        """Build from stored text values; unknown keys are ignored.

        A bad value raises ValueError, unless ``on_invalid`` is given: then it is
        reported there and the default kept, so one bad row (written by hand, or under
        older bounds) cannot take a whole community's bot down.
        """
        base = cls()
        changes: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in values:
                continue
            try:
                changes[f.name] = _check_bounds(
                    f.name, _load(getattr(base, f.name), values[f.name], f.name)
                )
            except ValueError as exc:
                if on_invalid is None:
                    raise
                on_invalid(f.name, values[f.name], exc)
        return replace(base, **changes)

    def with_value(self, name: str, raw: str) -> CommunityRules:
        if name not in {f.name for f in fields(self)}:
            raise KeyError(name)
        value = _check_bounds(name, _load(getattr(self, name), raw, name))
        return replace(self, **{name: value})


# What a community may set each rule to: outside these the calendar or deadlines break.
BOUNDS: dict[str, tuple[float, float]] = {
    "rectify_workdays": (1, 60),
    "accept_workdays": (0, 30),
    "recheck_workdays": (0, 30),
    "clean_day": (1, 31),
    "inspection_days": (1, 31),
    "talk_threshold": (0, 100),
    "award_threshold": (0, 100),
    "awards": (0, 20),
    "duplicate_radius_m": (0, 5000),
    "reports_per_hour": (1, 1000),
    "report_expiry_minutes": (5, 1440),
    "notice_days": (1, 60),
    "invite_days": (1, 90),
}


def _check_bounds(name: str, value: Any) -> Any:
    low, high = BOUNDS.get(name, (float("-inf"), float("inf")))
    for item in value if isinstance(value, tuple) else (value,):
        if isinstance(item, int | float) and not low <= item <= high:
            raise RuleValueError(name, "range", low, high)
    return value


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
        if not (hour.isascii() and minute.isascii() and hour.isdigit() and minute.isdigit()):
            raise RuleValueError(name, "time")
        if not (0 <= int(hour) <= 23 and 0 <= int(minute) <= 59):
            raise RuleValueError(name, "time")
        return time(int(hour), int(minute))
    if isinstance(default, tuple):
        parts = [p.strip() for p in raw.split(",") if p.strip()]
        if not all(p.isascii() and p.isdigit() for p in parts):
            raise RuleValueError(name, "list")
        items = tuple(int(p) for p in parts)
        if not items:
            raise RuleValueError(name, "list")
        return items
    if isinstance(default, bool):
        return raw.lower() in ("1", "true", "yes")
    if isinstance(default, int):
        if not (raw.isascii() and raw.lstrip("-").isdigit()):
            raise RuleValueError(name, "whole")
        value = int(raw)
        if value < 0:
            raise RuleValueError(name, "whole")
        return value
    if isinstance(default, float):
        try:
            number = float(raw)
        except ValueError:
            raise RuleValueError(name, "number") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise RuleValueError(name, "number")
        return number
    return raw
