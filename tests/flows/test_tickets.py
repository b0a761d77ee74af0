"""The closed loop end to end: report → dispatch → accept → rectify → re-check → close,
and every way off the happy path."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image

from bot.domain.models import Role
from bot.domain.tickets import Status
from tests.flows.conftest import Harness, running_harness
from tests.flows.reporting import NUMBER, file_report, has, jpeg, ticket_message, with_button


async def _ticket(harness: Harness, number: str):
    async with harness.services.db.read() as tx:
        found = await tx.tickets.find_by_number(harness.community.id, number)
    assert found is not None
    return found


async def test_happy_path_from_photo_to_closed_with_reporter_told_each_step(
    harness: Harness,
) -> None:
    cadre = await harness.cadre("Z1")
    resident = await harness.resident("李明", building="1号楼")
    number = await file_report(harness.sandbox, resident)
    assert NUMBER.fullmatch(number)

    card = await ticket_message(cadre, number)
    assert card.photo is not None, "the cadre gets the before-photo"
    assert "楼道堆物" in (card.text or "") and "1号楼" in (card.text or "")
    notice = await cadre.wait_for(
        lambda m: m.photo is not None and f"整改通知单 {number}" in (m.text or ""), timeout=15
    )
    assert notice.photo is not None and notice.photo[:8] == b"\x89PNG\r\n\x1a\n"

    await cadre.press(card, "✅ 签收")
    await resident.wait_for(has("已由片区干部签收"))
    await harness.sandbox.wait_until(lambda: "📷 已整改" in card.button_texts)
    await cadre.press(card, "📷 已整改")
    await cadre.wait_for(has("整改后的照片"))
    await cadre.send_photo(jpeg("green"), caption="已清理完毕")
    await cadre.wait_for(has("已标记整改完成"))

    ask = await resident.wait_for(has("已整改"), timeout=10)
    assert ask.photo is not None and "已清理完毕" in (ask.text or "")
    await resident.press(ask, "👍 已解决")
    rate = await resident.wait_for(with_button("满意"))
    await resident.press(rate, "满意")
    await resident.wait_for(has("谢谢您的评价"))
    await cadre.wait_for(has("复查通过"))

    ticket = await _ticket(harness, number)
    assert ticket.status is Status.CLOSED
    assert ticket.rating is not None and ticket.rating.value == "satisfied"
    timeline = await harness.services.tickets.timeline(
        (await harness.services.people.identify(resident.id, "李明", None, False))[0], number
    )
    kinds = [e.kind.value for e in timeline.events]
    assert kinds[:3] == ["created", "dispatched", "accepted"]
    assert kinds[-3:] == ["confirmed", "closed", "rated"]


async def test_my_lists_the_reporters_tickets_and_ticket_shows_the_timeline(
    harness: Harness,
) -> None:
    await harness.cadre("Z1")
    resident = await harness.resident("王芳")
    number = await file_report(harness.sandbox, resident)
    await harness.settle()
    await resident.send("/my")
    mine = await resident.wait_for(has("我的上报"))
    assert number in (mine.text or "")
    await resident.send(f"/ticket {number}")
    timeline = await resident.wait_for(has("派单"))
    assert number in (timeline.text or "")


async def test_cadres_queue_lists_overdue_first(harness: Harness) -> None:
    cadre = await harness.cadre("Z1")
    resident = await harness.resident("钱居民")
    first = await file_report(harness.sandbox, resident, caption="第一件")
    await harness.settle()
    from datetime import timedelta

    harness.clock.advance(timedelta(days=10))
    second = await file_report(
        harness.sandbox, resident, caption="第二件", category="小广告/乱贴乱画"
    )
    await harness.settle()
    await harness.take_all(cadre)
    await cadre.send("/tickets")
    queue = (await cadre.wait_for(has("待办工单"))).text or ""
    assert queue.index(first) < queue.index(second)
    assert "🔴" in queue.split(second)[0]


async def test_transfer_to_another_zone_keeps_the_deadline(harness: Harness) -> None:
    cadre1, cadre2 = await harness.cadre("Z1"), await harness.cadre("Z2")
    resident = await harness.resident("孙居民")
    number = await file_report(harness.sandbox, resident)
    before = await _ticket(harness, number)
    card = await ticket_message(cadre1, number)
    await cadre1.press(card, "↪️ 转派")
    where = await cadre1.wait_for(with_button("西片区"))
    await cadre1.press(where, "西片区")
    await cadre1.wait_for(has("原因"))
    await cadre1.send("这是西片区的路段")
    await cadre1.wait_for(has("已转派"))
    moved = await cadre2.wait_for(has("转派给您"), timeout=10)
    assert "这是西片区的路段" in (moved.text or "")
    await resident.wait_for(has("转交"))
    after = await _ticket(harness, number)
    assert after.assignee_person_id != before.assignee_person_id
    assert after.due_at == before.due_at, "sending a ticket on never resets its deadline"
    assert after.transfer_count == 1


async def test_reject_with_reason_reaches_the_reporter(harness: Harness) -> None:
    cadre = await harness.cadre("Z1")
    resident = await harness.resident("周居民")
    number = await file_report(harness.sandbox, resident)
    card = await ticket_message(cadre, number)
    await cadre.press(card, "✖️ 退回")
    why = await cadre.wait_for(with_button("不属于本社区职责"))
    await cadre.press(why, "不属于本社区职责")
    await cadre.wait_for(has("原因"))
    await cadre.send("属于市政道路，已转告城管")
    told = await resident.wait_for(has("被退回"), timeout=10)
    assert "属于市政道路" in (told.text or "") and "不属于本社区职责" in (told.text or "")
    assert (await _ticket(harness, number)).status is Status.REJECTED


async def test_reporter_saying_not_fixed_reopens_with_a_fresh_deadline(harness: Harness) -> None:
    cadre = await harness.cadre("Z1")
    resident = await harness.resident("吴居民")
    number = await file_report(harness.sandbox, resident)
    card = await ticket_message(cadre, number)
    await cadre.press(card, "✅ 签收")
    await harness.sandbox.wait_until(lambda: "📷 已整改" in card.button_texts)
    await cadre.press(card, "📷 已整改")
    await cadre.send_photo(jpeg("blue"), caption="清理了")
    ask = await resident.wait_for(has("已整改"), timeout=10)
    from datetime import timedelta

    harness.clock.advance(timedelta(days=3))
    await resident.press(ask, "👎 没解决")
    await resident.wait_for(has("哪里还没解决"))
    await resident.send_photo(jpeg("gray"), caption="纸箱又堆回来了")
    await resident.wait_for(has("重新整改"))
    back = await cadre.wait_for(has("复查未通过"), timeout=10)
    assert "纸箱又堆回来了" in (back.text or "")
    ticket = await _ticket(harness, number)
    assert ticket.status is Status.ASSIGNED
    assert ticket.reopen_count == 1


async def test_duplicate_report_can_follow_the_open_ticket(harness: Harness) -> None:
    cadre = await harness.cadre("Z1")
    first = await harness.resident("报告人")
    number = await file_report(harness.sandbox, first)
    second = await harness.resident("邻居")
    await second.send_photo(jpeg("yellow"), caption="楼道堆物")
    await second.press(await second.wait_for(with_button("楼道堆物")), "楼道堆物")
    await second.press(await second.wait_for(with_button("1号楼")), "1号楼")
    offer = await second.wait_for(lambda m: any(number in t for t in m.button_texts), timeout=10)
    assert offer.photo is not None, "the open ticket is shown with its photo"
    await second.press(offer, 0)
    await harness.edited(offer, "已附议")
    ticket = await _ticket(harness, number)
    assert ticket.supporters == 1
    # The follower now hears of progress too.
    card = await ticket_message(cadre, number)
    await cadre.press(card, "✅ 签收")
    await second.wait_for(has("已由片区干部签收"), timeout=10)


async def test_inspector_recheck_closes_a_rectified_ticket(harness: Harness) -> None:
    cadre = await harness.cadre("Z1")
    inspector = await harness.with_role("赵督查", Role.INSPECTOR)
    resident = await harness.resident("郑居民")
    number = await file_report(harness.sandbox, resident)
    card = await ticket_message(cadre, number)
    await cadre.press(card, "✅ 签收")
    await harness.sandbox.wait_until(lambda: "📷 已整改" in card.button_texts)
    await cadre.press(card, "📷 已整改")
    await cadre.send_photo(jpeg("white"), caption="搬走了")
    await harness.settle()
    await inspector.send("/recheck")
    item = await inspector.wait_for(
        lambda m: number in (m.text or "") and "👍 已解决" in m.button_texts
    )
    await inspector.press(item, "👍 已解决")
    await inspector.wait_for(has("复查通过"))
    assert (await _ticket(harness, number)).status is Status.CLOSED


async def test_others_and_forged_buttons_cannot_change_a_ticket(harness: Harness) -> None:
    cadre1 = await harness.cadre("Z1")
    cadre2 = await harness.cadre("Z2")
    resident = await harness.resident("好奇的居民")
    number = await file_report(harness.sandbox, resident)
    await ticket_message(cadre1, number)  # the right cadre has it; nobody else may act
    ticket = await _ticket(harness, number)
    # Callback data is whatever a client sends: another zone's cadre and the reporter
    # send the real payload from messages in their own chats; junk and an old version too.
    await harness.settle()
    own2 = cadre2.inbox[-1]
    own_resident = resident.inbox[-1]
    outsider_press = await cadre2.press_data(own2, f"tk1:acc:{ticket.id}")
    resident_press = await resident.press_data(own_resident, f"tk1:acc:{ticket.id}")
    forged = await resident.press_data(own_resident, "tk1:acc:not-a-number")
    stale = await resident.press_data(own_resident, f"tk0:acc:{ticket.id}")
    await harness.settle()
    for press in (outsider_press, resident_press, forged, stale):
        answer = harness.sandbox.callback_answer(press["id"])
        assert answer is not None and answer.show_alert, press
    assert (await _ticket(harness, number)).status is Status.ASSIGNED
    assert (await _ticket(harness, number)).version == ticket.version


async def test_html_in_names_and_captions_is_escaped(harness: Harness) -> None:
    cadre = await harness.cadre("Z1")
    resident = await harness.resident("<b>坏人</b>&")
    number = await file_report(
        harness.sandbox, resident, caption="<script>alert(1)</script> & <i>"
    )
    card = await ticket_message(cadre, number)
    assert "<script>alert(1)</script> & <i>" in (card.text or ""), "shown literally, not parsed"
    await harness.settle()
    await harness.take_all(resident)
    await resident.send("/start")
    back = await resident.next_message()
    assert "<b>坏人</b>&" in (back.text or "")


async def test_corrupt_and_oversized_images_are_refused(harness: Harness) -> None:
    resident = await harness.resident("发坏图的人")
    good = jpeg()
    await resident.send_document(good[: len(good) // 3], "broken.jpg", "image/jpeg")
    assert "损坏" in ((await resident.next_message()).text or "")
    await resident.send_document(b"%PDF-1.4 not an image", "fake.jpg", "image/jpeg")
    assert "不是图片" in ((await resident.next_message()).text or "")
    bomb = io.BytesIO()
    Image.new("1", (12000, 12000)).save(bomb, "PNG")
    await resident.send_document(bomb.getvalue(), "huge.png", "image/png")
    assert "尺寸太大" in ((await resident.next_message()).text or "")
    assert (
        await harness.services.reports.current(
            (await harness.services.people.identify(resident.id, "x", None, False))[1]
        )
        is None
    )


async def test_stored_photo_has_no_exif(harness: Harness) -> None:
    await harness.cadre("Z1")
    resident = await harness.resident("隐私居民")
    exif = Image.Exif()
    exif[0x0110] = "PhoneModel"  # camera model
    exif[0x8825] = {1: "N", 2: (30.0, 16.0, 24.0)}  # GPS
    number = await file_report(harness.sandbox, resident, photo=jpeg(exif=exif.tobytes()))
    ticket = await _ticket(harness, number)
    async with harness.services.db.read() as tx:
        photos = await tx.tickets.photos(ticket.id, "before")
    stored = Image.open(harness.data_dir / photos[0].path)
    assert not stored.getexif()
    assert "exif" not in stored.info


async def _inspection_finding(harness: Harness, inspector) -> str:
    """An unannounced inspection of 东片区 that fails one item: the ticket's number."""
    await inspector.send("/inspect")
    zones = await inspector.wait_for(lambda m: any("东片区" in t for t in m.button_texts))
    await inspector.press(zones, next(t for t in zones.button_texts if "东片区" in t))
    site = await inspector.wait_for(with_button("本点位检查完毕 ➡️"))
    await inspector.press(site, next(t for t in site.button_texts if "无卫生死角" in t))
    await harness.sandbox.wait_until(lambda: any(t.startswith("❌") for t in site.button_texts))
    await inspector.press(site, "本点位检查完毕 ➡️")
    await inspector.wait_for(has("请拍一张照片"))
    await inspector.send_photo(jpeg("brown"))
    filed = await inspector.wait_for(has("已生成整改工单"))
    match = NUMBER.search(filed.text or "")
    assert match, filed.text
    return match.group(0)


