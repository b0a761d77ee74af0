"""callback_data: built and parsed only here, as ``<flow><version>:<action>:<ids>``.

A button's payload is user input (anyone can forge one), so it is only a lookup key:
the service re-checks the actor and the current state before acting on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_CALLBACK_BYTES = 64

START = "st1"
LANGUAGE = "lg1"
TICKET = "tk1"
REPORT = "rp1"
VOLUNTEER = "vo1"
INSPECT = "in1"
RATING = "hh1"
INVITE = "iv1"
TREND = "tr1"

# Every flow's actions, the one registry of them: a payload naming any other action is
# from an older version or forged, and a button cannot be built with one.
ACTIONS: dict[str, frozenset[str]] = {
    START: frozenset({"com", "bld", "skip", "chg"}),
    LANGUAGE: frozenset({"set"}),
    TICKET: frozenset(
        {"acc", "qac", "opn", "tra", "trz", "rej", "rjk", "fix", "ext", "exd", "exy", "exn"}
        | {"ok", "no", "rt"}
    ),
    REPORT: frozenset(
        {"cancel", "ok", "dup", "new", "phone", "pg", "nophoto", "cat", "bld", "site"}
        | {"nodesc", "anon"}
    ),
    VOLUNTEER: frozenset({"cancel", "in", "out", "named"}),
    INSPECT: frozenset({"z", "t", "s"}),
    RATING: frozenset({"ok", "no", "obj"}),
    INVITE: frozenset({"rev"}),
    TREND: frozenset({"z"}),
}

_PART = re.compile(r"^[A-Za-z0-9_-]{1,24}$")
MAX_ID = 2**62  # within SQLite's INTEGER


class StaleButton(Exception):
    """The payload is from another version, malformed, or forged."""


@dataclass(frozen=True, slots=True)
class Callback:
    flow: str
    action: str
    args: tuple[str, ...]

    def int_arg(self, index: int = 0) -> int:
        try:
            value = self.args[index]
        except IndexError:
            raise StaleButton(self) from None
        if not (value.isascii() and value.isdigit()) or int(value) > MAX_ID:
            raise StaleButton(self)
        return int(value)


def build(flow: str, action: str, *args: object) -> str:
    if action not in ACTIONS.get(flow, frozenset()):
        raise ValueError(f"action {action!r} is not registered for {flow!r}")
    parts = [flow, action, *(str(a) for a in args)]
    for part in parts:
        if not _PART.match(part):
            raise ValueError(f"callback part {part!r} is not safe")
    data = ":".join(parts)
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError("callback_data over 64 bytes")
    return data


def parse(data: str | None, expect: str) -> Callback:
    if not data:
        raise StaleButton(data)
    parts = data.split(":")
    if len(parts) < 2 or parts[0] != expect or not all(_PART.match(p) for p in parts):
        raise StaleButton(data)
    if parts[1] not in ACTIONS.get(expect, frozenset()):
        raise StaleButton(data)
    return Callback(flow=parts[0], action=parts[1], args=tuple(parts[2:]))


def is_action(data: str | None, flow: str, action: str) -> bool:
    """Whether a payload is this flow's action (for a handler shared by several buttons)."""
    try:
        return parse(data, expect=flow).action == action
    except StaleButton:
        return False


def pattern(flow: str) -> str:
    """An anchored handler pattern for one flow and version."""
    return f"^{re.escape(flow)}:"
