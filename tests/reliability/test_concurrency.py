"""Concurrent state changes on a real SQLite file: one winner per conflict, no lost update."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.domain.errors import JiayuanError
from bot.domain.models import Role
from bot.domain.tickets import Status
from bot.importer import load_plan
from tests.factories import SAMPLE_YAML, open_services
from tests.unit.services.test_reports_and_deadlines import file, resident


async def test_two_cadres_accepting_the_same_tickets_at_once_one_wins_each(tmp_path: Path) -> None:
    services = await open_services(tmp_path)
    summary = await services.communities.apply_plan(load_plan(SAMPLE_YAML))
    invites = [code for zone, _, code in summary.cadre_invites if zone == "Z1"]  # cadre and deputy
    cadres = []
    for telegram_id, code in zip((501, 502), invites, strict=True):
        _, person = await services.people.identify(telegram_id, f"干部{telegram_id}", "zh", False)
        await services.invites.redeem(person, code)
        cadres.append((await services.people.identify(telegram_id, "", None, False))[0])
    assert all(a.has(Role.CADRE) for a in cadres)

    tickets = []
    for n in range(50):
        person = await resident(services, 1000 + n)
        tickets.append(await file(services, person, origin=f"{1000 + n}:1"))

    async def accept(actor_index: int, ticket_id: int) -> bool:
        try:
            await services.tickets.accept(cadres[actor_index], ticket_id)
            return True
        except JiayuanError:
            return False

    results = await asyncio.gather(*(accept(i, t.id) for t in tickets for i in (0, 1)))
    assert sum(results) == 50, "exactly one acceptance per ticket"
    async with services.db.read() as tx:
        for ticket in tickets:
            stored = await tx.tickets.get(ticket.id)
            events = [e.kind.value for e in await tx.tickets.events(ticket.id)]
            assert stored.status is Status.ACCEPTED
            assert stored.version == ticket.version + 1
            assert events.count("accepted") == 1
    await services.db.close()


async def test_backup_during_writes_is_consistent_and_a_fresh_bot_starts_from_it(
    tmp_path: Path,
) -> None:
    services = await open_services(tmp_path / "live")
    await services.communities.apply_plan(load_plan(SAMPLE_YAML))
    _, cadre = await services.people.identify(501, "干部", "zh", False)
    stop = asyncio.Event()
    progressed = asyncio.Event()
    filed = 0

    async def writer() -> None:
        nonlocal filed
        while not stop.is_set():
            person = await resident(services, 2000 + filed)
            await file(services, person, origin=f"{2000 + filed}:1")
            filed += 1
            progressed.set()

    async def until(count: int) -> None:
        while filed < count:
            progressed.clear()
            await progressed.wait()

    task = asyncio.create_task(writer())
    await until(5)
    await services.db.backup(tmp_path / "backup" / "jiayuan.sqlite3")
    at_backup = filed
    await until(at_backup + 5)
    stop.set()
    await task
    await services.db.close()

    restored = await open_services(tmp_path / "backup")
    async with restored.db.read() as tx:
        check = await tx.conn.raw.execute_fetchall("PRAGMA integrity_check")
        rows = await tx.conn.fetch_all("SELECT COUNT(*) FROM tickets")
        count = next(iter(rows))[0]
    assert next(iter(check))[0] == "ok"
    assert at_backup <= count <= at_backup + 1, (
        "everything committed before the copy, nothing after"
    )
    person = await resident(restored, 9999)
    ticket = await file(restored, person, origin="9999:1")
    assert ticket.number == f"2026-{count + 1:04d}", "the restored bot carries on numbering"
    await restored.db.close()
    _ = cadre
