"""A ticket whose cadre cannot be reached: the admins learn it once, with the ticket number
and the cadre's name, and see it marked in their queue until someone takes it or the cadre
comes back; a cadre who comes back gets their queue."""

from __future__ import annotations

from bot.domain.tickets import Status
from bot.sandbox import SentMessage
from tests.flows.conftest import Harness
from tests.flows.reporting import file_report, has

UNREACHABLE = "联系不上"


def _alert_for(number: str, cadre: str):
    return lambda m: (
        UNREACHABLE in (m.text or "") and number in (m.text or "") and cadre in (m.text or "")
    )


def _alerts(harness: Harness, number: str) -> list[SentMessage]:
    return [m for m in harness.admin.inbox if f"工单 {number} 的责任干部" in (m.text or "")]


async def _queue(harness: Harness) -> str:
    await harness.admin.send("/tickets")
    listing = await harness.admin.wait_for(has("待办工单（"))
    return listing.text or ""


async def _status(harness: Harness, number: str) -> Status:
    async with harness.services.db.read() as tx:
        ticket = await tx.tickets.find_by_number(harness.community.id, number)
    assert ticket is not None
    return ticket.status


async def test_admins_learn_once_when_a_cadre_blocks_the_bot_and_the_cadre_gets_the_queue_back(
    harness: Harness,
) -> None:
    cadre = await harness.cadre("Z1")
    resident = await harness.resident("李明", building="1号楼")
    first = await file_report(harness.sandbox, resident)
    await cadre.wait_for(has(first))
    await harness.settle()

    cadre.block_bot()
    await harness.admin.wait_for(_alert_for(first, "陈建国"), timeout=10)
    # A report filed while the cadre is known unreachable is flagged at dispatch.
    second = await file_report(harness.sandbox, resident, place="2号楼")
    await harness.admin.wait_for(_alert_for(second, "陈建国"), timeout=10)
    await harness.settle()
    assert len(_alerts(harness, first)) == 1 and len(_alerts(harness, second)) == 1

    queue = await _queue(harness)
    assert f"干部陈建国联系不上 · {first}" in queue
    assert f"干部陈建国联系不上 · {second}" in queue

    await cadre.send("/start")
    back = await cadre.wait_for(has("张工单在等您处理"), timeout=10)
    assert "有 2 张工单" in (back.text or "")
    assert first in (back.text or "") and second in (back.text or "")
    await harness.settle()
    assert UNREACHABLE not in await _queue(harness)
    assert len(_alerts(harness, first)) == 1, "nothing more for the same ticket"


async def test_a_cadre_who_never_opened_the_bot_is_reported_when_telegram_refuses_the_message(
    harness: Harness,
) -> None:
    # 王丽华 wrote in a group and was given the Z2 role, but never opened a private chat.
    name, code = harness.cadre_invites["Z2"]
    stranger = harness.sandbox.add_user(name, language_code="zh-hans")
    _, person = await harness.services.people.identify(stranger.id, name, "zh-hans", False)
    await harness.services.invites.redeem(person, code)

    resident = await harness.resident("赵敏", building="3号楼")
    number = await file_report(harness.sandbox, resident, place="3号楼")
    alert = await harness.admin.wait_for(_alert_for(number, name), timeout=15)
    assert "✅ 签收" in alert.button_texts
    assert f"干部{name}联系不上" in await _queue(harness)

    # An admin takes the ticket over: it leaves the "unreachable" marking.
    await harness.admin.press(alert, "✅ 签收")
    await resident.wait_for(has("签收"), timeout=10)
    assert await _status(harness, number) is Status.ACCEPTED
    assert UNREACHABLE not in await _queue(harness)


async def test_an_imported_cadre_not_yet_signed_in_gets_the_waiting_tickets_on_joining(
    harness: Harness,
) -> None:
    resident = await harness.resident("钱进", building="5号楼")
    number = await file_report(harness.sandbox, resident, place="5号楼")
    await harness.admin.wait_for(_alert_for(number, "张志强"), timeout=10)

    cadre = await harness.cadre("Z3")
    waiting = await cadre.wait_for(has("张工单在等您处理"), timeout=10)
    assert number in (waiting.text or "")
    await cadre.send("/tickets")
    assert number in ((await cadre.wait_for(has("待办工单（"))).text or "")
    assert UNREACHABLE not in await _queue(harness)
