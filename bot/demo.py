"""`jiayuan demo`: the bot and the Bot API simulator in one process, driven from the terminal.

A person types as a resident by default; `/as NAME-OR-ROLE` switches person. Lines that
start with `!` are demo commands (see DEMO_HELP); everything else is sent to the bot as
a message. It reads standard input, so it can be piped, and exits at end of input once
the bot's replies have arrived.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bot.app import Runtime, start_bot
from bot.clock import Clock
from bot.config import ConfigError, Settings
from bot.domain.models import Role
from bot.importer import load_plan
from bot.jobs import tick_all
from bot.sandbox import Sandbox, SandboxEvent, SentMessage, SimGroup, SimUser
from bot.services.invites import INVITE_PREFIX

log = logging.getLogger(__name__)

TOKEN = "100000001:DEMO-TOKEN"
SAMPLE = Path(__file__).parent / "examples" / "community.yaml"
ADMIN_ID = 7001

DEMO_HELP = """演示命令 / demo commands:
  /as NAME-OR-ROLE     换人说话 / speak as someone else: a name, or a role —
                       居民 resident, 干部 cadre, 督查员 inspector, 领导 leader, 管理员 admin
  !photo [PATH]        发照片 / send a photo (a bundled sample if no path)
  !location LAT LON    发位置 / share a location
  !press N             按上一条消息的第 N 个按钮 / press button N of the bot's last message
  !group TEXT          在社区群里说话 / speak in the community group
  !clock ISO           调时钟 / move the clock, e.g. !clock 2026-12-18T08:00:00+08:00
  !tick                立即运行定时检查 / run the scheduler's tick now
  !who                 列出演示人物 / list the people
  !help                本帮助 / this help
  anything else        作为消息发给机器人 / sent to the bot as a message"""


@dataclass
class Person:
    user: SimUser
    role: str


@dataclass
class Demo:
    sandbox: Sandbox
    runtime: Runtime
    clock: Clock
    out_dir: Path
    group: SimGroup
    people: dict[str, Person] = field(default_factory=dict)
    current: str = ""
    last_message: dict[int, SentMessage] = field(default_factory=dict)
    printed: int = 0

    def me(self) -> SimUser:
        return self.people[self.current].user

    def on_event(self, event: SandboxEvent) -> None:
        """Print what the bot sends, as it arrives."""
        if event.kind not in ("sent", "edited") or event.message is None:
            return
        message = event.message
        inline = (message.reply_markup or {}).get("inline_keyboard")
        if inline:
            # !press refers to the latest message with buttons under it.
            self.last_message[message.chat_id] = message
        who = self._chat_label(message.chat_id)
        verb = "✎" if event.kind == "edited" else "→"
        lines = [f"[家园 {verb} {who}] {_plain(message.text or '')}".rstrip()]
        for index, button in enumerate((b for row in inline or [] for b in row), start=1):
            # A link button opens a deep link: show the /start it would send.
            target = button.get("url", "")
            hint = f"  → /start {target.split('start=', 1)[1]}" if "start=" in target else ""
            lines.append(f"    [{index}] {button.get('text', '')}{hint}")
        keyboard = (message.reply_markup or {}).get("keyboard")
        if keyboard:
            lines.append(
                "    (" + " | ".join(b.get("text", "") for row in keyboard for b in row) + ")"
            )
        for data, suffix in ((message.photo, "jpg"), (message.document, "bin")):
            if data:
                name = message.file_name or f"{message.chat_id}-{message.message_id}.{suffix}"
                if data[:8] == b"\x89PNG\r\n\x1a\n":
                    name = Path(name).with_suffix(".png").name
                path = self.out_dir / name.replace("/", "_")
                path.write_bytes(data)
                lines.append(f"    (file saved: {path})")
        print("\n".join(lines), flush=True)
        self.printed += 1

    def _chat_label(self, chat_id: int) -> str:
        if chat_id == self.group.chat_id:
            return self.group.record.title or "group"
        for name, person in self.people.items():
            if person.user.id == chat_id:
                return name
        return str(chat_id)

    def find(self, query: str) -> str | None:
        aliases = {
            "居民": "resident",
            "干部": "cadre",
            "督查员": "inspector",
            "督查": "inspector",
            "领导": "leader",
            "书记": "leader",
            "管理员": "admin",
        }
        role = aliases.get(query, query.lower())
        for name, person in self.people.items():
            if query == name or person.role == role:
                return name
        return None

    async def handle(self, line: str) -> None:
        line = line.strip()
        if not line:
            return
        if line.startswith("/as "):
            name = self.find(line[4:].strip())
            if name is None:
                print(f"(no such person: {line[4:].strip()}; try !who)")
            else:
                self.current = name
                print(f"(now speaking as {name}, {self.people[name].role})")
            return
        if line.startswith("!"):
            await self._demo_command(line)
            return
        await self.me().send(line)

    async def _demo_command(self, line: str) -> None:
        command, _, rest = line[1:].partition(" ")
        rest = rest.strip()
        if command == "photo":
            path = Path(rest) if rest else None
            if path is not None and not path.is_file():
                print(f"(no such file: {rest})")
                return
            await self.me().send_photo(path)
        elif command == "location":
            parts = rest.replace(",", " ").split()
            try:
                lat, lon = float(parts[0]), float(parts[1])
            except (IndexError, ValueError):
                print("(usage: !location LAT LON)")
                return
            await self.me().send_location(lat, lon)
        elif command == "press":
            message = self.last_message.get(self.me().id)
            if (
                message is None
                or not (rest.isascii() and rest.isdigit())
                or not 1 <= int(rest) <= len(message.buttons)
            ):
                # Reply-keyboard buttons are not numbered: use !location or type the text.
                print("(usage: !press N, with N a button number of the bot's last message to you)")
                return
            await self.me().press(message, int(rest) - 1)
        elif command == "group":
            await self.me().in_group(self.group).send(rest)
        elif command == "clock":
            try:
                instant = datetime.fromisoformat(rest)
                self.clock.set(instant)
            except ValueError:
                print("(usage: !clock 2026-12-18T08:00:00+08:00)")
                return
            print(f"(clock set to {self.clock.now().isoformat(timespec='minutes')})")
            await tick_all(self.runtime.services)
        elif command == "tick":
            fired = await tick_all(self.runtime.services)
            print(f"(tick: {fired} occurrence(s) fired)")
        elif command == "who":
            for name, person in self.people.items():
                mark = "*" if name == self.current else " "
                print(f" {mark} {name} ({person.role})")
        else:
            print(DEMO_HELP)


async def run_demo(
    data_dir: Path | None = None, now: str | None = None, verbose: bool = False
) -> int:
    if not verbose:
        logging.getLogger().setLevel(logging.WARNING)
    start = None
    if now:
        try:
            start = datetime.fromisoformat(now)
        except ValueError:
            raise ConfigError(f"--now must be an ISO-8601 instant (got {now!r})") from None
        if start.tzinfo is None:
            raise ConfigError("--now needs a UTC offset, e.g. 2026-12-18T08:00:00+08:00")
    with tempfile.TemporaryDirectory(prefix="jiayuan-demo-") as tmp:
        root = data_dir or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        demo = await _set_up(root, Clock(start))
        try:
            print(f"家园 Jiayuan demo — data in {root}. Type !help for demo commands.", flush=True)
            print(f"(speaking as {demo.current}, resident)", flush=True)
            await _read_lines(demo)
        finally:
            await demo.runtime.stop()
            await demo.sandbox.stop()
    return 0


async def _read_lines(demo: Demo) -> None:
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        if line.strip() in ("!quit", "!exit"):
            break
        await demo.handle(line)
        await _settle(demo)
    await _settle(demo)


async def _settle(demo: Demo) -> None:
    """Let the bot answer (and the outbox drain) before reading the next line."""
    for _ in range(20):
        try:
            await demo.sandbox.wait_idle(timeout=15, quiet=0.3)
        except TimeoutError:
            log.warning("the bot is still busy")
            return
        async with demo.runtime.db.read() as tx:
            due = await tx.outbox.due(demo.clock.now())
        if not due:
            return
        demo.runtime.services.outbox_ready.set()
        await asyncio.sleep(0.2)


async def _set_up(root: Path, clock: Clock) -> Demo:
    """The sample community with one person per role, all signed in for real."""
    sandbox = Sandbox(TOKEN, "jiayuan_bot", clock=clock.now)
    await sandbox.start()
    settings = Settings(
        token=TOKEN, api_url=sandbox.base_url, data_dir=root, admins=frozenset({ADMIN_ID})
    )
    runtime = await start_bot(settings, clock, poll_timeout=1)
    services = runtime.services
    summary = await services.communities.apply_plan(load_plan(SAMPLE))
    admin = sandbox.add_user("刘主任", user_id=ADMIN_ID, language_code="zh-hans")
    resident = sandbox.add_user("李明", language_code="zh-hans")
    group = sandbox.add_group("幸福里社区群", {admin: "creator", resident: "member"})
    out_dir = root / "demo-out"
    out_dir.mkdir(exist_ok=True)
    demo = Demo(sandbox, runtime, clock, out_dir, group)
    demo.people["刘主任"] = Person(admin, "admin")
    demo.people["李明"] = Person(resident, "resident")

    actor, person = await services.people.identify(ADMIN_ID, "刘主任", "zh-hans", True)
    await services.people.choose_community(person, summary.community.id)
    actor, _ = await services.people.identify(ADMIN_ID, "刘主任", "zh-hans", True)
    for _zone, name, code in summary.cadre_invites:
        user = sandbox.add_user(name, language_code="zh-hans")
        await user.send(f"/start {INVITE_PREFIX}{code}")
        demo.people[name] = Person(user, "cadre")
    for name, role in (
        ("赵督查", Role.INSPECTOR),
        ("周书记", Role.LEADER),
        ("刘主任", Role.ADMIN),
    ):
        invite, _ = await services.invites.create(actor, role)
        user = (
            demo.people[name].user
            if name in demo.people
            else sandbox.add_user(name, language_code="zh-hans")
        )
        await user.send(f"/start {INVITE_PREFIX}{invite.code}")
        demo.people[name] = Person(user, role.value)
    await admin.in_group(group).send("/bind")
    await resident.send("/start")
    await sandbox.wait_idle(timeout=15)
    picker = await resident.wait_for(lambda m: "幸福里社区" in m.button_texts, timeout=10)
    await resident.press(picker, "幸福里社区")
    buildings = await resident.wait_for(lambda m: "1号楼·东片区" in m.button_texts, timeout=10)
    await resident.press(buildings, "1号楼·东片区")
    await sandbox.wait_idle(timeout=15)
    for p in demo.people.values():
        p.user.drain()
    group.drain()
    demo.current = "李明"
    sandbox.add_listener(demo.on_event)
    return demo


def _plain(text: str) -> str:
    """Messages are HTML; the terminal shows them as plain text."""
    return html.unescape(re.sub(r"</?(b|i|u|s|code|pre|a[^>]*)>", "", text))
