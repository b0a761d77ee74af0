"""An English-speaking community end to end: whatever its resident, cadre, leader and admin
receive (texts, captions, edits, buttons, button answers) holds no Chinese, and the English
half of each group post holds none either. The community's names are English, so any CJK
character found came from the bot, not from what people typed."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.models import Role
from bot.sandbox import SentMessage, SimGroup, SimUser
from tests.flows.conftest import ADMIN_ID, Harness, running_harness
from tests.flows.reporting import NUMBER, has, jpeg, with_button

# CJK ideographs, kana, hangul, and the full-width punctuation that comes with them.
CJK = re.compile(
    r"[\u2e80-\u30ff\u3100-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]"
)

PLAN = """
community: {code: maple, name: Maple Court, timezone: Asia/Shanghai}
zones:
  - {code: Z1, name: East Zone, cadre: {name: Chen Jianguo, phone: "13857101234"}}
  - {code: Z2, name: West Zone, cadre: {name: Wang Lihua, phone: "13867102468"}}
buildings:
  - {name: Block 1, zone_code: Z1, lat: 30.2738, lon: 120.1549}
  - {name: Block 2, zone_code: Z2, lat: 30.2741, lon: 120.1482}
sites:
  - {name: Maple Road, category: 主次干道, zone_code: Z1, lat: 30.2742, lon: 120.1551}
