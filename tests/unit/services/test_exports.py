"""Ledger exports on a real SQLite file: the sample community, tickets filed through the
services, an inspection and a monthly score written through storage."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.domain.access import Actor
from bot.domain.errors import InvalidInput, NotAllowed
from bot.domain.inspections import InspectionItem
from bot.domain.models import Person, Role
from bot.domain.reports import DraftPhoto
from bot.domain.scoring import YearMonth
from bot.domain.tickets import Ticket
from bot.domain.volunteers import Activity, Signup, SignupStatus
from bot.importer import load_plan
from bot.services.container import Services
from bot.services.exports import TICKET_HEADERS
from tests.factories import SAMPLE_YAML, open_services

ADMIN = 900
CADRE = 501
NOVEMBER = YearMonth(2026, 11)
SHANGHAI = timedelta(hours=8)
SHEETS = ["整改台账", "督查台账", "督查明细", "月度评分", "志愿服务", "点位台账"]


def at_local(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC) - SHANGHAI


@pytest.fixture
async def services(tmp_path: Path):
    svc = await open_services(tmp_path, admins=frozenset({ADMIN}))
    summary = await svc.communities.apply_plan(load_plan(SAMPLE_YAML))
    _, cadre = await svc.people.identify(CADRE, "陈建国", "zh-hans", False)
    z1_invite = next(code for zone, _, code in summary.cadre_invites if zone == "Z1")
    await svc.invites.redeem(cadre, z1_invite)
    _, admin = await svc.people.identify(ADMIN, "刘主任", "zh-hans", True)
    await svc.people.choose_community(admin, summary.community.id)
    yield svc
    await svc.db.close()


async def admin_actor(svc: Services) -> Actor:
    actor, _ = await svc.people.identify(ADMIN, "刘主任", None, True)
    return actor


async def resident(svc: Services, telegram_id: int) -> Person:
    _, person = await svc.people.identify(telegram_id, f"居民{telegram_id}", "zh-hans", False)
    community = (await svc.people.communities())[0]
    await svc.people.choose_community(person, community.id)
    buildings = await svc.people.buildings(community.id)
    person = (await svc.people.identify(telegram_id, person.name, None, False))[1]
    await svc.people.choose_building(person, buildings[0][0].id)
    return (await svc.people.identify(telegram_id, person.name, None, False))[1]


async def file(svc: Services, telegram_id: int, when: datetime, text: str = "楼道堆物") -> Ticket:
    svc.clock.set(when)
    person = await resident(svc, telegram_id)
    actor, person = await svc.people.identify(telegram_id, person.name, None, False)
    photo = DraftPhoto("a" * 64, "photos/aa/" + "a" * 64 + ".jpg", None)
    await svc.reports.add_photo(actor, person, photo, text, f"{telegram_id}:1")
    await svc.reports.set_category(person, "clutter")
    await svc.reports.set_place_building(person, person.building_id or 0)
    return (await svc.reports.submit(actor, person)).ticket


async def november(svc: Services) -> list[Ticket]:
    """Three tickets in November (one at 23:30 on the 30th, local), one just after it; an
    inspection with two failed items, two monthly scores and a volunteer sign-up."""
    tickets = [
        await file(svc, 601, at_local(2026, 11, 16, 9, 0)),
        await file(svc, 602, at_local(2026, 11, 20, 14, 5), '=HYPERLINK("x")'),
        await file(svc, 603, at_local(2026, 11, 30, 23, 30)),
    ]
    await file(svc, 604, at_local(2026, 12, 1, 0, 30))
    svc.clock.set(at_local(2026, 11, 16, 10, 0))
    cadre, _ = await svc.people.identify(CADRE, "陈建国", None, False)
    await svc.tickets.accept(cadre, tickets[0].id)
    admin = await admin_actor(svc)
    assert admin.community_id is not None
    now = svc.clock.now()
    async with svc.db.transaction() as tx:
        zones = await tx.zones.list_by_community(admin.community_id)
        site = next(s for s in await tx.sites.list_by_community(admin.community_id))
        inspection = await tx.inspections.add(
            admin.community_id, site.zone_id, admin.person_id, date(2026, 11, 18), "scheduled", now
        )
        for code, passed, ticket_id in (
            ("corners", False, tickets[1].id),
            ("ads", False, None),
            ("fire", True, None),
        ):
            item = InspectionItem(site.id, code, passed, 0.0 if passed else 2.0, None, ticket_id)
            await tx.inspections.record_item(inspection.id, item)
        await tx.inspections.finish(inspection.id, 96.0, now)
        for zone, score, rank, rates in (
            (zones[0], 91.5, 1, {"on_time_acceptance": 0.8125, "satisfaction": None}),
            (zones[1], None, None, {}),
        ):
            await tx.conn.execute(
                "INSERT INTO monthly_scores (community_id, zone_id, month, zone_name, score, "
                "rank, inspections, inspection_mean, overdue, penalty, indicators, computed_at) "
                "VALUES (?, ?, '2026-11', ?, ?, ?, ?, ?, 0, 0, ?, ?)",
                (
                    admin.community_id,
                    zone.id,
                    zone.name,
                    score,
                    rank,
                    1 if score else 0,
                    score,
                    json.dumps(rates),
                    now.isoformat(),
                ),
            )
        activity = await tx.activities.add(
            Activity(
                0,
                admin.community_id,
                "clean_day",
                "11月清洁日",
                "小区广场",
                None,
                None,
                at_local(2026, 11, 21, 9, 0),
                at_local(2026, 11, 21, 11, 0),
                20,
                None,
            ),
            admin.person_id,
            now,
            None,
        )
        signup = Signup(
            activity.id,
            tickets[0].reporter_person_id,
            SignupStatus.CONFIRMED,
            now,
            at_local(2026, 11, 21, 8, 55),
            at_local(2026, 11, 21, 11, 0),
        )
        await tx.activities.put_signup(signup, hours=2.0)
    return tickets


async def count(svc: Services, sql: str, *params: object) -> int:
    async with svc.db.read() as tx:
        found = await tx.conn.fetch_all(sql, params)
    return int(found[0][0])


def rows(ws) -> list[list[object]]:
    return [list(r) for r in ws.iter_rows(min_row=2, values_only=True)]


class TestExport:
    async def test_all_as_xlsx_has_a_sheet_per_ledger_with_the_months_rows(
        self, services: Services
    ) -> None:
        await november(services)
        name, data = await services.exports.export(
            await admin_actor(services), NOVEMBER, "all", "xlsx"
        )
        assert name == "xingfuli-all-2026-11.xlsx"
        wb = load_workbook(io.BytesIO(data))
        assert wb.sheetnames == SHEETS
        for ws in wb:
            assert ws.freeze_panes == "A2"
        assert tuple(c.value for c in wb["整改台账"][1]) == TICKET_HEADERS
        start, end = at_local(2026, 11, 1, 0, 0), at_local(2026, 12, 1, 0, 0)
        in_month = await count(
            services,
            "SELECT COUNT(*) FROM tickets WHERE created_at >= ? AND created_at < ?",
            start.isoformat(timespec="microseconds"),
            end.isoformat(timespec="microseconds"),
        )
        assert in_month == 3 and await count(services, "SELECT COUNT(*) FROM tickets") == 4
        expected = {
            "整改台账": in_month,
            "督查台账": await count(services, "SELECT COUNT(*) FROM inspections"),
            "督查明细": await count(
                services, "SELECT COUNT(*) FROM inspection_items WHERE passed = 0"
            ),
            "月度评分": await count(services, "SELECT COUNT(*) FROM monthly_scores"),
            "志愿服务": await count(services, "SELECT COUNT(*) FROM volunteer_signups"),
            "点位台账": await count(services, "SELECT COUNT(*) FROM sites"),
        }
        assert {ws.title: len(rows(ws)) for ws in wb} == expected
        assert expected["点位台账"] == 12 and expected["督查明细"] == 2

    async def test_ticket_rows_are_local_times_and_chinese_labels(
        self, services: Services
    ) -> None:
        tickets = await november(services)
        _, data = await services.exports.export(
            await admin_actor(services), NOVEMBER, "tickets", "xlsx"
        )
        ws = load_workbook(io.BytesIO(data))["整改台账"]
        table = [dict(zip(TICKET_HEADERS, r, strict=True)) for r in rows(ws)]
        assert [r["工单号 (No.)"] for r in table] == [t.number for t in tickets]
        first, second, last = table
        assert first["上报时间"] == datetime(2026, 11, 16, 9, 0)
        assert last["上报时间"] == datetime(2026, 11, 30, 23, 30)  # Shanghai, not UTC
        assert first["来源"] == "居民" and first["类别"] == "楼道堆物"
        assert first["状态"] == "整改中" and second["状态"] == "待签收"
        assert first["签收时间"] == datetime(2026, 11, 16, 10, 0)
        assert first["责任人"] == "陈建国" and first["地点"] == "1号楼"
        assert first["整改期限"] == datetime(2026, 11, 23)  # the last day, five working days
        assert first["是否超期"] == "否" and first["重办次数"] == 0
        assert second["问题描述"] == '=HYPERLINK("x")'  # text, not a formula

    async def test_inspections_and_scores_read_as_the_office_writes_them(
        self, services: Services
    ) -> None:
        tickets = await november(services)
        admin = await admin_actor(services)
        _, data = await services.exports.export(admin, NOVEMBER, "inspections", "xlsx")
        wb = load_workbook(io.BytesIO(data))
        assert wb.sheetnames == ["督查台账", "督查明细"]
        [summary] = rows(wb["督查台账"])
        assert summary[3:] == ["定期", 96, 2, tickets[1].number]
        details = rows(wb["督查明细"])
        assert [d[3] for d in details] == [
            "有乱贴乱画或未经审批的广告招牌",
            "有卫生死角或暴露垃圾，垃圾清运不及时",
        ]
        assert details[1][5] == tickets[1].number
        _, data = await services.exports.export(admin, NOVEMBER, "scores", "xlsx")
        sheet = load_workbook(io.BytesIO(data))["月度评分"]
        rated, unrated = rows(sheet)
        assert rated[:3] == [1, "东片区", 91.5] and rated[7:] == [0.8125, "—", "—", "—", "—"]
        # A number Excel can sum, shown as a percentage.
        assert sheet.cell(row=2, column=8).number_format == "0.0%"
        _, text = await services.exports.export(admin, NOVEMBER, "scores", "csv")
        assert ",81.3%,—" in text.decode("utf-8-sig")
        assert unrated[0] is None and unrated[2] == "未评分"

    async def test_csv_of_several_ledgers_is_the_main_one_with_a_bom(
        self, services: Services
    ) -> None:
        await november(services)
        admin = await admin_actor(services)
        name, data = await services.exports.export(admin, NOVEMBER, "all", "csv")
        assert name == "xingfuli-all-2026-11.csv"
        assert data.startswith(b"\xef\xbb\xbf")
        lines = data.decode("utf-8-sig").splitlines()
        assert lines[0].startswith("工单号 (No.),上报时间,来源") and len(lines) == 4
        assert "'=HYPERLINK" in data.decode("utf-8-sig")
        _, sites = await services.exports.export(admin, NOVEMBER, "sites", "csv")
        assert len(sites.decode("utf-8-sig").splitlines()) == 13

    async def test_without_a_month_it_is_last_month_in_the_communitys_time_zone(
        self, services: Services
    ) -> None:
        services.clock.set(at_local(2026, 12, 1, 0, 30))  # still November in UTC
        made = await services.exports.prepare(await admin_actor(services), None, "sites", "xlsx")
        assert made.month == NOVEMBER and made.sheets == (("点位台账", 12),)

    async def test_a_leader_may_export(self, services: Services) -> None:
        invite, _ = await services.invites.create(await admin_actor(services), Role.LEADER)
        _, leader = await services.people.identify(700, "王书记", "zh-hans", False)
        await services.invites.redeem(leader, invite.code)
        actor, _ = await services.people.identify(700, "王书记", None, False)
        name, _ = await services.exports.export(actor, NOVEMBER, "sites", "csv")
        assert name == "xingfuli-sites-2026-11.csv"


class TestRefusals:
    async def test_a_resident_may_not_export(self, services: Services) -> None:
        await resident(services, 601)
        actor, _ = await services.people.identify(601, "李明", None, False)
        with pytest.raises(NotAllowed):
            await services.exports.export(actor, NOVEMBER, "tickets", "xlsx")

    async def test_a_cadre_may_not_export(self, services: Services) -> None:
        actor, _ = await services.people.identify(CADRE, "陈建国", None, False)
        with pytest.raises(NotAllowed):
            await services.exports.export(actor, NOVEMBER, "all", "xlsx")

    @pytest.mark.parametrize(("what", "fmt"), [("everything", "xlsx"), ("all", "pdf")])
    async def test_unknown_ledger_or_format_gets_the_usage(
        self, services: Services, what: str, fmt: str
    ) -> None:
        with pytest.raises(InvalidInput) as refused:
            await services.exports.export(await admin_actor(services), NOVEMBER, what, fmt)
        assert refused.value.key == "export.usage"


class TestForOffice:
    async def test_the_only_community_is_used_without_a_code(self, services: Services) -> None:
        made = await services.exports.for_office(None, NOVEMBER, "sites", "csv")
        assert made.filename == "xingfuli-sites-2026-11.csv"

    async def test_an_unknown_code_names_the_known_ones(self, services: Services) -> None:
        with pytest.raises(InvalidInput) as refused:
            await services.exports.for_office("nowhere", NOVEMBER, "sites", "csv")
        assert refused.value.key == "export.unknown_community"
        assert refused.value.params["codes"] == "xingfuli"

    async def test_several_communities_need_a_code(self, services: Services) -> None:
        async with services.db.transaction() as tx:
            await tx.communities.add("second", "第二社区", "Asia/Shanghai", services.clock.now())
        with pytest.raises(InvalidInput) as refused:
            await services.exports.for_office(None, NOVEMBER, "sites", "csv")
        assert refused.value.key == "export.which_community"
