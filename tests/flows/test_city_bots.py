"""A city: two bots (one per sub-district) over one PostgreSQL database. Each serves its
own communities, people and chats; one person holds roles under both; the office reads
and moves communities across them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.cli_tasks import bind, bots
from bot.clock import Clock
from bot.config import Settings
from bot.domain.models import Role
from bot.importer import load_plan
from bot.jobs import adopt_unbound
from bot.services.container import Services
from bot.services.invites import INVITE_PREFIX
from storage.database import open_database
from tests.factories import SAMPLE_YAML, T0, TOKEN
from tests.flows.conftest import ADMIN_ID, Harness, running_harness
from tests.flows.reporting import file_report, ticket_message

pytestmark = [pytest.mark.sqlite_only, pytest.mark.postgresql]  # runs on its own cluster

WEST_TOKEN = "654321:WEST-TOKEN"
EAST_BOT, WEST_BOT = int(TOKEN.split(":")[0]), int(WEST_TOKEN.split(":")[0])


@dataclass
class City:
    east: Harness
    west: Harness
    url: str
    data_dir: Path

    def office(self) -> Settings:
        """The office's command line: the shared database, no bot of its own."""
        return Settings(token="", api_url="", data_dir=self.data_dir, database_url=self.url)


def _another_community(tmp_path: Path, code: str, name: str, *, phone_prefix: str) -> Path:
    """The sample community under another code and name, with cadres of its own (an
    import finds a known person by phone)."""
    plan = tmp_path / f"{code}.yaml"
    plan.write_text(
        SAMPLE_YAML.read_text(encoding="utf-8")
        .replace("code: xingfuli", f"code: {code}")
        .replace("幸福里社区", name)
        .replace('phone: "13', f'phone: "{phone_prefix}'),
        encoding="utf-8",
    )
    return plan


@pytest.fixture
async def city(tmp_path: Path, pg_database: str) -> AsyncIterator[City]:
    west_plan = _another_community(tmp_path, "heping", "和平里社区", phone_prefix="15")
    async with AsyncExitStack() as stack:
        east = await stack.enter_async_context(
            running_harness(tmp_path / "east", database_url=pg_database)
        )
        # Another world: its own people (ids), its own update ids starting at 1 as well.
        west = await stack.enter_async_context(
            running_harness(
                tmp_path / "west",
                database_url=pg_database,
                token=WEST_TOKEN,
                plan=west_plan,
                first_user_id=60_001,
            )
        )
        yield City(east, west, pg_database, tmp_path / "office")


async def _community_shown_to_admin(h: Harness) -> str:
    await h.take_all(h.admin)
    await h.admin.send("/community")
    shown = await h.admin.wait_for(lambda m: "社区" in (m.text or ""), timeout=10)
    return shown.text or ""


async def test_each_bot_serves_its_own_communities_to_its_own_people(city: City) -> None:
    # The same Telegram user is the admin of one community under each bot.
    assert "幸福里社区" in await _community_shown_to_admin(city.east)
    assert "和平里社区" in await _community_shown_to_admin(city.west)

    # A newcomer to the east bot is offered only the east's community.
    newcomer = city.east.sandbox.add_user("新来的", language_code="zh-hans")
    await newcomer.send("/start")
    offer = await newcomer.wait_for(lambda m: "幸福里社区" in m.button_texts, timeout=10)
    assert "和平里社区" not in offer.button_texts

    # A report in the east reaches the east's cadre through the east bot only.
    cadre = await city.east.cadre("Z1")
    west_cadre = await city.west.cadre("Z1")
    resident = await city.east.resident("东区居民")
    number = await file_report(city.east.sandbox, resident)
    card = await ticket_message(cadre, number)
    assert card.photo is not None
    await city.east.settle()
    await city.west.settle()
    assert not [m for m in west_cadre.inbox if number in (m.text or "")]

    async with open_database(city.url, city.data_dir / "unused") as office, office.read() as tx:
        # Nothing for the east's people was queued on the west bot.
        queued = await tx.conn.fetch_all("SELECT bot_id, chat_id FROM outbox")
        # Both bots numbered their updates from 1, and both were handled.
        firsts = await tx.conn.fetch_all("SELECT bot_id, state FROM inbox WHERE update_id = 1")
    by_bot = {(r[0], r[1]) for r in queued}
    assert (EAST_BOT, cadre.id) in by_bot
    assert not {(WEST_BOT, resident.id), (WEST_BOT, cadre.id)} & by_bot
    assert sorted((r[0], r[1]) for r in firsts) == [(EAST_BOT, "done"), (WEST_BOT, "done")]