async def _fix(harness: Harness, cadre, number: str) -> None:
    card = await ticket_message(cadre, number)
    await cadre.press(card, "✅ 签收")
    await harness.sandbox.wait_until(lambda: "📷 已整改" in card.button_texts)
    await cadre.press(card, "📷 已整改")
    await cadre.wait_for(has("整改后的照片"))
    await cadre.send_photo(jpeg("green"), caption="已清理")
    await cadre.wait_for(has("已标记整改完成"))


def _rating_prompts(user) -> list:
    return [m for m in user.inbox if "满意" in m.button_texts]


class TestRecheckIsNotRating:
    async def test_inspector_rechecking_own_finding_is_not_asked_to_rate(
        self, harness: Harness
    ) -> None:
        cadre = await harness.cadre("Z1")
        inspector = await harness.with_role("钱督查", Role.INSPECTOR)
        number = await _inspection_finding(harness, inspector)
        await _fix(harness, cadre, number)
        await harness.settle()
        await inspector.send("/recheck")
        item = await inspector.wait_for(
            lambda m: number in (m.text or "") and "👍 已解决" in m.button_texts
        )
        await inspector.press(item, "👍 已解决")
        await inspector.wait_for(has("复查通过"))
        await harness.settle()
        assert not _rating_prompts(inspector), "a re-check is not a satisfaction rating"
        assert not any("请为这次处理打分" in (m.text or "") for m in inspector.inbox)
        ticket = await _ticket(harness, number)
        assert ticket.status is Status.CLOSED and ticket.rating is None
        # A forged rating button changes nothing and says why.
        press = await inspector.press_data(item, f"tk1:rt:{ticket.id}:satisfied")
        await harness.settle()
        answer = harness.sandbox.callback_answer(press["id"])
        assert answer is not None and answer.show_alert
        assert "不参与满意度评价" in (answer.text or "")
        assert (await _ticket(harness, number)).rating is None

    async def test_inspector_closing_a_residents_report_leaves_the_rating_to_the_reporter(
        self, harness: Harness
    ) -> None:
        cadre = await harness.cadre("Z1")
        inspector = await harness.with_role("赵督查", Role.INSPECTOR)
        resident = await harness.resident("郑居民")
        number = await file_report(harness.sandbox, resident)
        await _fix(harness, cadre, number)
        await harness.settle()
        await inspector.send("/recheck")
        item = await inspector.wait_for(
            lambda m: number in (m.text or "") and "👍 已解决" in m.button_texts
        )
        await inspector.press(item, "👍 已解决")
        await inspector.wait_for(has("复查通过"))
        rate = await resident.wait_for(with_button("满意"), timeout=10)
        assert "打分" in (rate.text or "")
        await harness.settle()
        assert not _rating_prompts(inspector)
        await resident.press(rate, "基本满意")
        await resident.wait_for(has("谢谢您的评价"))
        assert (await _ticket(harness, number)).rating is not None


