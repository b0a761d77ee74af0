"""`jiayuan demo`: the bot and the Bot API simulator in one process, driven from the terminal.

A person types as a resident by default; `/as NAME-OR-ROLE` switches person. Lines that
start with `!` are demo commands (see DEMO_HELP); everything else is sent to the bot as
a message. It reads standard input, so it can be piped, and exits at end of input once
the bot's replies have arrived.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
import socket
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.app import Runtime, start_bot
from bot.clock import Clock
from bot.config import ConfigError, Settings
from bot.domain.models import Role
from bot.importer import load_plan
from bot.jobs import tick_all
from bot.render.fonts import FONT_ENV, has_cjk_font
from bot.sandbox import Sandbox, SandboxError, SandboxEvent, SentMessage, SimGroup, SimUser
from bot.sandbox.users import GroupMember
from bot.services.invites import INVITE_PREFIX
from bot.web.server import build_web_app
from storage.database import open_database

log = logging.getLogger(__name__)

TOKEN = "100000001:DEMO-TOKEN"
SAMPLE = Path(__file__).parent / "examples" / "community.yaml"
ADMIN_ID = 7001
# Who the demo's people are (Telegram ids, roles, the group), so a second run on the same
# data dir speaks as the same accounts the database already knows.
CAST_FILE = "demo-cast.json"
# Names for `/as new`: fresh residents who have never written to the bot.
NEW_NAMES = ("王芳", "张伟", "陈静", "杨洋", "吴磊", "孙丽")
FONT_WARNING = (
    "⚠ 没有找到中文字体：通知单、排名图里的汉字会显示成方框。"
    "修复 / fix: sudo apt-get install fonts-wqy-microhei"
    f"（或 or: export {FONT_ENV}=/path/to/a-cjk-font.ttc）"
)

DEMO_HELP = """演示命令 / demo commands:
  /as NAME-OR-ROLE     换人说话 / speak as someone else: a name, or a role —
                       居民 resident, 干部 cadre, 督查员 inspector, 领导 leader, 管理员 admin
  /as new              新来的居民（从未用过机器人）/ a fresh resident, to see onboarding
  !photo [PATH] [CAPTION]  发照片 / send a photo (a bundled sample if no path), with a caption
  !doc PATH [CAPTION]  发文件 / send a file as a document, e.g. !doc community.xlsx /import
  !contact             分享自己的手机号 / share one's own phone number
  !location LAT LON    发位置 / share a location
  !press N             按上一条带按钮消息的第 N 个按钮 / press button N of the latest message
                       with buttons
  !press M.N           按第 M 条消息的第 N 个按钮 / press button N of message #M
  !group TEXT          在社区群里说话 / speak in the community group
  !group !photo …      在群里发照片（也可 !group !doc、!group !location）/ the same in the group
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
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    people: dict[str, Person] = field(default_factory=dict)
    current: str = ""
    last_message: dict[int, SentMessage] = field(default_factory=dict)
    # Every message printed, numbered from 1 as shown: `!press M.N` reaches older ones.
    numbered: list[SentMessage] = field(default_factory=list)
    printed: int = 0
    resumed: bool = False  # the people and group of an earlier run in the same data dir

    def me(self) -> SimUser:
        return self.people[self.current].user

    def on_event(self, event: SandboxEvent) -> None:
        """Print what the bot sends, as it arrives."""
        if event.kind == "callback_answer" and event.answer is not None:
            # The pop-up (or alert box) a button press shows; nothing appears without text.
            if event.answer.text:
                kind = "提示框 alert" if event.answer.show_alert else "弹出 pop-up"
                who = self._chat_label(event.chat_id)
                print(f"[家园 ◆ {who}] ({kind}) {event.answer.text}", flush=True)
                self.printed += 1
            return
        if event.kind not in ("sent", "edited") or event.message is None:
            return
        message = event.message
        inline = (message.reply_markup or {}).get("inline_keyboard")
        if inline:
            # !press refers to the latest message with buttons under it.
            self.last_message[message.chat_id] = message
        if event.kind == "sent" or message not in self.numbered:
            self.numbered.append(message)
        number = self.numbered.index(message) + 1
        who = self._chat_label(message.chat_id)
        verb = "✎" if event.kind == "edited" else "→"
        lines = [f"#{number} [家园 {verb} {who}] {_plain(message.text or '')}".rstrip()]
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

    def new_person(self) -> str:
        """A resident who has never written to the bot, to walk through onboarding."""
        taken = set(self.people)
        name = next((n for n in NEW_NAMES if n not in taken), None)
        if name is None:
            name = f"居民{len(self.people) + 1}"
        self.people[name] = Person(self.sandbox.add_user(name, language_code="zh-hans"), "new")
        return name

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
        if line == "/as" or line.startswith("/as "):
            query = line[3:].strip()
            name = self.new_person() if query.lower() in ("new", "新人", "新居民") else None
            name = name or self.find(query)
            if name is None:
                print(f"(no such person: {query}; try !who, or /as new)")
                return
            self.current = name
            if self.people[name].role == "new":
                print(f"(now speaking as {name}, a new resident who has never used the bot;")
                print(" type /start to see the onboarding)")
            else:
                print(f"(now speaking as {name}, {self.people[name].role})")
            save_cast(self)
            return
        try:
            if line.startswith("!"):
                await self._demo_command(line, self.me())
            else:
                await self.me().send(line)
        except (SandboxError, LookupError) as exc:
            # What Telegram's app would not let this person do, e.g. post in a group
            # they are not in: say so and go on.
            print(f"(not possible: {exc})")

    async def _demo_command(self, line: str, poster: SimUser | GroupMember) -> None:
        command, _, rest = line[1:].partition(" ")
        rest = rest.strip()
        if command == "photo":
            await _send_photo(poster, rest)
        elif command in ("doc", "document"):
            path_text, _, caption = rest.partition(" ")
            if not path_text:
                print("(usage: !doc PATH [CAPTION])")
                return
            found = _read_file(path_text)
            if found is None:
                print(f"(no such file: {path_text})")
                return
            name, data = found
            await poster.send_document(data, name, caption=caption.strip() or None)
        elif command == "contact":
            await poster.send_contact(self.me().phone_number)
        elif command == "location":
            parts = rest.replace(",", " ").split()
            try:
                lat, lon = float(parts[0]), float(parts[1])
            except (IndexError, ValueError):
                print("(usage: !location LAT LON)")
                return
            await poster.send_location(lat, lon)
        elif command == "press":
            await self._press(rest)
        elif command == "group":
            member = self.me().in_group(self.group)
            if rest.startswith("!") and not rest.startswith(("!group", "!press")):
                await self._demo_command(rest, member)
            elif rest:
                await member.send(rest)
            else:
                print("(usage: !group TEXT, or !group !photo [PATH] [CAPTION])")
        elif command == "clock":
            try:
                instant = datetime.fromisoformat(rest)
                self.clock.set(instant)
            except ValueError:
                print("(usage: !clock 2026-12-18T08:00:00+08:00)")
                return
            print(f"(clock set to {self.local_now()})")
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

    async def _press(self, rest: str) -> None:
        """`!press N` on the latest message with buttons, `!press M.N` on message #M."""
        usage = (
            "(usage: !press N for button N of the latest message with buttons to you,"
            " or !press M.N for button N of message #M)"
        )
        head, dot, tail = rest.partition(".")
        if not all(p.isascii() and p.isdigit() for p in ((head, tail) if dot else (head,))):
            print(usage)
            return
        if dot:
            number, index = int(head), int(tail)
            if not 1 <= number <= len(self.numbered):
                print(f"(there is no message #{number})")
                return
            message: SentMessage | None = self.numbered[number - 1]
        else:
            index = int(head)
            message = self.last_message.get(self.me().id)
        if message is None:
            print(usage)
            return
        # Reply-keyboard buttons are not numbered: use !location, !contact or type the text.
        if not (message.reply_markup or {}).get("inline_keyboard"):
            print(f"(message #{head} has no buttons to press)" if dot else usage)
            return
        if message.chat_id not in (self.me().id, self.group.chat_id):
            print(f"({self.current} cannot see that message: it is in another person's chat)")
            return
        if not 1 <= index <= len(message.buttons):
            print(f"(that message has buttons 1 to {len(message.buttons)})")
            return
        if message.deleted:
            print("(that message was deleted)")
            return
        await self.me().press(message, index - 1)

    def local_now(self) -> str:
        """The clock as the community reads it."""
        now = self.clock.now().astimezone(self.tz)
        return f"{now:%Y-%m-%d %H:%M} ({self.tz.key})"


