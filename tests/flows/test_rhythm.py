"""The monthly rhythm end to end, with the clock set: Clean Day posts, volunteers,
inspections, digests and broadcasts."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta

from bot.app import start_bot
from bot.domain.models import Role
from bot.domain.tickets import OPEN_STATUSES
from bot.notify.pacing import Limits
from bot.sandbox import FloodLimits, SentMessage, SimGroup, SimUser
from bot.services.volunteers import SIGNUP_PREFIX
from storage.rows import to_db_time
from tests.flows.conftest import Harness
from tests.flows.reporting import file_report, has, jpeg, with_button

SHANGHAI = timedelta(hours=8)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC) - SHANGHAI


async def bound_group(harness: Harness, *members: SimUser) -> SimGroup:
    group = harness.sandbox.add_group(
        "幸福里社区群", {harness.admin: "creator", **{m: "member" for m in members}}
    )
    await group.wait_for(has("/bind"))
    await harness.admin.in_group(group).send("/bind")
    await group.wait_for(has("已绑定"))
    return group


def clean_posts(group: SimGroup) -> list[str]:
    return [m.text or "" for m in group.inbox if "是清洁日" in (m.text or "")]


async def test_clean_day_posts_once_each_even_across_a_restart(harness: Harness) -> None:
    group = await bound_group(harness)
    harness.clock.set(local(2026, 12, 17, 18, 59))
    await harness.services.rhythm.tick()
    await harness.settle()
    assert clean_posts(group) == []

    harness.clock.set(local(2026, 12, 17, 19, 0))
    await harness.services.rhythm.tick()
    await harness.services.rhythm.tick()
    await harness.settle()
    eve = clean_posts(group)
    assert len(eve) == 1 and "明天（12月18日）是清洁日" in eve[0]

    # The bot is down from 07:50 to 08:20 on the 18th; the job queue's first tick after
    # the restart sends the call-out, once.
    harness.clock.set(local(2026, 12, 18, 7, 50))
    await harness.runtime.stop()
    harness.clock.set(local(2026, 12, 18, 8, 20))
    harness.runtime = await start_bot(
        harness.runtime.settings,
        harness.clock,
        poll_timeout=1,
        outbox_limits=Limits(per_chat_interval_s=0),
    )
    await harness.sandbox.wait_until(lambda: len(clean_posts(group)) == 2, timeout=15)
    await harness.services.rhythm.tick()
    await harness.settle()
    posts = clean_posts(group)
    assert len(posts) == 2 and "今天是清洁日" in posts[1]
    call_out = next(m for m in group.inbox if "今天是清洁日" in (m.text or ""))
    assert call_out.buttons[0][1].startswith(f"https://t.me/jiayuan_bot?start={SIGNUP_PREFIX}")

    # A restart on the 19th does not send yesterday's call-out again.
    harness.clock.set(local(2026, 12, 19, 9, 0))
    await harness.services.rhythm.tick()
    await harness.settle()
    assert len(clean_posts(group)) == 2


async def test_sign_up_waitlist_promotion_check_in_and_hours(harness: Harness) -> None:
    harness.clock.set(local(2026, 12, 1, 9, 0))
    cadre = await harness.cadre("Z1")
    people = [await harness.resident(name) for name in ("甲", "乙", "丙")]
    await cadre.send("/newactivity 2026-12-05 09:00 2 2 河道清理 / 幸福路（东段）")
    created = await cadre.wait_for(has("已创建活动"))
    activity_id = int((created.text or "").split("#")[1].split()[0])
    async with harness.services.db.transaction() as tx:  # meet at the street's coordinates
        await tx.conn.execute(
            "UPDATE volunteer_activities SET lat = 30.2742, lon = 120.1562 WHERE id = ?",
            (activity_id,),
        )
    # One after another: sign-ups sent at the same instant are handled in parallel (one
    # task per chat), so which of them gets the last place would be a race.
    await people[0].send(f"/start {SIGNUP_PREFIX}{activity_id}")
    first = await people[0].wait_for(has("报名成功"))
    await people[1].send(f"/start {SIGNUP_PREFIX}{activity_id}")
    await people[1].wait_for(has("报名成功"))
    await people[2].send(f"/start {SIGNUP_PREFIX}{activity_id}")
    third = await people[2].wait_for(has("候补名单第 1 位"))
    assert third.text

    cancel_msg = next(m for m in people[1].inbox if "取消报名" in m.button_texts)
    await people[1].press(cancel_msg, "取消报名")
    promoted = await people[2].wait_for(has("转为正式参加"), timeout=10)
    assert "河道清理" in (promoted.text or "")

    harness.clock.set(local(2026, 12, 5, 8, 50))
    await people[0].press(first, "📍 签到")
    await people[0].wait_for(has("发送您的位置"))
    await people[0].send_location(30.2740, 120.1560)
    await people[0].wait_for(has("已签到"))
    harness.clock.set(local(2026, 12, 5, 10, 40))
    await people[0].press(first, "🏁 签退")
    out = await people[0].wait_for(has("已签退"))
    assert "1.5 小时" in (out.text or "")
    await people[0].send("/volunteer")
    mine = await people[0].wait_for(has("我的志愿服务"))
    assert "累计 1.5 小时" in (mine.text or "")
    await cadre.send(f"/roster {activity_id}")
    roster = await cadre.wait_for(has("报名 2/2"))
    assert "甲" in (roster.text or "") and "丙" in (roster.text or "")
    csv_file = await cadre.wait_for(lambda m: m.document is not None)
    assert csv_file.document is not None and csv_file.document.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(csv_file.document.decode("utf-8-sig"))))
    by_name = {row[0]: row for row in rows[1:]}
    # The status in the reader's words and the check-in on the community's clock.
    checked_in = by_name[people[0].first_name]
    assert checked_in[2] == "已报名" and checked_in[3] == "2026-12-05 08:50"
    assert by_name[people[2].first_name][2:4] == ["已报名", ""]


async def test_check_in_far_from_the_place_is_refused(harness: Harness) -> None:
    harness.clock.set(local(2026, 12, 18, 8, 40))
    resident = await harness.resident("远方的人")
    activities = await harness.services.volunteers.upcoming(harness.community.id)
    clean = next(a for a in activities if a.kind == "clean_day")
    await resident.send(f"/start {SIGNUP_PREFIX}{clean.id}")
    signed = await resident.wait_for(has("报名成功"))
    await resident.press(signed, "📍 签到")
    await resident.wait_for(has("发送您的位置"))
    await resident.send_location(31.23, 121.47)  # Shanghai, not Hangzhou
    assert "超过 300 米" in ((await resident.wait_for(has("米"))).text or "")


async def test_inspection_plans_on_the_9th_19th_29th_and_feb_28_2027(harness: Harness) -> None:
    inspector = await harness.with_role("赵督查", Role.INSPECTOR)

    def plans() -> list[SentMessage]:
        return [m for m in inspector.inbox if "今天是督查日" in (m.text or "")]

    # In calendar order, settling each day: a plan queued for a later day would wait in
    # the outbox if the clock were then moved back before it.
    for when, expected in (
        (local(2026, 12, 9, 8, 0), 1),
        (local(2026, 12, 19, 8, 5), 2),
        (local(2026, 12, 29, 9, 0), 3),
        (local(2027, 2, 27, 8, 30), 3),  # not an inspection day
        (local(2027, 2, 28, 8, 0), 4),  # the last day of a short February
    ):
        harness.clock.set(when)
        await harness.services.rhythm.tick()
        await harness.services.rhythm.tick()  # a second tick the same day sends nothing
        await harness.settle()
        assert len(plans()) == expected, when
    assert "东片区" in (plans()[0].text or "") and "/inspect" in (plans()[0].text or "")


async def test_unannounced_inspection_files_a_ticket_and_scores(harness: Harness) -> None:
    cadre = await harness.cadre("Z1")
    inspector = await harness.with_role("钱督查", Role.INSPECTOR)
    harness.clock.set(local(2026, 12, 10, 10, 0))  # not the 9th, 19th or 29th: 暗访
    await harness.take_all(cadre)
    async with harness.services.db.read() as tx:
        zone = next(z for z in await tx.zones.list_by_community(harness.community.id))
        count = sum(
            s.zone_id == zone.id for s in await tx.sites.list_by_community(harness.community.id)
        )
    assert zone.name == "东片区" and count > 2
    await inspector.send("/inspect")
    zones = await inspector.wait_for(lambda m: any("东片区" in t for t in m.button_texts))
    await inspector.press(zones, next(t for t in zones.button_texts if "东片区" in t))
    site = await inspector.wait_for(with_button("本点位检查完毕 ➡️"))
    assert "暗访" in (site.text or "") and f"第 1/{count} 个点位" in (site.text or "")
    failed_label = next(t for t in site.button_texts if "无卫生死角" in t)
    await inspector.press(site, failed_label)
    await harness.sandbox.wait_until(lambda: any(t.startswith("❌") for t in site.button_texts))
    # A toggle keeps the site where it is in the walk.
    assert f"第 1/{count} 个点位" in (site.text or ""), site.text
    await inspector.press(site, "本点位检查完毕 ➡️")
    ask = await inspector.wait_for(has("请拍一张照片"))
    assert "有卫生死角" in (ask.text or "") and "无卫生死角" not in (ask.text or "")
    await inspector.send_photo(jpeg("brown"))
    filed = await inspector.wait_for(has("已生成整改工单"))
    number = (filed.text or "").split("工单 ")[1].split("，")[0]
    # The remaining sites pass, each counted in turn.
    for index in range(2, count + 1):
        nxt = await inspector.wait_for(with_button("本点位检查完毕 ➡️"), timeout=5)
        assert f"第 {index}/{count} 个点位" in (nxt.text or ""), nxt.text
        await inspector.press(nxt, "本点位检查完毕 ➡️")
    done = await inspector.wait_for(has("督查完成"), timeout=10)
    assert "得分 <b>97</b>" in (done.raw.get("text") or "") or "得分 97" in (done.text or "")
    card = await cadre.wait_for(lambda m: number in (m.text or "") and bool(m.buttons), timeout=10)
    # The ticket states the fault, not the standard it failed.
    assert "督查发现：有卫生死角或暴露垃圾" in (card.text or ""), card.text
    assert "无卫生死角" not in (card.text or "")
    assert not any("督查" in (m.text or "") and "今天" in (m.text or "") for m in cadre.inbox), (
        "暗访 is never announced"
    )


async def test_inspection_in_english_names_the_fault_and_counts_sites(harness: Harness) -> None:
    await harness.cadre("Z1")
    inspector = await harness.with_role("Inspector Qian", Role.INSPECTOR, language_code="en")
    harness.clock.set(local(2026, 12, 10, 10, 0))
    await inspector.send("/inspect")
    zones = await inspector.wait_for(lambda m: any("东片区" in t for t in m.button_texts))
    await inspector.press(zones, next(t for t in zones.button_texts if "东片区" in t))
    site = await inspector.wait_for(with_button("Site done ➡️"))
    assert "site 1 of " in (site.text or "")
    label = next(t for t in site.button_texts if "No dead corners" in t)
    await inspector.press(site, label)
    await harness.sandbox.wait_until(lambda: any(t.startswith("❌") for t in site.button_texts))
    assert "site 1 of " in (site.text or "")
    await inspector.press(site, "Site done ➡️")
    ask = await inspector.wait_for(has("take a photo"))
    assert "Dirty corners or exposed rubbish" in (ask.text or "")


async def test_daily_digest_reaches_leaders_with_counts_from_the_database(
    harness: Harness,
) -> None:
    harness.clock.set(local(2026, 12, 2, 10, 0))
    await harness.cadre("Z1")
    leader = await harness.with_role("周书记", Role.LEADER)
    resident = await harness.resident("上报者")
    for text in ("一", "二"):
        await file_report(harness.sandbox, resident, caption=f"问题{text}")
    await harness.settle()

    def digests() -> list[str]:
        return [m.text or "" for m in leader.inbox if "每日简报" in (m.text or "")]

    harness.clock.set(local(2026, 12, 3, 8, 29))
    await harness.services.rhythm.tick()
    await harness.settle()
    before = len(digests())  # yesterday's, sent when the leader joined after 08:30
    harness.clock.set(local(2026, 12, 3, 8, 30))
    await harness.services.rhythm.tick()
    await harness.services.rhythm.tick()
    await harness.settle()
    assert len(digests()) == before + 1
    text = digests()[-1]
    async with harness.services.db.read() as tx:
        open_count = len(await tx.tickets.list_by_status(harness.community.id, OPEN_STATUSES))
    assert f"在办 {open_count}" in text and "新上报 2" in text
    await leader.send("/digestmode off")
    await leader.wait_for(has("不接收"))
    harness.clock.set(local(2026, 12, 4, 8, 31))
    await harness.services.rhythm.tick()
    await harness.settle()
    assert len(digests()) == before + 1


async def walk_failing_one_item(inspector: SimUser, zone: str = "东片区") -> str:
    """An inspection of the zone in which one item fails, with its photo; the ticket number."""
    await inspector.send("/inspect")
    zones = await inspector.wait_for(lambda m: any(zone in t for t in m.button_texts))
    await inspector.press(zones, next(t for t in zones.button_texts if zone in t))
    site = await inspector.wait_for(with_button("本点位检查完毕 ➡️"))
    await inspector.press(site, next(t for t in site.button_texts if "无卫生死角" in t))
    await inspector.wait_for(lambda m: any(t.startswith("❌") for t in site.button_texts))
    await inspector.press(site, "本点位检查完毕 ➡️")
    await inspector.wait_for(has("请拍一张照片"))
    await inspector.send_photo(jpeg("brown"))
    filed = await inspector.wait_for(has("已生成整改工单"))
    for _ in range(10):
        try:
            nxt = await inspector.wait_for(with_button("本点位检查完毕 ➡️"), timeout=3)
        except TimeoutError:
            break
        await inspector.press(nxt, "本点位检查完毕 ➡️")
    await inspector.wait_for(has("督查完成"), timeout=10)
    return (filed.text or "").split("工单 ")[1].split("，")[0]


async def test_morning_digest_counts_yesterdays_tickets_of_every_source(
    harness: Harness,
) -> None:
    await harness.cadre("Z1")
    leader = await harness.with_role("周书记", Role.LEADER)
    inspector = await harness.with_role("钱督查", Role.INSPECTOR)
    resident = await harness.resident("上报者")
    # Wednesday 9 December: the inspection files a ticket, a resident reports a problem.
    harness.clock.set(local(2026, 12, 9, 9, 30))
    await walk_failing_one_item(inspector)
    harness.clock.set(local(2026, 12, 9, 16, 0))
    await file_report(harness.sandbox, resident, caption="垃圾桶满了")
    await harness.settle()

    def digests() -> list[str]:
        return [m.text or "" for m in leader.inbox if "12月9日（周三）" in (m.text or "")]

    # Down overnight, back at 15:00 on the 10th: the digest owed since 08:30 goes out at
    # start-up, and still covers the whole of the 9th (a window ending at the send hour
    # used to miss the morning's inspection and count the afternoon's report).
    harness.clock.set(local(2026, 12, 9, 22, 0))
    await harness.runtime.stop()
    harness.clock.set(local(2026, 12, 10, 15, 0))
    harness.runtime = await start_bot(
        harness.runtime.settings,
        harness.clock,
        poll_timeout=1,
        outbox_limits=Limits(per_chat_interval_s=0),
    )
    await harness.sandbox.wait_until(lambda: len(digests()) == 1, timeout=20)
    await harness.services.rhythm.tick()
    await harness.settle()
    assert len(digests()) == 1
    text = digests()[0]
    assert "每日简报" in text and "统计时段：12月9日（周三）" in text
    async with harness.services.db.read() as tx:
        rows = await tx.conn.fetch_all(
            "SELECT source, COUNT(*) FROM tickets WHERE community_id = ? "
            "AND created_at >= ? AND created_at < ? GROUP BY source",
            (
                harness.community.id,
                to_db_time(local(2026, 12, 9, 0, 0)),
                to_db_time(local(2026, 12, 10, 0, 0)),
            ),
        )
    in_db = {r[0]: r[1] for r in rows}
    assert in_db == {"inspection": 1, "resident": 1}
    assert "新上报 2（居民 1｜督查 1｜月讲评 0）" in text

    # Asked for that evening, the digest covers the same day with the same figures.
    harness.clock.set(local(2026, 12, 10, 21, 0))
    await harness.take_all(leader)
    await leader.send("/digest")
    evening = await leader.wait_for(has("统计时段"))
    assert (evening.text or "").split("\n")[1:5] == text.split("\n")[1:5]
    await harness.runtime.stop()


async def test_broadcast_to_500_residents_within_limits_and_blocked_users_skipped(
    harness: Harness,
) -> None:
    community = harness.community
    users = []
    for i in range(500):
        user = harness.sandbox.add_user(f"居民{i}", language_code="zh-hans")
        user.record.started = True
        harness.sandbox.world.private_chat(user.record)
        _, person = await harness.services.people.identify(
            user.id, user.first_name, "zh-hans", False
        )
        await harness.services.people.choose_community(person, community.id)
        users.append(user)
    for blocked in users[:5]:
        blocked.block_bot()
    # Telegram tells the bot at once (my_chat_member); let it take note before the
    # broadcast, which would otherwise race those updates in the same batch.
    await harness.settle()
    harness.runtime.sender.pacer.limits = Limits()  # Telegram's real pacing
    harness.sandbox.limits = FloodLimits()  # and the simulator's real limits
    await harness.admin.send("/broadcast residents 明天上午停水，请提前储水。")
    await harness.admin.wait_for(has("已排队发送"))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while loop.time() < deadline:
        if sum(1 for u in users[5:] if any("停水" in (m.text or "") for m in u.inbox)) == 495:
            break
        await asyncio.sleep(0.5)
    await harness.settle()
    await harness.services.rhythm.tick()  # the minute tick reports finished announcements
    report = await harness.admin.wait_for(has("通知已发完"), timeout=10)
    assert "送达 495" in (report.text or "") or "送达 496" in (report.text or "")
    assert all(any("停水" in (m.text or "") for m in u.inbox) for u in users[5:])
    first_second_429s = harness.sandbox.stats.too_many_requests
    assert first_second_429s <= 1, "no flood errors once the pacing runs"
    # The five who blocked the bot were marked when Telegram told the bot, and skipped:
    # not one request went to them.
    for blocked in users[:5]:
        person = await harness.services.people.find(blocked.id)
        assert person is not None and not person.reachable
    assert harness.sandbox.stats.count("sendMessage", 403) == 0
