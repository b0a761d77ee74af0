"""Migration 006 and the digest's counts, on a real SQLite file.

The counts are checked against a small community whose expected figures are worked out
by hand below; a second community's tickets and events must not leak into them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from bot.domain.models import Language
from bot.domain.periods import DayRange
from bot.domain.tickets import Event, EventKind, Source, Status, Ticket
from bot.i18n import Day
from bot.services.digest_text import digest_params
from bot.services.digests import OverdueLine, build_digest
from storage.database import Database, SqliteConnection, SqliteDatabase, migration_scripts
from storage.rows import Executed, Row, to_db_time
from storage.transaction import Transaction
from tests.factories import INTEGRITY_ERRORS, T0, database_for_test

NOW = T0 + timedelta(hours=1)  # Monday 2026-11-16 10:00 in Shanghai
H = timedelta(hours=1)
D = timedelta(days=1)
MINUTE = timedelta(minutes=1)


def migrate_up_to(path: Path, last: int) -> None:
    """A database as a release that shipped migrations 001..``last`` left it."""
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE schema_migrations "
        "(number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    for number, name, sql in migration_scripts():
        if number <= last:
            conn.executescript(sql)
            conn.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, datetime('now'))", (number, name)
            )
    conn.commit()
    conn.close()


@pytest.mark.sqlite_only
async def test_migration_006_backfills_the_community_of_existing_events(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    migrate_up_to(path, 5)
    at = to_db_time(NOW)
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO communities (id, code, name, created_at) VALUES (?, ?, ?, ?)",
            [(1, "c1", "一社区", at), (2, "c2", "二社区", at)],
        )
        conn.execute("INSERT INTO people (id, name, created_at) VALUES (1, '王', ?)", (at,))
        conn.executemany(
            "INSERT INTO tickets (id, community_id, number, source, reporter_person_id, "
            "category, status, created_at) VALUES (?, ?, ?, 'resident', 1, 'litter', "
            "'assigned', ?)",
            [(10, 1, "2026-0001", at), (20, 2, "2026-0001", at)],
        )
        conn.executemany(
            "INSERT INTO ticket_events (ticket_id, kind, at) VALUES (?, ?, ?)",
            [(10, "created", at), (10, "dispatched", at), (20, "created", at)],
        )

    async with SqliteDatabase(path) as db:
        async with db.transaction() as tx:
            await tx.tickets.add_events(20, [Event(EventKind.ACCEPTED, 1, NOW)])
        async with db.read() as tx:
            rows = await tx.conn.fetch_all(
                "SELECT ticket_id, kind, community_id FROM ticket_events ORDER BY id"
            )
            indexes = await tx.conn.fetch_all(
                "SELECT name FROM sqlite_master "
                "WHERE type = 'index' AND tbl_name = 'ticket_events'"
            )
    assert [tuple(r) for r in rows] == [
        (10, "created", 1),
        (10, "dispatched", 1),
        (20, "created", 2),
        (20, "accepted", 2),
    ]
    names = {r[0] for r in indexes}
    assert "ticket_events_by_community_at" in names
    assert "ticket_events_by_at" not in names


@pytest.mark.sqlite_only
async def test_migration_010_gives_the_reviews_zone_tickets_their_own_source(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite3"
    migrate_up_to(path, 9)
    at = to_db_time(NOW)
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO communities (id, code, name, created_at) VALUES (1, 'c1', '一', ?)",
            (at,),
        )
        conn.execute("INSERT INTO people (id, name, created_at) VALUES (1, '王', ?)", (at,))
        conn.executemany(
            "INSERT INTO tickets (id, community_id, number, source, reporter_person_id, "
            "category, status, created_at, origin_key) VALUES (?, 1, ?, ?, 1, 'other', "
            "'assigned', ?, ?)",
            [
                (1, "2026-0001", "inspection", at, "talk:1:3:2026-11"),
                (2, "2026-0002", "inspection", at, "inspection:4:7:litter"),
                (3, "2026-0003", "resident", at, None),
            ],
        )
    async with SqliteDatabase(path) as db, db.read() as tx:
        rows = await tx.conn.fetch_all("SELECT id, source FROM tickets ORDER BY id")
    assert [tuple(r) for r in rows] == [(1, "review"), (2, "inspection"), (3, "resident")]


async def test_an_event_for_an_unknown_ticket_is_still_refused(tmp_path: Path) -> None:
    async with database_for_test(tmp_path / "fk.sqlite3") as db:
        with pytest.raises(INTEGRITY_ERRORS):
            async with db.transaction() as tx:
                await tx.tickets.add_events(999, [Event(EventKind.CREATED, None, NOW)])


class _Recording:
    """The connection, with every statement the repositories send written down."""

    dialect = "sqlite"

    def __init__(self, conn: SqliteConnection) -> None:
        self.conn = conn
        self.statements: list[tuple[str, tuple[Any, ...]]] = []

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        self.statements.append((sql, tuple(params)))
        return await self.conn.fetch_all(sql, params)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> Executed:
        self.statements.append((sql, tuple(params)))
        return await self.conn.execute(sql, params)

    async def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self.conn.execute_many(sql, rows)


@pytest.fixture
async def seeded(tmp_path: Path) -> Any:
    """Community 1 ("幸福里") with the tickets of the hand count; community 2 as noise."""
    async with database_for_test(tmp_path / "digest.sqlite3") as db:
        async with db.transaction() as tx:
            await seed(tx)
        yield db


async def seed(tx: Transaction) -> None:
    home = await tx.communities.add("xfl", "幸福里", "Asia/Shanghai", T0 - 90 * D)
    other = await tx.communities.add("hpl", "和平里", "Asia/Shanghai", T0 - 90 * D)
    z1 = await tx.zones.add(home.id, "Z1", "东片区")
    z2 = await tx.zones.add(home.id, "Z2", "西片区")
    z3 = await tx.zones.add(home.id, "Z3", "北片区")  # tickets only long ago
    await tx.zones.add(home.id, "Z4", "南片区")  # never a ticket: not in the trend
    far = await tx.zones.add(other.id, "Z1", "远片区")
    reporter = await tx.people.add("李明", T0, telegram_id=601, language=Language.ZH)
    cadre = await tx.people.add("陈建国", T0, telegram_id=501, language=Language.ZH)
    seq = iter(range(1, 100))

    async def ticket(
        community: int,
        zone: int | None,
        status: Status,
        created: timedelta,
        due: timedelta,
        events: list[tuple[EventKind, timedelta]],
        source: Source = Source.RESIDENT,
        **dates: timedelta,
    ) -> None:
        """Times are offsets before NOW (negative: after it)."""
        stored = await tx.tickets.add(
            Ticket(
                id=0,
                community_id=community,
                number=f"2026-{next(seq):04d}",
                source=source,
                reporter_person_id=reporter.id,
                category="litter",
                zone_id=zone,
                building_id=None,
                site_id=None,
                lat=None,
                lon=None,
                description="",
                status=status,
                assignee_person_id=None if status is Status.QUEUED else cadre.id,
                created_at=NOW - created,
                dispatched_at=NOW - created,
                due_at=NOW - due,
                **{k: NOW - v for k, v in dates.items()},
            ),
            None,
        )
        await tx.tickets.add_events(
            stored.id, [Event(kind, None, NOW - ago) for kind, ago in events]
        )

    C, Q, A, R = EventKind.CREATED, EventKind.DISPATCHED, EventKind.ACCEPTED, EventKind.RECTIFIED
    # T1: new today, due in five days.
    await ticket(home.id, z1.id, Status.ASSIGNED, 2 * H, -5 * D, [(C, 2 * H), (Q, 2 * H)])
    # T2: accepted two days ago, 30 hours overdue.
    await ticket(
        home.id,
        z1.id,
        Status.ACCEPTED,
        3 * D,
        30 * H,
        [(C, 3 * D), (Q, 3 * D), (A, 2 * D)],
        accepted_at=2 * D,
    )
    # T3: rectified in time, closed 20 hours ago.
    await ticket(
        home.id,
        z2.id,
        Status.CLOSED,
        10 * D,
        4 * D,
        [(C, 10 * D), (A, 9 * D), (R, 5 * D), (EventKind.CLOSED, 20 * H)],
        rectified_at=5 * D,
        closed_at=20 * H,
    )
    # T4: rectified, reopened, rectified again two hours ago, an hour before its deadline.
    await ticket(
        home.id,
        z2.id,
        Status.RECTIFIED,
        6 * D,
        1 * H,
        [(C, 6 * D), (A, 5 * D), (R, 4 * D), (EventKind.REOPENED, 3 * D), (R, 2 * H)],
        rectified_at=2 * H,
    )
    # T5: assigned nine days ago, two days overdue.
    await ticket(home.id, z1.id, Status.ASSIGNED, 9 * D, 2 * D, [(C, 9 * D), (Q, 9 * D)])
    # T6: no zone and no cadre, three days overdue.
    await ticket(home.id, None, Status.QUEUED, 8 * D, 3 * D, [(C, 8 * D)])
    # T7: closed a month ago in Z3.
    await ticket(
        home.id,
        z3.id,
        Status.CLOSED,
        30 * D,
        23 * D,
        [(C, 30 * D), (R, 26 * D), (EventKind.CLOSED, 25 * D)],
        rectified_at=26 * D,
        closed_at=25 * D,
    )
    # T8: rejected; its deadline three hours ago does not count for the rate.
    await ticket(
        home.id,
        z2.id,
        Status.REJECTED,
        5 * D,
        3 * H,
        [(C, 5 * D), (EventKind.REJECTED, 4 * D)],
        closed_at=4 * D,
    )
    # T9: accepted long ago, due tomorrow, followed an hour ago.
    await ticket(
        home.id,
        z1.id,
        Status.ACCEPTED,
        12 * D,
        -1 * D,
        [(A, 11 * D), (EventKind.SUPPORTED, 1 * H)],
        accepted_at=11 * D,
    )
    # T10: filed by yesterday's inspection in Z1; T11: the monthly review's zone ticket in
    # Z2 the day before; T12: an inspection's two days ago (in the week, not yesterday).
    for source, zone, ago in (
        (Source.INSPECTION, z1.id, 20 * H),
        (Source.REVIEW, z2.id, 30 * H),
        (Source.INSPECTION, z1.id, 40 * H),
    ):
        await ticket(home.id, zone, Status.ASSIGNED, ago, -4 * D, [(C, ago), (Q, ago)], source)
    # The other community: everything in the window, none of it ours.
    await ticket(
        other.id,
        far.id,
        Status.RECTIFIED,
        2 * H,
        1 * H,
        [(C, 2 * H), (A, 2 * H), (R, 1 * H), (EventKind.CLOSED, 1 * H)],
        rectified_at=1 * H,
    )
    await ticket(other.id, far.id, Status.ACCEPTED, 3 * H, 2 * H, [(C, 3 * H)])


async def test_daily_digest_counts_yesterday(seeded: Database) -> None:
    async with seeded.read() as tx:
        digest = await build_digest(tx, 1, NOW, 1)
    # Yesterday, Sunday 15 November, 00:00 to 24:00 in Shanghai: NOW - 34 h to NOW - 10 h.
    assert digest.period == DayRange(date(2026, 11, 15), date(2026, 11, 15))
    # Created then: T10 (inspection) and T11 (review). T3 closed (at NOW - 20 h).
    assert (digest.new, digest.accepted, digest.rectified, digest.closed) == (2, 0, 0, 1)
    assert digest.new_by_source == {
        Source.RESIDENT: 0,
        Source.INSPECTION: 1,
        Source.REVIEW: 1,
        Source.OPEN311: 0,
    }
    # Open: T1, T2, T5, T6, T9, T10-T12; overdue among them: T2, T5, T6; re-check: T4.
    assert (digest.open_total, digest.overdue, digest.waiting_recheck) == (8, 3, 1)
    # Due yesterday: T2 only (at NOW - 30 h), not rectified.
    assert (digest.due, digest.on_time, digest.rectification_rate) == (1, 0, 0.0)
    assert digest.oldest_overdue == [
        OverdueLine("2026-0006", "—", "—", Day(date(2026, 11, 13)), 4),
        OverdueLine("2026-0005", "东片区", "陈建国", Day(date(2026, 11, 14)), 3),
        OverdueLine("2026-0002", "东片区", "陈建国", Day(date(2026, 11, 15)), 2),
    ]
    assert digest.per_zone == []
    assert digest.today == []
    assert digest.community == "幸福里"


async def test_daily_counts_match_the_days_tickets_in_the_database(seeded: Database) -> None:
    async with seeded.read() as tx:
        digest = await build_digest(tx, 1, NOW, 1)
        rows = await tx.conn.fetch_all(
            "SELECT source, COUNT(*) FROM tickets WHERE community_id = 1 "
            "AND created_at >= ? AND created_at < ? GROUP BY source",
            (to_db_time(digest.period_start), to_db_time(digest.period_end)),
        )
    assert {Source(r[0]): r[1] for r in rows} == {
        s: n for s, n in digest.new_by_source.items() if n
    }


async def test_the_digest_of_a_day_is_the_same_whenever_it_is_built(seeded: Database) -> None:
    """The old window (the 24 h up to the build) held no deadline at 08:30 ("—") and T4's
    at 21:00 (100%): the rate swung with the hour on the same data."""
    async with seeded.read() as tx:
        morning = await build_digest(tx, 1, NOW - 90 * MINUTE, 1)  # 08:30
        evening = await build_digest(tx, 1, NOW + 11 * H, 1)  # 21:00
    assert morning.period == evening.period
    assert (morning.new, morning.closed, morning.due, morning.on_time) == (
        evening.new,
        evening.closed,
        evening.due,
        evening.on_time,
    )
    assert morning.rectification_rate == evening.rectification_rate == 0.0


async def test_a_digest_without_deadlines_in_its_period_shows_no_rate(seeded: Database) -> None:
    async with seeded.read() as tx:
        # Tuesday 24 November: Monday the 23rd had no deadline.
        digest = await build_digest(tx, 1, NOW + 8 * D, 1)
    params = digest_params(digest, Language.ZH)
    assert (digest.due, digest.rectification_rate, params["rate"]) == (0, None, "—")
    assert params["period"] == "11月23日（周一）"


async def test_weekly_digest_counts_last_monday_to_sunday(seeded: Database) -> None:
    async with seeded.read() as tx:
        digest = await build_digest(tx, 1, NOW, 7)
    # Mon 9 – Sun 15 November: NOW - 178 h to NOW - 10 h.
    assert digest.period == DayRange(date(2026, 11, 9), date(2026, 11, 15))
    # New: T2, T4, T8 (residents), T10, T12 (inspections), T11 (review). Accepted: T2, T4.
    # Rectified: T3, T4. Closed: T3 (T8's rejection is not a closing).
    assert (digest.new, digest.accepted, digest.rectified, digest.closed) == (6, 2, 2, 1)
    assert digest.new_by_source == {
        Source.RESIDENT: 3,
        Source.INSPECTION: 2,
        Source.REVIEW: 1,
        Source.OPEN311: 0,
    }
    assert (digest.open_total, digest.overdue, digest.waiting_recheck) == (8, 3, 1)
    # Due in the week, T8 aside: T2, T3, T5, T6; rectified by the deadline: T3.
    assert (digest.due, digest.on_time, digest.rectification_rate) == (4, 1, 25.0)
    # Created in Z1: T2, T10, T12; in Z2: T4, T8, T11; closed: T3 in Z2. Z3 quiet.
    assert digest.per_zone == [("东片区", 3, 0), ("西片区", 3, 1), ("北片区", 0, 0)]
    assert len(digest.oldest_overdue) == 3
    en = digest_params(digest, Language.EN)
    assert en["period"] == "Mon 9 Nov – Sun 15 Nov"
    assert (en["by_resident"], en["by_inspection"], en["by_review"]) == (3, 2, 1)


@pytest.mark.sqlite_only
async def test_digest_reads_index_ranges_only(seeded: Database) -> None:
    async with seeded.read() as tx:
        recording = _Recording(cast(SqliteConnection, tx.conn))
        await build_digest(Transaction(recording), 1, NOW, 7)
        plans = []
        for sql, params in recording.statements:
            rows = await tx.conn.raw.execute_fetchall(f"EXPLAIN QUERY PLAN {sql}", params)
            plans.append((sql, [str(r[3]) for r in rows]))
    scans = [
        (sql, line)
        for sql, plan in plans
        for line in plan
        if line.startswith(("SCAN tickets", "SCAN ticket_events", "SCAN t", "SCAN e"))
    ]
    assert scans == []
    lines = [line for _, plan in plans for line in plan]
    assert any("ticket_events_by_community_at" in line for line in lines)
    # The overdue are found by status, not by walking the community's deadline history.
    assert any("status=? AND due_at<?" in line for line in lines)
    assert not any("(community_id=? AND due_at<?)" in line for line in lines)
    # A zone is probed by its own index, not by reading its community's tickets.
    assert any("tickets_by_zone (zone_id=?)" in line for line in lines)