def local(*args: int) -> datetime:
    """A wall-clock time in Shanghai as the UTC instant the clock takes."""
    return datetime(*args, tzinfo=UTC) - timedelta(hours=8)


async def _tick(harness: Harness) -> None:
    await harness.services.deadlines.tick()
    await harness.settle()


async def test_reminders_name_the_day_nudge_to_accept_and_group_escalations(
    tmp_path: Path,
) -> None:
    async with running_harness(tmp_path, tick=False) as harness:
        cadre = await harness.cadre("Z1")
        leader = await harness.with_role("周书记", Role.LEADER)
        resident = await harness.resident("冯居民")
        # Filed on Monday 16 Nov: the last day to fix is Monday 23 Nov.
        numbers = [
            await file_report(harness.sandbox, resident, caption=f"问题{i}", category=category)
            for i, category in enumerate(("楼道堆物", "小广告/乱贴乱画", "卫生死角/垃圾"))
        ]
        await harness.settle()
        await harness.take_all(cadre)
        await harness.take_all(leader)

        # Wednesday: none accepted within a working day. The cadre is nudged once per
        # ticket with the Accept button; the leader gets one list, not three messages.
        harness.clock.set(local(2026, 11, 18, 10, 0))
        await _tick(harness)
        await _tick(harness)
        nudges = {
            n: [m for m in cadre.inbox if "仍未签收" in (m.text or "") and n in (m.text or "")]
            for n in numbers
        }
        assert all(len(found) == 1 for found in nudges.values()), nudges
        assert all("✅ 签收" in found[0].button_texts for found in nudges.values())
        late_lists = [m for m in leader.inbox if "仍未签收" in (m.text or "")]
        assert len(late_lists) == 1
        assert all(n in (late_lists[0].text or "") for n in numbers)

        for number in numbers[:2]:
            await cadre.press(nudges[number][0], "✅ 签收")
            on_time = await cadre.wait_for(has(f"已签收 {number}"))
            assert "2026年11月23日 前整改完毕" in (on_time.text or "")

        # Friday before a Monday deadline: not "tomorrow" but the day by name.
        harness.clock.set(local(2026, 11, 20, 9, 30))
        await _tick(harness)
        reminders = [m.text or "" for m in cadre.inbox if "⏰" in (m.text or "")]
        assert len(reminders) == 3
        assert all("周一（2026年11月23日）到期" in text for text in reminders), reminders
        assert not any("明天" in text for text in reminders)

        # Tuesday 24th: all three overdue; one escalation list per leader, once.
        harness.clock.set(local(2026, 11, 24, 11, 0))
        await _tick(harness)
        await _tick(harness)
        escalations = [m for m in leader.inbox if "个工单已超期" in (m.text or "")]
        assert len(escalations) == 1
        assert "3 个工单已超期" in (escalations[0].text or "")
        assert all(n in (escalations[0].text or "") for n in numbers)

        # Accepting late gives no date already past, to the cadre or the reporter.
        await harness.take_all(resident)
        late = numbers[2]
        await cadre.press(nudges[late][0], "✅ 签收")
        reply = await cadre.wait_for(has(f"已签收 {late}"))
        assert "已超期" in (reply.text or "") and "前整改完毕" not in (reply.text or "")
        told = await resident.wait_for(has("已由片区干部签收"), timeout=10)
        assert "已超期" in (told.text or "")


