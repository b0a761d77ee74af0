"""Crafted import files that once stalled the bot: built on demand, never committed.

Each returns the file's bytes; the zip bomb is a real .xlsx whose one extra member
inflates to hundreds of MB, so only its small compressed form ever exists here.
"""

from __future__ import annotations

import io
import zipfile

from openpyxl import Workbook

from tests.factories import EXAMPLES

BOMB_INFLATED_BYTES = 400 * 1024 * 1024
BIG_SHEET_ROWS = 100_000
SHARED_STRINGS = "xl/sharedStrings.xml"
_SST = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
_SHARED_STRINGS_TYPE = (
    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
)


def xlsx_zip_bomb() -> bytes:
    """The sample workbook whose shared strings inflate to 400 MB (~400 KB zipped).

    openpyxl reads every shared string into memory when it opens the workbook, so this
    one member takes minutes and gigabytes.
    """
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(EXAMPLES / "community.xlsx") as sample,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb,
    ):
        for info in sample.infolist():
            data = sample.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", _SHARED_STRINGS_TYPE + b"</Types>")
            bomb.writestr(info, data)
        block = b"lol" * (1024 * 1024)
        with bomb.open(SHARED_STRINGS, "w", force_zip64=True) as member:
            member.write(_SST + b"<si><t>")
            for _ in range(BOMB_INFLATED_BYTES // len(block)):
                member.write(block)
            member.write(b"</t></si></sst>")
    return buffer.getvalue()


def xlsx_100000_rows() -> bytes:
    """A workbook whose 点位 sheet has 100,000 data rows."""
    workbook = Workbook(write_only=True)
    community = workbook.create_sheet("社区")
    for row in (("编码", "xingfuli"), ("名称", "幸福里社区"), ("时区", "Asia/Shanghai")):
        community.append(row)
    zones = workbook.create_sheet("片区")
    zones.append(("编码", "名称"))
    zones.append(("Z1", "东片区"))
    workbook.create_sheet("点位").append(("名称",))
    small = io.BytesIO()
    workbook.save(small)
    # openpyxl takes seconds to write this many rows; the sheet's XML is quick to spell out.
    rows = [_row(1, ("名称", "类别", "片区编码"))]
    rows += [_row(n, (f"点位{n}", "背街小巷", "Z1")) for n in range(2, BIG_SHEET_ROWS + 2)]
    sheet = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{''.join(rows)}</sheetData></worksheet>"
    ).encode()
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(small) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            big = info.filename == "xl/worksheets/sheet3.xml"
            target.writestr(info, sheet if big else source.read(info))
    return buffer.getvalue()


def _row(number: int, values: tuple[str, ...]) -> str:
    cells = "".join(
        f'<c r="{column}{number}" t="inlineStr"><is><t>{value}</t></is></c>'
        for column, value in zip("ABC", values, strict=False)
    )
    return f'<row r="{number}">{cells}</row>'


def yaml_billion_laughs() -> bytes:
    """Nine levels of ten aliases each, in zone names: under 1 KB that name 10⁹ strings."""
    lines = ["community: {code: xingfuli, name: 幸福里社区, timezone: Asia/Shanghai}", "zones:"]
    lines.append('  - {code: Z0, name: &n0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol"]}')
    for level in range(1, 10):
        refs = ", ".join([f"*n{level - 1}"] * 10)
        lines.append(f"  - {{code: Z{level}, name: &n{level} [{refs}]}}")
    return ("\n".join(lines) + "\n").encode("utf-8")


# The sample's sites plus one more, so an import shows the file was read, not skipped.
GBK_EXTRA_SITE = "和平街（西段）"
GBK_SITES_TEXT = (EXAMPLES / "sites.csv").read_text(encoding="utf-8-sig") + (
    f"{GBK_EXTRA_SITE},主次干道,Z3,周洁,13805711099,和平街2号,30.2701,120.1601\n"
)


def csv_gbk() -> bytes:
    """A sites table as Excel saves "CSV (comma delimited)" on a Chinese Windows: GBK."""
    return GBK_SITES_TEXT.encode("gbk")
