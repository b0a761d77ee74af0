"""Import a community (zones, buildings, the site ledger) from .xlsx, .yaml or .csv files.

`load_plan` returns a validated `CommunityPlan` or raises `ImportFailed` listing every bad
row; nothing is ever half-imported. Samples live in `bot/examples/`. The bot and the CLI
read files people send through `bot.importer.worker.load_plan_isolated`, which runs
`load_plan` in a child process under a time limit and a memory cap (not re-exported here:
`python -m bot.importer.worker` must not find itself imported by its own package).
"""

from bot.importer.errors import ImportFailed, RowError
from bot.importer.loader import SUPPORTED_SUFFIXES, load_plan, load_table_kind
from bot.importer.schema import TableKind

__all__ = [
    "SUPPORTED_SUFFIXES",
    "ImportFailed",
    "RowError",
    "TableKind",
    "load_plan",
    "load_table_kind",
]
