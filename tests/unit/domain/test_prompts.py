"""Prompts: each kind's payload, its JSON form, its expiry and which answers it takes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import prompts
from bot.domain.prompts import (
    AnswerSort,
    BadPayload,
    PromptKind,
    accepts,
    from_json,
    sort_of,
    to_json,
)
from bot.domain.tickets import RejectReason

NOW = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)

EXAMPLES: list[tuple[prompts.Payload, PromptKind]] = [
    (prompts.TransferReason(7, 3), PromptKind.TRANSFER),
    (prompts.TransferReason(7, None), PromptKind.TRANSFER),
    (prompts.RejectWhy(7, RejectReason.NOT_OURS), PromptKind.REJECT),
    (prompts.AfterPhoto(7), PromptKind.RECTIFY),
    (prompts.ReopenReason(7), PromptKind.REOPEN),
    (prompts.ExtensionDays(7), PromptKind.EXTENSION_DAYS),
    (prompts.ExtensionReason(7, 5), PromptKind.EXTENSION_REASON),
    (prompts.CheckIn(4), PromptKind.CHECK_IN),
    (prompts.Objection(9), PromptKind.OBJECTION),
    (prompts.InspectPhoto(2, 11, "litter_bins"), PromptKind.INSPECT_PHOTO),
    (prompts.ReportPhone(), PromptKind.REPORT_PHONE),
]


@pytest.mark.parametrize(("payload", "kind"), EXAMPLES)
def test_each_payload_has_its_kind_and_survives_json(
    payload: prompts.Payload, kind: PromptKind
) -> None:
    prompt = prompts.ask(payload, NOW)
    assert prompt.kind is kind
    assert from_json(kind.value, to_json(payload)) == payload


def test_every_kind_has_a_payload_and_an_answer_rule() -> None:
    assert set(prompts.PAYLOADS) == set(PromptKind) == set(prompts.ACCEPTS)
    assert {kind for _, kind in EXAMPLES} == set(PromptKind)


# (kind, text, photo, location): does the question take the message?
ACCEPTS_TABLE = [
    (PromptKind.TRANSFER, AnswerSort.TEXT, True),
    (PromptKind.TRANSFER, AnswerSort.PHOTO, True),  # refused as "a reason, please"
    (PromptKind.RECTIFY, AnswerSort.TEXT, True),  # refused as "the after-photo, please"
    (PromptKind.RECTIFY, AnswerSort.PHOTO, True),
    (PromptKind.REOPEN, AnswerSort.PHOTO, True),
    (PromptKind.EXTENSION_DAYS, AnswerSort.TEXT, True),
    (PromptKind.EXTENSION_REASON, AnswerSort.LOCATION, True),
    (PromptKind.CHECK_IN, AnswerSort.LOCATION, True),
    (PromptKind.CHECK_IN, AnswerSort.PHOTO, True),
    (PromptKind.INSPECT_PHOTO, AnswerSort.PHOTO, True),
    (PromptKind.INSPECT_PHOTO, AnswerSort.TEXT, True),  # refused as "a photo, please"
    (PromptKind.OBJECTION, AnswerSort.TEXT, True),
    (PromptKind.OBJECTION, AnswerSort.PHOTO, False),  # a photo starts a report instead
    (PromptKind.OBJECTION, AnswerSort.LOCATION, False),
    (PromptKind.REPORT_PHONE, AnswerSort.TEXT, True),
    (PromptKind.REPORT_PHONE, AnswerSort.PHOTO, False),  # another photo for the draft
    (PromptKind.REPORT_PHONE, AnswerSort.LOCATION, False),  # the draft's place
]


@pytest.mark.parametrize(("kind", "sort", "expected"), ACCEPTS_TABLE)
def test_which_answers_a_question_takes(
    kind: PromptKind, sort: AnswerSort, expected: bool
) -> None:
    assert accepts(kind, sort) is expected


@pytest.mark.parametrize(
    ("text", "photo", "location", "expected"),
    [
        ("why", False, False, AnswerSort.TEXT),
        ("caption", True, False, AnswerSort.PHOTO),
        ("", True, False, AnswerSort.PHOTO),
        ("", False, True, AnswerSort.LOCATION),
        ("", False, False, None),
    ],
)
def test_sort_of_a_message(text: str, photo: bool, location: bool, expected: object) -> None:
    assert sort_of(text=text, has_photo=photo, has_location=location) is expected


def test_a_prompt_expires_after_its_minutes() -> None:
    prompt = prompts.ask(prompts.AfterPhoto(1), NOW)
    assert prompt.expires_at == NOW + timedelta(minutes=prompts.PROMPT_MINUTES)
    assert not prompt.expired(prompt.expires_at - timedelta(seconds=1))
    assert prompt.expired(prompt.expires_at)


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("transfer", '{"ticket_id": 1}'),  # a field missing
        ("transfer", '{"ticket_id": 1, "zone_id": 0}'),  # 0 was "the admins": stored as null
        ("transfer", '{"ticket_id": "1", "zone_id": null}'),
        ("reject", '{"ticket_id": 1, "reason": "bored"}'),
        ("rectify", '{"ticket_id": 1, "extra": 2}'),
        ("extension", '{"ticket_id": 1, "days": true}'),
        ("inspect_photo", '{"inspection_id": 1, "site_id": 2, "item_code": 3}'),
        ("checkin", "[1]"),
        ("checkin", "not json"),
        ("no_such_kind", "{}"),
    ],
)
def test_a_payload_that_does_not_fit_its_kind_is_refused(kind: str, text: str) -> None:
    with pytest.raises(BadPayload):
        from_json(kind, text)


ids = st.integers(min_value=1, max_value=2**53)


@given(
    st.one_of(
        st.builds(prompts.TransferReason, ids, st.none() | ids),
        st.builds(prompts.RejectWhy, ids, st.sampled_from(RejectReason)),
        st.builds(prompts.ExtensionReason, ids, st.integers(1, 10)),
        st.builds(prompts.InspectPhoto, ids, ids, st.text(max_size=40)),
        st.builds(prompts.CheckIn, ids),
        st.builds(prompts.Objection, ids),
    )
)
def test_any_payload_round_trips_through_json(payload: prompts.Payload) -> None:
    kind = prompts.KINDS[type(payload)]
    assert from_json(kind.value, to_json(payload)) == payload
