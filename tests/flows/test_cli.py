"""The `jiayuan` command as an office would use it: run, import, backup, migrate, demo."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.crafted_imports import xlsx_zip_bomb
from tests.factories import EXAMPLES


def jiayuan(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "BOT_TOKEN"} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=full_env,
        input=stdin,
        timeout=120,
        check=False,
    )


def test_run_without_a_token_says_so_in_one_line(tmp_path: Path) -> None:
    result = jiayuan("run", env={"JIAYUAN_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "BOT_TOKEN" in result.stderr and "Traceback" not in result.stderr


def test_run_with_a_bad_setting_names_it(tmp_path: Path) -> None:
    result = jiayuan("run", env={"BOT_TOKEN": "1:x", "JIAYUAN_TZ": "Nowhere/Land"})
    assert result.returncode == 2
    assert "JIAYUAN_TZ" in result.stderr and "Traceback" not in result.stderr


def test_import_of_the_sample_then_backup(tmp_path: Path) -> None:
    env = {"JIAYUAN_DATA_DIR": str(tmp_path)}
    result = jiayuan(
        "import", str(EXAMPLES / "community.xlsx"), "--bot-username", "jiayuan_bot", env=env
    )
    assert result.returncode == 0, result.stderr
    assert "3 zones, 6 buildings, 12 sites" in result.stdout
    assert result.stdout.count("https://t.me/jiayuan_bot?start=inv_") == 4  # 3 cadres, 1 deputy
    csv = jiayuan("import", str(EXAMPLES / "sites.csv"), "--community", "xingfuli", env=env)
    assert csv.returncode == 0, csv.stderr
    copy = tmp_path / "backup" / "copy.sqlite3"
    backup = jiayuan("backup", str(copy), env=env)
    assert backup.returncode == 0, backup.stderr
    with sqlite3.connect(copy) as conn:
        assert conn.execute("SELECT COUNT(*) FROM sites").fetchone()[0] == 12
    assert "up to date" in jiayuan("migrate", env=env).stdout


def test_import_of_a_broken_workbook_lists_rows_and_imports_nothing(tmp_path: Path) -> None:
    env = {"JIAYUAN_DATA_DIR": str(tmp_path)}
    result = jiayuan("import", str(EXAMPLES / "broken.xlsx"), env=env)
    assert result.returncode == 1
    for expected in ("片区 第5行", "楼栋 第4行", "点位 第5行", "点位 第9行"):
        assert expected in result.stderr
    with sqlite3.connect(tmp_path / "jiayuan.sqlite3") as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        count = (
            conn.execute("SELECT COUNT(*) FROM communities").fetchone()[0]
            if "communities" in tables
            else 0
        )
    assert count == 0


def test_piped_demo_prints_the_welcome_and_exits(tmp_path: Path) -> None:
    result = jiayuan("demo", "--data-dir", str(tmp_path), stdin="/start\n")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "欢迎回来" in result.stdout or "欢迎使用" in result.stdout
    assert "Traceback" not in result.stderr


def test_import_of_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path: Path) -> None:
    bomb = tmp_path / "ledger.xlsx"
    bomb.write_bytes(xlsx_zip_bomb())
    env = {"JIAYUAN_DATA_DIR": str(tmp_path)}
    result = jiayuan("import", str(bomb), env=env)
    assert result.returncode == 1
    assert "解压后异常大" in result.stderr and "unpacks to an abnormal size" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
