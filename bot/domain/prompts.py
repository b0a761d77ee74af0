"""Questions the bot asked and whose answer is the person's next private message.

Each kind has its own frozen payload, so nothing is packed into "a:b:c" strings; the
payload's JSON form is what storage keeps. Which sorts of answer a kind takes is decided
here, so the inbox knows whether a message answers the question or goes on to the report.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.domain.tickets import RejectReason

PROMPT_MINUTES = 30  # a question left unanswered this long is forgotten


class PromptKind(StrEnum):
    # The values are the kinds the old pending_inputs table stored (see migration 018).
    TRANSFER = "transfer"
    REJECT = "reject"
    RECTIFY = "rectify"
    REOPEN = "reopen"
    EXTENSION_DAYS = "extension_days"
    EXTENSION_REASON = "extension"
    CHECK_IN = "checkin"
    OBJECTION = "objection"
    INSPECT_PHOTO = "inspect_photo"
    REPORT_PHONE = "report_phone"


class AnswerSort(StrEnum):
    TEXT = "text"
    PHOTO = "photo"
    LOCATION = "location"


@dataclass(frozen=True, slots=True)
class TransferReason:
    ticket_id: int
    zone_id: int | None  # None: back to the admins


@dataclass(frozen=True, slots=True)
class RejectWhy:
    ticket_id: int
    reason: RejectReason


@dataclass(frozen=True, slots=True)
class AfterPhoto:
    ticket_id: int


@dataclass(frozen=True, slots=True)
class ReopenReason:
    ticket_id: int


@dataclass(frozen=True, slots=True)
class ExtensionDays:
    ticket_id: int


@dataclass(frozen=True, slots=True)
class ExtensionReason:
    ticket_id: int
    days: int


@dataclass(frozen=True, slots=True)
class CheckIn:
    activity_id: int


@dataclass(frozen=True, slots=True)
class Objection:
    rating_id: int


@dataclass(frozen=True, slots=True)
class InspectPhoto:
    inspection_id: int
    site_id: int
    item_code: str


@dataclass(frozen=True, slots=True)
class ReportPhone:
    pass


Payload = (
    TransferReason
    | RejectWhy
    | AfterPhoto
    | ReopenReason
    | ExtensionDays
    | ExtensionReason
    | CheckIn
    | Objection
    | InspectPhoto
    | ReportPhone
)

PAYLOADS: dict[PromptKind, type[Any]] = {
    PromptKind.TRANSFER: TransferReason,
    PromptKind.REJECT: RejectWhy,
    PromptKind.RECTIFY: AfterPhoto,
    PromptKind.REOPEN: ReopenReason,
    PromptKind.EXTENSION_DAYS: ExtensionDays,
    PromptKind.EXTENSION_REASON: ExtensionReason,
    PromptKind.CHECK_IN: CheckIn,
    PromptKind.OBJECTION: Objection,
    PromptKind.INSPECT_PHOTO: InspectPhoto,
    PromptKind.REPORT_PHONE: ReportPhone,
}
KINDS: dict[type[Any], PromptKind] = {cls: kind for kind, cls in PAYLOADS.items()}

_ALL = frozenset(AnswerSort)
# A ticket's question takes any message so that a wrong one is refused, not filed as a
# report; an objection and the phone take text only, and a photo then starts a report.
ACCEPTS: dict[PromptKind, frozenset[AnswerSort]] = {
    PromptKind.TRANSFER: _ALL,
    PromptKind.REJECT: _ALL,
    PromptKind.RECTIFY: _ALL,
    PromptKind.REOPEN: _ALL,
    PromptKind.EXTENSION_DAYS: _ALL,
    PromptKind.EXTENSION_REASON: _ALL,
    PromptKind.CHECK_IN: _ALL,
    PromptKind.OBJECTION: frozenset({AnswerSort.TEXT}),
    PromptKind.INSPECT_PHOTO: _ALL,
    PromptKind.REPORT_PHONE: frozenset({AnswerSort.TEXT}),
}


class BadPayload(ValueError):
    """A stored payload that does not fit its kind (a hand-edited or corrupt row)."""


@dataclass(frozen=True, slots=True)
class Prompt:
    payload: Payload
    expires_at: datetime

    @property
    def kind(self) -> PromptKind:
        return KINDS[type(self.payload)]

    def accepts(self, sort: AnswerSort) -> bool:
        return accepts(self.kind, sort)

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


def ask(payload: Payload, now: datetime) -> Prompt:
    return Prompt(payload, now + timedelta(minutes=PROMPT_MINUTES))


def accepts(kind: PromptKind, sort: AnswerSort) -> bool:
    return sort in ACCEPTS[kind]


def sort_of(*, text: str, has_photo: bool, has_location: bool) -> AnswerSort | None:
    """What sort of answer a message is: a photo (with or without caption) before text."""
    if has_photo:
        return AnswerSort.PHOTO
    if has_location:
        return AnswerSort.LOCATION
    if text:
        return AnswerSort.TEXT
    return None


def to_json(payload: Payload) -> str:
    return json.dumps(asdict(payload), sort_keys=True, ensure_ascii=False)


def from_json(kind: str, text: str) -> Payload:
    """The payload a stored row holds; BadPayload when kind or fields do not fit."""
    try:
        cls = PAYLOADS[PromptKind(kind)]
        data = json.loads(text or "{}")
    except ValueError as error:
        raise BadPayload(kind) from error
    if not isinstance(data, dict) or set(data) != {f.name for f in fields(cls)}:
        raise BadPayload(kind)
    for f in fields(cls):
        value = data[f.name]
        if f.name == "reason":
            try:
                data[f.name] = RejectReason(value)
            except ValueError as error:
                raise BadPayload(kind) from error
        elif f.name == "item_code":
            if not isinstance(value, str):
                raise BadPayload(kind)
        elif f.name == "zone_id":
            if value is not None and (type(value) is not int or value <= 0):
                raise BadPayload(kind)
        elif type(value) is not int:
            raise BadPayload(kind)
    payload: Payload = cls(**data)
    return payload
