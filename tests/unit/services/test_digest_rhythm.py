"""The rhythm's digests: built once per community and period outside the write
transaction, queued once per leader and day, even when queueing fails half-way."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.domain.models import Role
from bot.importer import load_plan
from bot.services.container import Services
from tests.factories import SAMPLE_YAML, T0, open_services

AFTER_DIGEST_TIME = T0 + timedelta(hours=1)  # Monday 10:00 in Shanghai


@pytest.fixture
async def services(tmp_path: Path) -> Any:
    svc = await open_services(tmp_path)
    await svc.communities.apply_plan(load_plan(SAMPLE_YAML))
    # Two daily readers in different languages and one weekly one; it is a Monday.
    for telegram_id, language, mode in (
        (801, "zh-hans", "daily"),
        (802, "en", "daily"),
        (803, "zh-hans", "weekly"),
    ):
        _, person = await svc.people.identify(telegram_id, f"书记{telegram_id}", language, False)
        async with svc.db.transaction() as tx:
            community = (await tx.communities.list_all())[0]
            await tx.roles.grant(person.id, community.id, Role.LEADER, None, None, T0)
            await tx.digest_prefs.set_mode(person.id, community.id, mode)
    svc.clock.set(AFTER_DIGEST_TIME)
    yield svc
    await svc.db.close()


async def digest_texts(svc: Services) -> dict[int, list[str]]:
    async with svc.db.read() as tx:
        items = await tx.outbox.due(svc.clock.now() + timedelta(days=1), limit=1000)
    texts: dict[int, list[str]] = {}
    for item in items:
        text = item.payload.get("text") or ""
        if "简报" in text or "digest" in text:
            texts.setdefault(item.chat_id, []).append(text)
    return texts


async def trace_builds(svc: Services) -> list[str]:
    """SQLite's own trace of every connection, in execution order: the writer's
    transaction boundaries, and each digest build (its one query by source, on the
    connection that ran it)."""
    trace: list[str] = []

    def on(name: str) -> Callable[[str], None]:
        def record(sql: str) -> None:
            if "GROUP BY source" in sql:
                trace.append(f"build on {name}")
            elif name == "writer" and sql.split()[0] in ("BEGIN", "COMMIT", "ROLLBACK"):
                trace.append(sql.split()[0])

        return record

    await svc.db.writer.raw.set_trace_callback(on("writer"))
    for conn in svc.db._reader_conns:
        await conn.raw.set_trace_callback(on("reader"))
    return trace


def builds_in_a_write(trace: list[str]) -> list[str]:
    inside, found = False, []
    for entry in trace:
        if entry == "BEGIN":
            inside = True
        elif entry in ("COMMIT", "ROLLBACK"):
            inside = False
        elif inside:
            found.append(entry)
    return found


@pytest.mark.sqlite_only
async def test_each_period_is_built_once_outside_the_write_transaction(
    services: Services,
) -> None:
    trace = await trace_builds(services)
    report = await services.rhythm.tick()
    assert report.digests == 3
    # One build per period (a day, a week) for three leaders, none on the writer or while
    # a write transaction is open.
    assert [e for e in trace if e.startswith("build")] == ["build on reader"] * 2
    assert builds_in_a_write(trace) == []
    texts = await digest_texts(services)
    assert [len(texts[t]) for t in (801, 802, 803)] == [1, 1, 1]
    assert "每日简报" in texts[801][0]
    assert "daily digest" in texts[802][0]
    assert "每周简报" in texts[803][0]
    # Monday 16 November: yesterday, and the week before, each said in the reader's language.
    assert "统计时段：11月15日（周日）" in texts[801][0]
    assert "Covers: Sun 15 Nov" in texts[802][0]
    assert "统计时段：11月9日（周一）至11月15日（周日）" in texts[803][0]

    # Later ticks the same day build and send nothing.
    trace.clear()
    again = await services.rhythm.tick()
    assert again.digests == 0
    assert [e for e in trace if e.startswith("build")] == []
    assert await digest_texts(services) == texts


@pytest.mark.sqlite_only
async def test_a_failure_while_queueing_leaves_every_digest_for_the_next_tick(
    services: Services,
) -> None:
    # The database refuses the second digest of the tick, as a full disk or a crash would.
    async with services.db.read() as tx:
        rows = await tx.conn.fetch_all("SELECT COALESCE(MAX(id), 0) FROM outbox")
    before = next(iter(rows))[0]
    leaders = "(801, 802, 803)"
    async with services.db.transaction() as tx:
        await tx.conn.execute(
            "CREATE TRIGGER fail_second_digest BEFORE INSERT ON outbox"
            f" WHEN NEW.chat_id IN {leaders} AND EXISTS"
            f" (SELECT 1 FROM outbox WHERE id > {before} AND chat_id IN {leaders})"
            " BEGIN SELECT RAISE(ABORT, 'crash while queueing'); END"
        )
    with pytest.raises(sqlite3.DatabaseError, match="crash while queueing"):
        await services.rhythm.tick()
    # The first leader's claim and message rolled back together with the rest.
    assert await digest_texts(services) == {}

    async with services.db.transaction() as tx:
        await tx.conn.execute("DROP TRIGGER fail_second_digest")
    assert (await services.rhythm.tick()).digests == 3
    assert (await services.rhythm.tick()).digests == 0
    texts = await digest_texts(services)
    assert {t: len(v) for t, v in texts.items()} == {801: 1, 802: 1, 803: 1}
