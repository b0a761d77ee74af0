"""Migration 018 and the prompt repository, on a real SQLite file.

A question asked before the upgrade (an old pending_inputs row of any kind) must still be
answered after it, so each old "a:b:c" payload becomes its typed payload.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain import prompts
from bot.domain.tickets import RejectReason
from storage.database import SqliteDatabase
from storage.rows import to_db_time
from tests.factories import T0, database_for_test
from tests.integration.storage.test_digest_counts import migrate_up_to

LATER = T0 + timedelta(minutes=30)

# (person, kind, ticket_id, old payload) → the typed payload it must read back as
OLD_ROWS: list[tuple[int, str, int | None, str, prompts.Payload | None]] = [
    (1, "transfer", 7, "3", prompts.TransferReason(7, 3)),
    (2, "transfer", 7, "0", prompts.TransferReason(7, None)),  # back to the admins
    (3, "reject", 8, "not_ours", prompts.RejectWhy(8, RejectReason.NOT_OURS)),
    (4, "rectify", 9, "", prompts.AfterPhoto(9)),
    (5, "reopen", 9, "", prompts.ReopenReason(9)),
    (6, "extension_days", 10, "", prompts.ExtensionDays(10)),
    (7, "extension", 10, "5", prompts.ExtensionReason(10, 5)),
    (8, "checkin", None, "4", prompts.CheckIn(4)),
    (9, "objection", None, "12", prompts.Objection(12)),
    (10, "inspect_photo", None, "2:31:litter_bins", prompts.InspectPhoto(2, 31, "litter_bins")),
    (11, "report_phone", None, "", prompts.ReportPhone()),
    (12, "rectify", None, "", None),  # a ticket question without its ticket: left behind
]


@pytest.fixture
def old_database(tmp_path: Path) -> Path:
    path = tmp_path / "old.sqlite3"
    migrate_up_to(path, 17)
    at = to_db_time(T0)
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO people (id, name, created_at) VALUES (?, ?, ?)",
            [(person, f"p{person}", at) for person, *_ in OLD_ROWS],
        )
        conn.executemany(
            "INSERT INTO pending_inputs (person_id, kind, ticket_id, payload, expires_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [
                (p, kind, ticket, payload, to_db_time(LATER))
                for p, kind, ticket, payload, _ in OLD_ROWS
            ],
        )
    return path


@pytest.mark.sqlite_only
async def test_migration_018_keeps_every_open_question(old_database: Path) -> None:
    async with SqliteDatabase(old_database) as db, db.read() as tx:
        found = {person: await tx.prompts.get(person, T0) for person, *_ in OLD_ROWS}
        tables = await tx.conn.fetch_all(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'pending_inputs'"
        )
    for person, _kind, _ticket, _old, expected in OLD_ROWS:
        prompt = found[person]
        if expected is None:
            assert prompt is None
        else:
            assert prompt is not None and prompt.payload == expected
            assert prompt.expires_at == LATER
    assert list(tables) == []


async def test_a_prompt_replaces_the_last_and_expires(tmp_path: Path) -> None:
    async with database_for_test(tmp_path / "db.sqlite3") as db:
        async with db.transaction() as tx:
            await tx.conn.execute(
                "INSERT INTO people (id, name, created_at) VALUES (1, 'p', ?)", (to_db_time(T0),)
            )
            await tx.prompts.put(1, prompts.ask(prompts.AfterPhoto(3), T0))
            await tx.prompts.put(1, prompts.ask(prompts.Objection(5), T0))
        async with db.read() as tx:
            now = await tx.prompts.get(1, T0)
            later = await tx.prompts.get(1, T0 + timedelta(minutes=prompts.PROMPT_MINUTES))
        assert now is not None and now.payload == prompts.Objection(5)
        assert later is None
        async with db.transaction() as tx:
            assert await tx.prompts.clear(1)
            assert not await tx.prompts.clear(1)


async def test_an_unreadable_row_counts_as_no_question(tmp_path: Path) -> None:
    async with database_for_test(tmp_path / "db.sqlite3") as db:
        async with db.transaction() as tx:
            await tx.conn.execute(
                "INSERT INTO people (id, name, created_at) VALUES (1, 'p', ?)", (to_db_time(T0),)
            )
            await tx.conn.execute(
                "INSERT INTO prompts (person_id, kind, payload, expires_at) VALUES (1, ?, ?, ?)",
                ("transfer", "3:4", to_db_time(LATER)),
            )
        async with db.read() as tx:
            assert await tx.prompts.get(1, T0) is None
