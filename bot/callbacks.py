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
    return Callback(flow=parts[0], action=parts[1], args=tuple(parts[2:]))


def pattern(flow: str) -> str:
    """An anchored handler pattern for one flow and version."""
    return f"^{re.escape(flow)}:"