"""

SHANGHAI = timedelta(hours=8)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC) - SHANGHAI


@pytest.fixture
async def english(tmp_path: Path) -> AsyncIterator[Harness]:
    plan = tmp_path / "maple.yaml"
    plan.write_text(PLAN, encoding="utf-8")
    async with running_harness(
        tmp_path / "data", tick=False, plan=plan, admin_name="Ms Liu", admin_language="en"
    ) as h:
        yield h


def received(user: SimUser) -> list[str]:
    """Every text, caption, earlier version and button label the bot sent this person."""
    out: list[str] = []
    for message in user.inbox:
        out += [message.text or "", *message.button_texts]
        out += [v.get("text") or v.get("caption") or "" for v in message.history]
    return out


def answers(harness: Harness) -> list[str]:
    """The texts of button answers (toasts and alerts)."""
    return [
        str(r.params.get("text") or "")
        for r in harness.sandbox.requests
        if r.method == "answerCallbackQuery"
    ]


def chinese(texts: list[str]) -> list[str]:
    return [text for text in texts if CJK.search(text)]


# Where the English half of each kind of group post begins.
ENGLISH_HEADS = (
    "Hello everyone",
    "This group is now bound",
    "📢 Notice from Maple Court",
    "Maple Court Nov 2026: monthly",
    "📣 Monthly review Nov 2026",
    "🧹 Tomorrow (18 Dec) is Clean Day",
    "🧹 Today is Clean Day",
)


def english_half(post: SentMessage) -> str | None:
    """A bilingual group post from the line where its English begins (None: not known)."""
    text = post.text or ""
    for head in ENGLISH_HEADS:
        if head in text:
            return text[text.rfind("\n", 0, text.index(head)) + 1 :]
    return None


async def resident(harness: Harness, name: str) -> SimUser:
    user = harness.sandbox.add_user(name, language_code="en")
    await user.send("/start")
    pick = await user.wait_for(with_button("Maple Court"))
    await user.press(pick, "Maple Court")
    buildings = await user.wait_for(with_button("Block 1·East Zone"))
    await user.press(buildings, "Block 1·East Zone")
    await harness.settle()
    return user


async def invited(harness: Harness, name: str, role: Role, zone: str | None = None) -> SimUser:
    actor, _ = await harness.services.people.identify(ADMIN_ID, "Ms Liu", "en", True)
    invite, _ = await harness.services.invites.create(actor, role, zone)
    user = harness.sandbox.add_user(name, language_code="en")
    await user.send(f"/start inv_{invite.code}")
    await user.wait_for(has("You are now"))
    await harness.settle()
    return user


async def file_report(harness: Harness, user: SimUser, caption: str) -> tuple[str, SentMessage]:
    await user.send_photo(jpeg(), caption=caption)
    await user.press(await user.wait_for(with_button("Stairwell clutter")), "Stairwell clutter")
    await user.press(await user.wait_for(with_button("Block 1")), "Block 1")
    summary = await user.wait_for(with_button("✅ Submit"), timeout=10)
    await user.press(summary, "✅ Submit")
    await harness.sandbox.wait_until(lambda: "Received" in (summary.text or ""), timeout=10)
    match = NUMBER.search(summary.text or "")
    assert match, summary.text
    await harness.settle()
    return match.group(0), summary


async def bound_group(harness: Harness, *members: SimUser) -> SimGroup:
    group = harness.sandbox.add_group(
        "Maple Court residents", {harness.admin: "creator", **{m: "member" for m in members}}
    )
    await group.wait_for(has("/bind"))
    await harness.admin.in_group(group).send("/bind")
    await group.wait_for(has("is now bound"))
    return group


async def test_an_english_reader_never_gets_chinese_text(english: Harness) -> None:
    harness = english
    admin = harness.admin
    harness.clock.set(local(2026, 11, 16, 9, 0))  # a Monday
    cadre_name, cadre_code = harness.cadre_invites["Z1"]
    cadre = harness.sandbox.add_user(cadre_name, language_code="en")
    await cadre.send(f"/start inv_{cadre_code}")
    await cadre.wait_for(has("You are now"))
    leader = await invited(harness, "Mr Zhou", Role.LEADER)
    alice = await resident(harness, "Alice")
    group = await bound_group(harness, alice)

    for person in (alice, cadre, leader, admin):
        await person.send("/help")
    await harness.settle()

    # The closed loop: report with a photo, accept, fix, confirm, rate.
    number, summary = await file_report(harness, alice, "Boxes piled in the stairwell")
    assert "by 23 Nov 2026" in (summary.text or ""), "five working days, the reader's way"
    card = await cadre.wait_for(lambda m: number in (m.text or "") and bool(m.buttons))
    assert "Fix by: 23 Nov 2026" in (card.text or "")
    await cadre.press(card, "✅ Accept")
    await alice.wait_for(has("was accepted"))
    await harness.sandbox.wait_until(lambda: "📷 Fixed" in card.button_texts)
    await cadre.press(card, "📷 Fixed")
    await cadre.wait_for(has("after-photo"))
    await cadre.send_photo(jpeg("green"), caption="Cleared away")
    ask = await alice.wait_for(with_button("👍 Fixed"), timeout=10)
    await alice.press(ask, "👍 Fixed")
    await alice.press(await alice.wait_for(with_button("Satisfied")), "Satisfied")
    await harness.settle()

    for person, command in (
        (alice, "/my"),
        (alice, f"/ticket {number}"),
        (cadre, "/tickets"),
        (cadre, f"/ticket {number}"),
        (leader, "/digest"),
        (admin, "/settings"),
        (admin, "/set clean_day 40"),
        (admin, "/set digest_time noon"),
        (admin, "/community"),
        (admin, "/invite cadre Z2 3 10"),
        (admin, "/invites"),
        (admin, "/announce Clean-up on Saturday"),
    ):
        await person.send(command)
        await harness.settle()
    timeline = [m.text or "" for m in alice.inbox if number in (m.text or "")]
    assert any("Mon 16 Nov 2026 09:" in text for text in timeline), timeline
    settings = next(text for text in received(admin) if "Community rules" in text)
    assert "Days to fix = 5 (from 1 to 60)" in settings
    assert any("3 uses, valid until Thu 26 Nov 2026" in text for text in received(admin))

    # Invites refused: unknown, used up, revoked, expired.
    await alice.send("/start inv_notARealCode")
    once_actor, _ = await harness.services.people.identify(ADMIN_ID, "Ms Liu", "en", True)
    once, _ = await harness.services.invites.create(once_actor, Role.INSPECTOR)
    first, second = (harness.sandbox.add_user(n, language_code="en") for n in ("Ann", "Bob"))
    await first.send(f"/start inv_{once.code}")
    await first.wait_for(has("You are now"))
    await second.send(f"/start inv_{once.code}")
    revoked, _ = await harness.services.invites.create(once_actor, Role.INSPECTOR)
    await harness.services.invites.revoke(once_actor, revoked.code)
    await second.send(f"/start inv_{revoked.code}")
    late, _ = await harness.services.invites.create(once_actor, Role.LEADER, None, 1, 1)
    harness.clock.advance(timedelta(days=2))
    await second.send(f"/start inv_{late.code}")
    await harness.settle()
    refusals = received(second)
    for expected in ("used up", "revoked", "expired"):
        assert any(expected in text for text in refusals), refusals
    assert any("not valid" in text for text in received(alice))

    # A ticket left alone: reminders, late acceptance, overdue and escalation as days pass.
    harness.clock.set(local(2026, 11, 18, 9, 0))
    second_number, _ = await file_report(harness, alice, "More boxes")
    for day in (19, 20, 24, 25, 26, 27):
        harness.clock.set(local(2026, 11, day, 9, 0))
        await harness.services.deadlines.tick()
        await harness.settle()
    assert any(second_number in text and "overdue" in text for text in received(cadre))
    assert any("Escalation" in text and second_number in text for text in received(leader))

    # The month's rhythm in the group: the ranking, the Clean Day posts.
    for moment in (
        local(2026, 12, 1, 9, 0),
        local(2026, 12, 17, 19, 0),
        local(2026, 12, 18, 8, 0),
    ):
        harness.clock.set(moment)
        await harness.services.review.tick()
        await harness.services.rhythm.tick()
        await harness.settle()
    await leader.send("/digest")
    await harness.settle()

    for person in (alice, cadre, leader, admin, first, second):
        assert chinese(received(person)) == [], person.first_name
    assert chinese(answers(harness)) == []
    halves = {p.text: english_half(p) for p in group.inbox if p.text}
    assert [text for text, half in halves.items() if half is None] == []
    assert [half for half in halves.values() if half and CJK.search(half)] == []
    found = {head for head in ENGLISH_HEADS if any(head in (h or "") for h in halves.values())}
    assert found == set(ENGLISH_HEADS)
    # Group buttons say both: "中文 / English".
    buttons = [label for post in group.inbox for label in post.button_texts]
    assert "🙋 Sign up" in [label.split(" / ")[-1] for label in buttons]
    assert [label for label in buttons if CJK.search(label.split(" / ")[-1])] == []
