"""`jiayuan run` serves the web port in polling mode, and stops it on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx
import pytest

from bot.importer import load_plan
from bot.sandbox import FloodLimits, Sandbox
from tests.factories import SAMPLE_YAML, TOKEN, open_services
from tests.web.conftest import free_port

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGTERM")


async def test_jiayuan_run_serves_open311_beside_polling(tmp_path: Path) -> None:
    services = await open_services(tmp_path)
    await services.communities.apply_plan(load_plan(SAMPLE_YAML))
    await services.db.close()
    port = free_port()
    async with Sandbox(TOKEN, "jiayuan_bot", limits=FloodLimits.off()) as sandbox:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("JIAYUAN_")},
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": sandbox.base_url,
            "JIAYUAN_DATA_DIR": str(tmp_path),
            "JIAYUAN_WEB_PORT": str(port),
            "JIAYUAN_WEB_LISTEN": "127.0.0.1",
            "JIAYUAN_PUBLIC_URL": "https://jiayuan.example.cn",
        }
        log = tmp_path / "bot.log"
        with log.open("ab") as out:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", env=env, stdout=out, stderr=out
            )
        try:
            body = None
            async with httpx.AsyncClient() as http:
                for _ in range(200):
                    try:
                        response = await http.get(
                            f"http://127.0.0.1:{port}/open311/v2/discovery.json"
                        )
                    except httpx.TransportError:
                        await asyncio.sleep(0.1)
                        continue
                    body = response.json()
                    break
            assert body is not None, log.read_text(encoding="utf-8", errors="replace")
            url = body["endpoints"][0]["url"]
            assert url == "https://jiayuan.example.cn/open311/v2"
            user = sandbox.add_user("李明", language_code="zh-hans")
            await user.send("/start")
            await user.wait_for(lambda m: "欢迎使用" in (m.text or ""), timeout=30)
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), timeout=10) == 0
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()


async def test_the_demo_prints_the_console_and_a_working_sign_in_link(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "demo",
        "--data-dir",
        str(tmp_path),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None and process.stdin is not None
    try:
        link = None
        while link is None:
            line = (await asyncio.wait_for(process.stdout.readline(), timeout=60)).decode()
            assert line, "the demo ended before printing the console's address"
            if "/console/login?token=" in line:
                link = line.split("within 10 minutes: ", 1)[1].split(" ;", 1)[0]
        base = link.split("/console/")[0]
        async with httpx.AsyncClient(base_url=base) as browser:
            assert (await browser.get(link)).status_code == 200
            signed_in = await browser.post(
                "/console/login",
                data={"token": link.split("token=", 1)[1]},
                follow_redirects=True,
            )
            assert signed_in.status_code == 200 and "刘主任" in signed_in.text
            discovery = await browser.get(
                link.split("/console/")[0] + "/open311/v2/discovery.json"
            )
            assert discovery.status_code == 200
    finally:
        process.stdin.close()
        await asyncio.wait_for(process.wait(), timeout=60)
    assert process.returncode == 0