async def test_extension_days_can_be_typed_and_are_checked(harness: Harness) -> None:
    cadre = await harness.cadre("Z1")
    leader = await harness.with_role("吴书记", Role.LEADER)
    resident = await harness.resident("卫居民")
    number = await file_report(harness.sandbox, resident)
    card = await ticket_message(cadre, number)
    await cadre.press(card, "✅ 签收")
    await harness.sandbox.wait_until(lambda: "⏳ 申请延期" in card.button_texts)
    await cadre.press(card, "⏳ 申请延期")
    await cadre.wait_for(with_button("5 个工作日"))
    for bad in ("三天", "0", "40"):
        await cadre.send(bad)
        await cadre.wait_for(has("1 到 10 之间"))
    await cadre.send("8")
    await cadre.wait_for(has("延期 8 个工作日的原因"))
    await cadre.send("等待材料到货")
    await cadre.wait_for(has("已提交"))
    request = await leader.wait_for(with_button("不同意"), timeout=10)
    assert "申请延期 8 个工作日" in (request.text or "")
    before = await _ticket(harness, number)
    await leader.press(request, "不同意")
    await cadre.wait_for(has("延期未获批准"), timeout=10)
    await harness.settle()
    after = await _ticket(harness, number)
    assert after.due_at == before.due_at and after.extension_days is None
    assert not any("批准延期" in (m.text or "") for m in resident.inbox)
    # A forged day count beyond the bounds is refused before anything is remembered.
    press = await cadre.press_data(card, f"tk1:exd:{after.id}:99")
    await harness.settle()
    answer = harness.sandbox.callback_answer(press["id"])
    assert answer is not None and answer.show_alert


