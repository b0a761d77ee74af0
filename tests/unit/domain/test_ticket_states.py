"""The ticket state machine: which transitions are allowed from which statuses, by whom,
and what a refusal says; and, over random histories, that a ticket stays consistent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.access import Actor
from bot.domain.errors import Conflict, InvalidInput, JiayuanError, NotAllowed
from bot.domain.models import Language, Role, RoleGrant
from bot.domain.tickets import (
    Event,
    EventKind,
    Rating,
    RejectReason,
    Source,
    Status,
    Ticket,
    accept,
    ask_extension,
    confirm,
    decide_extension,
    dispatch,
    rate,
    rectify,
    reject,
    reopen,
    transfer,
)
from bot.i18n import catalog

NOW = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)
DUE = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
# The ticket lies in zone 5, is assigned to cadre 11 and was reported by resident 3.
BASE = Ticket(
    1, 1, "2026-0001", Source.RESIDENT, 3, "litter", 5, None, None, None, None, "",
    Status.ASSIGNED, 11, NOW, NOW, DUE,
)  # fmt: skip


def _actor(person: int, *grants: tuple[Role, int | None], community: int = 1) -> Actor:
    return Actor(
        person,
        100 + person,
        community,
        tuple(RoleGrant(person, community, r, z) for r, z in grants),
    )


ACTORS = {
    "assignee": _actor(11, (Role.CADRE, 5)),
    "zone_cadre": _actor(13, (Role.CADRE, 5)),
    "other_cadre": _actor(14, (Role.CADRE, 6)),
    "admin": _actor(15, (Role.ADMIN, None)),
    "leader": _actor(12, (Role.LEADER, None)),
    "inspector": _actor(16, (Role.INSPECTOR, None)),
    "reporter": _actor(3),
    "resident": _actor(17),
    "super_admin": Actor(18, 118, 1, (), super_admin=True),
    "other_community_admin": _actor(19, (Role.ADMIN, None), community=2),
}
HANDLERS = {"assignee", "zone_cadre", "admin", "super_admin"}
RECHECKERS = {"reporter", "inspector", "admin", "super_admin"}
OPEN = {Status.QUEUED, Status.ASSIGNED, Status.ACCEPTED}

Transition = Callable[[Ticket, Actor], tuple[Ticket, list[Event]]]


def _transfer(ticket: Ticket, actor: Actor) -> tuple[Ticket, list[Event]]:
    """To the other zone's cadre, so that the hand-over is always a real one."""
    zone, person = (6, 14) if ticket.zone_id == 5 else (5, 11)
    return transfer(ticket, actor, NOW, "不归我们管", zone, person)


TRANSITIONS: dict[str, Transition] = {
    "accept": lambda ticket, actor: accept(ticket, actor, NOW),
    "transfer": _transfer,
    "reject": lambda ticket, actor: reject(ticket, actor, NOW, RejectReason.DUPLICATE, "重复"),
    "rectify": lambda ticket, actor: rectify(ticket, actor, NOW, "已清理"),
    "confirm": lambda ticket, actor: confirm(ticket, actor, NOW),
    "reopen": lambda ticket, actor: reopen(
        ticket, actor, NOW, "没扫干净", DUE + timedelta(days=7)
    ),
    "rate": lambda ticket, actor: rate(ticket, actor, NOW, Rating.SATISFIED),
    "ask_extension": lambda ticket, actor: ask_extension(ticket, actor, NOW, "等材料", 3),
    "grant_extension": lambda ticket, actor: decide_extension(
        ticket, actor, NOW, DUE + timedelta(days=3)
    ),
    "refuse_extension": lambda ticket, actor: decide_extension(ticket, actor, NOW, None),
}

# transition: (statuses it is allowed from, actors allowed, status after, refusal key of
# an actor not allowed, first event)
RULES: dict[str, tuple[set[Status], set[str], Status | None, str, EventKind]] = {
    "accept": (
        {Status.QUEUED, Status.ASSIGNED}, HANDLERS, Status.ACCEPTED, "tickets.not_yours",
        EventKind.ACCEPTED,
    ),
    "transfer": (OPEN, HANDLERS, Status.ASSIGNED, "tickets.not_yours", EventKind.TRANSFERRED),
    "reject": (OPEN, HANDLERS, Status.REJECTED, "tickets.not_yours", EventKind.REJECTED),
    "rectify": (
        {Status.ACCEPTED}, HANDLERS, Status.RECTIFIED, "tickets.not_yours", EventKind.RECTIFIED
    ),
    "confirm": (
        {Status.RECTIFIED}, RECHECKERS, Status.CLOSED, "tickets.not_yours", EventKind.CONFIRMED
    ),
    "reopen": (
        {Status.RECTIFIED}, RECHECKERS, Status.ASSIGNED, "tickets.not_yours", EventKind.REOPENED
    ),
    "rate": (
        {Status.CLOSED}, {"reporter"}, None, "tickets.only_reporter_rates", EventKind.RATED
    ),
    "ask_extension": (
        {Status.ASSIGNED, Status.ACCEPTED}, HANDLERS, None, "tickets.not_yours",
        EventKind.EXTENSION_ASKED,
    ),
    # A decision needs a pending request, whatever the status reached since it was asked.
    "grant_extension": (
        set(Status), {"leader", "admin", "super_admin"}, None, "tickets.only_leader_extends",
        EventKind.EXTENSION_GRANTED,
    ),
    "refuse_extension": (
        set(Status), {"leader", "admin", "super_admin"}, None, "tickets.only_leader_extends",
        EventKind.EXTENSION_REFUSED,
    ),
}  # fmt: skip


