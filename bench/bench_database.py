"""The database at district scale: the queries behind /tickets, /my and the minute tick.

    python bench/bench_database.py [--quick] [--postgresql]

A district is generated straight into a migrated database (``storage.database.Database``
creates and migrates it; rows go in with plain sqlite3 ``executemany``): 100 communities,
1,000 zones (5 buildings and 2 sites each), 200,000 residents, 1,000 responsible cadres
plus leaders, inspectors and admins, 1,000,000 tickets over ~2.5 years with a realistic
status mix, and 10 % of them followed by a second resident (--quick: everything 10×
smaller). Ticket events, photos and old occurrence keys are not generated: nothing
measured here reads them by anything but a key.

Then, through the product's own code (``Database``, repositories, services) on that file:
a cadre's /tickets (``TicketRepository.list_for_assignee`` and the whole
``TicketService.queue``), a resident's /my (``list_for_reporter`` and
``TicketService.mine``), an admin's /tickets (``list_by_status`` for the community), the
duplicate check of a new report, the tick's scan (``list_open_with_deadline``) and
``DeadlineService.tick()`` over the whole district — the first one (catching up: every
reminder, escalation and re-check request fires) and the following ones (steady state).
Baseline: ``TicketRepository.get`` by primary key, same path, same session.

Each measured call's SQL is captured and run through EXPLAIN QUERY PLAN; a full SCAN of a
table with more than 10,000 rows is flagged. The proposed indexes are then created in
this throw-away database only and the affected queries measured again.

--postgresql: the generated district is also moved (``storage.transfer``) into a
throwaway PostgreSQL server, and the same calls, with the same samples, are measured on
both backends in the same session; the report puts them side by side (section 3b of
BENCHMARKS.md), with PostgreSQL's own EXPLAIN of every statement (Seq Scans of large
tables flagged, the server's own time of each read) and a rewritten /my statement.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import math
import random
import re
import sqlite3
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _common import (
    T0,
    TOKEN,
    Report,
    hard_deadline,
    ms,
    parse_args,
    percentile,
    progress,
    quiet_logs,
)

from bot.domain.reports import CATEGORIES
from bot.domain.scoring import YearMonth

NOW = T0 + timedelta(hours=1)  # Monday 10:00 in Shanghai: reminders are due today
NOW_S = int(NOW.timestamp())
DAY = 86_400
LARGE_TABLE = 10_000
RANKED_MONTH = YearMonth(2026, 10)  # the month the 1 December review ranks
STATUS_MIX = (  # share of all tickets; open = queued + assigned + accepted
    ("closed", 0.905),
    ("rejected", 0.040),
    ("rectified", 0.010),
    ("accepted", 0.025),
    ("assigned", 0.015),
    ("queued", 0.005),
)
PROPOSED_INDEXES = (
    "CREATE INDEX bench_tickets_by_status_due ON tickets (status, due_at)",
    "CREATE INDEX bench_supporters_by_person ON ticket_supporters (person_id)",
    "CREATE INDEX bench_tickets_by_community_due ON tickets (community_id, due_at)",
    "CREATE INDEX bench_events_by_at ON ticket_events (at)",
    "ANALYZE",  # what PRAGMA optimize does now and then: lets the planner pick the index
)


# list_for_reporter's rows without its "OR id IN (subquery)", which PostgreSQL cannot
# answer from two indexes (it scans the whole table); measured here, not in the product.
MY_TICKETS_REWRITTEN = (
    "SELECT * FROM tickets WHERE id IN (SELECT id FROM tickets WHERE reporter_person_id = ? "
    "UNION ALL SELECT ticket_id FROM ticket_supporters WHERE person_id = ?) "
    "ORDER BY created_at DESC, id DESC LIMIT 20"
)


@dataclass(frozen=True)
class Scale:
    communities: int
    zones_per_community: int
    residents: int
    tickets: int
    fast_samples: int
    service_samples: int
    scan_samples: int
    steady_ticks: int
    ranking_samples: int = 5

    @classmethod
    def for_mode(cls, quick: bool) -> Scale:
        if quick:
            return cls(10, 10, 20_000, 100_000, 300, 100, 5, 3)
        return cls(100, 10, 200_000, 1_000_000, 300, 100, 5, 2)


@dataclass
class District:
    path: Path
    cadres: list[tuple[int, int, int]]  # (telegram id, person id, zone id)
    residents: list[tuple[int, int]]  # (telegram id, person id) with tickets
    admins: list[int]  # telegram ids
    community_ids: list[int]
    ticket_count: int
    open_count: int
    counts: dict[str, int] = field(default_factory=dict)


# --------------------------------------------------------------------------- generation

_DAYS: dict[int, str] = {}


def iso(ts: int | None) -> str | None:
    """The product's stored form (storage.rows.to_db_time) of a Unix time, quickly."""
    if ts is None:
        return None
    day, rest = divmod(ts, DAY)
    prefix = _DAYS.get(day)
    if prefix is None:
        prefix = _DAYS[day] = datetime.fromtimestamp(day * DAY, UTC).strftime("%Y-%m-%d")
    return f"{prefix}T{rest // 3600:02d}:{rest // 60 % 60:02d}:{rest % 60:02d}.000000+00:00"


