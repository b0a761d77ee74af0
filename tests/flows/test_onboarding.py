"""Residents start, choose their community and building (or share a location), and
pick a language; /help explains what each person can do."""

from __future__ import annotations

from bot.domain.models import Role
from tests.flows.conftest import Harness


async def test_start_walks_a_newcomer_to_community_and_building(harness: Harness) -> None:
    user = harness.sandbox.add_user("李明", language_code="zh-hans")
    await user.send("/start")
    welcome = await user.next_message()
    assert "欢迎使用" in (welcome.text or "")
    picker = await user.next_message()
    assert picker.button_texts == ["幸福里社区"]
    await user.press(picker, "幸福里社区")
    buildings = await user.wait_for(lambda m: "1号楼·东片区" in m.button_texts)
    assert len([t for t in buildings.button_texts if "号楼" in t]) == 6
    await user.press(buildings, "3号楼·西片区")
    done = await harness.edited(buildings, "已登记")
    assert "3号楼" in (done.text or "") and "西片区" in (done.text or "")
    await harness.settle()
    _, person = await harness.services.people.identify(user.id, "李明", None, False)
    assert person.community_id == harness.community.id
    assert person.zone_id is not None


async def test_returning_resident_is_welcomed_back_with_their_home(harness: Harness) -> None:
    user = await harness.resident("王芳", building="2号楼")
    await user.send("/start")
    back = await user.next_message()
    assert "欢迎回来" in (back.text or "")
    assert "东片区" in (back.text or "") and "2号楼" in (back.text or "")


async def test_registered_resident_changes_building_from_start_or_building(
    harness: Harness,
) -> None:
    user = await harness.resident("搬家户", building="1号楼")
    await user.send("/start")
    back = await user.wait_for(lambda m: "欢迎回来" in (m.text or ""))
    await user.press(back, "🏠 更换楼栋")
    picker = await user.wait_for(lambda m: "5号楼·北片区" in m.button_texts)
    await user.press(picker, "5号楼·北片区")
    await harness.edited(picker, "已登记")
    await harness.settle()
    _, person = await harness.services.people.identify(user.id, "搬家户", None, False)
    _, zone, building = await harness.services.people.home(person)
    assert building is not None and building.name == "5号楼"
    assert zone is not None and zone.name == "北片区"

    await harness.take_all(user)
    await user.send("/building")
    picker = await user.wait_for(lambda m: "2号楼·东片区" in m.button_texts)
    await user.press(picker, "2号楼·东片区")
    await harness.edited(picker, "已登记")
    await user.send("/start")
    assert "2号楼" in ((await user.wait_for(lambda m: "欢迎回来" in (m.text or ""))).text or "")


async def test_shared_location_places_the_resident_in_the_nearest_zone(harness: Harness) -> None:
    user = harness.sandbox.add_user("赵强")
    await user.send("/start")
    picker = await user.wait_for(lambda m: "幸福里社区" in m.button_texts)
    await user.press(picker, "幸福里社区")
    await harness.settle()
    await harness.take_all(user)
    await user.send_location(30.27405, 120.14815)  # beside 3号楼, west zone
    matched = await user.wait_for(lambda m: "西片区" in (m.text or ""))
    assert "3号楼" in (matched.text or "")


async def test_language_switch_changes_the_bots_replies(harness: Harness) -> None:
    user = await harness.resident("Tom", language_code="zh-hans")
    await user.send("/language")
    choose = await user.next_message()
    await user.press(choose, "English")
    confirmed = await harness.edited(choose, "English.")
    assert confirmed.text == "Language set to English."
    await user.send("/help")
    help_text = await user.next_message()
    assert "Jiayuan · Help" in (help_text.text or "")


async def test_english_telegram_users_get_english_by_default(harness: Harness) -> None:
    user = harness.sandbox.add_user("Alice", language_code="en-GB")
    await user.send("/start")
    welcome = await user.next_message()
    assert "Welcome to <b>Jiayuan</b>" in (
        welcome.raw.get("text") or ""
    ) or "Welcome to Jiayuan" in (welcome.text or "")


async def test_help_differs_by_role(harness: Harness) -> None:
    resident = await harness.resident("居民甲")
    await resident.send("/help")
    resident_help = (await resident.next_message()).text or ""
    await harness.admin.send("/help")
    admin_help = (await harness.admin.next_message()).text or ""
    assert "随手拍" in resident_help
    assert "/activities" in resident_help and "/volunteer" in resident_help
    assert "/nominate" not in resident_help and "/apply 文明卫生户" in resident_help
    assert "/building" in resident_help
    assert "/invite" not in resident_help and "/newcommunity" not in resident_help
    assert "/invite" in admin_help and "/newcommunity" in admin_help
    inspector = await harness.with_role("督查员乙", Role.INSPECTOR)
    await inspector.send("/help")
    inspector_help = (await inspector.next_message()).text or ""
    assert "督查员" in inspector_help and "/invite" not in inspector_help


async def test_menu_commands_are_set_per_scope_and_language(harness: Harness) -> None:
    private_zh = harness.sandbox.commands(scope_type="all_private_chats", language_code="")
    private_en = harness.sandbox.commands(scope_type="all_private_chats", language_code="en")
    groups_zh = harness.sandbox.commands(scope_type="all_group_chats", language_code="")
    assert {c["command"] for c in private_zh} >= {"start", "report", "my", "help", "language"}
    assert any(c["description"] == "Help" for c in private_en)
    assert any(c["description"] == "使用帮助" for c in private_zh)
    assert "bind" in {c["command"] for c in groups_zh}
