"""Admins invite cadres, inspectors and leaders; groups are bound by admins only and
keep their binding when Telegram upgrades them to supergroups."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.domain.models import Role
from tests.flows.conftest import Harness


def _invite_payload(text: str) -> str:
    match = re.search(r"start=(inv_[A-Za-z0-9_-]+)", text)
    assert match, text
    return match.group(1)


async def test_admin_invite_link_gives_the_cadre_role_for_a_zone(harness: Harness) -> None:
    await harness.admin.send("/invite cadre Z2")
    link = await harness.admin.next_message()
    assert "https://t.me/jiayuan_bot?start=inv_" in (link.text or "")
    newcomer = harness.sandbox.add_user("孙干部")
    await newcomer.send(f"/start {_invite_payload(link.text or '')}")
    joined = await newcomer.next_message()
    assert "包片干部" in (joined.text or "") and "西片区" in (joined.text or "")
    help_text = await newcomer.next_message()
    assert "包片干部" in (help_text.text or "")
    await harness.admin.send("/people")
    people = (await harness.admin.next_message()).text or ""
    assert "孙干部" in people


async def test_invite_cannot_be_used_twice_or_after_expiry(harness: Harness) -> None:
    await harness.admin.send("/invite inspector")
    payload = _invite_payload((await harness.admin.next_message()).text or "")
    first, second = harness.sandbox.add_user("甲"), harness.sandbox.add_user("乙")
    await first.send(f"/start {payload}")
    assert "督查员" in ((await first.next_message()).text or "")
    await second.send(f"/start {payload}")
    assert "使用次数已满" in ((await second.next_message()).text or "")

    await harness.admin.send("/invite leader 1 1")
    payload = _invite_payload((await harness.admin.next_message()).text or "")
    harness.clock.advance(timedelta(days=2))
    late = harness.sandbox.add_user("丙")
    await late.send(f"/start {payload}")
    assert "已过期" in ((await late.next_message()).text or "")


async def test_forged_invite_code_is_refused(harness: Harness) -> None:
    user = harness.sandbox.add_user("冒充者")
    await user.send("/start inv_notARealCode")
    assert "无效" in ((await user.next_message()).text or "")


async def test_residents_cannot_invite_or_create(harness: Harness) -> None:
    resident = await harness.resident("普通居民")
    await resident.send("/invite admin")
    assert "没有权限" in ((await resident.next_message()).text or "")
    await resident.send("/newcommunity x 新社区")
    assert "没有权限" in ((await resident.next_message()).text or "")


async def test_admin_revokes_a_role(harness: Harness) -> None:
    leader = await harness.with_role("周书记", Role.LEADER)
    _, person = await harness.services.people.identify(leader.id, "周书记", None, False)
    await harness.admin.send(f"/revoke {person.id} leader")
    assert "已撤销" in ((await harness.admin.next_message()).text or "")
    await leader.send("/help")
    assert "<b>领导</b>" not in ((await leader.next_message()).raw.get("text") or "")


async def test_bind_by_community_admin_who_admins_the_group(harness: Harness) -> None:
    resident = await harness.resident("群成员")
    group = harness.sandbox.add_group(
        "幸福里业主群", {harness.admin: "administrator", resident: "member"}
    )
    hello = await group.wait_for(lambda m: "/bind" in (m.text or ""))
    assert "家园" in (hello.text or "")
    await harness.admin.in_group(group).send("/bind")
    bound = await group.wait_for(lambda m: "已绑定" in (m.text or ""))
    assert "幸福里社区" in (bound.text or "")
    found = await harness.services.communities.group(group.chat_id)
    assert found is not None and found.community_id == harness.community.id


async def test_bind_is_refused_for_a_group_member_who_is_not_its_admin(harness: Harness) -> None:
    # The community admin is only a plain member of this group.
    group = harness.sandbox.add_group("另一个群", {harness.admin: "member"})
    await group.wait_for(lambda m: "/bind" in (m.text or ""))
    await harness.admin.in_group(group).send("/bind")
    refusal = await group.wait_for(
        lambda m: "管理员" in (m.text or "") and "绑定" in (m.text or "")
    )
    assert "只有本群的管理员" in (refusal.text or "")
    assert await harness.services.communities.group(group.chat_id) is None


async def test_bind_is_refused_for_a_group_admin_who_is_not_a_community_admin(
    harness: Harness,
) -> None:
    resident = await harness.resident("群主居民")
    group = harness.sandbox.add_group("居民自建群", {resident: "creator"})
    await group.wait_for(lambda m: "/bind" in (m.text or ""))
    await resident.in_group(group).send("/bind")
    refusal = await group.wait_for(lambda m: "社区管理员" in (m.text or ""))
    assert "只有社区管理员" in (refusal.text or "")


async def test_binding_survives_migration_to_supergroup(harness: Harness) -> None:
    group = harness.sandbox.add_group("老群", {harness.admin: "creator"}, supergroup=False)
    await group.wait_for(lambda m: "/bind" in (m.text or ""))
    await harness.admin.in_group(group).send("/bind")
    await group.wait_for(lambda m: "已绑定" in (m.text or ""))
    old_id = group.chat_id
    supergroup = group.migrate_to_supergroup()
    await harness.settle()
    assert supergroup.chat_id != old_id
    assert await harness.services.communities.group(old_id) is None
    moved = await harness.services.communities.group(supergroup.chat_id)
    assert moved is not None and moved.community_id == harness.community.id


async def test_invites_lists_open_links_and_revoke_edits_the_list_and_kills_the_link(
    harness: Harness,
) -> None:
    await harness.admin.send("/invite cadre Z2 3 7")
    payload = _invite_payload((await harness.admin.next_message()).text or "")
    await harness.admin.send("/invite inspector")
    await harness.admin.next_message()

    await harness.admin.send("/invites")
    listing = await harness.admin.wait_for(lambda m: "未用完的邀请" in (m.text or ""))
    text = listing.text or ""
    assert "包片干部（西片区）：还可使用 3/3 次" in text
    assert "2026年11月23日" in text, "the cadre link's expiry, 7 days on, in Chinese"
    assert "督查员：还可使用 1/1 次" in text
    lines = text.splitlines()[1:]
    assert len(listing.button_texts) == len(lines), "one Revoke button per link"
    number = next(line.split(".")[0] for line in lines if "还可使用 3/3 次" in line)

    await harness.admin.press(listing, f"🚫 撤销 {number}")
    await harness.edited(listing, "已撤销")
    assert "3/3" not in (listing.text or "") and "督查员" in (listing.text or "")
    assert len(listing.button_texts) == len(lines) - 1

    newcomer = harness.sandbox.add_user("钱干部")
    await newcomer.send(f"/start {payload}")
    assert "已被撤销" in ((await newcomer.next_message()).text or "")


async def test_invites_are_listed_in_english_for_an_english_reader(harness: Harness) -> None:
    admin = await harness.with_role("Alice", Role.ADMIN, language_code="en")
    await admin.send("/invite leader 2 3")
    await admin.next_message()
    await admin.send("/invites")
    listing = await admin.wait_for(lambda m: "Open invites" in (m.text or ""))
    last = (listing.text or "").splitlines()[-1]
    assert "leader: 2 of 2 use(s) left, expires 2026-11-19 09:00" in last
    assert f"🚫 Revoke {last.split('.')[0]}" in listing.button_texts


async def test_a_forged_revoke_button_from_a_non_admin_changes_nothing(harness: Harness) -> None:
    await harness.admin.send("/invite inspector")
    payload = _invite_payload((await harness.admin.next_message()).text or "")
    code = payload.removeprefix("inv_")
    resident = await harness.resident("好奇居民")
    await resident.send("/help")
    shown = await resident.next_message()
    # The resident replays callback data they should never have been given.
    await resident.press_data(shown, f"iv1:rev:{code}")
    await harness.settle()
    assert "没有权限" in (resident.callback_answers[-1].text or "")
    taker = harness.sandbox.add_user("孙督查")
    await taker.send(f"/start {payload}")
    assert "督查员" in ((await taker.next_message()).text or "")
