"""`jiayuan run` with the sending budget lifted: the bot's own cost (bench_processes.py).

Telegram's 30 messages a second would cap every configuration at the same figure; lifting
it (as bench_updates.py's "limiter uncapped" does in-process) leaves what the processes
themselves can do. Reads the same environment as `jiayuan run`.
"""

from __future__ import annotations

import math

import bot.app as composition
from bot.config import Settings
from bot.notify.pacing import Limits, Pacer

UNLIMITED = Limits(overall_per_s=math.inf, per_chat_interval_s=0.0)


def main() -> None:
    composition.Pacer = lambda _limits=None: Pacer(UNLIMITED)  # type: ignore[assignment,misc]
    composition.run(Settings.from_env())


if __name__ == "__main__":
    main()
