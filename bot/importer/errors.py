"""Errors of the community importer: one `RowError` per problem, all raised together."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem, located as the office sees it.

    `row` is the spreadsheet row number (header = 1, first data row = 2), or for YAML the
    1-based item number within `sheet` (then `item` is true); 0 means the whole sheet or file.
    `column` is the header as written in the file (for YAML the key, e.g. "cadre.phone").
    """

    sheet: str
    row: int
    column: str | None
    reason_zh: str
    reason_en: str
    item: bool = field(default=False, kw_only=True)

    def __str__(self) -> str:
        where = self.sheet
        if self.row > 0:
            where += f" 第{self.row}{'项' if self.item else '行'}"
        if self.column:
            where += f" [{self.column}]"
        return f"{where}: {self.reason_zh} ({self.reason_en})"

    def text(self, *, english: bool) -> str:
        """The problem in one language, located as in `str()`: "片区 第5行 [电话]: …"."""
        where = self.sheet
        if self.row > 0 and english:
            where += f" {'item' if self.item else 'row'} {self.row}"
        elif self.row > 0:
            where += f" 第{self.row}{'项' if self.item else '行'}"
        if self.column:
            where += f" [{self.column}]"
        return f"{where}: {self.reason_en if english else self.reason_zh}"


class ImportFailed(Exception):
    """The file could not be turned into a plan; `errors` lists every problem found."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("\n".join(str(error) for error in errors))
        self.errors = errors


class Problems:
    """Collects `RowError`s while a file is read so all of them are reported at once."""

    def __init__(self) -> None:
        self.errors: list[RowError] = []

    def add(
        self,
        sheet: str,
        row: int,
        column: str | None,
        reason_zh: str,
        reason_en: str,
        *,
        item: bool = False,
    ) -> None:
        self.errors.append(RowError(sheet, row, column, reason_zh, reason_en, item=item))

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self, sheet_order: Sequence[str] = ()) -> None:
        """Raise `ImportFailed` if anything was found, sorted by sheet then row."""
        if self.errors:
            rank = {sheet: index for index, sheet in enumerate(sheet_order)}
            ordered = sorted(self.errors, key=lambda e: (rank.get(e.sheet, len(rank)), e.row))
            raise ImportFailed(ordered)


def fail(sheet: str, reason_zh: str, reason_en: str) -> ImportFailed:
    """Return an `ImportFailed` for a problem with the file or sheet as a whole."""
    return ImportFailed([RowError(sheet, 0, None, reason_zh, reason_en)])
