"""Load a community plan from a file the office prepared: .xlsx, .yaml/.yml or .csv."""

from __future__ import annotations

from pathlib import Path

from bot.domain.community_plan import CommunityPlan
from bot.importer.build import Source, build_plan
from bot.importer.csv_table import load_table_kind as _csv_table_kind
from bot.importer.csv_table import read_csv
from bot.importer.errors import Problems, fail
from bot.importer.schema import TableKind
from bot.importer.xlsx import read_xlsx
from bot.importer.yaml_plan import read_yaml

SUPPORTED_SUFFIXES = (".xlsx", ".yaml", ".yml", ".csv")
# A community's ledger is a few hundred rows; anything this big is the wrong file (or a bomb).
MAX_FILE_BYTES = 10 * 1024 * 1024


def _check_file(path: Path) -> str:
    """Return the lower-case suffix of a readable, non-empty, supported file."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        hint_zh = "；.xls 请先另存为 .xlsx" if suffix == ".xls" else ""
        hint_en = "; save .xls files as .xlsx first" if suffix == ".xls" else ""
        raise fail(
            path.name,
            f"不支持的文件类型“{suffix or '无扩展名'}”，请用 .xlsx、.yaml 或 .csv{hint_zh}",
            f'unsupported file type "{suffix}"; use .xlsx, .yaml or .csv{hint_en}',
        )
    if not path.exists():
        raise fail(path.name, f"找不到文件：{path}", f"file not found: {path}")
    if not path.is_file():
        raise fail(path.name, f"这不是一个文件：{path}", f"not a file: {path}")
    size = path.stat().st_size
    if size == 0:
        raise fail(path.name, "文件是空的", "the file is empty")
    if size > MAX_FILE_BYTES:
        raise fail(
            path.name,
            f"文件太大（最大 {MAX_FILE_BYTES // 1024 // 1024} MB）",
            f"the file is too large (at most {MAX_FILE_BYTES // 1024 // 1024} MB)",
        )
    return suffix


def load_plan(path: Path, *, community_code: str | None = None) -> CommunityPlan:
    """Read a whole community (.xlsx, .yaml) or one table of one (.csv) into a plan.

    A CSV file needs `community_code` and yields a *partial* plan holding only its table,
    which adds to the existing community. For .xlsx/.yaml the code comes from the file, and
    `community_code`, if given, must match it. Raises `ImportFailed` listing every problem.
    """
    path = Path(path)
    suffix = _check_file(path)
    problems = Problems()
    if suffix == ".csv":
        if community_code is None:
            raise fail(
                path.name,
                "CSV 文件只包含一张表，需要指定要添加到的社区编码（--community CODE）",
                "a CSV file holds one table; give the community to add it to (--community CODE)",
            )
        table = read_csv(path, problems)
        source = Source(path.name, path.name, {}, {table.kind: table})
        return build_plan(source, community_code=community_code, partial=True, problems=problems)
    source = read_xlsx(path, problems) if suffix == ".xlsx" else read_yaml(path, problems)
    return build_plan(source, community_code=community_code, partial=False, problems=problems)


def load_table_kind(path: Path) -> TableKind | None:
    """Return the table a CSV file holds, or None for a whole-community file (.xlsx, .yaml).

    Lets the CLI ask for `--community` before loading a CSV, and say what it will add.
    """
    path = Path(path)
    if _check_file(path) != ".csv":
        return None
    return _csv_table_kind(path)
