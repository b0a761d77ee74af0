"""The one-shot commands: import a ledger, export ledgers, back up, migrate."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.clock import Clock
from bot.config import Settings
from bot.domain.errors import JiayuanError
from bot.domain.models import Language
from bot.domain.scoring import YearMonth
from bot.i18n import both, t
from bot.importer import ImportFailed
from bot.importer.worker import load_plan_isolated
from bot.services.container import Services
from bot.services.invites import INVITE_PREFIX
from storage.database import SqliteDatabase, open_database


async def import_file(
    settings: Settings, path: Path, community_code: str | None, bot_username: str | None
) -> int:
    """Load a community, all or nothing; print what was imported and cadres' invites."""
    try:
        plan = await load_plan_isolated(path, community_code=community_code)
    except ImportFailed as failed:
        print(
            f"导入失败，未导入任何内容 / import failed, nothing imported:\n{failed}",
            file=sys.stderr,
        )
        return 1
    # With a BOT_TOKEN, the community is bound to that bot; without, the first to start.
    async with open_database(
        settings.database_url, settings.database_path, bot_id=settings.bot_id
    ) as db:
        services = Services.build(settings, db, Clock(settings.now))
        try:
            summary = await services.communities.apply_plan(plan)
        except JiayuanError as refused:
            print(
                f"导入失败 / import failed: {both(refused.key, **refused.params)}", file=sys.stderr
            )
            return 1
    verb = "created" if summary.created else "updated"
    print(
        f"{summary.community.name} ({summary.community.code}) {verb}: "
        f"{summary.zones} zones, {summary.buildings} buildings, {summary.sites} sites"
    )
    for zone_code, name, code in summary.cadre_invites:
        payload = INVITE_PREFIX + code
        link = (
            f"https://t.me/{bot_username}?start={payload}" if bot_username else f"/start {payload}"
        )
        print(f"  cadre invite {zone_code} {name}: {link}")
    return 0


async def export(
    settings: Settings,
    month: YearMonth | None,
    what: str,
    fmt: str,
    community_code: str | None,
    out: Path | None,
) -> int:
    """Write the ledgers to ``out`` (default: the data dir's exports/) and print the path."""
    if not settings.uses_postgresql and not settings.database_path.exists():
        print(f"jiayuan: no database at {settings.database_path}", file=sys.stderr)
        return 1
    async with open_database(settings.database_url, settings.database_path) as db:
        services = Services.build(settings, db, Clock(settings.now))
        try:
            made = await services.exports.for_office(community_code, month, what, fmt)
        except JiayuanError as refused:
            zh, en = (t(lang, refused.key, **refused.params) for lang in Language)
            print(f"jiayuan export: {zh} / {en}", file=sys.stderr)
            return 2
    target = out or settings.data_dir / "exports" / made.filename
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write beside and rename, so an office never opens a half-written file.
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(made.data)
    partial.replace(target)
    print(target)
    return 0


async def bots(settings: Settings) -> int:
    """`jiayuan bots`: which bot serves which community."""
    if not settings.uses_postgresql and not settings.database_path.exists():
        print(f"jiayuan: no database at {settings.database_path}", file=sys.stderr)
        return 1
    async with (
        open_database(settings.database_url, settings.database_path) as db,
        db.read() as tx,
    ):
        served = await tx.bots.served()
    for entry in served:
        who = "未绑定 / not bound yet" if entry.bot_id is None else f"bot {entry.bot_id}"
        print(f"{who}: {', '.join(entry.codes)}")
    if not served:
        print("没有社区 / no community yet")
    return 0


async def bind(settings: Settings, code: str, bot_id: int | None) -> int:
    """`jiayuan bind CODE`: move a community to a bot (BOT_TOKEN's, or --bot)."""
    target = bot_id if bot_id is not None else settings.bot_id
    if target is None or target <= 0:
        print(
            "jiayuan bind: give --bot ID, or set BOT_TOKEN to the bot to move to", file=sys.stderr
        )
        return 2
    async with open_database(settings.database_url, settings.database_path) as db:
        try:
            async with db.transaction() as tx:
                groups = await tx.bots.bind(code, target)
        except JiayuanError as refused:
            print(f"jiayuan bind: {both(refused.key)}", file=sys.stderr)
            return 1
    print(
        f"社区 {code} 已改由 bot {target} 服务，{groups} 个群随迁（请把新机器人拉进这些群）\n"
        f"community {code} is now served by bot {target}; {groups} group(s) moved with it"
        " (add the new bot to them in Telegram)"
    )
    return 0


async def backup(settings: Settings, target: Path) -> int:
    if settings.uses_postgresql:
        print("jiayuan backup copies the SQLite file; for PostgreSQL use pg_dump", file=sys.stderr)
        return 2
    if not settings.database_path.exists():
        print(f"jiayuan: no database at {settings.database_path}", file=sys.stderr)
        return 1
    db = SqliteDatabase(settings.database_path)
    await db.connect(migrate=False)
    try:
        await db.backup(target)
    finally:
        await db.close()
    print(f"backup written to {target}")
    return 0


async def migrate(settings: Settings) -> int:
    db = open_database(settings.database_url, settings.database_path)
    await db.connect(migrate=False)
    try:
        applied = await db.migrate()
    finally:
        await db.close()
    print("applied: " + ", ".join(applied) if applied else "database is up to date")
    return 0


async def move_to_postgresql(settings: Settings, target_url: str, source: Path | None) -> int:
    """`jiayuan migrate --to`: copy the SQLite deployment into an empty PostgreSQL database."""
    import psycopg
    from psycopg_pool import PoolTimeout

    from storage.postgres import redacted
    from storage.transfer import TransferRefused, transfer

    if not target_url.startswith(("postgresql://", "postgres://")):
        print("jiayuan migrate: --to takes a postgresql://user:pass@host/db URL", file=sys.stderr)
        return 2
    path = source or settings.database_path
    print(f"copying {path} → {redacted(target_url)}")
    try:
        counts = await transfer(path, target_url)
    except TransferRefused as refused:
        print(f"jiayuan migrate: {refused}", file=sys.stderr)
        return 1
    except (psycopg.OperationalError, PoolTimeout) as exc:
        print(f"jiayuan migrate: cannot reach the target: {exc}", file=sys.stderr)
        return 1
    width = max(len(c.table) for c in counts)
    for c in counts:
        mark = "ok" if c.equal else "DIFFERENT"
        print(f"  {c.table:<{width}}  {c.source:>9}  {c.target:>9}  {mark}")
    if all(c.equal for c in counts):
        total = sum(c.source for c in counts)
        print(
            f"moved {total} rows in {len(counts)} tables; counts equal. "
            f"Set JIAYUAN_DATABASE_URL={redacted(target_url)} and start jiayuan run."
        )
        return 0
    print("jiayuan migrate: the counts differ; do not switch to the target", file=sys.stderr)
    return 1