def ticket_in(status: Status, transition: str = "") -> Ticket:
    """A consistent ticket in ``status``; with the extension request pending for a
    decision."""
    ticket = replace(BASE, status=status)
    if status is Status.QUEUED:
        ticket = replace(ticket, assignee_person_id=None)
    if status in (Status.ACCEPTED, Status.RECTIFIED, Status.CLOSED):
        ticket = replace(ticket, accepted_at=NOW)
    if status in (Status.RECTIFIED, Status.CLOSED):
        ticket = replace(ticket, rectified_at=NOW)
    if status in (Status.CLOSED, Status.REJECTED):
        ticket = replace(ticket, closed_at=NOW)
    if transition.endswith("_extension") and transition != "ask_extension":
        ticket = replace(ticket, extension_reason="等材料", extension_days=3)
    return ticket


CASES = [(name, status, who) for name in TRANSITIONS for status in Status for who in ACTORS]


@pytest.mark.parametrize(("name", "status", "who"), CASES)
def test_each_transition_by_each_actor_from_each_status(
    name: str, status: Status, who: str
) -> None:
    statuses, allowed, after, refusal, first_event = RULES[name]
    before = ticket_in(status, name)
    actor = ACTORS[who]
    if who not in allowed:
        with pytest.raises(NotAllowed) as refused:
            TRANSITIONS[name](before, actor)
        assert refused.value.key == refusal
    elif status not in statuses:
        with pytest.raises(Conflict) as conflict:
            TRANSITIONS[name](before, actor)
        assert conflict.value.key == "tickets.wrong_state"
        assert conflict.value.params == {"number": "2026-0001", "status": status.value}
    else:
        new, events = TRANSITIONS[name](before, actor)
        assert new.status is (after or status)
        assert new.version == before.version + 1
        assert events[0].kind is first_event
        assert all(event.at == NOW for event in events)


def test_dispatch_assigns_or_queues_and_starts_the_deadline() -> None:
    fresh = replace(BASE, status=Status.QUEUED, assignee_person_id=None, dispatched_at=None)
    assigned, events = dispatch(fresh, 11, NOW, DUE)
    assert (assigned.status, assigned.assignee_person_id, assigned.due_at) == (
        Status.ASSIGNED, 11, DUE,
    )  # fmt: skip
    assert [e.kind for e in events] == [EventKind.DISPATCHED]
    queued, events = dispatch(fresh, None, NOW, DUE)
    assert (queued.status, queued.assignee_person_id) == (Status.QUEUED, None)
    assert [e.kind for e in events] == [EventKind.QUEUED]


def test_accepting_makes_the_accepting_cadre_the_assignee() -> None:
    new, _ = accept(ticket_in(Status.ASSIGNED), ACTORS["zone_cadre"], NOW)
    assert (new.assignee_person_id, new.accepted_at) == (13, NOW)


def test_confirming_closes_with_two_events() -> None:
    new, events = confirm(ticket_in(Status.RECTIFIED), ACTORS["inspector"], NOW)
    assert (new.status, new.closed_at) == (Status.CLOSED, NOW)
    assert [e.kind for e in events] == [EventKind.CONFIRMED, EventKind.CLOSED]


def test_reopening_sends_it_back_with_a_fresh_deadline() -> None:
    later = DUE + timedelta(days=7)
    new, _ = reopen(ticket_in(Status.RECTIFIED), ACTORS["reporter"], NOW, "还是脏", later)
    assert (new.status, new.due_at, new.reopen_count) == (Status.ASSIGNED, later, 1)
    assert (new.accepted_at, new.rectified_at) == (None, None)
    queued = replace(ticket_in(Status.RECTIFIED), assignee_person_id=None)
    assert reopen(queued, ACTORS["admin"], NOW, "还是脏", later)[0].status is Status.QUEUED


