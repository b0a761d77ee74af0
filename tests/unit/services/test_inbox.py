"""InboxService: the open question takes the next message, on a real SQLite file.

What a question takes, what keeps it open, and that the use case answering it clears it
with its effect (a refused answer ends it); /cancel drops the draft and the question.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain import prompts
from bot.domain.access import Actor
from bot.domain.errors import JiayuanError
from bot.domain.models import Person
from bot.domain.reports import DraftPhoto
from bot.domain.tickets import RejectReason, Status
from bot.importer import load_plan
from bot.services import inbox
from bot.services.container import Services
from bot.services.inbox import Answer
from tests.factories import SAMPLE_YAML, open_services
from tests.unit.services.test_reports_and_deadlines import file, resident

PHOTO = DraftPhoto("b" * 64, "photos/bb/" + "b" * 64 + ".jpg", None)


async def a_photo() -> DraftPhoto:
    return PHOTO


@pytest.fixture
async def services(tmp_path: Path):
    svc = await open_services(tmp_path)
    summary = await svc.communities.apply_plan(load_plan(SAMPLE_YAML))
    _, cadre = await svc.people.identify(501, "陈建国", "zh-hans", False)
    z1_invite = next(code for zone, _, code in summary.cadre_invites if zone == "Z1")
    await svc.invites.redeem(cadre, z1_invite)
    yield svc
    await svc.db.close()


async def open_prompt(svc: Services, person: Person) -> prompts.Prompt | None:
    async with svc.db.read() as tx:
        return await tx.prompts.get(person.id, svc.clock.now())


async def cadre(svc: Services) -> tuple[Actor, Person]:
    return await svc.people.identify(501, "陈建国", None, False)


async def test_no_question_leaves_the_message_to_the_report_flow(services: Services) -> None:
    actor, person = await cadre(services)
    outcome = await services.inbox.answer(actor, person, Answer(text="hello"))
    assert outcome == inbox.NoQuestion()


async def test_a_reason_is_asked_again_until_given_then_cleared_with_the_rejection(
    services: Services,
) -> None:
    ticket = await file(services, await resident(services))
    actor, person = await cadre(services)
    await services.tickets.ask_reject_reason(actor, ticket.id, RejectReason.NOT_OURS)

    outcome = await services.inbox.answer(actor, person, Answer(photo=a_photo))
    assert outcome == inbox.StillAsking("tickets.reason_needed")
    assert await open_prompt(services, person) is not None

    outcome = await services.inbox.answer(actor, person, Answer(text="不是我们的"))
    assert isinstance(outcome, inbox.Rejected)
    assert outcome.ticket.status is Status.REJECTED
    assert await open_prompt(services, person) is None


async def test_a_refused_answer_ends_the_question(services: Services) -> None:
    ticket = await file(services, await resident(services))
    actor, person = await cadre(services)
    # Not accepted yet: the after-photo is refused by the ticket's state.
    await services.tickets.ask_after_photo(actor, ticket.id)
    assert await services.inbox.answer(actor, person, Answer(text="done")) == (
        inbox.StillAsking("tickets.after_photo_needed")
    )
    with pytest.raises(JiayuanError):
        await services.inbox.answer(actor, person, Answer(photo=a_photo))
    assert await open_prompt(services, person) is None


async def test_extension_days_then_reason(services: Services) -> None:
    ticket = await file(services, await resident(services))
    actor, person = await cadre(services)
    await services.tickets.accept(actor, ticket.id)
    await services.tickets.start_extension(actor, ticket.id)

    outcome = await services.inbox.answer(actor, person, Answer(text="99"))
    assert isinstance(outcome, inbox.StillAsking)
    assert outcome.key == "tickets.extension_days_range"
    outcome = await services.inbox.answer(actor, person, Answer(text="3"))
    assert isinstance(outcome, inbox.ExtensionDaysChosen) and outcome.days == 3
    prompt = await open_prompt(services, person)
    assert prompt is not None and prompt.payload == prompts.ExtensionReason(ticket.id, 3)

    outcome = await services.inbox.answer(actor, person, Answer(text="材料未到"))
    assert isinstance(outcome, inbox.ExtensionAsked) and outcome.days == 3
    assert await open_prompt(services, person) is None


async def test_the_phone_prompt_takes_only_a_mobile_and_only_as_text(services: Services) -> None:
    await resident(services)
    actor, person = await services.people.identify(601, "李明", None, False)
    await services.reports.add_photo(actor, person, PHOTO, "楼道堆物", "601:9")
    await services.reports.ask_phone(person)

    assert await services.inbox.answer(actor, person, Answer(text="1234")) == inbox.PhoneInvalid()
    # A photo or a location goes on to the draft; the question stays.
    assert await services.inbox.answer(actor, person, Answer(photo=a_photo)) == inbox.NoQuestion()
    assert await open_prompt(services, person) is not None

    outcome = await services.inbox.answer(actor, person, Answer(text="13800138000"))
    assert isinstance(outcome, inbox.PhoneShared) and outcome.view.draft.share_phone
    assert await open_prompt(services, person) is None


async def test_another_choice_moves_on_from_the_phone_question(services: Services) -> None:
    await resident(services)
    actor, person = await services.people.identify(601, "李明", None, False)
    await services.reports.add_photo(actor, person, PHOTO, "楼道堆物", "601:9")
    await services.reports.ask_phone(person)
    await services.reports.set_category(person, "clutter")
    assert await open_prompt(services, person) is None


async def test_a_phone_prompt_without_its_draft_is_dropped(services: Services) -> None:
    await resident(services)
    actor, person = await services.people.identify(601, "李明", None, False)
    await services.reports.ask_phone(person)
    outcome = await services.inbox.answer(actor, person, Answer(text="13800138000"))
    assert outcome == inbox.NoQuestion()
    assert await open_prompt(services, person) is None


async def test_cancel_drops_the_draft_and_the_question_together(services: Services) -> None:
    await resident(services)
    actor, person = await services.people.identify(601, "李明", None, False)
    await services.reports.add_photo(actor, person, PHOTO, "楼道堆物", "601:9")
    await services.reports.ask_phone(person)
    assert await services.inbox.cancel(person)
    assert await services.reports.current(person) is None
    assert await open_prompt(services, person) is None
    assert not await services.inbox.cancel(person)
