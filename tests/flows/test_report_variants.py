"""The report flow off the straight path: no photo, albums, cancel, groups, limits,
extensions, imports in chat."""

from __future__ import annotations

from bot.domain.models import Role
from bot.sandbox import SentMessage, SimUser
from tests.factories import EXAMPLES
from tests.flows.conftest import Harness
from tests.flows.reporting import NUMBER, file_report, has, jpeg, ticket_message, with_button


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


async def _to_summary(harness: Harness, name: str, caption: str) -> tuple[SimUser, SentMessage]:
    """A resident with a photo report waiting at the confirmation."""
    resident = await harness.resident(name)
    await resident.send_photo(jpeg("olive"), caption=caption)
    await resident.press(await resident.wait_for(with_button("楼道堆物")), "楼道堆物")
    await resident.press(await resident.wait_for(with_button("2号楼")), "2号楼")
    return resident, await resident.wait_for(with_button("✅ 确认上报"), timeout=10)


class TestPhonePrompt:
    async def test_typed_phone_is_stored_as_the_shared_phone_not_the_description(
        self, harness: Harness
    ) -> None:
        cadre = await harness.cadre("Z1")
        resident, summary = await _to_summary(harness, "打字的人", "楼道里堆着旧沙发")
        await resident.press(summary, "📞 提供电话给干部")
        prompt = await resident.wait_for(has("手机号"))
        assert prompt.button("📞 提供电话给干部").get("request_contact") is True
        await resident.send("+86 138-0013-8000")
        await resident.wait_for(has("电话只会给负责处理的干部"))
        again = await resident.wait_for(with_button("✅ 确认上报"), timeout=10)
        assert "楼道里堆着旧沙发" in (again.text or "") and "已同意" in (again.text or "")
        assert "13800138000" not in (again.text or "")
        person = await harness.services.people.find(resident.id)
        assert person is not None and person.phone == "13800138000"
        await resident.press(again, "✅ 确认上报")
        await harness.edited(again, "已受理")
        number = NUMBER.search(again.text or "")
        assert number is not None
        card = await ticket_message(cadre, number.group(0))
        assert "13800138000" in (card.text or "")
        assert "楼道里堆着旧沙发" in (card.text or "")

    async def test_text_that_is_not_a_mobile_is_refused_with_the_button_again(
        self, harness: Harness
    ) -> None:
        resident, summary = await _to_summary(harness, "手滑的人", "单元门口堆着杂物")
        await resident.press(summary, "📞 提供电话给干部")
        await resident.wait_for(has("手机号"))
        for typed in ("12345", "电话是 2800138000"):
            await resident.send(typed)
            refused = await resident.wait_for(has("不是有效的手机号"))
            assert refused.button("📞 提供电话给干部").get("request_contact") is True
        person = await harness.services.people.find(resident.id)
        assert person is not None
        view = await harness.services.reports.current(person)
        assert view is not None
        assert view.draft.description == "单元门口堆着杂物" and not view.draft.share_phone
        # The shared contact still works after a refusal.
        await resident.press(refused, "📞 提供电话给干部")
        await resident.wait_for(has("电话只会给负责处理的干部"))
        again = await resident.wait_for(with_button("✅ 确认上报"), timeout=10)
        assert "已同意" in (again.text or "") and "单元门口堆着杂物" in (again.text or "")


async def test_duplicate_card_shows_no_text_of_the_other_resident(harness: Harness) -> None:
    await harness.cadre("Z1")
    first = await harness.resident("先报的人")
    private = "张三 13800138000 楼道堆满纸箱"
    number = await file_report(harness.sandbox, first, caption=private)
    second = await harness.resident("后报的人")
    await second.send_photo(jpeg("yellow"), caption="纸箱")
    await second.press(await second.wait_for(with_button("楼道堆物")), "楼道堆物")
    await second.press(await second.wait_for(with_button("1号楼")), "1号楼")
    offer = await second.wait_for(lambda m: any(number in t for t in m.button_texts), timeout=10)
    shown = offer.text or ""
    assert offer.photo is not None
    assert "楼道堆物" in shown and "1号楼" in shown and "2026年11月16日" in shown
    await second.press(offer, 0)
    await harness.edited(offer, "已附议")
    # A follower asking for the ticket is refused, not shown its description.
    await second.send(f"/ticket {number}")
    await second.wait_for(has("不归您"))
    await harness.settle()
    seen = " ".join((m.text or "") for m in second.inbox)
    assert "13800138000" not in seen and "张三" not in seen and "楼道堆满纸箱" not in seen


