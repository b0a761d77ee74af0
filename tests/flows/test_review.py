"""The monthly review end to end: the ranking picture in the group on the 1st, the talk
list and zone tickets for leaders, and the annual awards."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from PIL import Image

from bot.app import start_bot
from bot.domain.models import Role
from bot.notify.pacing import Limits
from bot.sandbox import SimGroup
from storage.scores import StoredScore
from tests.flows.conftest import Harness, running_harness
from tests.flows.test_rhythm import bound_group

SHANGHAI = timedelta(hours=8)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC) - SHANGHAI


async def inspect_zone(harness: Harness, zone_code: str, day: date, score: float) -> None:
    """A finished inspection with this score (the walk itself is tested elsewhere)."""
    inspector = await harness.services.people.identify(9001, "刘主任", None, True)
    async with harness.services.db.transaction() as tx:
        zone = await tx.zones.find_by_code(harness.community.id, zone_code)
        assert zone is not None
        found = await tx.inspections.add(
            harness.community.id, zone.id, inspector[1].id, day, "scheduled", harness.clock.now()
        )
        await tx.inspections.finish(found.id, score, harness.clock.now())


async def test_november_ranking_reaches_the_group_once_with_talks_for_low_zones(
    harness: Harness,
) -> None:
    cadre_z2 = await harness.cadre("Z2")
    leader = await harness.with_role("周书记", Role.LEADER)
    group = await bound_group(harness)
    harness.clock.set(local(2026, 11, 20, 10, 0))
    await inspect_zone(harness, "Z1", date(2026, 11, 9), 95.0)
    await inspect_zone(harness, "Z1", date(2026, 11, 19), 91.0)
    await inspect_zone(harness, "Z2", date(2026, 11, 9), 80.0)
    await inspect_zone(harness, "Z3", date(2026, 11, 19), 84.0)
    await harness.take_all(cadre_z2)

    harness.clock.set(local(2026, 12, 1, 8, 59))
    assert await harness.services.review.tick() == 0
    harness.clock.set(local(2026, 12, 1, 9, 0))
    assert await harness.services.review.tick() == 1
    assert await harness.services.review.tick() == 0
    await harness.settle()

    images = [m for m in group.inbox if m.photo is not None and "月度排名" in (m.text or "")]
    assert len(images) == 1
    png = Image.open(io.BytesIO(images[0].photo or b""))
    assert png.format == "PNG" and png.width == 1080 and len(images[0].photo or b"") > 20_000
    text = next(m.text or "" for m in group.inbox if "月讲评" in (m.text or ""))
    async with harness.services.db.read() as tx:
        stored: list[StoredScore] = await tx.scores.month(harness.community.id, "2026-11")
    assert [(s.zone_name, s.score, s.rank) for s in stored] == [
        ("东片区", 93.0, 1),
        ("北片区", 84.0, 2),
        ("西片区", 80.0, 3),
    ]
    assert text.index("东片区") < text.index("北片区") < text.index("西片区")
    assert "延迟发布" not in text and "延迟发布" not in (images[0].text or ""), "on time"

    talk = await leader.wait_for(lambda m: "考核明细" in (m.text or ""))
    assert "西片区" in (talk.text or "").split("约谈名单")[1]
    assert "东片区" not in (talk.text or "").split("约谈名单")[1]
    zone_ticket = await cadre_z2.wait_for(
        lambda m: "低于 83 分" in (m.text or "") and bool(m.buttons)
    )
    assert "新工单" in (zone_ticket.text or "")
    async with harness.services.db.read() as tx:
        rows = await tx.conn.fetch_all("SELECT source FROM tickets WHERE origin_key LIKE 'talk:%'")
    assert [r[0] for r in rows] == ["review"], "digests count it as the review's"


async def test_annual_awards_on_new_year_follow_the_rule(harness: Harness) -> None:
    group = await bound_group(harness)
    leader = await harness.with_role("周书记", Role.LEADER)
    averages = {"Z1": 90.0, "Z2": 80.0, "Z3": 86.0}
    async with harness.services.db.transaction() as tx:
        zones = {z.code: z for z in await tx.zones.list_by_community(harness.community.id)}
        for month in range(1, 12):
            rows = [
                StoredScore(
                    zones[c].id, f"2026-{month:02d}", zones[c].name, a, None, 1, a, 0, 0.0, {}
                )
                for c, a in averages.items()
            ]
            await tx.scores.replace_month(
                harness.community.id, f"2026-{month:02d}", rows, harness.clock.now()
            )
        for month in range(1, 12):
            # This history stands for months already reviewed.
            await tx.occurrences.claim(
                f"review:{harness.community.id}:2026-{month:02d}", harness.clock.now()
            )
    harness.clock.set(local(2026, 12, 20, 10, 0))
    for code, score in averages.items():
        await inspect_zone(harness, code, date(2026, 12, 19), score)
    harness.clock.set(local(2027, 1, 1, 9, 30))
    assert await harness.services.review.tick() == 1
    await harness.settle()
    awards = next(m.text or "" for m in group.inbox if "年度文明创建先进片区" in (m.text or ""))
    assert "一等奖：东片区（90）" in awards
    assert "二等奖：北片区（86）" in awards
    assert "西片区" not in awards, "80 is below the 85 needed to be eligible"
    annual = await leader.wait_for(lambda m: "年度考核" in (m.text or ""))
    assert "西片区" in (annual.text or "").split("通报批评")[1]
    quarterly = await leader.wait_for(lambda m: "季度平均分" in (m.text or ""))
    assert "西片区" in (quarterly.text or "").split("处罚")[1]


def rankings(group: SimGroup) -> list[str]:
    """Captions of the ranking pictures the group received, in order."""
    return [
        m.text or "" for m in group.inbox if m.photo is not None and "月度排名" in (m.text or "")
    ]


async def restart(harness: Harness) -> None:
    harness.runtime = await start_bot(
        harness.runtime.settings,
        harness.clock,
        poll_timeout=1,
        outbox_limits=Limits(per_chat_interval_s=0),
    )


async def test_a_month_whose_1st_passed_with_the_bot_stopped_is_reviewed_once_late(
    tmp_path: Path,
) -> None:
    # The minute job is paused until the restart, so the ticks below are the only ones.
    async with running_harness(tmp_path, tick=False) as harness:
        await _reviewed_once_late(harness)


async def _reviewed_once_late(harness: Harness) -> None:
    group = await bound_group(harness)
    leader = await harness.with_role("周书记", Role.LEADER)
    # The months before were reviewed (one a tick, November to January).
    harness.clock.set(local(2027, 2, 1, 9, 0))
    assert [await harness.services.review.tick() for _ in range(4)] == [1, 1, 1, 0]
    await harness.settle()
    before = len(rankings(group))
    harness.clock.set(local(2027, 2, 20, 10, 0))
    await inspect_zone(harness, "Z1", date(2027, 2, 9), 92.0)
    await inspect_zone(harness, "Z2", date(2027, 2, 19), 86.0)

    # Stopped on the evening of the 28th, started again on 2 March.
    harness.clock.set(local(2027, 2, 28, 22, 0))
    await harness.runtime.stop()
    harness.clock.set(local(2027, 3, 2, 10, 0))
    await restart(harness)
    try:
        # The tick at start-up catches February up, with no one calling it.
        await harness.sandbox.wait_until(lambda: len(rankings(group)) == before + 1, timeout=20)
        await harness.settle()
        caption = rankings(group)[-1]
        assert "2027年2月" in caption and "本榜单因系统停机延迟发布" in caption
        text = next(m.text or "" for m in group.inbox if "2027年2月 月讲评" in (m.text or ""))
        assert "本榜单因系统停机延迟发布" in text
        breakdown = await leader.wait_for(lambda m: "2027年2月 考核明细" in (m.text or ""))
        assert "本榜单因系统停机延迟发布" in (breakdown.text or "")
        async with harness.services.db.read() as tx:
            stored = await tx.scores.month(harness.community.id, "2027-02")
        assert [(s.zone_name, s.score) for s in stored][:2] == [("东片区", 92.0), ("西片区", 86.0)]

        # Another tick, and another restart, post nothing more.
        assert await harness.services.review.tick() == 0
        await harness.runtime.stop()
        await restart(harness)
        await harness.services.review.tick()
        await harness.settle()
        assert len(rankings(group)) == before + 1
        assert sum("2027年2月 月讲评" in (m.text or "") for m in group.inbox) == 1
    finally:
        await harness.runtime.stop()


async def test_several_missed_months_are_reviewed_oldest_first_with_the_year_end(
    tmp_path: Path,
) -> None:
    async with running_harness(tmp_path, tick=False) as harness:
        await _oldest_first_with_the_year_end(harness)


async def _oldest_first_with_the_year_end(harness: Harness) -> None:
    group = await bound_group(harness)
    leader = await harness.with_role("周书记", Role.LEADER)
    harness.clock.set(local(2026, 12, 20, 10, 0))
    await inspect_zone(harness, "Z1", date(2026, 11, 19), 90.0)
    await inspect_zone(harness, "Z1", date(2026, 12, 9), 94.0)
    await inspect_zone(harness, "Z3", date(2026, 12, 19), 88.0)
    # Down from 30 November to 3 January: November, December and the year end are owed,
    # one month a tick, oldest first.
    harness.clock.set(local(2027, 1, 3, 11, 0))
    assert [await harness.services.review.tick() for _ in range(3)] == [1, 1, 0]
    await harness.settle()
    captions = rankings(group)
    assert len(captions) == 2
    assert "2026年11月" in captions[0] and "2026年12月" in captions[1]
    assert all("延迟发布" in c for c in captions)
    async with harness.services.db.read() as tx:
        november = await tx.scores.month(harness.community.id, "2026-11")
        december = await tx.scores.month(harness.community.id, "2026-12")
    assert [s.score for s in november if s.zone_name == "东片区"] == [90.0]
    assert [s.score for s in december if s.zone_name == "东片区"] == [94.0]
    # December's follow-ups (the quarter and the year) come once, after both months.
    awards = [m.text or "" for m in group.inbox if "年度文明创建先进片区" in (m.text or "")]
    assert len(awards) == 1 and "2026" in awards[0] and "延迟发布" in awards[0]
    quarterly = [m.text or "" for m in leader.inbox if "2026-Q4 季度平均分" in (m.text or "")]
    assert len(quarterly) == 1 and "延迟发布" in quarterly[0]
    annual = [m.text or "" for m in leader.inbox if "2026 年度考核" in (m.text or "")]
    assert len(annual) == 1 and "延迟发布" in annual[0]
