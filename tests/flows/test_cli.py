"""The `jiayuan` command as an office would use it: run, import, backup, migrate, demo."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.crafted_imports import xlsx_zip_bomb
from tests.factories import EXAMPLES
from tests.flows.conftest import running_harness
from tests.flows.reporting import file_report

# The command line on the embedded default; moving to PostgreSQL is tested from here too.
pytestmark = pytest.mark.sqlite_only


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


def test_a_second_demo_run_on_the_same_data_dir_resumes(tmp_path: Path) -> None:
    first = jiayuan(
        "demo", "--data-dir", str(tmp_path), stdin="/as new\n/start\n!press 1\n!press 1\n"
    )
    assert first.returncode == 0, first.stderr[-2000:]
    assert "已登记为 1号楼" in first.stdout
    second = jiayuan("demo", "--data-dir", str(tmp_path), stdin="!who\n/as 王芳\n/start\n/my\n")
    assert second.returncode == 0, second.stderr[-2000:]
    assert "resumed" in second.stdout
    # The same person, known to the same database: welcomed back to the building she chose.
    assert "王芳，欢迎回来" in second.stdout and "1号楼" in second.stdout
    assert "您还没有上报过问题" in second.stdout
    assert "Traceback" not in second.stderr


def test_demo_commands_reach_older_messages_files_contacts_and_pop_ups(tmp_path: Path) -> None:
    script = [
        "!photo 楼道里堆了纸箱",  # the bundled photo with a caption: #1 received, #2 category
        "!press 3",  # #2 is edited, #3 asks for the place, #4 offers the location keyboard
        "/cancel",
        "!press 3.1",  # an older message's button: the report is gone, the bot says so
        "!press 1.1",
        "!press 99.1",
        "!press x",
        "!contact",
        "!group !photo #报告 路灯坏了",
        "/as new",
        "!group hello",
        "/as admin",
        f"!doc {EXAMPLES / 'sites.csv'} /import",
        "!doc nowhere.csv",
        "!clock 2026-12-18T08:00:00+08:00",
    ]
    result = jiayuan("demo", "--data-dir", str(tmp_path), stdin="\n".join(script) + "\n")
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "#3 [家园 → 李明] 问题在哪里" in out
    assert "(提示框 alert) 没有正在进行的上报" in out
    assert "(message #1 has no buttons to press)" in out
    assert "(there is no message #99)" in out and "usage: !press N" in out
    assert "已记下您的电话" in out
    assert "[家园 → 幸福里社区群] 为保护隐私，请私聊我上报问题" in out
    assert "(now speaking as 王芳, a new resident" in out
    assert "not possible: 王芳 is not a member" in out
    assert "导入完成" in out and "点位 12 个" in out
    assert "(no such file: nowhere.csv)" in out
    assert "(clock set to 2026-12-18 08:00 (Asia/Shanghai))" in out
    assert "Traceback" not in result.stderr


def test_demo_without_a_chinese_font_says_how_to_fix_it(tmp_path: Path) -> None:
    # The font search is tried in order; an explicit path that is not a CJK font is
    # skipped. This only shows the warning where no system CJK font exists either.
    result = jiayuan("demo", "--data-dir", str(tmp_path), stdin="")
    assert result.returncode == 0, result.stderr[-2000:]
    from bot.render.fonts import has_cjk_font

    if has_cjk_font():
        assert "fonts-wqy-microhei" not in result.stdout
    else:
        assert "apt-get install fonts-wqy-microhei" in result.stdout
        assert "JIAYUAN_FONT" in result.stdout
        assert "no CJK font found" not in result.stderr


def test_import_of_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path: Path) -> None:
    bomb = tmp_path / "ledger.xlsx"
    bomb.write_bytes(xlsx_zip_bomb())
    env = {"JIAYUAN_DATA_DIR": str(tmp_path)}
    result = jiayuan("import", str(bomb), env=env)
    assert result.returncode == 1
    assert "解压后异常大" in result.stderr and "unpacks to an abnormal size" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


async def test_migrate_to_postgresql_moves_a_community_that_then_carries_on(
    tmp_path: Path, pg_database: str
) -> None:
    async with running_harness(tmp_path / "sqlite") as h:
        resident = await h.resident("王芳")
        first = await file_report(h.sandbox, resident)
        await h.settle()
        resident_id = resident.id
    env = {"JIAYUAN_DATA_DIR": str(tmp_path / "sqlite")}
    copy = tmp_path / "moving.sqlite3"
    assert jiayuan("backup", str(copy), env=env).returncode == 0

    moved = jiayuan("migrate", "--to", pg_database, "--from", str(copy), env=env)
    assert moved.returncode == 0, moved.stderr
    assert "counts equal" in moved.stdout and "DIFFERENT" not in moved.stdout
    tickets_line = next(line for line in moved.stdout.splitlines() if " tickets " in line)
    assert tickets_line.split()[1:3] == ["1", "1"]
    again = jiayuan("migrate", "--to", pg_database, "--from", str(copy), env=env)
    assert again.returncode == 1 and "not empty" in again.stderr

    # The bot on PostgreSQL knows the resident and their report, and numbers on from it.
    # Photos stay in the data dir: only the database changes.
    async with running_harness(
        tmp_path / "sqlite", database_url=pg_database, first_update_id=10_000
    ) as h:
        same = h.sandbox.add_user("王芳", user_id=resident_id, language_code="zh-hans")
        await same.send("/my")
        mine = await same.wait_for(lambda m: first in (m.text or ""), timeout=10)
        assert mine.text
        second = await file_report(h.sandbox, same, caption="路灯不亮了")
        assert second.split("-")[0] == first.split("-")[0]
        assert int(second.split("-")[1]) == int(first.split("-")[1]) + 1


def test_migrate_to_refuses_what_is_not_postgresql(tmp_path: Path) -> None:
    env = {"JIAYUAN_DATA_DIR": str(tmp_path)}
    wrong = jiayuan("migrate", "--to", "mysql://db/x", env=env)
    assert wrong.returncode == 2 and "postgresql://" in wrong.stderr
    missing = jiayuan("migrate", "--to", "postgresql://nobody@127.0.0.1:1/x", env=env)
    assert missing.returncode == 1 and "no SQLite database" in missing.stderr
    alone = jiayuan("migrate", "--from", str(tmp_path / "x.sqlite3"), env=env)
    assert alone.returncode == 2 and "--to" in alone.stderr