class TestPlacePicker:
    async def test_pages_hold_every_building_and_site_even_after_one_is_added(
        self, harness: Harness
    ) -> None:
        await harness.admin.send("/addsite 东门菜场 / 农贸市场 / Z1")
        await harness.admin.wait_for(has("东门菜场"))
        resident = await harness.resident("翻页的人")
        await resident.send_photo(jpeg("teal"))
        await resident.press(await resident.wait_for(with_button("楼道堆物")), "楼道堆物")
        picker = await resident.wait_for(has("第 1/"))
        assert picker.button_texts[:2] == ["1号楼", "2号楼"], "own zone, own building first"
        seen: list[str] = []
        page = 1
        while True:
            seen += [t for t in picker.button_texts if "页" not in t]
            if "下一页 ▶" not in picker.button_texts:
                break
            page += 1
            await resident.press(picker, "下一页 ▶")
            await harness.edited(picker, f"第 {page}/")
            assert "◀ 上一页" in picker.button_texts
        async with harness.services.db.read() as tx:
            names = [b.name for b in await tx.buildings.list_by_community(harness.community.id)]
            names += [s.name for s in await tx.sites.list_by_community(harness.community.id)]
        assert sorted(seen) == sorted(names) and len(names) > 12
        assert "和平街" in seen and "东门菜场" in seen
        await resident.press(picker, "和平街")
        await harness.edited(picker, "位置：和平街")
        await resident.wait_for(has("一句话描述"))

    async def test_typed_name_finds_the_place_and_no_match_keeps_the_picker(
        self, harness: Harness
    ) -> None:
        resident = await harness.resident("打字找地方的人")
        await resident.send("/report")
        await resident.press(await resident.wait_for(with_button("不带照片继续")), "不带照片继续")
        category = await resident.wait_for(with_button("小广告/乱贴乱画"))
        await resident.press(category, "小广告/乱贴乱画")
        await harness.edited(category, "类别：小广告/乱贴乱画")
        await resident.wait_for(has("第 1/"))
        await resident.send("火星基地")
        await resident.wait_for(has("没有找到名称含“火星基地”"))
        await resident.wait_for(has("第 1/"))
        await resident.send("和平")
        found = await resident.wait_for(with_button("和平街"))
        assert "查看全部地点" in found.button_texts
        await resident.press(found, "和平街")
        await harness.edited(found, "位置：和平街")
        await resident.wait_for(has("一句话描述"))
        person = await harness.services.people.find(resident.id)
        assert person is not None
        view = await harness.services.reports.current(person)
        assert view is not None and view.place_name == "和平街"
        assert view.draft.description is None, "a search is not the description"


async def test_long_description_is_clipped_and_the_resident_is_told(harness: Harness) -> None:
    resident = await harness.resident("写了很多的人")
    await resident.send("/report")
    await resident.press(await resident.wait_for(with_button("不带照片继续")), "不带照片继续")
    await resident.press(await resident.wait_for(with_button("楼道堆物")), "楼道堆物")
    await resident.press(await resident.wait_for(with_button("1号楼")), "1号楼")
    await resident.wait_for(has("一句话描述"))
    await resident.send("堆" * 5000)
    told = await resident.wait_for(has("只保留了前 500 字"))
    assert "5000" in (told.text or "")
    summary = await resident.wait_for(with_button("✅ 确认上报"))
    assert "堆" * 500 in (summary.text or "") and "堆" * 501 not in (summary.text or "")


async def test_another_choice_after_the_phone_prompt_ends_it(harness: Harness) -> None:
    resident, summary = await _to_summary(harness, "改主意不给电话的人", "垃圾桶满了")
    await resident.press(summary, "📞 提供电话给干部")
    await resident.wait_for(has("手机号"))
    await resident.press(summary, "切换匿名/实名")
    await harness.edited(summary, "实名")
    await resident.wait_for(with_button("✅ 确认上报"))
    await resident.send("垃圾桶满了两天没人收")
    again = await resident.wait_for(with_button("✅ 确认上报"))
    assert "垃圾桶满了两天没人收" in (again.text or "") and "不向处理干部提供电话" in (
        again.text or ""
    )
    assert not any("不是有效的手机号" in (m.text or "") for m in resident.inbox)
