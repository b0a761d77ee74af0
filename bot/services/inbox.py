"""A private message that is not a command: the answer to the question the bot asked.

The prompt and the report draft are read once; the prompt's kind picks the use case, and
that use case clears the prompt in the same transaction as its effect. The caller gets a
typed outcome to reply to, or ``NoQuestion`` when the message goes on to the report flow.
See docs/flows/inbox.mmd.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.domain import prompts
from bot.domain.access import Actor
from bot.domain.errors import InvalidInput, JiayuanError
from bot.domain.household_ratings import HouseholdRating
from bot.domain.models import Language, Person
from bot.domain.prompts import AnswerSort
from bot.domain.reports import DraftPhoto, parse_mobile
from bot.domain.tickets import MAX_EXTENSION_DAYS, Ticket
from bot.domain.volunteers import Activity
from bot.i18n import t
from bot.services.base import Service
from bot.services.inspections import InspectionService
from bot.services.ratings import RatingService
from bot.services.reports import DraftView, ReportService
from bot.services.tickets import TicketService
from bot.services.volunteers import VolunteerService

# Downloads and sanitises the message's photo; called only when a question wants one, so
# a photo that starts a report is received once, by the report flow.
PhotoSource = Callable[[], Awaitable[DraftPhoto]]


@dataclass(frozen=True, slots=True)
class Answer:
    text: str = ""  # the text, or a photo's caption
    photo: PhotoSource | None = None
    location: tuple[float, float] | None = None
    language: Language = Language.ZH  # for a default the answer stands in for

    @property
    def sort(self) -> AnswerSort | None:
        return prompts.sort_of(
            text=self.text,
            has_photo=self.photo is not None,
            has_location=self.location is not None,
        )


@dataclass(frozen=True, slots=True)
class NoQuestion:
    """Nothing asked, or not this sort of answer: the message goes on to the report flow."""


@dataclass(frozen=True, slots=True)
class StillAsking:
    """The answer does not do; the question stays open and ``key`` says what is wanted."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PhoneInvalid:
    """Not a mobile number at the phone prompt: asked again, never taken as a description."""


@dataclass(frozen=True, slots=True)
class PhoneShared:
    view: DraftView


@dataclass(frozen=True, slots=True)
class Transferred:
    ticket: Ticket


@dataclass(frozen=True, slots=True)
class Rejected:
    ticket: Ticket


@dataclass(frozen=True, slots=True)
class Rectified:
    ticket: Ticket


@dataclass(frozen=True, slots=True)
class Reopened:
    ticket: Ticket


@dataclass(frozen=True, slots=True)
class ExtensionDaysChosen:
    ticket: Ticket
    days: int


@dataclass(frozen=True, slots=True)
class ExtensionAsked:
    ticket: Ticket
    days: int


@dataclass(frozen=True, slots=True)
class CheckedIn:
    activity: Activity


@dataclass(frozen=True, slots=True)
class ObjectionSent:
    rating: HouseholdRating


@dataclass(frozen=True, slots=True)
class InspectionPhotoFiled:
    ticket: Ticket
    inspection_id: int
    site_id: int


Outcome = (
    NoQuestion
    | StillAsking
    | PhoneInvalid
    | PhoneShared
    | Transferred
    | Rejected
    | Rectified
    | Reopened
    | ExtensionDaysChosen
    | ExtensionAsked
    | CheckedIn
    | ObjectionSent
    | InspectionPhotoFiled
)

_TICKET_PAYLOADS = (
    prompts.TransferReason,
    prompts.RejectWhy,
    prompts.AfterPhoto,
    prompts.ReopenReason,
    prompts.ExtensionDays,
    prompts.ExtensionReason,
)