def local_midnight_after(ts: int, days: int) -> int:
    """Shanghai midnight (16:00 UTC) ``days`` days after ``ts``: a deadline instant."""
    return ((ts + 8 * 3600) // DAY + days) * DAY - 8 * 3600


async def generate(path: Path, scale: Scale) -> District:
    from storage.database import SqliteDatabase

    db = SqliteDatabase(path)
    await db.connect()  # creates and migrates
    await db.close()
    rng = random.Random(20261116)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    created = iso(NOW_S - 1000 * DAY)
    n_comm, zpc = scale.communities, scale.zones_per_community

    conn.executemany(
        "INSERT INTO communities (id, code, name, timezone, created_at) VALUES (?,?,?,?,?)",
        ((c, f"c{c:03d}", f"社区{c:03d}", "Asia/Shanghai", created) for c in range(1, n_comm + 1)),
    )
    zones = [(z, (z - 1) // zpc + 1) for z in range(1, n_comm * zpc + 1)]  # (zone, community)
    people: list[tuple[Any, ...]] = []
    grants: list[tuple[Any, ...]] = []
    next_person = 1

    def person(telegram_id: int, name: str, community: int, zone: int | None) -> int:
        nonlocal next_person
        pid = next_person
        next_person += 1
        people.append((pid, telegram_id, name, "zh", community, None, zone, created))
        return pid

    cadres = []
    cadre_of_zone = {}
    for zone, community in zones:
        pid = person(50_000_000 + zone, f"干部{zone}", community, zone)
        cadre_of_zone[zone] = pid
        cadres.append((50_000_000 + zone, pid, zone))
        grants.append((pid, community, "cadre", zone, None, created))
    admins = []
    for community in range(1, n_comm + 1):
        for role, count in (("leader", 2), ("inspector", 2), ("admin", 1)):
            for k in range(count):
                tid = 60_000_000 + next_person
                pid = person(tid, f"{role}{community}-{k}", community, None)
                grants.append((pid, community, role, None, None, created))
                if role == "admin":
                    admins.append(tid)
    conn.executemany(
        "INSERT INTO zones (id, community_id, code, name, responsible_person_id) "
        "VALUES (?,?,?,?,?)",
        ((z, c, f"Z{z}", f"片区{z}", cadre_of_zone[z]) for z, c in zones),
    )
    buildings = []
    sites = []
    for zone, community in zones:
        lat, lon = 30.0 + zone * 0.01, 120.0 + zone * 0.01
        for b in range(5):
            buildings.append(
                (len(buildings) + 1, community, zone, f"{zone}-{b + 1}号楼", lat + b * 1e-3, lon)
            )
        for s in range(2):
            sites.append(
                (
                    len(sites) + 1,
                    community,
                    zone,
                    f"{zone}-点位{s}",
                    "居民小区",
                    lat,
                    lon + s * 1e-3,
                )
            )
    conn.executemany(
        "INSERT INTO buildings (id, community_id, zone_id, name, lat, lon) VALUES (?,?,?,?,?,?)",
        buildings,
    )
    conn.executemany(
        "INSERT INTO sites (id, community_id, zone_id, name, category, lat, lon) "
        "VALUES (?,?,?,?,?,?,?)",
        sites,
    )
    residents_by_community: dict[int, list[int]] = {c: [] for c in range(1, n_comm + 1)}
    resident_ids: dict[int, int] = {}
    for r in range(scale.residents):
        community = r % n_comm + 1
        zone = (community - 1) * zpc + rng.randrange(zpc) + 1
        tid = 10_000_000 + r
        pid = person(tid, f"居民{r}", community, zone)
        residents_by_community[community].append(pid)
        resident_ids[pid] = tid
    conn.executemany("INSERT INTO people VALUES (?,?,?,NULL,?,?,?,?,?)", people)
    # One cadre in fifty blocked the bot: the admins' queue marks their tickets.
    conn.executemany(
        "INSERT INTO unreachable_people (bot_id, person_id) VALUES (0, ?)",
        [(pid,) for _, pid, _ in cadres[::50]],
    )
    conn.executemany(
        "INSERT INTO role_grants (person_id, community_id, role, zone_id, granted_by, "
        "granted_at) VALUES (?,?,?,?,?,?)",
        grants,
    )
    conn.commit()
    progress(f"generated {len(people)} people, {len(zones)} zones; tickets next")

    statuses = [s for s, _ in STATUS_MIX]
    weights = [w for _, w in STATUS_MIX]
    seq: dict[int, int] = {}
    supporters: list[tuple[int, int, str | None]] = []
    events: list[tuple[int, int, str, int | None, str | None]] = []
    open_count = 0
    reporters_with_tickets: dict[int, int] = {}

    def flush_events() -> None:
        conn.executemany(
            "INSERT INTO ticket_events (ticket_id, community_id, kind, actor_person_id, at) "
            "VALUES (?,?,?,?,?)",
            events,
        )
        events.clear()

    def tickets() -> Iterator[tuple[Any, ...]]:
        nonlocal open_count
        for tid in range(1, scale.tickets + 1):
            zone, community = zones[rng.randrange(len(zones))]
            status = rng.choices(statuses, weights)[0]
            residents = residents_by_community[community]
            reporter = residents[rng.randrange(len(residents))]
            reporters_with_tickets[reporter] = reporters_with_tickets.get(reporter, 0) + 1
            building = (zone - 1) * 5 + rng.randrange(5) + 1
            if status in ("queued", "assigned", "accepted"):
                open_count += 1
                made = NOW_S - rng.randrange(3600, 12 * DAY)
            elif status == "rectified":
                made = NOW_S - rng.randrange(5 * DAY, 15 * DAY)
            else:
                made = NOW_S - rng.randrange(10 * DAY, 900 * DAY)
            due = local_midnight_after(made, 7)
            accepted = made + DAY if status in ("accepted", "rectified", "closed") else None
            rectified = None
            if status == "rectified":
                rectified = min(NOW_S - 3600, made + rng.randrange(DAY, 10 * DAY))
            elif status == "closed":
                rectified = made + 4 * DAY
            closed = made + 6 * DAY if status in ("closed", "rejected") else None
            cadre = cadre_of_zone[zone]
            events.append((tid, community, "created", reporter, iso(made)))
            dispatched = "queued" if status == "queued" else "dispatched"
            events.append((tid, community, dispatched, None, iso(made + 60)))
            if accepted is not None:
                events.append((tid, community, "accepted", cadre, iso(accepted)))
            if rectified is not None:
                events.append((tid, community, "rectified", cadre, iso(rectified)))
            if closed is not None:
                ended = "closed" if status == "closed" else "rejected"
                events.append((tid, community, ended, cadre, iso(closed)))
            n = seq[community] = seq.get(community, 0) + 1
            year = datetime.fromtimestamp(made, UTC).year
            followers = 0
            if rng.random() < 0.10:
                follower = residents[rng.randrange(len(residents))]
                if follower != reporter:
                    supporters.append((tid, follower, iso(made + 3600)))
                    followers = 1
            yield (
                tid,
                community,
                f"{year}-{n:04d}",
                "resident",
                reporter,
                CATEGORIES[rng.randrange(len(CATEGORIES))],
                zone,
                building,
                None,
                30.0 + zone * 0.01,
                120.0 + zone * 0.01,
                "楼道里堆满纸箱",
                status,
                None if status == "queued" else cadre_of_zone[zone],
                iso(made),
                iso(made + 60),
                iso(due),
                iso(accepted),
                iso(rectified),
                iso(closed),
                0,
                0,
                followers,
                1,
                0,
                "satisfied" if status == "closed" else None,
                None,
                1,
                None,  # origin_key
                None,  # next_check_at: not planned yet, as after migration 007
                None,  # extension_days (migration 011): none granted
            )

    began = time.perf_counter()
    rows = tickets()
    while chunk := list(itertools.islice(rows, 50_000)):
        conn.executemany(f"INSERT INTO tickets VALUES ({', '.join('?' * len(chunk[0]))})", chunk)
        flush_events()
    conn.executemany(
        "INSERT OR IGNORE INTO ticket_supporters (ticket_id, person_id, added_at) VALUES (?,?,?)",
        supporters,
    )
    conn.execute(
        "INSERT INTO ticket_counters (community_id, year, last_seq) "
        "SELECT community_id, 2026, COUNT(*) FROM tickets GROUP BY community_id"
    )
    conn.commit()
    counts = {
        table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        for table in (
            "communities",
            "zones",
            "buildings",
            "sites",
            "people",
            "role_grants",
            "tickets",
            "ticket_events",
            "ticket_supporters",
        )
    }
    conn.close()
    progress(f"tickets inserted in {time.perf_counter() - began:.0f} s")
    with_tickets = [(resident_ids[p], p) for p in reporters_with_tickets if p in resident_ids]
    return District(
        path=path,
        cadres=cadres,
        residents=with_tickets,
        admins=admins,
        community_ids=list(range(1, n_comm + 1)),
        ticket_count=scale.tickets,
        open_count=open_count,
        counts=counts,
    )


# --------------------------------------------------------------------------- measuring


@dataclass
class Measured:
    label: str
    what: str
    times: list[float]
    rows: float = 0.0
    statements: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)


@contextmanager
def capture_sql(sink: list[tuple[str, tuple[Any, ...]]]) -> Iterator[None]:
    """Record every statement (with its parameters) sent to either database."""
    import _postgres

    with _postgres.capture_sql(sink), _capture_aiosqlite(sink):
        yield


@contextmanager
def _capture_aiosqlite(sink: list[tuple[str, tuple[Any, ...]]]) -> Iterator[None]:
    from aiosqlite.core import Connection

    original_execute = Connection.execute
    original_fetchall = Connection.execute_fetchall

    def execute(self: Any, sql: str, parameters: Any = None) -> Any:
        sink.append((sql, tuple(parameters or ())))
        return original_execute(self, sql, parameters)

    def execute_fetchall(self: Any, sql: str, parameters: Any = None) -> Any:
        sink.append((sql, tuple(parameters or ())))
        return original_fetchall(self, sql, parameters)

    Connection.execute = execute  # type: ignore[assignment,method-assign]
    Connection.execute_fetchall = execute_fetchall  # type: ignore[assignment,method-assign]
    try:
        yield
    finally:
        Connection.execute = original_execute  # type: ignore[method-assign]
        Connection.execute_fetchall = original_fetchall  # type: ignore[method-assign]


async def sample(
    label: str,
    what: str,
    call: Callable[[int], Awaitable[Any]],
    samples: int,
) -> Measured:
    """Time ``call(i)`` ``samples`` times after one captured (and warm-up) call."""
    statements: list[tuple[str, tuple[Any, ...]]] = []
    with capture_sql(statements):
        await call(-1)
    times, sizes = [], []
    for i in range(samples):
        began = time.perf_counter()
        result = await call(i)
        times.append(time.perf_counter() - began)
        if isinstance(result, list):
            sizes.append(len(result))
    rows = sum(sizes) / len(sizes) if sizes else 0.0
    return Measured(label, what, times, rows, statements)


def plan_of(db_path: Path, sql: str, params: tuple[Any, ...]) -> list[str]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        rows = conn.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
    except sqlite3.Error as exc:
        return [f"(no plan: {exc})"]
    finally:
        conn.close()
    return [str(r[3]) for r in rows]


_SCAN = re.compile(r"^SCAN (\w+)")


def scans(plan: list[str], sizes: dict[str, int]) -> list[str]:
    flagged = []
    for line in plan:
        match = _SCAN.match(line)
        if match and sizes.get(match.group(1), 0) > LARGE_TABLE:
            flagged.append(f"{line} ({sizes[match.group(1)]:,} rows)")
    return flagged


def is_query(sql: str) -> bool:
    head = sql.lstrip().split(None, 1)[0].upper()
    return head in ("SELECT", "UPDATE", "DELETE", "WITH")


def short(sql: str, width: int = 160) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


async def table_sizes(db: Any) -> dict[str, int]:
    async with db.read() as tx:
        names = await tx.conn.fetch_all(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        sizes = {}
        for (name,) in names:
            (count,) = next(iter(await tx.conn.fetch_all(f"SELECT COUNT(*) FROM {name}")))
            sizes[name] = int(count)
    return sizes


async def hop_costs(db: Any, samples: int = 500) -> dict[str, list[float]]:
    """What one query costs as a round trip, by the way it is sent."""
    conn = db.writer.raw
    raw = sqlite3.connect(f"file:{db.path}?mode=ro", uri=True)
    out: dict[str, list[float]] = {
        "sqlite3": [],
        "execute_fetchall": [],
        "execute+fetch+close": [],
    }
    for _ in range(samples):
        began = time.perf_counter()
        raw.execute("SELECT 1").fetchone()
        out["sqlite3"].append(time.perf_counter() - began)
        began = time.perf_counter()
        await conn.execute_fetchall("SELECT 1")
        out["execute_fetchall"].append(time.perf_counter() - began)
        began = time.perf_counter()
        async with conn.execute("SELECT 1") as cur:
            await cur.fetchone()
        out["execute+fetch+close"].append(time.perf_counter() - began)
    raw.close()
    return out


@dataclass
class TickRun:
    label: str
    seconds: float
    counts: Any
    write_wait_max: float
    read_wait_max: float
    statements: Counter[str]
    outbox_rows: int
    raw: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)


async def probe(touch: Callable[[], Awaitable[None]], waits: list[float], done: Any) -> None:
    """Until ``done`` is set: do ``touch`` every 20 ms and record how long each took."""
    while not done.is_set():
        began = time.perf_counter()
        await touch()
        waits.append(time.perf_counter() - began)
        await asyncio.sleep(0.02)


async def run_tick(services: Any, label: str, capture: bool) -> TickRun:
    """One tick, while a writer and a reader probe the connections it uses (our poller
    needs both for every update: the dedupe read, the identify read, the commit)."""
    db = services.db
    write_waits: list[float] = []
    read_waits: list[float] = []
    done = asyncio.Event()

    async def empty_write() -> None:
        async with db.transaction():
            pass

    async def small_read() -> None:
        async with db.read() as tx:
            await tx.communities.list_all()

    async with db.read() as tx:
        before = sum((await tx.outbox.count_by_status()).values())
    statements: list[tuple[str, tuple[Any, ...]]] = []
    probes = [
        asyncio.create_task(probe(empty_write, write_waits, done)),
        asyncio.create_task(probe(small_read, read_waits, done)),
    ]
    await asyncio.sleep(0.05)
    began = time.perf_counter()
    if capture:
        with capture_sql(statements):
            counts = await services.deadlines.tick()
    else:
        counts = await services.deadlines.tick()
    seconds = time.perf_counter() - began
    done.set()
    await asyncio.gather(*probes)
    async with db.read() as tx:
        after = sum((await tx.outbox.count_by_status()).values())
    # The probes' statements (transaction control, the communities list) are left out.
    ours = [
        (sql, params)
        for sql, params in statements
        if sql.strip() not in ("BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK")
        and "FROM communities ORDER" not in sql
    ]
    by_sql: Counter[str] = Counter(short(sql, 120) for sql, _ in ours)
    first: dict[str, tuple[str, tuple[Any, ...]]] = {}
    for sql, params in ours:
        first.setdefault(sql, (sql, params))
    return TickRun(
        label,
        seconds,
        counts,
        max(write_waits, default=0.0),
        max(read_waits, default=0.0),
        by_sql,
        after - before,
        list(first.values()),
    )


async def index_columns(db: Any) -> set[tuple[str, tuple[str, ...]]]:
    """(table, columns) of every index in the schema."""
    found = set()
    async with db.read() as tx:
        indexes = await tx.conn.fetch_all(
            "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index'"
        )
        for name, table in indexes:
            cols = await tx.conn.raw.execute_fetchall(f"PRAGMA index_info('{name}')")
            found.add((table, tuple(str(c[2]) for c in cols)))
    return found


def index_key(statement: str) -> tuple[str, tuple[str, ...]] | None:
    match = re.match(r"CREATE INDEX \w+ ON (\w+) \(([^)]*)\)", statement)
    if match is None:
        return None
    return match.group(1), tuple(c.strip() for c in match.group(2).split(","))


# --------------------------------------------------------------------------- main


@dataclass
class Explained:
    label: str
    sql: str
    plan: list[str]
    flags: list[str]
    server_ms: float | None = None  # PostgreSQL: planning + execution, no round trip


def explain(path: Path, measured: list[Measured], sizes: dict[str, int]) -> list[Explained]:
    out, seen = [], set()
    for m in measured:
        for sql, params in m.statements:
            if not is_query(sql) or sql in seen:
                continue
            seen.add(sql)
            plan = plan_of(path, sql, params)
            out.append(Explained(m.label, sql, plan, scans(plan, sizes)))
    return out


@dataclass
class PartRun:
    label: str
    seconds: float
    result: str
    writer_blocked: float = 0.0


async def longest_write_wait(db: Any, work: Awaitable[Any]) -> tuple[Any, float]:
    """Run ``work`` while a probe keeps opening empty write transactions, as the poller's
    commits would; returns its result and the longest any probe waited for the writer."""
    waits: list[float] = []
    done = asyncio.Event()

    async def empty_write() -> None:
        async with db.transaction():
            pass

    prober = asyncio.create_task(probe(empty_write, waits, done))
    await asyncio.sleep(0.05)
    try:
        result = await work
    finally:
        done.set()
        await prober
    return result, max(waits, default=0.0)


async def other_parts(services: Any) -> list[PartRun]:
    """The minute job's other parts (monthly rhythm, monthly review), if present."""
    runs = []
    for name in ("rhythm", "review"):
        part = getattr(services, name, None)
        if part is None:
            continue
        for label in ("first", "steady"):
            began = time.perf_counter()
            blocked = 0.0
            try:
                ticked, blocked = await longest_write_wait(services.db, part.tick())
                result = repr(ticked)
            except Exception as exc:  # the product moves fast; report, don't crash
                result = f"failed: {exc!r}"
            runs.append(
                PartRun(f"{name}.tick() ({label})", time.perf_counter() - began, result, blocked)
            )
    return runs


@dataclass
class Backend:
    """What differs between the two databases: how statements are explained, tables
    counted and a bare round trip measured."""

    name: str
    table_sizes: Callable[[Any], Awaitable[dict[str, int]]]
    explain: Callable[[list[Measured], dict[str, int]], list[Explained]]
    hop_costs: Callable[[Any], Awaitable[dict[str, list[float]]]]
    # The SQLite run also tries the indexes it proposes; the PostgreSQL schema is measured
    # as migrated.
    tries_indexes: bool


def sqlite_backend(path: Path, tries_indexes: bool) -> Backend:
    return Backend(
        "SQLite",
        table_sizes,
        functools.partial(explain, path),
        hop_costs,
        tries_indexes=tries_indexes,
    )


def explain_postgres(
    planner: Any, measured: list[Measured], sizes: dict[str, int]
) -> list[Explained]:
    import _postgres

    out, seen = [], set()
    for m in measured:
        for sql, params in m.statements:
            if not is_query(sql) or sql in seen:
                continue
            seen.add(sql)
            plan = planner.plan(sql, params)
            flags = _postgres.seq_scans(plan, sizes, LARGE_TABLE)
            out.append(Explained(m.label, sql, plan, flags, planner.server_ms(sql, params)))
    return out


@dataclass
class Run:
    backend: str
    sizes: dict[str, int]
    results: list[Measured]
    plans: list[Explained]
    hops: dict[str, list[float]]
    ticks: list[TickRun]
    parts: list[PartRun]
    ranking_writer_blocked: float
    after_fix: list[Measured] = field(default_factory=list)
    fixed_plans: list[Explained] = field(default_factory=list)
    steady_fixed: TickRun | None = None
    applied: list[str] = field(default_factory=list)


async def measure(district: District, scale: Scale, db: Any, backend: Backend) -> Run:
    """The calls, the ticks and the ranking on ``db`` (connected); the same samples on
    either backend (the same seed over the same district)."""
    from bot.clock import Clock
    from bot.config import Settings
    from bot.services.container import Services

    settings = Settings(token=TOKEN, data_dir=district.path.parent)
    services = Services.build(settings, db, Clock(NOW))
    rng = random.Random(7)
    sizes = await backend.table_sizes(db)
    cadre_actors = []
    for telegram_id, _pid, _zone in rng.sample(district.cadres, 50):
        actor, _ = await services.people.identify(telegram_id, "干部", "zh", False)
        cadre_actors.append(actor)
    people = []
    for telegram_id, _pid in rng.sample(district.residents, 100):
        _, person = await services.people.identify(telegram_id, "居民", "zh", False)
        people.append(person)
    admin_actors = []
    for telegram_id in rng.sample(district.admins, min(20, len(district.admins))):
        actor, _ = await services.people.identify(telegram_id, "管理员", "zh", False)
        admin_actors.append(actor)
    ids = [rng.randrange(1, district.ticket_count + 1) for _ in range(scale.fast_samples)]

    def pick(items: list[Any], i: int) -> Any:
        return items[i % len(items)]

    async def pk(i: int) -> Any:
        async with db.read() as tx:
            return await tx.tickets.get(pick(ids, i))

    async def assignee(i: int) -> Any:
        actor = pick(cadre_actors, i)
        async with db.read() as tx:
            return await tx.tickets.list_for_assignee(actor.person_id, actor.cadre_zone_ids())

    async def reporter(i: int) -> Any:
        async with db.read() as tx:
            return await tx.tickets.list_for_reporter(pick(people, i).id)

    async def duplicates(i: int) -> Any:
        community = pick(district.community_ids, i)
        async with db.read() as tx:
            return await tx.tickets.list_active_by_category(community, CATEGORIES[i % 11])

    async def reporter_rewritten(i: int) -> Any:
        async with db.read() as tx:
            return await tx.conn.fetch_all(MY_TICKETS_REWRITTEN, (pick(people, i).id,) * 2)

    async def unreachable(i: int) -> Any:
        async with db.read() as tx:
            return await tx.tickets.list_unreachable_held(pick(district.community_ids, i), 30)

    async def queue(i: int) -> Any:
        return await services.tickets.queue(pick(cadre_actors, i))

    async def mine(i: int) -> Any:
        return await services.tickets.mine(pick(people, i))

    async def admin_queue(i: int) -> Any:
        return await services.tickets.queue(pick(admin_actors, i))

    async def digest_daily(i: int) -> Any:
        return await services.digests.build(pick(district.community_ids, i), 1)

    async def digest_weekly(i: int) -> Any:
        return await services.digests.build(pick(district.community_ids, i), 7)

    async def ranking(i: int) -> Any:
        return await services.scoring.compute(pick(district.community_ids, i), RANKED_MONTH)

    # The tick's scan: the product has used both over time; measure what exists.
    scans_available = [
        name
        for name in ("list_to_check", "list_open_due_before", "list_open_with_deadline")
        if hasattr(_repository(), name)
    ]

    async def open_scan_by(name: str, _i: int) -> Any:
        async with db.read() as tx:
            method = getattr(tx.tickets, name)
            if name == "list_to_check":  # one batch of a catch-up: nothing planned yet
                from bot.services.deadlines import CHECK_BATCH

                return await method(NOW, CHECK_BATCH)
            if name == "list_open_due_before":
                return await method(NOW + timedelta(days=15))
            return await method()

    fast, slow = scale.fast_samples, scale.service_samples
    progress(f"{backend.name}: measuring queries")
    results = [
        await sample("PK lookup (baseline)", "`TicketRepository.get`", pk, fast),
        await sample(
            "cadre /tickets query", "`TicketRepository.list_for_assignee`", assignee, fast
        ),
        await sample("cadre /tickets", "`TicketService.queue` (cadre)", queue, slow),
        await sample("resident /my query", "`TicketRepository.list_for_reporter`", reporter, fast),
        await sample("resident /my", "`TicketService.mine`", mine, slow),
        await sample(
            "resident /my query, rewritten (candidate)",
            "the same rows by `UNION ALL` (bench only)",
            reporter_rewritten,
            fast,
        ),
        await sample("admin /tickets", "`TicketService.queue` (admin)", admin_queue, slow),
        await sample(
            "admin /tickets: unreachable cadres' tickets",
            "`TicketRepository.list_unreachable_held`",
            unreachable,
            fast,
        ),
        await sample(
            "report duplicate check",
            "`TicketRepository.list_active_by_category`",
            duplicates,
            fast,
        ),
    ]
    if getattr(services, "digests", None) is not None:
        results += [
            await sample(
                "leader digest (daily)", "`DigestService.build(c, 1)`", digest_daily, slow
            ),
            await sample(
                "leader digest (weekly)", "`DigestService.build(c, 7)`", digest_weekly, slow
            ),
        ]
    for name in scans_available:
        results.append(
            await sample(
                f"tick scan ({name})",
                f"`TicketRepository.{name}`",
                functools.partial(open_scan_by, name),
                scale.scan_samples,
            )
        )
    progress(f"{backend.name}: monthly ranking")
    results.append(
        await sample(
            "monthly ranking (one community)",
            f"`ScoringService.compute(c, {RANKED_MONTH})`",
            ranking,
            scale.ranking_samples,
        )
    )
    _, ranking_blocked = await longest_write_wait(
        db, services.scoring.compute(district.community_ids[0], RANKED_MONTH)
    )
    plans = backend.explain(results, sizes)
    hops = await backend.hop_costs(db)
    progress(f"{backend.name}: first tick (catch-up)")
    ticks = [await run_tick(services, "first tick (catch-up)", capture=False)]
    progress(f"{backend.name}: first tick took {ticks[0].seconds:.1f} s; steady ticks")
    for n in range(scale.steady_ticks):
        ticks.append(await run_tick(services, "steady tick", capture=n == 0))
    parts = await other_parts(services)
    steady = next((t for t in ticks if t.raw), None)
    if steady is not None:
        tick_statements = Measured("steady tick", "", [], 0.0, steady.raw)
        plans += backend.explain([tick_statements], sizes)
    run = Run(backend.name, sizes, results, plans, hops, ticks, parts, ranking_blocked)
    if not backend.tries_indexes:
        return run
    progress("proposed indexes")
    present = await index_columns(db)
    run.applied = [
        statement
        for statement in PROPOSED_INDEXES
        if index_key(statement) is None or index_key(statement) not in present
    ]
    async with db.transaction() as tx:
        for statement in run.applied:
            await tx.conn.execute(statement)
    after_fix = [
        await sample("resident /my query, + fix", "`list_for_reporter`", reporter, fast),
    ]
    for name in scans_available:
        after_fix.append(
            await sample(
                f"tick scan ({name}), + fix",
                f"`{name}`",
                functools.partial(open_scan_by, name),
                scale.scan_samples,
            )
        )
    if getattr(services, "digests", None) is not None:
        after_fix.append(
            await sample(
                "leader digest (daily), + fix",
                "`DigestService.build(c, 1)`",
                digest_daily,
                slow,
            )
        )
        after_fix.append(
            await sample(
                "leader digest (weekly), + fix",
                "`DigestService.build(c, 7)`",
                digest_weekly,
                slow,
            )
        )
    before = {e.sql: e.plan for e in plans}
    run.after_fix = after_fix
    run.fixed_plans = [
        e for e in backend.explain(after_fix, sizes) if before.get(e.sql) not in (None, e.plan)
    ]
    run.steady_fixed = await run_tick(services, "steady tick, + fix", capture=False)
    return run


def _repository() -> type:
    from storage.tickets import TicketRepository

    return TicketRepository


def write_report(report: Report, district: District, run: Run) -> None:
    sizes, results, after_fix, plans = run.sizes, run.results, run.after_fix, run.plans
    fixed_plans, hops, ticks, parts = run.fixed_plans, run.hops, run.ticks, run.parts
    applied = run.applied
    assert run.steady_fixed is not None
    steady_fixed = run.steady_fixed
    base = percentile(results[0].times, 50)
    open_share = district.open_count / district.ticket_count
    report.add(
        f"District: {sizes['communities']} communities, {sizes['zones']} zones, "
        f"{sizes['people']:,} people, {sizes['tickets']:,} tickets ({district.open_count:,} "
        f"open = {open_share:.1%}; mix "
        + ", ".join(f"{s} {w:.1%}" for s, w in STATUS_MIX)
        + f"), {sizes['ticket_events']:,} ticket events, {sizes['ticket_supporters']:,} "
        f"follower rows; database file {district.path.stat().st_size / 2**20:,.0f} MiB."
    )
    report.add("")
    rows = []
    for m in results + after_fix:
        p50, p99 = percentile(m.times, 50), percentile(m.times, 99)
        rows.append(
            [
                m.label,
                m.what,
                len(m.times),
                f"{m.rows:,.0f}",
                ms(p50),
                ms(p99),
                f"{p50 / base:,.0f}×",
            ]
        )
    report.table(["call", "code", "samples", "rows", "p50 ms", "p99 ms", "p50 ÷ PK lookup"], rows)
    created = [stmt.split(" ON ")[1] for stmt in applied if " ON " in stmt]
    already = [
        stmt.split(" ON ")[1]
        for stmt in PROPOSED_INDEXES
        if " ON " in stmt and stmt not in applied
    ]
    report.add(
        "*+ fix*: "
        + (f"after creating `{'`, `'.join(created)}` and " if created else "after ")
        + "running `ANALYZE` in this throw-away database"
        + (f" (`{'`, `'.join(already)}` are already in the schema)" if already else "")
        + ". One query as a round trip (p50 µs): plain sqlite3 "
        f"{percentile(hops['sqlite3'], 50) * 1e6:.0f}; aiosqlite `execute_fetchall` (one thread "
        f"hop) {percentile(hops['execute_fetchall'], 50) * 1e6:.0f}; aiosqlite `async with "
        "execute() as cur: await cur.fetchone()` (three hops, as `storage.rows` does) "
        f"{percentile(hops['execute+fetch+close'], 50) * 1e6:.0f}."
    )
    report.add("")

    tick_rows = []
    for t in [*ticks, steady_fixed]:
        c = t.counts
        tick_rows.append(
            [
                t.label,
                f"{t.seconds:.2f}",
                f"{c.reminders}/{c.escalations}/{c.late_acceptances}/{c.recheck_requests}",
                f"{t.outbox_rows:,}",
                f"{t.write_wait_max:.2f}",
                f"{t.read_wait_max:.2f}",
                f"{t.seconds / base:,.0f}×",
            ]
        )
    report.add(
        f"**`DeadlineService.tick()` over the whole district** ({district.open_count:,} open "
        "tickets). *Fired*: reminders/escalations/late acceptances/re-check requests. "
        "*Writer/reader blocked*: the longest a concurrent write transaction, and a "
        "concurrent read on the shared reader connection, waited while the tick ran (our "
        "poller needs both for every update: the dedupe and identify reads, the commit)."
    )
    report.add("")
    report.table(
        [
            "tick",
            "seconds",
            "fired",
            "outbox rows added",
            "writer blocked s",
            "reader blocked s",
            "÷ PK lookup",
        ],
        tick_rows,
    )
    for part in parts:
        report.add(
            f"- `{part.label}`: {part.seconds:.2f} s, writer blocked up to "
            f"{part.writer_blocked:.2f} s → {short(part.result, 120)}"
        )
    if parts:
        report.add("")
    steady = next((t for t in ticks if t.statements), None)
    if steady is not None:
        report.add(
            f"Statements sent by one steady `DeadlineService.tick()` (transaction control "
            f"left out): {sum(steady.statements.values()):,}; the most frequent:"
        )
        report.add("")
        report.table(
            ["times", "statement"],
            [[f"{n:,}", f"`{sql}`"] for sql, n in steady.statements.most_common(6)],
        )

    report.add(
        "**EXPLAIN QUERY PLAN** of each distinct statement the measured calls sent "
        "(⚠️ = full scan of a table over 10,000 rows):"
    )
    report.add("")
    for e in plans:
        mark = " ⚠️" if e.flags else ""
        report.add(f"- {e.label}{mark}: `{short(e.sql)}` → {' → '.join(e.plan)}")
    report.add("")
    report.add("Plans that changed with the fix:")
    report.add("")
    for e in fixed_plans:
        mark = " ⚠️" if e.flags else ""
        report.add(f"- {e.label}{mark}: {' → '.join(e.plan)}")
    report.add("")

    by_label = {m.label: m for m in results}
    goal_keys = [
        k
        for k in ("cadre /tickets", "leader digest (daily)", "leader digest (weekly)")
        if k in by_label
    ]
    worst = max(percentile(by_label[k].times, 99) for k in goal_keys)
    report.verdict(
        "digest and /tickets p99 ≤ 50 ms",
        worst <= 0.050,
        ", ".join(f"{k} p99 {ms(percentile(by_label[k].times, 99))} ms" for k in goal_keys)
        + f"; the repository query alone: /tickets p99 "
        f"{ms(percentile(by_label['cadre /tickets query'].times, 99))} ms",
    )
    steady_s = [t.seconds for t in ticks[1:]]
    blocked = max(max(t.write_wait_max, t.read_wait_max) for t in ticks[1:])
    report.verdict(
        "a steady minute tick holds up the bot's other database work < 1 s",
        blocked < 1.0,
        f"steady tick {min(steady_s):.1f}–{max(steady_s):.1f} s, other work blocked up to "
        f"{blocked:.1f} s (writes {max(t.write_wait_max for t in ticks[1:]):.1f} s, reads "
        f"{max(t.read_wait_max for t in ticks[1:]):.1f} s); first (catch-up) tick "
        f"{ticks[0].seconds:.1f} s, blocking up to "
        f"{max(ticks[0].write_wait_max, ticks[0].read_wait_max):.1f} s",
    )
    ranking_verdict(report, run)
    flagged = [f"{e.label}: {'; '.join(e.flags)}" for e in plans if e.flags]
    report.verdict(
        "no full scan of a large table",
        not flagged,
        "; ".join(flagged) if flagged else "none",
    )
    report.data["queries"] = [
        {
            "label": m.label,
            "p50_ms": percentile(m.times, 50) * 1000,
            "p99_ms": percentile(m.times, 99) * 1000,
            "rows": m.rows,
        }
        for m in results + after_fix
    ]
    report.data["ticks"] = [
        {
            "label": t.label,
            "seconds": t.seconds,
            "writer_blocked_s": t.write_wait_max,
            "reader_blocked_s": t.read_wait_max,
        }
        for t in [*ticks, steady_fixed]
    ]
    report.data["other_parts"] = [p.__dict__ for p in parts]
    report.data["plans"] = [e.__dict__ for e in plans + fixed_plans]
    report.data["sizes"] = sizes


PER_UPDATE = (
    "cadre /tickets",
    "resident /my",
    "admin /tickets",
    "report duplicate check",
    "leader digest (daily)",
    "leader digest (weekly)",
)


def write_comparison(report: Report, district: District, sq: Run, pg: Run, moved: Any) -> None:
    """Section 3b: PostgreSQL's figures, each beside SQLite's from the same session."""
    import _postgres

    sizes = pg.sizes
    rows_moved = sum(c.target for c in moved.counts)
    unequal = [c.table for c in moved.counts if not c.equal]
    report.add(
        f"District: {sizes['communities']} communities, {sizes['zones']} zones, "
        f"{sizes['people']:,} people, {sizes['tickets']:,} tickets ({district.open_count:,} "
        f"open), {sizes['ticket_events']:,} ticket events, {sizes['ticket_supporters']:,} "
        f"follower rows. Generated in SQLite as in section 3 (file "
        f"{district.path.stat().st_size / 2**20:,.0f} MiB), then moved by "
        f"`storage.transfer.transfer` into a throwaway PostgreSQL "
        f"{moved.version} on this machine (loopback TCP, fsync off, "
        f"shared_buffers 128 MB): {rows_moved:,} rows in {moved.transfer_s:.0f} s, "
        + ("per-table counts equal" if not unequal else f"counts DIFFER in {unequal}")
        + f"; `VACUUM (ANALYZE)` {moved.vacuum_s:.0f} s; database "
        f"{moved.size_bytes / 2**20:,.0f} MiB. Both backends then run the same calls with "
        "the same samples (same seeds, same rows), SQLite first; the PostgreSQL copy was "
        "taken before SQLite's catch-up tick wrote to its file."
    )
    report.add("")
    base_sq = percentile(sq.results[0].times, 50)
    base_pg = percentile(pg.results[0].times, 50)
    sq_by = {m.label: m for m in sq.results}
    rows = []
    for m in pg.results + pg.after_fix:
        s = sq_by.get(m.label)
        p50, p99 = percentile(m.times, 50), percentile(m.times, 99)
        s50 = percentile(s.times, 50) if s else math.nan
        s99 = percentile(s.times, 99) if s else math.nan
        versus = "-" if s is None else f"{p50 / s50:.2f}× / {p99 / s99:.2f}×"
        rows.append(
            [
                m.label,
                m.what,
                len(m.times),
                f"{m.rows:,.0f}",
                f"{ms(s50)} / {ms(s99)}",
                "-" if s is None else f"{s50 / base_sq:,.1f}×",
                f"{ms(p50)} / {ms(p99)}",
                f"{p50 / base_pg:,.1f}×",
                versus,
            ]
        )
    report.table(
        [
            "call",
            "code",
            "samples",
            "rows",
            "SQLite p50 / p99 ms",
            "÷ PK",
            "PostgreSQL p50 / p99 ms",
            "÷ PK",
            "PG ÷ SQLite p50 / p99",
        ],
        rows,
    )
    sh, ph = sq.hops, pg.hops
    report.add(
        "*candidate*: a statement the bench sends itself, to show what a rewrite would cost; "
        "*÷ PK*: p50 over the same backend's primary-key lookup. One `SELECT 1` as a round "
        f"trip (p50 µs): SQLite — plain sqlite3 {percentile(sh['sqlite3'], 50) * 1e6:.0f}, "
        f"aiosqlite three hops {percentile(sh['execute+fetch+close'], 50) * 1e6:.0f}; "
        f"PostgreSQL — plain psycopg {percentile(ph['psycopg'], 50) * 1e6:.0f}, "
        f"`PostgresConnection.fetch_all` {percentile(ph['fetch_all'], 50) * 1e6:.0f}, "
        "inside `db.read()` (BEGIN REPEATABLE READ READ ONLY … ROLLBACK, as every read "
        f"does) {percentile(ph['read()'], 50) * 1e6:.0f}."
    )
    report.add("")

    tick_rows = []
    for run in (sq, pg):
        for t in run.ticks:
            c = t.counts
            tick_rows.append(
                [
                    run.backend,
                    t.label,
                    f"{t.seconds:.2f}",
                    f"{c.reminders}/{c.escalations}/{c.late_acceptances}/{c.recheck_requests}",
                    f"{t.outbox_rows:,}",
                    f"{t.write_wait_max:.2f}",
                    f"{t.read_wait_max:.2f}",
                ]
            )
    report.add(
        f"**`DeadlineService.tick()` over the whole district** ({district.open_count:,} open "
        "tickets), columns as in section 3 (on PostgreSQL a read takes a pooled connection "
        "and never waits for the writers' advisory lock; a write waits for it)."
    )
    report.add("")
    report.table(
        [
            "backend",
            "tick",
            "seconds",
            "fired",
            "outbox rows added",
            "writer blocked s",
            "reader blocked s",
        ],
        tick_rows,
    )
    for run in (sq, pg):
        for part in run.parts:
            report.add(
                f"- {run.backend} `{part.label}`: {part.seconds:.2f} s, writer blocked up to "
                f"{part.writer_blocked:.2f} s → {short(part.result, 120)}"
            )
    report.add("")
    steady = next((t for t in pg.ticks if t.statements), None)
    if steady is not None:
        report.add(
            "Statements sent by one steady `DeadlineService.tick()` on PostgreSQL: "
            f"{sum(steady.statements.values()):,}; the most frequent:"
        )
        report.add("")
        report.table(
            ["times", "statement"],
            [[f"{n:,}", f"`{sql}`"] for sql, n in steady.statements.most_common(6)],
        )
    report.add(
        "**EXPLAIN** (PostgreSQL's plan, nodes and index conditions, costs left out) of each "
        "distinct statement the measured calls sent, with the parameters of the captured "
        "call, and for a read the median of five EXPLAIN ANALYZE (planning + execution in "
        "the server, no round trip) (⚠️ = Seq Scan of a table over 10,000 rows):"
    )
    report.add("")
    for e in pg.plans:
        mark = " ⚠️" if e.flags else ""
        took = "" if e.server_ms is None else f" ({e.server_ms:.2f} ms in the server)"
        report.add(
            f"- {e.label}{mark}: `{short(e.sql)}`{took} → {' → '.join(_postgres.compact(e.plan))}"
        )
    report.add("")
    by_label = {m.label: m for m in pg.results}
    keys = [k for k in PER_UPDATE if k in by_label]
    worst = max(percentile(by_label[k].times, 99) for k in keys)
    report.verdict(
        "PostgreSQL: per-update calls p99 ≤ 50 ms",
        worst <= 0.050,
        ", ".join(f"{k} {ms(percentile(by_label[k].times, 99))} ms" for k in keys),
    )
    ranking_verdict(report, pg)
    steady_s = [t.seconds for t in pg.ticks[1:]]
    blocked = max(max(t.write_wait_max, t.read_wait_max) for t in pg.ticks[1:])
    first_sq, first_pg = sq.ticks[0], pg.ticks[0]
    report.verdict(
        "PostgreSQL: a steady minute tick holds up the bot's other database work < 1 s",
        blocked < 1.0,
        f"steady tick {min(steady_s):.2f}–{max(steady_s):.2f} s, other work blocked up to "
        f"{blocked:.2f} s; first (catch-up) tick {first_pg.seconds:.1f} s (SQLite "
        f"{first_sq.seconds:.1f} s), writes blocked up to {first_pg.write_wait_max:.2f} s "
        f"(SQLite {first_sq.write_wait_max:.2f} s)",
    )
    flagged = [f"{e.label}: {'; '.join(e.flags)}" for e in pg.plans if e.flags]
    report.verdict(
        "PostgreSQL: no Seq Scan of a large table",
        not flagged,
        "; ".join(flagged) if flagged else "none",
    )
    for run in (sq, pg):
        report.data[run.backend] = {
            "queries": [
                {
                    "label": m.label,
                    "p50_ms": percentile(m.times, 50) * 1000,
                    "p99_ms": percentile(m.times, 99) * 1000,
                    "rows": m.rows,
                }
                for m in run.results
            ],
            "ticks": [
                {
                    "label": t.label,
                    "seconds": t.seconds,
                    "writer_blocked_s": t.write_wait_max,
                    "reader_blocked_s": t.read_wait_max,
                }
                for t in run.ticks
            ],
            "other_parts": [p.__dict__ for p in run.parts],
            "plans": [e.__dict__ for e in run.plans + run.fixed_plans],
            "after_fix": [
                {
                    "label": m.label,
                    "p50_ms": percentile(m.times, 50) * 1000,
                    "p99_ms": percentile(m.times, 99) * 1000,
                }
                for m in run.after_fix
            ],
            "sizes": run.sizes,
        }
    report.data["transfer"] = {
        "seconds": moved.transfer_s,
        "vacuum_s": moved.vacuum_s,
        "bytes": moved.size_bytes,
        "counts": [c.__dict__ for c in moved.counts],
    }


def ranking_verdict(report: Report, run: Run) -> None:
    ranked = next(m for m in run.results if m.label.startswith("monthly ranking"))
    p99 = percentile(ranked.times, 99)
    report.verdict(
        "the month's ranking of one community ≤ 2 s",
        p99 <= 2.0,
        f"`ScoringService.compute` p50 {ms(percentile(ranked.times, 50))} ms, p99 {ms(p99)} ms "
        f"over {len(ranked.times)} communities; it holds the writer: a concurrent write "
        f"waited up to {run.ranking_writer_blocked:.2f} s",
    )


async def main() -> None:
    args = parse_args(__doc__ or "", postgresql=True)
    quiet_logs()
    if args.postgresql:
        hard_deadline(900 if args.quick else 3000, "bench_database")
    else:
        hard_deadline(420 if args.quick else 900, "bench_database")
    scale = Scale.for_mode(args.quick)
    script = "bench_database.py --postgresql" if args.postgresql else "bench_database.py"
    report = Report(script, args.quick, "Database")
    with tempfile.TemporaryDirectory(prefix="jiayuan-bench-db-") as tmp:
        path = Path(tmp) / "jiayuan.sqlite3"
        began = time.perf_counter()
        district = await generate(path, scale)
        progress(f"district generated in {time.perf_counter() - began:.0f} s")
        if args.postgresql:
            await on_both(district, scale, report)
        else:
            run = await on_sqlite(district, scale, tries_indexes=True)
            write_report(report, district, run)
    report.emit(args.json)


async def on_sqlite(district: District, scale: Scale, *, tries_indexes: bool) -> Run:
    from storage.database import SqliteDatabase

    db = SqliteDatabase(district.path)
    await db.connect()
    try:
        return await measure(district, scale, db, sqlite_backend(district.path, tries_indexes))
    finally:
        await db.close()


async def on_both(district: District, scale: Scale, report: Report) -> None:
    """The district moved into PostgreSQL before SQLite's run changes it (the catch-up tick
    writes), then the same calls on each, one after the other, in this session."""
    import _postgres

    from storage.postgres import PostgresDatabase

    with _postgres.cluster() as server:
        url = server.create_database("bench")
        progress("moving the district into PostgreSQL")
        moved = await _postgres.move(district.path, url)
        progress(f"moved in {moved.transfer_s:.0f} s, VACUUM ANALYZE {moved.vacuum_s:.0f} s")
        sqlite_run = await on_sqlite(district, scale, tries_indexes=False)
        db = PostgresDatabase(url)
        await db.connect()
        planner = _postgres.Planner(url)
        try:
            backend = Backend(
                "PostgreSQL",
                _postgres.table_sizes,
                functools.partial(explain_postgres, planner),
                functools.partial(_postgres.hop_costs, url=url),
                tries_indexes=False,
            )
            pg_run = await measure(district, scale, db, backend)
        finally:
            planner.close()
            await db.close()
    write_comparison(report, district, sqlite_run, pg_run, moved)


if __name__ == "__main__":
    asyncio.run(main())
