"""Import a community (zones, buildings, the site ledger) from .xlsx, .yaml or .csv files.

`load_plan` returns a validated `CommunityPlan` or raises `ImportFailed` listing every bad
row; nothing is ever half-imported. Samples live in `bot/examples/`.
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