class InboxService(Service):
    def __init__(
        self,
        *args: Any,
        tickets: TicketService,
        reports: ReportService,
        volunteers: VolunteerService,
        ratings: RatingService,
        inspections: InspectionService,
    ) -> None:
        super().__init__(*args)
        self.tickets = tickets
        self.reports = reports
        self.volunteers = volunteers
        self.ratings = ratings
        self.inspections = inspections

    async def answer(self, actor: Actor, person: Person, answer: Answer) -> Outcome:
        """Answer the open question with this message, if it is one it takes."""
        async with self.db.read() as tx:
            prompt = await tx.prompts.get(person.id, self.clock.now())
        sort = answer.sort
        if prompt is None or sort is None or not prompt.accepts(sort):
            return NoQuestion()
        payload = prompt.payload
        if isinstance(payload, _TICKET_PAYLOADS):
            try:
                return await self._ticket(actor, person, payload, answer)
            except JiayuanError:
                # A refused answer ends the question; otherwise every later message is too.
                await self.drop(person)
                raise
        if isinstance(payload, prompts.CheckIn):
            location = answer.location
            activity = await self.volunteers.check_in(
                person,
                payload.activity_id,
                location[0] if location else None,
                location[1] if location else None,
                with_photo=sort is AnswerSort.PHOTO,
            )
            return CheckedIn(activity)
        if isinstance(payload, prompts.Objection):
            rating = await self.ratings.object(person, payload.rating_id, answer.text)
            return ObjectionSent(rating)
        if isinstance(payload, prompts.InspectPhoto):
            if answer.photo is None:
                return StillAsking("inspect.photo_needed")
            photo = await answer.photo()
            ticket = await self.inspections.failed_item_photo(
                actor, payload.inspection_id, payload.site_id, payload.item_code, photo
            )
            return InspectionPhotoFiled(ticket, payload.inspection_id, payload.site_id)
        return await self._phone(person, answer.text)

    async def _phone(self, person: Person, text: str) -> Outcome:
        if await self.reports.current(person) is None:
            # The report it was for is gone: the text is handled as any other.
            await self.drop(person)
            return NoQuestion()
        phone = parse_mobile(text)
        if phone is None:
            return PhoneInvalid()
        return PhoneShared(await self.reports.set_share_phone(person, phone))

    async def _ticket(
        self, actor: Actor, person: Person, payload: prompts.Payload, answer: Answer
    ) -> Outcome:
        text = answer.text.strip()
        svc = self.tickets
        if isinstance(payload, prompts.AfterPhoto):
            if answer.photo is None:
                return StillAsking("tickets.after_photo_needed")
            ticket = await svc.rectify(actor, payload.ticket_id, await answer.photo(), text)
            return Rectified(ticket)
        if isinstance(payload, prompts.ReopenReason):
            evidence = await answer.photo() if answer.photo is not None else None
            reason = text or t(answer.language, "tickets.reopen_default_reason")
            return Reopened(await svc.reopen(actor, payload.ticket_id, reason, evidence))
        if isinstance(payload, prompts.ExtensionDays):
            days = _days(text)
            if days is None:
                # Asked again, not dropped: the question stays open for a valid number.
                return StillAsking("tickets.extension_days_range", {"max": MAX_EXTENSION_DAYS})
            ticket = await svc.choose_extension_days(actor, payload.ticket_id, days)
            return ExtensionDaysChosen(ticket, days)
        if not text:
            return StillAsking("tickets.reason_needed")
        if isinstance(payload, prompts.TransferReason):
            return Transferred(await svc.transfer(actor, payload.ticket_id, payload.zone_id, text))
        if isinstance(payload, prompts.RejectWhy):
            return Rejected(await svc.reject(actor, payload.ticket_id, payload.reason, text))
        if isinstance(payload, prompts.ExtensionReason):
            ticket = await svc.ask_extension(actor, payload.ticket_id, text, payload.days)
            return ExtensionAsked(ticket, payload.days)
        raise InvalidInput("errors.button_expired")  # not a ticket question: unreachable

    async def drop(self, person: Person) -> bool:
        """Forget the open question; True if there was one."""
        async with self.db.transaction() as tx:
            return await tx.prompts.clear(person.id)

    async def cancel(self, person: Person) -> bool:
        """/cancel: the report draft and the open question go together; True if either was."""
        async with self.db.transaction() as tx:
            had_draft = await tx.drafts.delete(person.id)
            had_question = await tx.prompts.clear(person.id)
        return had_draft or had_question


def _days(text: str) -> int | None:
    text = text.strip().lstrip("#")
    if not (text.isascii() and text.isdigit()) or len(text) > 15:
        return None
    days = int(text)
    return days if 1 <= days <= MAX_EXTENSION_DAYS else None
