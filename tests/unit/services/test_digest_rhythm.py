"""The rhythm's digests: built once per community and period outside the write
transaction, queued once per leader and day, even when queueing fails half-way."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.domain.models import Role
from bot.importer import load_plan
from bot.services import rhythm
from bot.services.container import Services
from bot.services.digests import Digest
from storage.transaction import Transaction
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


def counting_builds(svc: Services, monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, bool]]:
    """Record each build as (days, whether a write transaction was open meanwhile)."""
    builds: list[tuple[int, bool]] = []
    original = rhythm.build_digest

    async def build(tx: Transaction, community_id: int, now: Any, days: int) -> Digest:
        builds.append((days, svc.db._write_lock.locked()))
        return await original(tx, community_id, now, days)

    monkeypatch.setattr(rhythm, "build_digest", build)
    return builds


async def test_each_period_is_built_once_outside_the_write_transaction(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds = counting_builds(services, monkeypatch)
    report = await services.rhythm.tick()
    assert report.digests == 3
    assert sorted(builds) == [(1, False), (7, False)]
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
    again = await services.rhythm.tick()
    assert again.digests == 0
    assert len(builds) == 2
    assert await digest_texts(services) == texts


async def test_a_failure_while_queueing_leaves_every_digest_for_the_next_tick(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = rhythm.messages.to_person
    calls = 0

    async def failing_second(*args: Any, **kwargs: Any) -> bool:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("crash while queueing")
        return await original(*args, **kwargs)

    monkeypatch.setattr(rhythm.messages, "to_person", failing_second)
    with pytest.raises(RuntimeError):
        await services.rhythm.tick()
    # The first leader's claim and message rolled back together with the rest.
    assert await digest_texts(services) == {}

    monkeypatch.setattr(rhythm.messages, "to_person", original)
    assert (await services.rhythm.tick()).digests == 3
    assert (await services.rhythm.tick()).digests == 0
    texts = await digest_texts(services)
    assert {t: len(v) for t, v in texts.items()} == {801: 1, 802: 1, 803: 1}