async def test_timeline_speaks_the_readers_words_in_the_communitys_time(
    harness: Harness,
) -> None:
    cadre = await harness.cadre("Z1")
    leader = await harness.with_role("陈书记", Role.LEADER)
    resident = await harness.resident("时间线居民")
    number = await file_report(harness.sandbox, resident)  # Monday 16 Nov, 09:00 local
    card = await ticket_message(cadre, number)
    await cadre.press(card, "✅ 签收")
    await harness.sandbox.wait_until(lambda: "⏳ 申请延期" in card.button_texts)
    await cadre.press(card, "⏳ 申请延期")
    await cadre.press(await cadre.wait_for(with_button("2 个工作日")), "2 个工作日")
    await cadre.wait_for(has("的原因"))
    await cadre.send("等吊车")
    await leader.press(await leader.wait_for(with_button("同意延期"), timeout=10), "同意延期")
    await leader.wait_for(has("新期限"))
    # Past the new deadline (Wednesday 25th): escalated.
    harness.clock.set(local(2026, 11, 26, 10, 0))
    await _tick(harness)
    await cadre.press(card, "📷 已整改")
    await cadre.wait_for(has("整改后的照片"))
    await cadre.send_photo(jpeg("green"), caption="吊走了")
    ask = await resident.wait_for(has("已整改"), timeout=10)
    await resident.press(ask, "👍 已解决")
    await resident.press(await resident.wait_for(with_button("满意")), "满意")
    await resident.wait_for(has("谢谢您的评价"))

    await harness.take_all(resident)
    await resident.send(f"/ticket {number}")
    text = (await resident.wait_for(has("派单"))).text or ""
    assert "2026年11月16日 09:00" in text, "times in the community's zone, not UTC"
    assert "申请延期 陈建国 — 2 个工作日：等吊车" in text
    assert "同意延期 陈书记 — 新期限 2026年11月25日" in text
    assert "超期督办" in text
    assert "评价" in text and "— 满意" in text
    for raw in ("overdue", "satisfied", "T16:00", "+00:00", "2d:"):
        assert raw not in text, raw