def test_a_transfer_to_the_same_zone_and_cadre_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        transfer(ticket_in(Status.ASSIGNED), ACTORS["admin"], NOW, "换人", 5, 11)
    assert refused.value.key == "tickets.transfer_same_zone"


def test_a_transfer_to_the_queue_keeps_the_zone() -> None:
    new, _ = transfer(ticket_in(Status.ACCEPTED), ACTORS["assignee"], NOW, "找不到人", None, None)
    assert (new.status, new.zone_id, new.assignee_person_id) == (Status.QUEUED, 5, None)
    assert (new.accepted_at, new.transfer_count) == (None, 1)


@pytest.mark.parametrize("reason", ["", "   ", "\n\t"])
def test_reasons_are_required(reason: str) -> None:
    ticket = ticket_in(Status.ACCEPTED)
    admin = ACTORS["admin"]
    acts: tuple[Callable[[], object], ...] = (
        lambda: transfer(ticket, admin, NOW, reason, 6, 14),
        lambda: reject(ticket, admin, NOW, RejectReason.NOT_OURS, reason),
        lambda: ask_extension(ticket, admin, NOW, reason, 3),
        lambda: reopen(ticket_in(Status.RECTIFIED), admin, NOW, reason, DUE),
    )
    for act in acts:
        with pytest.raises(InvalidInput) as refused:
            act()
        assert refused.value.key == "tickets.reason_needed"


def test_an_inspection_finding_is_not_rated_and_a_rating_is_given_once() -> None:
    closed = ticket_in(Status.CLOSED)
    with pytest.raises(NotAllowed) as refused:
        rate(replace(closed, source=Source.INSPECTION), ACTORS["reporter"], NOW, Rating.FAIR)
    assert refused.value.key == "tickets.inspection_not_rated"
    rated, _ = rate(closed, ACTORS["reporter"], NOW, Rating.FAIR)
    with pytest.raises(Conflict) as conflict:
        rate(rated, ACTORS["reporter"], NOW, Rating.SATISFIED)
    assert conflict.value.key == "tickets.already_rated"


def test_one_extension_request_at_a_time_and_none_to_decide_without_one() -> None:
    asked, _ = ask_extension(ticket_in(Status.ACCEPTED), ACTORS["assignee"], NOW, "等材料", 3)
    with pytest.raises(Conflict) as refused:
        ask_extension(asked, ACTORS["assignee"], NOW, "还要等", 2)
    assert refused.value.key == "tickets.extension_pending"
    with pytest.raises(Conflict) as refused:
        decide_extension(ticket_in(Status.ACCEPTED), ACTORS["leader"], NOW, None)
    assert refused.value.key == "tickets.no_extension_pending"


# ------------------------------------------------------------------ random histories


def _consistent(ticket: Ticket) -> None:
    if ticket.status in (Status.CLOSED, Status.REJECTED):
        assert ticket.closed_at is not None
    else:
        assert ticket.closed_at is None
    if ticket.status is Status.QUEUED:
        assert ticket.assignee_person_id is None
    if ticket.status in (Status.ASSIGNED, Status.ACCEPTED):
        assert ticket.assignee_person_id is not None
    if ticket.status in (Status.ACCEPTED, Status.RECTIFIED):
        assert ticket.accepted_at is not None
    assert (ticket.status is Status.RECTIFIED) <= (ticket.rectified_at is not None)
    assert ticket.rating is None or ticket.status is Status.CLOSED
    assert (ticket.extension_reason is None) == (ticket.extension_days is None)
    assert ticket.zone_id in (5, 6)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([Status.QUEUED, Status.ASSIGNED]),
    st.lists(st.tuples(st.sampled_from(sorted(TRANSITIONS)), st.sampled_from(sorted(ACTORS)))),
)
def test_random_histories_keep_the_ticket_consistent(
    start: Status, steps: list[tuple[str, str]]
) -> None:
    ticket = ticket_in(start)
    for name, who in steps:
        before = ticket
        try:
            ticket, events = TRANSITIONS[name](ticket, ACTORS[who])
        except JiayuanError as refused:
            # A refusal says why in words both catalogs have.
            assert refused.key in catalog(Language.ZH) and refused.key in catalog(Language.EN)
            continue
        assert ticket.version == before.version + 1
        assert events and events[0].kind is RULES[name][4]
        assert ticket.transfer_count >= before.transfer_count
        assert ticket.reopen_count >= before.reopen_count
        # A finished ticket only gains its rating or a decision on a pending request.
        if before.status in (Status.CLOSED, Status.REJECTED):
            assert name in ("rate", "grant_extension", "refuse_extension")
        _consistent(ticket)
