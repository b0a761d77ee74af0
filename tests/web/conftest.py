"""The bot on the simulator (tests/flows' harness) with its web server on a free port."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.web.server import build_web_app
from tests.flows.conftest import Harness, running_harness


@dataclass
class WebHarness:
    bot: Harness
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def open311(self) -> str:
        return f"{self.base}/open311/v2"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serving_web(data_dir: Path, **settings: Any) -> AsyncIterator[WebHarness]:
    """The bot with its web server on a free port; ``settings`` go to Settings."""
    port = free_port()
    # No map tiles: the machines that run the tests have no internet.
    async with running_harness(data_dir, web_port=port, map_tiles="", **settings) as bot:
        runner = web.AppRunner(build_web_app(bot.runtime))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            yield WebHarness(bot, port)
        finally:
            await runner.cleanup()


@pytest.fixture
async def web_harness(tmp_path: Path) -> AsyncIterator[WebHarness]:
    async with serving_web(tmp_path) as harness:
        yield harness
