"""The `jiayuan` command: run | demo | import | export | bots | bind | backup | migrate."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from bot import logs
from bot.config import ConfigError, Settings

log = logging.getLogger("jiayuan")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logs.setup(logging.DEBUG if getattr(args, "verbose", False) else logging.INFO)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"jiayuan: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jiayuan", description="Jiayuan (家园): the civilized-community campaign bot"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the bot against Telegram (needs BOT_TOKEN)")
    run.set_defaults(func=_run)

    demo = sub.add_parser("demo", help="chat with the bot in the terminal; no token, no network")
    demo.add_argument("--data-dir", type=Path, help="keep the demo's data here")
    demo.add_argument("--now", help="start the demo clock at this ISO-8601 instant")
    demo.add_argument("--verbose", action="store_true", help="show the bot's log")
    demo.add_argument(
        "--web-port", type=int, help="serve the office console here (default: a free port)"
    )
    demo.set_defaults(func=_demo)

    imp = sub.add_parser("import", help="load a community from .xlsx, .yaml or .csv")
    imp.add_argument("file", type=Path)
    imp.add_argument("--community", help="community code (needed for a .csv table)")
    imp.add_argument("--bot-username", help="print invite links for this bot username")
    imp.set_defaults(func=_import)

    exp = sub.add_parser("export", help="write a month's ledgers (台账) as .xlsx or .csv")
    exp.add_argument("--month", help="YYYY-MM, e.g. 2026-11 (default: last month)")
    exp.add_argument(
        "--what",
        default="all",
        help="tickets | inspections | scores | volunteers | sites | all (default: all)",
    )
    exp.add_argument(
        "--format", dest="fmt", default="xlsx", help="xlsx | csv (default: xlsx; csv: one ledger)"
    )
    exp.add_argument("--community", help="community code (needed if there are several)")
    exp.add_argument(
        "--out",
        type=Path,
        help="file to write (default: $JIAYUAN_DATA_DIR/exports/<code>-<what>-<month>.<fmt>)",
    )
    exp.set_defaults(func=_export)

    bots = sub.add_parser("bots", help="which bot serves which community (a city's bots)")
    bots.set_defaults(func=_bots)

    bind = sub.add_parser("bind", help="move a community to another bot of the city")
    bind.add_argument("code", help="the community's code")
    bind.add_argument(
        "--bot", type=int, default=None, help="the bot's id (default: BOT_TOKEN's bot)"
    )
    bind.set_defaults(func=_bind)

    backup = sub.add_parser("backup", help="consistent copy of the database, safe while running")
    backup.add_argument("path", type=Path)
    backup.set_defaults(func=_backup)

    migrate = sub.add_parser(
        "migrate",
        help="apply database migrations; with --to, move the SQLite data to PostgreSQL",
    )
    migrate.add_argument(
        "--to",
        metavar="postgresql://…",
        help="copy every row into this empty PostgreSQL database and compare counts",
    )
    migrate.add_argument(
        "--from",
        dest="source",
        type=Path,
        help="the SQLite file to copy, e.g. a `jiayuan backup` (default: the data dir's)",
    )
    migrate.set_defaults(func=_migrate)

    health = sub.add_parser(
        "health", help="exit 0 if the running bot fetched updates and ticked recently"
    )
    health.add_argument(
        "--max-age",
        type=float,
        default=None,
        help="seconds of silence that count as a stall (default: 180)",
    )
    health.set_defaults(func=_health)
    return parser


def _run(args: argparse.Namespace) -> int:
    from bot.app import run

    run(Settings.from_env())
    return 0


def _demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    code: int = asyncio.run(
        run_demo(
            data_dir=args.data_dir, now=args.now, verbose=args.verbose, web_port=args.web_port
        )
    )
    return code


def _import(args: argparse.Namespace) -> int:
    from bot.cli_tasks import import_file

    settings = Settings.from_env(require_token=False)
    return asyncio.run(import_file(settings, args.file, args.community, args.bot_username))


def _export(args: argparse.Namespace) -> int:
    from bot.cli_tasks import export
    from bot.domain.scoring import YearMonth
    from bot.services.exports import FORMATS, WHATS

    month = None
    if args.month is not None:
        try:
            month = YearMonth.parse(args.month)
        except ValueError:
            return _usage(f"--month must be YYYY-MM, e.g. 2026-11 (got {args.month!r})")
    if args.what not in WHATS:
        return _usage(f"--what must be one of {', '.join(WHATS)} (got {args.what!r})")
    if args.fmt not in FORMATS:
        return _usage(f"--format must be one of {', '.join(FORMATS)} (got {args.fmt!r})")
    settings = Settings.from_env(require_token=False)
    return asyncio.run(export(settings, month, args.what, args.fmt, args.community, args.out))


def _usage(message: str) -> int:
    print(f"jiayuan export: {message}", file=sys.stderr)
    return 2


def _bots(args: argparse.Namespace) -> int:
    from bot.cli_tasks import bots

    return asyncio.run(bots(Settings.from_env(require_token=False)))


def _bind(args: argparse.Namespace) -> int:
    from bot.cli_tasks import bind

    return asyncio.run(bind(Settings.from_env(require_token=False), args.code, args.bot))


def _backup(args: argparse.Namespace) -> int:
    from bot.cli_tasks import backup

    settings = Settings.from_env(require_token=False)
    return asyncio.run(backup(settings, args.path))


def _migrate(args: argparse.Namespace) -> int:
    from bot.cli_tasks import migrate, move_to_postgresql

    settings = Settings.from_env(require_token=False)
    if args.to:
        return asyncio.run(move_to_postgresql(settings, args.to, args.source))
    if args.source:
        print("jiayuan migrate: --from goes with --to postgresql://…", file=sys.stderr)
        return 2
    return asyncio.run(migrate(settings))


def _health(args: argparse.Namespace) -> int:
    from bot.health import DEFAULT_MAX_AGE_S, check

    settings = Settings.from_env(require_token=False)
    healthy, why = check(
        settings.data_dir, args.max_age or DEFAULT_MAX_AGE_S, shared=settings.uses_postgresql
    )
    print(f"jiayuan health: {why}", file=sys.stdout if healthy else sys.stderr)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