async def _send_photo(poster: SimUser | GroupMember, rest: str) -> None:
    """`!photo [PATH] [CAPTION]`: a first word naming a file is the photo, the rest its
    caption; otherwise the bundled sample is sent with all of it as the caption."""
    first, _, after = rest.partition(" ")
    found = _read_file(first) if first else None
    if found is not None:
        await poster.send_photo(found[1], caption=after.strip() or None)
        return
    if "/" in first or Path(first).suffix.lower() in (".jpg", ".jpeg", ".png", ".webp"):
        print(f"(no such file: {first})")
        return
    await poster.send_photo(None, caption=rest or None)


def _read_file(text: str) -> tuple[str, bytes] | None:
    """The name and bytes of the file a demo command names, or None if there is none."""
    path = Path(text).expanduser()
    try:
        return path.name, path.read_bytes()
    except OSError:
        return None


async def run_demo(
    data_dir: Path | None = None,
    now: str | None = None,
    verbose: bool = False,
    web_port: int | None = None,
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
    if not verbose:
        # Said plainly below; the log line would only repeat it inside the chat.
        logging.getLogger("bot.render.fonts").setLevel(logging.ERROR)
    if not has_cjk_font():
        print(FONT_WARNING, flush=True)
    with tempfile.TemporaryDirectory(prefix="jiayuan-demo-") as tmp:
        root = data_dir or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        demo = await _set_up(root, start, web_port or _free_port())
        web_runner = web.AppRunner(build_web_app(demo.runtime))
        try:
            await web_runner.setup()
            await web.TCPSite(web_runner, "127.0.0.1", demo.runtime.settings.web_port).start()
            resumed = "resumed, " if demo.resumed else ""
            print(
                f"家园 Jiayuan demo — {resumed}data in {root}. Type !help for demo commands.",
                flush=True,
            )
            print(f"(clock: {demo.local_now()})", flush=True)
            print(f"(speaking as {demo.current}, {demo.people[demo.current].role})", flush=True)
            print(await _console_note(demo), flush=True)
            await _read_lines(demo)
        finally:
            await web_runner.cleanup()
            save_cast(demo)
            await demo.runtime.stop()
            await demo.sandbox.stop()
    return 0


async def _console_note(demo: Demo) -> str:
    """Where the office console is, with a sign-in link for the demo's admin."""
    port = demo.runtime.settings.web_port
    services = demo.runtime.services
    actor, _ = await services.people.identify(ADMIN_ID, "刘主任", "zh-hans", True)
    token = await services.console.issue_login(actor)
    base = f"http://127.0.0.1:{port}"
    return (
        f"(office console 工作台: {base}/console/ — sign in as 刘主任, once, within 10 minutes: "
        f"{base}/console/login?token={token} ; /console as a staff member sends a new link; "
        f"Open311: {base}/open311/v2/discovery.json)"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
    await _until_settled(demo.sandbox, demo.runtime)


async def _until_settled(sandbox: Sandbox, runtime: Runtime) -> None:
    """Until every update is handled (the inbox, not only Telegram's queue, is empty) and
    the outbox drained."""
    for _ in range(50):
        try:
            await sandbox.wait_idle(timeout=15, quiet=0.3)
        except TimeoutError:
            log.warning("the bot is still busy")
            return
        if await runtime.settled():
            return
        await asyncio.sleep(0.1)


async def _set_up(root: Path, start: datetime | None, web_port: int) -> Demo:
    """The sample community with one person per role, all signed in for real; or, when
    this data dir holds an earlier demo, the same people and group again."""
    cast = load_cast(root)
    last_update = await _last_update_id(root)
    if cast is not None and start is None:
        # An earlier run may have moved the clock ahead: do not let time run backwards.
        saved = datetime.fromisoformat(cast["clock"]) if cast.get("clock") else None
        if saved is not None and saved > datetime.now(UTC):
            start = saved
    clock = Clock(start)
    # Telegram's update ids only grow; a fresh simulator would start at 1 again and the
    # bot would skip those as already processed.
    sandbox = Sandbox(
        TOKEN, "jiayuan_bot", clock=clock.now, first_update_id=(last_update or 0) + 1
    )
    await sandbox.start()
    try:
        settings = Settings(
            token=TOKEN,
            api_url=sandbox.base_url,
            data_dir=root,
            admins=frozenset({ADMIN_ID}),
            web_port=web_port,
            web_listen="127.0.0.1",
        )
        runtime = await start_bot(settings, clock, poll_timeout=1)
    except BaseException:
        await sandbox.stop()
        raise
    out_dir = root / "demo-out"
    out_dir.mkdir(exist_ok=True)
    try:
        if cast is not None:
            demo = _restore(cast, sandbox, runtime, clock, out_dir)
        else:
            demo = await _first_run(sandbox, runtime, clock, out_dir)
        save_cast(demo)
    except BaseException:
        await runtime.stop()
        await sandbox.stop()
        raise
    sandbox.add_listener(demo.on_event)
    return demo


async def _first_run(sandbox: Sandbox, runtime: Runtime, clock: Clock, out_dir: Path) -> Demo:
    services = runtime.services
    plan = load_plan(SAMPLE)
    summary = await services.communities.apply_plan(plan)
    admin = sandbox.add_user("刘主任", user_id=ADMIN_ID, language_code="zh-hans")
    resident = sandbox.add_user("李明", language_code="zh-hans")
    group = sandbox.add_group("幸福里社区群", {admin: "creator", resident: "member"})
    demo = Demo(sandbox, runtime, clock, out_dir, group, tz=ZoneInfo(plan.timezone))
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
    await _until_settled(sandbox, runtime)
    picker = await resident.wait_for(
        lambda m: "幸福里社区" in m.button_texts or "欢迎回来" in (m.text or ""), timeout=10
    )
    # A database an earlier demo left without its cast already knows 李明.
    if "幸福里社区" in picker.button_texts:
        await resident.press(picker, "幸福里社区")
        buildings = await resident.wait_for(lambda m: "1号楼·东片区" in m.button_texts, timeout=10)
        await resident.press(buildings, "1号楼·东片区")
    await _until_settled(sandbox, runtime)
    for p in demo.people.values():
        p.user.drain()
    group.drain()
    demo.current = "李明"
    return demo


def _restore(
    cast: dict[str, Any], sandbox: Sandbox, runtime: Runtime, clock: Clock, out_dir: Path
) -> Demo:
    """The accounts of an earlier run: they already talked to the bot, so no /start."""
    users: dict[int, SimUser] = {}
    for entry in cast["people"]:
        users[entry["id"]] = sandbox.add_user(
            entry["name"],
            user_id=entry["id"],
            language_code="zh-hans",
            started=entry["role"] != "new" or entry.get("started", False),
        )
    info = cast["group"]
    group = sandbox.add_group(
        info["title"],
        {users[int(uid)]: status for uid, status in info["members"].items()},
        chat_id=info["id"],
        bot_joined_before=True,
    )
    demo = Demo(sandbox, runtime, clock, out_dir, group, tz=ZoneInfo(cast["timezone"]))
    for entry in cast["people"]:
        demo.people[entry["name"]] = Person(users[entry["id"]], entry["role"])
    demo.current = cast["current"] if cast["current"] in demo.people else "李明"
    demo.resumed = True
    return demo


async def _last_update_id(root: Path) -> int | None:
    settings = Settings(token=TOKEN, data_dir=root)
    path = settings.database_path
    if not path.is_file():
        return None
    async with open_database(None, path, bot_id=settings.bot_id) as db, db.read() as tx:
        ids = [await tx.updates.latest(), await tx.inbox.latest_update_id()]
    return max((i for i in ids if i is not None), default=None)


def load_cast(root: Path) -> dict[str, Any] | None:
    """The people of an earlier run in this data dir, if its database is still there."""
    path = root / CAST_FILE
    if not path.is_file() or not Settings(token=TOKEN, data_dir=root).database_path.is_file():
        return None
    try:
        cast: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path} is unreadable ({exc}); remove it to start afresh") from None
    return cast


def save_cast(demo: Demo) -> None:
    cast = {
        "people": [
            {
                "name": name,
                "id": person.user.id,
                "role": person.role,
                "started": person.user.started,
            }
            for name, person in demo.people.items()
        ],
        "group": {
            "id": demo.group.chat_id,
            "title": demo.group.title,
            "members": {str(uid): status for uid, status in demo.group.members.items()},
        },
        "current": demo.current,
        "timezone": demo.tz.key,
        "clock": demo.clock.now().isoformat(),
    }
    root = demo.out_dir.parent
    tmp = root / (CAST_FILE + ".tmp")
    tmp.write_text(json.dumps(cast, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(root / CAST_FILE)


def _plain(text: str) -> str:
    """Messages are HTML; the terminal shows them as plain text."""
    return html.unescape(re.sub(r"</?(b|i|u|s|code|pre|a[^>]*)>", "", text))
