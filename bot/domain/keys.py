"""Idempotency keys, built only here: the outbox's dedupe keys (one message, once) and
the occurrence keys claimed once ever (a reminder, a review, a digest).

A running deployment has recorded these exact strings, so a key's text must never
change or what it guards would repeat: tests/unit/domain/test_keys.py pins each one.
"""

from __future__ import annotations

from datetime import date, datetime

from bot.domain.scoring import YearMonth

# --- occurrences: claimed once, ever -------------------------------------------------


def remind_due(ticket_id: int, due_day: date) -> str:
    return f"remind-due:{ticket_id}:{due_day}"


def remind_before(ticket_id: int, due_day: date) -> str:
    return f"remind-before:{ticket_id}:{due_day}"


def overdue(ticket_id: int, due_day: date | None) -> str:
    return f"overdue:{ticket_id}:{due_day}"


def accept_late(ticket_id: int, dispatched_day: date, assignee_id: int | None) -> str:
    return f"accept-late:{ticket_id}:{dispatched_day}:{assignee_id}"


def recheck(ticket_id: int, rectified_at: datetime) -> str:
    return f"recheck:{ticket_id}:{rectified_at.isoformat()}"


def cadre_unreachable(ticket_id: int, person_id: int) -> str:
    """Once per ticket and cadre: the admins hear of it once."""
    return f"cadre-unreachable:{ticket_id}:{person_id}"


def slot(kind: str, day: date) -> str:
    """A scheduled moment (clean day, its eve, an inspection plan, the thanks)."""
    return f"{kind}:{day.isoformat()}"


def slot_in(slot_key: str, community_id: int) -> str:
    return f"{slot_key}:{community_id}"


def activity_reminder(activity_id: int, person_id: int) -> str:
    return f"activity-reminder:{activity_id}:{person_id}"


def digest(community_id: int, leader_id: int, day: date) -> str:
    return f"digest:{community_id}:{leader_id}:{day}"


def review(community_id: int, month: YearMonth) -> str:
    """One key for the on-time and the late review: whichever claims it first posts."""
    return f"review:{community_id}:{month}"


def calendar_estimate(year: int, person_id: int) -> str:
    return f"calendar-estimate:{year}:{person_id}"


# --- outbox dedupe keys: one message, once --------------------------------------------


def to_person(key: str, person_id: int) -> str:
    """An occurrence's message to one person (a reminder, a re-check request, an admin)."""
    return f"{key}:{person_id}"


def to_cadre(key: str, person_id: int | None = None) -> str:
    return f"{key}:cadre" if person_id is None else f"{key}:cadre:{person_id}"


def leader_list(line_key: str, digest_hex: str, leader_id: int, part: int) -> str:
    return f"{line_key}:{digest_hex}:{leader_id}:{part}"


def dispatch(ticket_id: int, version: int) -> str:
    return f"dispatch:{ticket_id}:{version}"


def admin_queue(ticket_id: int, version: int, admin_id: int) -> str:
    return f"queue:{ticket_id}:{version}:{admin_id}"


def transfer(ticket_id: int, version: int, person_id: int) -> str:
    return f"tr:{ticket_id}:{version}:{person_id}"


def rectified(ticket_id: int, version: int, supporter_id: int | None = None) -> str:
    base = f"fix:{ticket_id}:{version}"
    return base if supporter_id is None else f"{base}:{supporter_id}"


def closed(ticket_id: int) -> str:
    return f"closed:{ticket_id}"


def reopened(ticket_id: int, version: int, person_id: int) -> str:
    return f"reopen:{ticket_id}:{version}:{person_id}"


def extension(ticket_id: int, version: int, leader_id: int) -> str:
    return f"ext:{ticket_id}:{version}:{leader_id}"


def reporter_news(
    message_key: str, ticket_id: int, version: int, supporter_id: int | None = None
) -> str:
    """What the reporter (and each supporter) hears of a ticket's step, by message key."""
    base = f"{message_key}:{ticket_id}:{version}"
    return base if supporter_id is None else f"{base}:{supporter_id}"


def notice(ticket_id: int, number: str, person_id: int) -> str:
    return f"notice:{ticket_id}:{number}:{person_id}"


def redate(ticket_id: int, version: int, person_id: int) -> str:
    return f"redate:{ticket_id}:{version}:{person_id}"


def slot_post(slot_key: str, community_id: int, chat_id: int) -> str:
    return f"{slot_key}:{community_id}:{chat_id}"


def inspection_plan(community_id: int, day: date, inspector_id: int) -> str:
    return f"plan:{community_id}:{day}:{inspector_id}"


def volunteer_thanks(community_id: int, month_start: date, chat_id: int) -> str:
    return f"thanks:{community_id}:{month_start}:{chat_id}"


def promoted(activity_id: int, person_id: int) -> str:
    return f"promoted:{activity_id}:{person_id}"


def rating_verify(rating_id: int, inspector_id: int) -> str:
    return f"rating-verify:{rating_id}:{inspector_id}"


def rating_notice(rating_id: int, chat_id: int) -> str:
    return f"rating-notice:{rating_id}:{chat_id}"


def rating_objection(rating_id: int, person_id: int, admin_id: int) -> str:
    return f"rating-objection:{rating_id}:{person_id}:{admin_id}"


def rating_published(rating_id: int, chat_id: int) -> str:
    return f"rating-published:{rating_id}:{chat_id}"


def review_image(community_id: int, month: YearMonth, chat_id: int) -> str:
    return f"review-image:{community_id}:{month}:{chat_id}"


def review_text(community_id: int, month: YearMonth, chat_id: int) -> str:
    return f"review-text:{community_id}:{month}:{chat_id}"


def review_photo(community_id: int, month: YearMonth, chat_id: int, path: str) -> str:
    return f"review-photo:{community_id}:{month}:{chat_id}:{path}"


def review_leaders(community_id: int, month: YearMonth, leader_id: int) -> str:
    return f"review-leaders:{community_id}:{month}:{leader_id}"


def review_quarter(community_id: int, period: str, leader_id: int) -> str:
    return f"review-quarter:{community_id}:{period}:{leader_id}"


def review_awards(community_id: int, year: int, chat_id: int) -> str:
    return f"review-awards:{community_id}:{year}:{chat_id}"


def review_annual(community_id: int, year: int, leader_id: int) -> str:
    return f"review-annual:{community_id}:{year}:{leader_id}"


# --- where a ticket or activity came from: stored once, a repeat finds the first ------


def report_origin(chat_id: int, message_id: int, bot_id: int | None = None) -> str:
    """The resident's message that started a report (a re-delivered update files nothing).
    A user's chats with two bots of a city share the chat id but not the message ids."""
    return f"{chat_id}:{message_id}" if not bot_id else f"{bot_id}/{chat_id}:{message_id}"


def inspection_origin(inspection_id: int, site_id: int, item_code: str) -> str:
    return f"inspection:{inspection_id}:{site_id}:{item_code}"


def talk_origin(community_id: int, zone_id: int, month: YearMonth) -> str:
    return f"talk:{community_id}:{zone_id}:{month}"


def clean_day_series(community_id: int, year: int, month: int) -> str:
    return f"clean_day:{community_id}:{year}-{month:02d}"


def announcement_batch(announcement_id: int) -> str:
    """The outbox batch of one announcement, counted for its delivery report."""
    return f"ann:{announcement_id}"
