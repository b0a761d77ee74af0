"""Extensions: the cadre names the working days; bounds are checked; the note keeps them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.access import Actor
from bot.domain.errors import InvalidInput
from bot.domain.models import Role, RoleGrant
from bot.domain.tickets import (
    MAX_EXTENSION_DAYS,
    EventKind,
    Source,
    Status,
    Ticket,
    ask_extension,
    check_extension_days,
    decide_extension,
    extension_note,
    split_extension_note,
)

NOW = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)
TICKET = Ticket(
    1, 1, "2026-0001", Source.RESIDENT, 3, "litter", 5, None, None, None, None, "",
    Status.ACCEPTED, 11, NOW, NOW, datetime(2026, 11, 23, 16, 0, tzinfo=UTC),
)  # fmt: skip
CADRE = Actor(11, 111, 1, (RoleGrant(11, 1, Role.CADRE, 5),))
LEADER = Actor(12, 112, 1, (RoleGrant(12, 1, Role.LEADER, None),))


@pytest.mark.parametrize(
    ("days", "ok"), [(0, False), (1, True), (3, True), (MAX_EXTENSION_DAYS, True), (11, False)]
)
def test_extension_days_must_be_within_bounds(days: int, ok: bool) -> None:
    if ok:
        assert check_extension_days(days) == days
    else:
        with pytest.raises(InvalidInput):
            check_extension_days(days)


@given(st.integers(1, MAX_EXTENSION_DAYS), st.text(min_size=1, max_size=50))
def test_the_note_gives_back_the_days_and_the_reason(days: int, reason: str) -> None:
    assert split_extension_note(extension_note(days, reason)) == (days, reason)


def test_a_note_from_before_days_were_asked_is_all_reason() -> None:
    assert split_extension_note("需要吊车") == (None, "需要吊车")


def test_the_request_remembers_the_days_until_decided() -> None:
    asked, events = ask_extension(TICKET, CADRE, NOW, "等材料", 3)
    assert asked.extension_days == 3 and asked.extension_reason == "等材料"
    assert events[0].kind is EventKind.EXTENSION_ASKED
    assert split_extension_note(events[0].note) == (3, "等材料")
    refused, _ = decide_extension(asked, LEADER, NOW, None)
    assert refused.extension_days is None and refused.extension_reason is None
    assert refused.due_at == TICKET.due_at
