"""The report flow off the straight path: no photo, albums, cancel, groups, limits,
extensions, imports in chat."""

from __future__ import annotations

from bot.domain.models import Role
from tests.factories import EXAMPLES
from tests.flows.conftest import Harness
from tests.flows.reporting import file_report, has, jpeg, ticket_message, with_button


async def test_text_only_report_is_nudged_for_a_photo_and_can_go_on_without(
    harness: Harness,
) -> None:
    await harness.cadre("Z1")
    resident = await harness.resident("没带手机的人")
    await resident.send("/report")
    nudge = await resident.wait_for(with_button("不带照片继续"))
    assert "照片" in (nudge.text or "")
    await resident.press(nudge, "不带照片继续")
    await resident.press(
        await resident.wait_for(with_button("小广告/乱贴乱画")), "小广告/乱贴乱画"
    )
    await resident.press(await resident.wait_for(with_button("2号楼")), "2号楼")
    await resident.wait_for(has("一句话描述"))
    await resident.send("单元门上贴满开锁广告")
    summary = await resident.wait_for(with_button("✅ 确认上报"))
    assert "单元门上贴满开锁广告" in (summary.text or "") and "照片：0 张" in (summary.text or "")
    await resident.press(summary, "✅ 确认上报")
    await harness.edited(summary, "已受理")


async def test_an_album_makes_one_report_with_all_photos_asked_once(harness: Harness) -> None:
    resident = await harness.resident("拍了三张的人")
    for color in ("red", "green", "blue"):
        await resident.send_photo(
            jpeg(color), caption="乱堆" if color == "red" else None, media_group_id="album1"
        )
    await harness.settle()
    prompts = [m for m in await harness.take_all(resident) if "这是什么问题" in (m.text or "")]
    assert len(prompts) == 1
    _, person = await harness.services.people.identify(resident.id, "x", None, False)
    view = await harness.services.reports.current(person)
    assert view is not None and len(view.draft.photos) == 3


async def test_cancel_drops_the_draft_at_any_step(harness: Harness) -> None:
    resident = await harness.resident("改主意的人")
    await resident.send_photo(jpeg())
    await resident.wait_for(with_button("楼道堆物"))
    await resident.send("/cancel")
    assert "已取消" in ((await resident.wait_for(has("取消"))).text or "")
    person = await harness.services.people.find(resident.id)
    assert person is not None and await harness.services.reports.current(person) is None


async def test_report_in_a_group_is_sent_to_private_chat(harness: Harness) -> None:
    resident = await harness.resident("群里的人")
    group = harness.sandbox.add_group("楼栋群", {harness.admin: "creator", resident: "member"})
    await group.wait_for(has("/bind"))
    await resident.in_group(group).send("/report")
    answer = await group.wait_for(has("私聊"))
    assert answer.buttons[0][1] == "https://t.me/jiayuan_bot?start=report"
    await resident.in_group(group).send_photo(jpeg(), caption="#报告 垃圾没人收")
    await group.wait_for(has("私聊"))
    # The deep link starts a private report.
    await resident.send("/start report")
    await resident.wait_for(with_button("不带照片继续"))


async def test_blocked_person_cannot_report(harness: Harness) -> None:
    resident = await harness.resident("捣乱的人")
    person = await harness.services.people.find(resident.id)
    assert person is not None
    await harness.admin.send(f"/block {person.id}")
    assert "暂停" in ((await harness.admin.next_message()).text or "")
    await resident.send_photo(jpeg())
    assert "暂停" in ((await resident.next_message()).text or "")
    await harness.admin.send(f"/unblock {person.id}")
    await harness.admin.next_message()
    await resident.send_photo(jpeg("blue"))
    await resident.wait_for(with_button("楼道堆物"))


async def test_extension_asked_by_cadre_and_granted_by_leader(harness: Harness) -> None:
    cadre = await harness.cadre("Z1")
    leader = await harness.with_role("周书记", Role.LEADER)
    resident = await harness.resident("等整改的人")
    number = await file_report(harness.sandbox, resident)
    before = await harness.services.tickets.timeline(
        (await harness.services.people.identify(resident.id, "x", None, False))[0], number
    )
    card = await ticket_message(cadre, number)
    await cadre.press(card, "✅ 签收")
    await harness.sandbox.wait_until(lambda: "⏳ 申请延期" in card.button_texts)
    await cadre.press(card, "⏳ 申请延期")
    days = await cadre.wait_for(with_button("3 个工作日"))
    await cadre.press(days, "3 个工作日")
    await cadre.wait_for(has("延期 3 个工作日的原因"))
    await cadre.send("需要等物业调来吊车")
    await cadre.wait_for(has("延期申请（3 个工作日）已提交"))
    request = await leader.wait_for(with_button("同意延期"), timeout=10)
    assert "需要等物业调来吊车" in (request.text or "")
    assert "申请延期 3 个工作日" in (request.text or ""), "the leader sees the days asked for"
    await leader.press(request, "同意延期")
    # Due Monday 23 Nov; three more working days: Thursday 26 Nov.
    await leader.wait_for(has("新期限 2026年11月26日"))
    await cadre.wait_for(has("延期已批准"), timeout=10)
    told = await resident.wait_for(has("批准延期"), timeout=10)
    assert "2026年11月26日" in (told.text or "")
    after = await harness.services.tickets.timeline(
        (await harness.services.people.identify(resident.id, "x", None, False))[0], number
    )
    assert after.ticket.due_at is not None and before.ticket.due_at is not None
    assert after.ticket.due_at > before.ticket.due_at


async def test_admin_imports_a_workbook_in_chat_and_sees_row_errors(harness: Harness) -> None:
    data = (EXAMPLES / "broken.xlsx").read_bytes()
    await harness.admin.send_document(
        data,
        "broken.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        caption="/import",
    )
    failed = await harness.admin.wait_for(has("导入失败"), timeout=10)
    for row in ("片区 第5行", "楼栋 第4行", "点位 第5行", "点位 第9行"):
        assert row in (failed.text or "")
    good = (EXAMPLES / "community.xlsx").read_bytes()
    await harness.admin.send_document(
        good,
        "community.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        caption="/import",
    )
    done = await harness.admin.wait_for(has("导入完成"), timeout=10)
    assert "片区 3 个" in (done.text or "")


async def test_admin_adds_zone_and_site_and_sees_the_overview(harness: Harness) -> None:
    await harness.admin.send("/addzone Z4 南片区")
    assert "南片区" in ((await harness.admin.next_message()).text or "")
    await harness.admin.send("/addsite 南门菜场 / 农贸市场 / Z4")
    assert "南门菜场" in ((await harness.admin.next_message()).text or "")
    await harness.admin.send("/addzone Z4 重复")
    assert "已存在" in ((await harness.admin.next_message()).text or "")
    await harness.admin.send("/community")
    overview = (await harness.admin.next_message()).text or ""
    assert "片区 4 个" in overview and "点位 13 个" in overview and "南片区" in overview
