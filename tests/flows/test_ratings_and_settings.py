"""Households and shops from nomination to publication, objections reaching admins;
community settings and calendar days; the score trend picture."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from PIL import Image

from bot.domain.models import Role
from storage.scores import StoredScore
from tests.flows.conftest import ADMIN_ID, Harness
from tests.flows.reporting import file_report, has, with_button
from tests.flows.test_rhythm import bound_group

SHANGHAI = timedelta(hours=8)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC) - SHANGHAI


async def test_household_goes_nominated_verified_notice_published(harness: Harness) -> None:
    harness.clock.set(local(2026, 12, 2, 10, 0))
    cadre = await harness.cadre("Z1")
    inspector = await harness.with_role("赵督查", Role.INSPECTOR)
    neighbour = await harness.resident("邻居")
    group = await bound_group(harness, neighbour)

    await cadre.send("/nominate household 1号楼1单元302 张家")
    await cadre.wait_for(has("等待督查员核实"))
    ask = await inspector.wait_for(with_button("✅ 核实通过"), timeout=10)
    await inspector.press(ask, "✅ 核实通过")
    await harness.edited(ask, "进入公示")
    notice = await group.wait_for(has("公示至"), timeout=10)
    assert "张家" in (notice.text or "") and "12月7日" in (notice.text or "")

    await neighbour.in_group(group).press(notice, "我有异议 / I object")
    await neighbour.wait_for(has("异议理由"))
    await neighbour.send("他家楼道常年堆放杂物")
    await neighbour.wait_for(has("转给社区管理员"))
    objection = await harness.admin.wait_for(has("公示异议"), timeout=10)
    assert "常年堆放杂物" in (objection.text or "") and "邻居" in (objection.text or "")

    harness.clock.set(local(2026, 12, 6, 23, 0))
    assert await harness.services.ratings.tick() == 0
    harness.clock.set(local(2026, 12, 7, 10, 1))
    assert await harness.services.ratings.tick() == 1
    assert await harness.services.ratings.tick() == 0
    await harness.settle()
    published = [m for m in group.inbox if "正式授予" in (m.text or "")]
    assert len(published) == 1 and "张家" in (published[0].text or "")
    await inspector.send("/ratings")
    listing = await inspector.wait_for(has("已授予"))
    assert "张家" in (listing.text or "").split("已授予")[1]


async def test_resident_self_applies_and_inspector_declines(harness: Harness) -> None:
    inspector = await harness.with_role("钱督查", Role.INSPECTOR)
    resident = await harness.resident("自荐者")
    await resident.send("/apply shop 李记早餐店")
    await resident.wait_for(has("等待督查员核实"))
    ask = await inspector.wait_for(with_button("✖️ 不通过"), timeout=10)
    assert "文明卫生门店" in (ask.text or "")
    await inspector.press(ask, "✖️ 不通过")
    await harness.edited(ask, "已不通过")
    await resident.send("/apply shop 李记早餐店")
    assert "已经提名过" in ((await resident.wait_for(has("李记"))).text or "")


async def test_apply_takes_the_chinese_names_and_any_case_and_never_offers_nominate(
    harness: Harness,
) -> None:
    inspector = await harness.with_role("孙督查", Role.INSPECTOR)
    resident = await harness.resident("申请人")
    await resident.send("/apply 文明卫生户 3号楼2单元501 王家")
    await resident.wait_for(has("等待督查员核实"))
    ask = await inspector.wait_for(has("王家"), timeout=10)
    assert "文明卫生户" in (ask.text or "")
    await resident.send("/apply 文明卫生门店 王记面馆")
    done = await resident.wait_for(has("王记面馆"))
    assert "文明卫生门店" in (done.text or "")
    await resident.send("/apply SHOP 张记水果")
    assert "文明卫生门店" in ((await resident.wait_for(has("张记水果"))).text or "")

    await resident.send("/apply 好人好事 李家")
    usage = (await resident.wait_for(has("用法"))).text or ""
    assert "/apply 文明卫生户" in usage and "/nominate" not in usage
    await resident.send("/nominate household 赵家")
    refused = (await resident.wait_for(has("只有包片干部可以推荐"))).text or ""
    assert "/apply" in refused
    listing = await harness.services.ratings.listing(
        (await harness.services.people.identify(inspector.id, "孙督查", None, False))[0]
    )
    assert sorted(r.name for r in listing["nominated"]) == [
        "3号楼2单元501 王家",
        "张记水果",
        "王记面馆",
    ]


async def test_admin_changes_a_rule_and_adds_a_holiday_that_deadlines_respect(
    harness: Harness,
) -> None:
    await harness.admin.send("/settings")
    listing = await harness.admin.wait_for(has("社区规则"))
    # Each rule by its name, value and bounds, with a line of help.
    assert "整改期限（工作日） = 5（可设 1～60）" in (listing.text or "")
    assert "rectify_workdays" in (listing.text or "")
    assert "按法定节假日和调休计算" in (listing.text or "")
    await harness.admin.send("/set rectify_workdays 3")
    assert "已修改" in ((await harness.admin.next_message()).text or "")
    await harness.admin.send("/set clean_day_time eight")
    assert "时:分" in ((await harness.admin.next_message()).text or "")
    await harness.admin.send("/set rectify_workdays 99")
    assert "须在 1 到 60 之间" in ((await harness.admin.next_message()).text or "")
    await harness.admin.send("/set nonsense 1")
    assert "没有这个设置" in ((await harness.admin.next_message()).text or "")
    await harness.admin.send("/holiday 2026-11-18 社区活动日")
    assert "休息日" in ((await harness.admin.next_message()).text or "")

    await harness.cadre("Z1")
    harness.clock.set(local(2026, 11, 16, 10, 0))  # Monday
    resident = await harness.resident("看期限的人")
    number = await file_report(harness.sandbox, resident)
    async with harness.services.db.read() as tx:
        ticket = await tx.tickets.find_by_number(harness.community.id, number)
    assert ticket is not None
    # Three working days from Monday, skipping Wednesday the 18th: Tue 17, Thu 19, Fri 20.
    assert ticket.due_at == local(2026, 11, 21, 0, 0)


async def test_trend_picture_for_a_zone(harness: Harness) -> None:
    leader = await harness.with_role("周书记", Role.LEADER)
    harness.clock.set(local(2026, 12, 15, 10, 0))
    async with harness.services.db.transaction() as tx:
        zone = await tx.zones.find_by_code(harness.community.id, "Z1")
        assert zone is not None
        for month, score in ((9, 84.0), (10, None), (11, 88.5)):
            row = StoredScore(
                zone.id,
                f"2026-{month:02d}",
                zone.name,
                score,
                1 if score else None,
                1,
                score,
                0,
                0.0,
                {},
            )
            await tx.scores.replace_month(
                harness.community.id, f"2026-{month:02d}", [row], harness.clock.now()
            )
    await leader.send("/trend 东片区")
    picture = await leader.wait_for(lambda m: m.photo is not None)
    assert "东片区" in (picture.text or "")
    image = Image.open(io.BytesIO(picture.photo or b""))
    assert image.format == "PNG" and image.width == 1080
    await leader.send("/trend 不存在")
    await leader.wait_for(has("没有找到这个片区"))


async def test_trend_without_a_zone_offers_the_zones_and_rechecks_the_role(
    harness: Harness,
) -> None:
    leader = await harness.with_role("周书记", Role.LEADER)
    await leader.send("/trend")
    picker = await leader.wait_for(has("选择要看得分走势的片区"))
    assert picker.button_texts == ["东片区", "西片区", "北片区"]
    await leader.press(picker, "西片区")
    picture = await leader.wait_for(lambda m: m.photo is not None)
    assert "西片区" in (picture.text or "")
    # A button pressed after the role is gone draws nothing.
    admin, _ = await harness.services.people.identify(ADMIN_ID, "admin", "zh-hans", True)
    person = await harness.services.people.identify(leader.id, "周书记", "zh-hans", True)
    await harness.services.people.revoke(admin, person[1].id, Role.LEADER)
    before = len([m for m in leader.inbox if m.photo is not None])
    query = await leader.press(picker, "东片区")
    refusal = await leader.wait_answer(query)
    assert refusal.show_alert and "没有权限" in (refusal.text or "")
    await harness.settle()
    assert len([m for m in leader.inbox if m.photo is not None]) == before