class TestActingFromListsAndCards:
    async def test_tickets_list_accepts_in_place_and_opens_cards_with_actions(
        self, harness: Harness
    ) -> None:
        cadre = await harness.cadre("Z1")
        resident = await harness.resident("列表居民")
        first = await file_report(harness.sandbox, resident, caption="一")
        second = await file_report(
            harness.sandbox, resident, caption="二", category="小广告/乱贴乱画"
        )
        await harness.settle()
        await harness.take_all(cadre)
        await cadre.send("/tickets")
        queue = await cadre.wait_for(has("待办工单"))
        assert f"{first} ✅ 签收" in queue.button_texts
        assert f"📄 {second} 详情" in queue.button_texts

        await cadre.press(queue, f"{first} ✅ 签收")
        reply = await cadre.wait_for(has(f"已签收 {first}"))
        assert "前整改完毕" in (reply.text or "")
        # The list keeps listing: the accepted one now offers the fix, the other still waits.
        await harness.sandbox.wait_until(lambda: f"{first} 📷 已整改" in queue.button_texts)
        assert f"{second} ✅ 签收" in queue.button_texts
        assert (await _ticket(harness, first)).status is Status.ACCEPTED

        await cadre.press(queue, f"📄 {second} 详情")
        card = await cadre.wait_for(
            lambda m: second in (m.text or "") and "派单" in (m.text or "")
        )
        assert {"✅ 签收", "↪️ 转派", "✖️ 退回"} <= set(card.button_texts)
        await cadre.press(card, "✖️ 退回")
        why = await cadre.wait_for(with_button("重复问题"))
        await cadre.press(why, "重复问题")
        await cadre.wait_for(has("原因"))
        await cadre.send("和另一条重复")
        await cadre.wait_for(has("已退回"))
        assert (await _ticket(harness, second)).status is Status.REJECTED

    async def test_ticket_by_short_number_carries_each_viewers_actions(
        self, harness: Harness
    ) -> None:
        cadre = await harness.cadre("Z1")
        other = await harness.cadre("Z2")
        resident = await harness.resident("卡片居民")
        number = await file_report(harness.sandbox, resident)
        assert number == "2026-0001"
        await ticket_message(cadre, number)
        await harness.take_all(cadre)

        await cadre.send("/ticket 1")
        card = await cadre.wait_for(lambda m: number in (m.text or "") and bool(m.buttons))
        assert "✅ 签收" in card.button_texts
        await cadre.press(card, "✅ 签收")
        await harness.sandbox.wait_until(lambda: "📷 已整改" in card.button_texts)
        assert "⏳ 申请延期" in card.button_texts

        await cadre.send(f"/ticket {number}")  # the full number still works
        again = await cadre.wait_for(
            lambda m: m is not card and number in (m.text or "") and "📷 已整改" in m.button_texts
        )
        await cadre.press(again, "📷 已整改")
        await cadre.wait_for(has("整改后的照片"))
        await cadre.send_photo(jpeg("green"), caption="好了")
        await cadre.wait_for(has("已标记整改完成"))

        # The reporter's card offers the re-check, not the cadre's steps.
        await harness.settle()
        await harness.take_all(resident)
        await resident.send("/ticket 1")
        mine = await resident.wait_for(has(number))
        assert set(mine.button_texts) == {"👍 已解决", "👎 没解决"}
        await resident.press(mine, "👍 已解决")
        await resident.wait_for(has("复查通过"))
        # Another zone's cadre may not see it at all.
        await other.send("/ticket 1")
        refused = await other.wait_for(has("不归您处理"))
        assert not refused.buttons
        await resident.send("/ticket 9")
        await resident.wait_for(has("没有找到这个工单"))