async def test_the_office_reads_across_bots_and_moves_a_community(
    city: City, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = city.office()
    assert await bots(settings) == 0
    listed = capsys.readouterr().out
    assert f"bot {EAST_BOT}: xingfuli" in listed and f"bot {WEST_BOT}: heping" in listed

    # City-wide reading: one office command line exports either sub-district's ledger.
    async with open_database(city.url, city.data_dir / "unused") as office:
        services = Services.build(settings, office, Clock(T0))
        for code in ("xingfuli", "heping"):
            made = await services.exports.for_office(code, None, "tickets", "xlsx")
            assert made.data[:2] == b"PK"

    assert await bind(settings, "heping", EAST_BOT) == 0
    assert "heping" in capsys.readouterr().out
    assert await bots(settings) == 0
    assert f"bot {EAST_BOT}: heping, xingfuli" in capsys.readouterr().out

    # The east bot now serves both: a newcomer there is offered both communities.
    newcomer = city.east.sandbox.add_user("新来的", language_code="zh-hans")
    await newcomer.send("/start")
    offer = await newcomer.wait_for(lambda m: "幸福里社区" in m.button_texts, timeout=10)
    assert "和平里社区" in offer.button_texts
    # The west bot serves none now: its newcomers are told there is nothing to join yet.
    stranger = city.west.sandbox.add_user("路人", language_code="zh-hans")
    await stranger.send("/start")
    answer = await stranger.next_message(timeout=10)
    assert "和平里社区" not in answer.button_texts


async def test_an_invite_to_another_bots_community_is_refused_with_where_to_go(
    city: City,
) -> None:
    actor, _ = await city.west.services.people.identify(ADMIN_ID, "admin", "zh-hans", True)
    invite, _ = await city.west.services.invites.create(actor, Role.INSPECTOR)
    # The link reached someone who opened the east bot instead.
    wrong_bot = city.east.sandbox.add_user("走错门的", language_code="zh-hans")
    await wrong_bot.send(f"/start {INVITE_PREFIX}{invite.code}")
    refused = await wrong_bot.wait_for(lambda m: "另一个机器人" in (m.text or ""), timeout=10)
    assert "heping" in (refused.text or "")
    async with open_database(city.url, city.data_dir / "unused") as office, office.read() as tx:
        person = await tx.people.find_by_telegram(wrong_bot.id)
        assert person is not None and await tx.roles.list_for_person(person.id) == []


async def test_a_community_imported_by_the_office_while_bots_run_is_served_next_minute(
    city: City, tmp_path: Path
) -> None:
    plan = _another_community(tmp_path, "anle", "安乐社区", phone_prefix="17")
    async with open_database(city.url, city.data_dir / "unused") as office:
        services = Services.build(city.office(), office, Clock(T0))
        await services.communities.apply_plan(load_plan(plan))  # a token-less `jiayuan import`
    assert await adopt_unbound(city.east.services) == 1  # what the east leader's tick does
    newcomer = city.east.sandbox.add_user("新来的", language_code="zh-hans")
    await newcomer.send("/start")
    offer = await newcomer.wait_for(lambda m: "安乐社区" in m.button_texts, timeout=10)
    assert "幸福里社区" in offer.button_texts and "和平里社区" not in offer.button_texts
    assert await adopt_unbound(city.west.services) == 0, "bound once, to one bot"


async def test_blocking_one_bot_does_not_silence_the_other(city: City) -> None:
    # The admin of both communities blocks the east bot only.
    city.east.admin.block_bot()
    await city.east.settle()
    async with city.east.services.db.read() as tx:
        person = await tx.people.find_by_telegram(ADMIN_ID)
        assert person is not None and not person.reachable
    # In the west, a ticket's cadre blocks the west bot: the west bot still tells the
    # admin, who never blocked it.
    west_cadre = await city.west.cadre("Z1")
    resident = await city.west.resident("西区居民")
    number = await file_report(city.west.sandbox, resident)
    await ticket_message(west_cadre, number)
    await city.west.settle()
    west_cadre.block_bot()
    alert = await city.west.admin.wait_for(
        lambda m: "联系不上" in (m.text or "") and number in (m.text or ""), timeout=15
    )
    assert "✅ 签收" in alert.button_texts
    assert not [m for m in city.east.admin.inbox if number in (m.text or "")]


async def test_a_resident_who_picks_a_community_of_another_bot_is_told_the_home_moved(
    city: City,
) -> None:
    west_resident = await city.west.resident("两边跑")
    # The same Telegram user opens the east bot, which does not serve their home.
    same_person = city.east.sandbox.add_user(
        "两边跑", language_code="zh-hans", user_id=west_resident.id
    )
    await same_person.send("/start")
    offer = await same_person.wait_for(lambda m: "幸福里社区" in m.button_texts, timeout=10)
    await same_person.press(offer, "幸福里社区")
    await same_person.wait_for(lambda m: "请选择您住的楼栋" in (m.text or ""), timeout=10)
    # The community keyboard was edited into the confirmation.
    (moved,) = [m for m in same_person.inbox if "已选择社区" in (m.text or "")]
    assert "原来的家在和平里社区" in (moved.text or "")
    async with city.east.services.db.read() as tx:
        person = await tx.people.find_by_telegram(west_resident.id)
        assert person is not None
        assert (await tx.communities.get(person.community_id or 0)).code == "xingfuli"

    # The east bot now greets them at home; the west bot no longer counts them there.
    await same_person.send("/start")
    again = await same_person.wait_for(lambda m: "欢迎回来" in (m.text or ""), timeout=10)
    assert "幸福里社区" in (again.text or "")
    async with city.west.services.db.read() as tx:
        west = await tx.communities.find_by_code("heping")
        assert west is not None
        residents = await tx.people.list_in_community(west.id)
        assert west_resident.id not in {p.telegram_id for p in residents}
