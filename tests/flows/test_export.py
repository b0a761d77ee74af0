"""Ledger exports end to end: /export in a private chat sends the workbook; `jiayuan export`
writes it for the office."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from telegram.ext import CommandHandler

from bot.domain.errors import InvalidInput
from bot.domain.scoring import YearMonth
from handlers import export
from tests.factories import EXAMPLES
from tests.flows.conftest import Harness
from tests.flows.reporting import file_report, has


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC) - timedelta(hours=8)


def _with_export_command(harness: Harness) -> None:
    """Register /export ahead of the catch-alls unless bot/app.py already does."""
    group = harness.runtime.application.handlers[0]
    if not any(isinstance(h, CommandHandler) and "export" in h.commands for h in group):
        for handler in reversed(export.handlers()):
            group.insert(0, handler)


async def test_export_sends_the_months_ticket_ledger_as_a_workbook(harness: Harness) -> None:
    _with_export_command(harness)
    await harness.cadre("Z1")
    resident = await harness.resident("李明")
    november = [
        await file_report(harness.sandbox, resident, caption="楼道里堆满纸箱"),
        await file_report(harness.sandbox, resident, caption="又堆上了"),
    ]
    harness.clock.set(local(2026, 12, 2, 10, 0))
    december = await file_report(harness.sandbox, resident, caption="十二月的")
    await harness.settle()
    admin = harness.admin
    await harness.take_all(admin)

    await admin.send("/export 2026-11 tickets")
    sent = await admin.wait_for(lambda m: m.document is not None, timeout=10)
    assert sent.file_name == "xingfuli-tickets-2026-11.xlsx"
    assert "整改台账：2 条" in (sent.caption or "")
    assert sent.document is not None
    ws = load_workbook(io.BytesIO(sent.document))["整改台账"]
    assert ws.freeze_panes == "A2"
    table = list(ws.iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in table] == november and december not in [r[0] for r in table]
    assert {row[3] for row in table} == {"楼道堆物"} and table[1][6] == "又堆上了"

    await admin.send("/export")  # last month, every ledger
    every = await admin.wait_for(lambda m: m.document is not None, timeout=10)
    assert every.file_name == "xingfuli-all-2026-11.xlsx"
    assert "点位台账：12 条" in (every.caption or "")

    await admin.send("/export 2026-11 everything")
    await admin.wait_for(has("用法：/export"))
    await resident.send("/export")
    await resident.wait_for(has("您没有权限"))


def test_chat_arguments_come_in_any_order_with_defaults() -> None:
    assert export.parse_args([]) == (None, "all", "xlsx")
    assert export.parse_args(["CSV", "sites"]) == (None, "sites", "csv")
    assert export.parse_args(["scores", "2026-11"]) == (YearMonth(2026, 11), "scores", "xlsx")
    for bad in (["2026-13"], ["tickets", "tickets"], ["pdf"]):
        with pytest.raises(InvalidInput):
            export.parse_args(bad)


def jiayuan(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "BOT_TOKEN"} | env
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
        check=False,
    )


def test_cli_writes_the_site_ledger_as_csv_with_a_bom(tmp_path: Path) -> None:
    env = {"JIAYUAN_DATA_DIR": str(tmp_path)}
    imported = jiayuan("import", str(EXAMPLES / "community.xlsx"), env=env)
    assert imported.returncode == 0, imported.stderr
    result = jiayuan("export", "--month", "2026-11", "--what", "sites", "--format", "csv", env=env)
    assert result.returncode == 0, result.stderr
    path = tmp_path / "exports" / "xingfuli-sites-2026-11.csv"
    assert result.stdout.strip() == str(path)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0] == "名称,类别,片区,联系人,电话,地址,纬度,经度" and len(lines) == 13

    bad = jiayuan("export", "--month", "2026-13", "--what", "sites", env=env)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().splitlines()[-1].startswith("jiayuan export: --month")
