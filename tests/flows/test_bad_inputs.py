"""Bad input, end to end: every case of tests/data/bad_inputs.yaml reaches the real bot
through bot/sandbox, and the bot must stay calm about it.

Each case is checked for what every case must hold, whatever its ``expect``:

* no update ended in ``handlers.errors``' "unhandled error" record;
* Telegram refused nothing the bot sent for broken HTML or for length (the sandbox
  answers those with a 400, as Telegram does), which shows user text was escaped and
  long text trimmed;
* every button press was answered (STYLE.md: always ``answer()`` the query);

and then for what ``expect`` lists: ``reply`` (the actor, or the group for group cases,
got a new message), ``ignored`` (nothing new there), ``alert`` (the press was answered
with ``show_alert``), ``no_change`` (the database is as it was, apart from the actor's own
``people`` row, which first contact creates).

One bot and one sandbox serve the whole module, on a module-scoped event loop; every
resident, stranger and inspector is a new person made for their case, so no case sees
another's draft or open question. The admin and the Z1 cadre are shared. A case marked
``isolated`` gets a bot of its own, for state that must be exact.
"""

from __future__ import annotations

import asyncio
import functools
import io
import itertools
import logging
import struct
import zlib
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import yaml
from PIL import Image

from bot.domain.models import Role
from bot.importer import load_plan
from bot.jobs import tick_all
from bot.sandbox import Sandbox, SentMessage, SimGroup, SimUser
from bot.sandbox.entities import detect_entities
from tests.crafted_imports import csv_gbk, xlsx_100000_rows, xlsx_zip_bomb, yaml_billion_laughs
from tests.factories import EXAMPLES, SAMPLE_YAML, T0
from tests.flows.conftest import ADMIN_ID, Harness, running_harness
from tests.flows.reporting import jpeg

# One bot serves the whole module (module-scoped), so it keeps the embedded default
# rather than following each test's backend.
pytestmark = pytest.mark.sqlite_only

CORPUS = Path(__file__).parents[1] / "data" / "bad_inputs.yaml"
CASES: list[dict[str, Any]] = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))["cases"]

# Telegram's refusals that mean the bot sent unescaped HTML or did not trim user text.
FORMAT_ERRORS = (
    "can't parse entities",
    "message is too long",
    "message caption is too long",
    "message text is empty",
    "MESSAGE_TOO_LONG",
    "BUTTON_DATA_INVALID",
)

# Everything a bad input must not change; people is compared without the actor's row.
SNAPSHOT_TABLES = (
    "communities",
    "community_settings",
    "zones",
    "buildings",
    "sites",
    "role_grants",
    "invites",
    "group_chats",
    "tickets",
    "ticket_events",
    "ticket_photos",
    "ticket_supporters",
    "report_drafts",
    "calendar_overrides",
    "reporting_blocks",
    "prompts",
    "volunteer_activities",
    "volunteer_signups",
    "volunteer_prefs",
    "inspections",
    "inspection_items",
    "digest_prefs",
    "announcements",
    "ratings",
    "rating_objections",
    "shop_pledges",
)

OTHER_COMMUNITY = ("bieyuan", "别苑社区")


# --------------------------------------------------------------------------- the bot


async def settle(h: Harness, wait_s: float = 20.0) -> None:
    """``Harness.settle`` with a shorter quiet period, and the minute tick run in step.

    Our poller confirms an update once it is stored in the inbox, so the check below
    also waits for the inbox to be empty; the quiet period only has to bridge the
    outbox sender's hops between the database and the Bot API.

    The bot's tick (reminders, the rhythm, announcement reports) is paused in this
    module and run here instead: whatever a case sets off in the background then happens
    inside that case, not in the middle of a later one.

    An /import reads its file in a background task (so that nobody waits for it); the
    case is over only once that task is done too.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    ticked = False
    while loop.time() < deadline:
        await h.sandbox.wait_idle(timeout=10, quiet=0.05)
        if _importing():
            await asyncio.sleep(0.05)
            continue
        if not ticked:
            async with h.services.db.read() as tx:
                handling = await tx.inbox.unfinished()
            if handling:
                await asyncio.sleep(0.02)
                continue
            await tick_all(h.services)
            ticked = True
        if await h.runtime.settled():
            await h.sandbox.wait_idle(timeout=10, quiet=0.05)
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the inbox or the outbox did not drain")


def _importing() -> bool:
    """An /import is still reading its file: a task the inbox worker does not wait for."""
    return any(
        task.get_name().startswith("import:") and not task.done() for task in asyncio.all_tasks()
    )


@dataclass
class Stage:
    """The running bot plus the ids that callback data and deep links in the corpus name."""

    h: Harness
    ids: dict[str, int] = field(default_factory=dict)
    names: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def fill(self, text: str) -> str:
        for name, value in self.ids.items():
            text = text.replace("{" + name + "}", str(value))
        return text


async def _resident_person(h: Harness, user: SimUser, community_id: int, building: str) -> None:
    """What onboarding leaves behind (community and building), without the round trips."""
    services = h.services
    _, person = await services.people.identify(user.id, user.first_name, "zh-hans", False)
    await services.people.choose_community(person, community_id)
    _, person = await services.people.identify(user.id, user.first_name, "zh-hans", False)
    found = [b for b, _ in await services.people.buildings(community_id) if b.name == building]
    await services.people.choose_building(person, found[0].id)


async def _file_by_services(h: Harness, user: SimUser, community_id: int, building: str) -> int:
    """A dispatched ticket, filed through the services by a resident of ``community_id``."""
    await _resident_person(h, user, community_id, building)
    services = h.services
    actor, person = await services.people.identify(user.id, user.first_name, "zh-hans", False)
    await services.reports.start(actor, person, f"setup:{user.id}")
    await services.reports.nudged(person)
    await services.reports.set_category(person, "litter")
    buildings = await services.people.buildings(community_id)
    await services.reports.set_place_building(
        person, next(b.id for b, _ in buildings if b.name == building)
    )
    await services.reports.skip_description(person)
    filed = await services.reports.submit(actor, person)
    return filed.ticket.id


async def prepare(h: Harness) -> Stage:
    """Objects for the corpus to point at: in our community and in another one."""
    stage = Stage(h)
    services = h.services
    await h.cadre("Z1")
    plan = load_plan(SAMPLE_YAML)
    other_plan = replace(
        plan,
        code=OTHER_COMMUNITY[0],
        name=OTHER_COMMUNITY[1],
        zones=tuple(replace(z, cadre=None, deputies=()) for z in plan.zones),
    )
    other = (await services.communities.apply_plan(other_plan)).community
    ours = h.community
    async with services.db.read() as tx:
        for key, community_id in (("", ours.id), ("other_", other.id)):
            zones = await tx.zones.list_by_community(community_id)
            buildings = await tx.buildings.list_by_community(community_id)
            sites = await tx.sites.list_by_community(community_id)
            stage.ids[f"{key}community_id"] = community_id
            stage.ids[f"{key}zone_id"] = zones[0].id
            stage.ids[f"{key}building_id"] = buildings[0].id
            stage.ids[f"{key}site_id"] = sites[0].id
    stage.ids["ticket_id"] = await _file_by_services(
        h, h.sandbox.add_user("本社区居民"), ours.id, "1号楼"
    )
    stage.ids["other_ticket_id"] = await _file_by_services(
        h, h.sandbox.add_user("别苑居民"), other.id, "1号楼"
    )
    admin_actor, _ = await services.people.identify(ADMIN_ID, "刘主任", "zh-hans", True)
    activity = await services.volunteers.create(
        admin_actor, "捡垃圾", "小区广场", T0 + timedelta(days=7), 2, 10
    )
    stage.ids["activity_id"] = activity.id
    other_upcoming = await services.volunteers.upcoming(other.id)
    stage.ids["other_activity_id"] = other_upcoming[0].id
    await settle(h)
    for user in h.sandbox.users:
        user.drain()
    return stage


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stage(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stage]:
    async with running_harness(tmp_path_factory.mktemp("bad-inputs"), tick=False) as h:
        yield await prepare(h)


# --------------------------------------------------------------------------- payloads


def _text(spec: Any) -> str:
    """A literal string, or ``{repeat: S, times: N, prefix: P, suffix: Q}``."""
    if isinstance(spec, str):
        return spec
    if isinstance(spec, dict):
        body = str(spec["repeat"]) * int(spec["times"])
        return str(spec.get("prefix", "")) + body + str(spec.get("suffix", ""))
    raise ValueError(f"not a text: {spec!r}")


def _chunk(tag: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(tag + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)


def _png(width: int, height: int, idat: bytes, *, depth: int = 1, colour: int = 0) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


def _png_bomb(side: int) -> bytes:
    """A real 1-bit PNG of ``side``² pixels: tens of KB that decode to over a GB of RGB."""
    row = bytes(1 + (side + 7) // 8)  # filter byte + packed bits
    packer = zlib.compressobj(9)
    block = row * 400
    parts = [packer.compress(block) for _ in range(side // 400)]
    parts.append(packer.compress(row * (side % 400)))
    parts.append(packer.flush())
    return _png(side, side, b"".join(parts))


def _jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose frame header says it is ``width`` x ``height``."""
    data = bytearray(jpeg(size=(16, 16)))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _pillow(mode: str, fmt: str, size: tuple[int, int] = (64, 48), **save: Any) -> bytes:
    buffer = io.BytesIO()
    colour: Any = {"RGBA": (255, 0, 0, 128), "P": 1, "I;16": 40000, "CMYK": (0, 255, 0, 0)}
    image = Image.new(mode, size, colour.get(mode, 128))
    if mode == "P":
        image.putpalette([0, 0, 0, 255, 0, 0] * 128)
        save.setdefault("transparency", 1)
    image.save(buffer, fmt, **save)
    return buffer.getvalue()


def _animated_gif() -> bytes:
    frames = [Image.new("P", (32, 32), i) for i in range(3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=50)
    return buffer.getvalue()


def _bad_exif_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 9  # Orientation: only 1-8 exist
    exif[0x010F] = "<script>alert(1)</script>"  # Make
    return jpeg(size=(40, 30), exif=exif.tobytes())


IMAGES: dict[str, Callable[[], bytes]] = {
    "jpeg": jpeg,
    "truncated_jpeg": lambda: (lambda d: d[: len(d) // 3])(jpeg()),
    "zero_bytes": lambda: b"",
    "null_bytes": lambda: bytes(2048),
    "text_as_jpg": lambda: b"this is a text file, not a picture\n" * 8,
    "png_bomb_20000x20000": lambda: _png_bomb(20000),
    "png_header_65535x65535": lambda: _png(65535, 65535, zlib.compress(bytes(64))),
    "png_zero_width": lambda: _png(0, 10, zlib.compress(bytes(16))),
    "jpeg_header_65500x65500": lambda: _jpeg_claiming(65500, 65500),
    "jpeg_1x9000": lambda: jpeg(size=(1, 9000)),
    "png_rgba": lambda: _pillow("RGBA", "PNG"),
    "png_palette_transparent": lambda: _pillow("P", "PNG"),
    "png_16bit": lambda: _pillow("I;16", "PNG"),
    "jpeg_cmyk": lambda: _pillow("CMYK", "JPEG"),
    "webp": lambda: _pillow("RGB", "WEBP"),
    "bmp": lambda: _pillow("RGB", "BMP"),
    "tiff": lambda: _pillow("RGB", "TIFF"),
    "gif_animated": _animated_gif,
    "jpeg_bad_exif": _bad_exif_jpeg,
    "jpeg_zip_polyglot": lambda: jpeg(size=(32, 32)) + b"PK\x03\x04" + bytes(64),
    "svg_script": lambda: (
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    ),
    "html": lambda: b"<html><body><script>alert(1)</script></body></html>",
    "pdf": lambda: b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
    "exe": lambda: b"MZ\x90\x00\x03" + bytes(59) + b"PE\x00\x00" + bytes(256),
    "xlsx": lambda: (EXAMPLES / "community.xlsx").read_bytes(),
    "huge_21mb": lambda: bytes(21 * 1024 * 1024),
    "xlsx_zip_bomb": xlsx_zip_bomb,
    "xlsx_100000_rows": xlsx_100000_rows,
    "yaml_billion_laughs": yaml_billion_laughs,
    "csv_gbk": csv_gbk,
}


@functools.cache
def _image(recipe: str) -> bytes:
    return IMAGES[recipe]()


def _bytes(step: dict[str, Any]) -> bytes:
    if "image" in step:
        return _image(step["image"])
    return _text(step.get("content", "")).encode("utf-8")


# --------------------------------------------------------------------------- one case


@dataclass
class Scene:
    """Who acts where in one case, and what they did so far."""

    stage: Stage
    actor: SimUser
    group: SimGroup | None = None
    last_sent: dict[str, Any] | None = None
    presses: list[dict[str, Any]] = field(default_factory=list)

    @property
    def h(self) -> Harness:
        return self.stage.h

    def chat(self, step: dict[str, Any], case: dict[str, Any]) -> str:
        return str(step.get("where", case.get("where", "private")))

    def poster(self, where: str) -> Any:
        if where == "group":
            assert self.group is not None, "a group step needs where: group"
            return self.actor.in_group(self.group)
        return self.actor

    def inbox(self, where: str) -> SimUser | SimGroup:
        if where == "group":
            assert self.group is not None
            return self.group
        return self.actor


async def make_actor(stage: Stage, case: dict[str, Any]) -> SimUser:
    h, kind = stage.h, case["actor"]
    if kind == "admin":
        return h.admin
    if kind == "cadre":
        return await h.cadre("Z1")
    name = _text(case.get("actor_name", f"{kind}{next(stage.names)}"))
    language = case.get("language", "zh-hans")
    user = h.sandbox.add_user(name, language_code=language)
    if kind == "stranger":
        return user
    await _resident_person(h, user, h.community.id, "1号楼")
    if kind == "inspector":
        admin, _ = await h.services.people.identify(ADMIN_ID, "刘主任", "zh-hans", True)
        invite, _ = await h.services.invites.create(admin, Role.INSPECTOR)
        _, person = await h.services.people.identify(user.id, name, language, False)
        await h.services.invites.redeem(person, invite.code)
    elif kind != "resident":
        raise ValueError(f"unknown actor {kind!r}")
    return user


async def make_group(scene: Scene, case: dict[str, Any]) -> SimGroup:
    h = scene.h
    members: dict[SimUser, str] = {h.admin: "creator"}
    if scene.actor is not h.admin:
        members[scene.actor] = str(case.get("actor_status", "member"))
    title = _text(case.get("group_title", f"楼栋群 {case['id']}"))
    return h.sandbox.add_group(
        title, members, supergroup=case.get("group_type", "supergroup") == "supergroup"
    )


async def ensure_bot_message(scene: Scene, where: str) -> None:
    """A forged press needs a bot message to hang on: ask for /help if there is none."""
    if where == "private" and not [m for m in scene.actor.inbox if not m.deleted]:
        await scene.actor.send("/help")
        await settle(scene.h)


def _latest_bot_message(inbox: SimUser | SimGroup) -> SentMessage:
    messages = [m for m in inbox.inbox if not m.deleted]
    assert messages, f"{inbox.label} has no bot message to press a button on"
    return messages[-1]


def _forward_origin(scene: Scene, origin: str) -> dict[str, Any]:
    date = scene.h.sandbox.world.now()
    if origin == "channel":
        chat = {"id": -1001234567890, "type": "channel", "title": "<i>频道</i> & *新闻*"}
        return {"type": "channel", "chat": chat, "message_id": 77, "date": date}
    if origin == "user":
        other = scene.h.sandbox.add_user("<b>转发来源</b>")
        return {"type": "user", "sender_user": other.to_dict(), "date": date}
    return {
        "type": "hidden_user",
        "sender_user_name": "<b>匿名</b> & [x](tg://user?id=1)",
        "date": date,
    }


async def forward(scene: Scene, step: dict[str, Any], where: str) -> dict[str, Any]:
    """A forwarded message: Telegram marks it with forward_origin and keeps the content."""
    world = scene.h.sandbox.world
    content: dict[str, Any] = {"forward_origin": _forward_origin(scene, step["origin"])}
    if "image" in step:
        sizes = world.files.add_photo(_bytes(step), strict=False)
        content["photo"] = [size.to_photo_size() for size in sizes]
        if "caption" in step:
            content["caption"] = _text(step["caption"])
    else:
        text = _text(step["text"])
        content["text"] = text
        entities = detect_entities(text)
        if entities:
            content["entities"] = entities
    chat = scene.group.record if where == "group" and scene.group else None
    target = chat if chat is not None else world.private_chat(scene.actor.record)
    return world.user_sends(scene.actor.record, target, content)


async def group_event(scene: Scene, step: dict[str, Any]) -> None:
    h, event = scene.h, step["event"]
    if event == "block_bot":
        scene.actor.block_bot()
        return
    assert scene.group is not None, f"{event} needs a group"
    if event == "remove_bot":
        scene.group.remove_bot(by=h.admin)
    elif event == "add_bot":
        scene.group.add_bot(by=h.admin)
    elif event == "promote_bot":
        scene.group.set_bot_status("administrator", by=h.admin)
    elif event == "migrate":
        scene.group = scene.group.migrate_to_supergroup(by=h.admin)
    elif event == "actor_leaves":
        scene.group.remove_member(scene.actor)
    else:
        raise ValueError(f"unknown group event {event!r}")


async def seed_role_holders(scene: Scene, step: dict[str, Any]) -> None:
    """People holding a role, made through invites (for long role listings)."""
    h = scene.h
    admin, _ = await h.services.people.identify(ADMIN_ID, "刘主任", "zh-hans", True)
    for _ in range(int(step["count"])):
        user = h.sandbox.add_user(_text(step["name"]), language_code="zh-hans")
        _, person = await h.services.people.identify(user.id, user.first_name, "zh-hans", False)
        invite, _ = await h.services.invites.create(admin, Role(step.get("role", "inspector")))
        await h.services.invites.redeem(person, invite.code)


async def file_report_step(scene: Scene, step: dict[str, Any]) -> None:
    """Photo → category → place → submit, stepping past any duplicate offers."""
    user = scene.actor
    category, place = step.get("category", "其他"), step.get("place", "2号楼")
    await user.send_photo(
        _bytes(step) if "image" in step else jpeg(), caption=_text(step["caption"])
    )
    await user.press(await user.wait_for(lambda m: category in m.button_texts), category)
    await user.press(await user.wait_for(lambda m: place in m.button_texts), place)
    while True:
        ask = await user.wait_for(
            lambda m: "✅ 确认上报" in m.button_texts or "不是，继续新上报" in m.button_texts,
            timeout=10,
        )
        if "✅ 确认上报" in ask.button_texts:
            break
        await user.press(ask, "不是，继续新上报")
    await user.press(ask, "✅ 确认上报")
    await scene.h.sandbox.wait_until(lambda: "已受理" in (ask.text or ""), timeout=10)


async def run_step(scene: Scene, step: dict[str, Any], case: dict[str, Any]) -> None:
    """Do one thing as the actor (the vocabulary of ``action`` in the corpus)."""
    action, where = step["action"], scene.chat(step, case)
    poster = scene.poster(where)
    if action in ("text", "command"):
        scene.last_sent = await poster.send(scene.stage.fill(_text(step["text"])))
    elif action == "photo_bytes":
        caption = _text(step["caption"]) if "caption" in step else None
        scene.last_sent = await poster.send_photo(
            _bytes(step), caption=caption, media_group_id=step.get("media_group_id")
        )
    elif action == "document":
        caption = _text(step["caption"]) if "caption" in step else None
        scene.last_sent = await poster.send_document(
            _bytes(step), _text(step["file_name"]), step.get("mime_type"), caption
        )
    elif action == "location":
        scene.last_sent = await poster.send_location(step["latitude"], step["longitude"])
    elif action == "contact":
        scene.last_sent = await poster.send_contact(
            _text(step["phone"]), step.get("first_name"), own=bool(step.get("own", True))
        )
    elif action == "sticker":
        scene.last_sent = await poster.send_sticker(step.get("emoji", "🙂"))
    elif action == "voice":
        data = _bytes(step) if ("image" in step or "content" in step) else None
        scene.last_sent = await poster.send_voice(data, duration=int(step.get("duration", 1)))
    elif action == "edit":
        assert scene.last_sent is not None, "edit needs an earlier message of the actor"
        await scene.actor.edit(scene.last_sent, _text(step["text"]))
    elif action == "press_data":
        await ensure_bot_message(scene, where)
        data = step["data"]
        filled = None if data is None else scene.stage.fill(_text(data))
        # Through the world: a forged press may even carry no data at all.
        message = _latest_bot_message(scene.inbox(where))
        scene.presses.append(scene.h.sandbox.world.press(scene.actor.record, message, filled))
    elif action == "press":
        inbox = scene.inbox(where)
        label = step["button"]
        await scene.actor.press(await inbox.wait_for(lambda m: label in m.button_texts), label)
    elif action == "forward":
        scene.last_sent = await forward(scene, step, where)
    elif action == "group_event":
        await group_event(scene, step)
    elif action == "seed_role_holders":
        await seed_role_holders(scene, step)
    elif action == "file_report":
        await file_report_step(scene, step)
    else:
        raise ValueError(f"unknown action {action!r}")
    if "then" in step:
        for follow in step["then"]:
            await run_step(scene, follow, case)


# --------------------------------------------------------------------------- checks


async def snapshot(h: Harness, actor_id: int) -> dict[str, Any]:
    """The rows a bad input must not touch (the actor's own people row aside)."""
    taken: dict[str, Any] = {}
    async with h.services.db.read() as tx:
        for table in SNAPSHOT_TABLES:
            rows = await tx.conn.fetch_all(f"SELECT * FROM {table}")
            taken[table] = sorted((tuple(r) for r in rows), key=repr)
        rows = await tx.conn.fetch_all(
            "SELECT * FROM people WHERE telegram_id IS NULL OR telegram_id != ?", (actor_id,)
        )
        taken["people"] = sorted((tuple(r) for r in rows), key=repr)
        rows = await tx.conn.fetch_all("SELECT COUNT(*) FROM outbox")
        taken["outbox rows"] = rows[0][0] if rows else 0
    return taken


def _api_calls(sandbox: Sandbox) -> int:
    # Every answered request is both counted and logged, except file downloads (counted).
    return sandbox.stats.count() - sandbox.stats.count("file", 200)


def _expectations(case: dict[str, Any]) -> set[str]:
    expect = case["expect"]
    found = {expect} if isinstance(expect, str) else set(expect)
    unknown = found - {"reply", "ignored", "alert", "no_change"}
    assert not unknown, f"{case['id']}: unknown expectations {unknown}"
    return found


def _param(case: dict[str, Any]) -> Any:
    marks = []
    if case.get("xfail"):
        marks.append(pytest.mark.xfail(reason=case["xfail"], strict=False))
    return pytest.param(case, id=case["id"], marks=marks)


async def check_case(stage: Stage, case: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    """Set the scene, watch the action, then undo what the case changed in shared state."""
    h = stage.h
    scene = Scene(stage, await make_actor(stage, case))
    if case.get("where") == "group" or case.get("group_type"):
        scene.group = await make_group(scene, case)
    for step in case.get("before", []):
        await run_step(scene, step, case)
        await settle(h)
    if scene.group is not None:
        await settle(h)  # the bot's greeting in the new group
    if case["action"] == "press_data":
        await ensure_bot_message(scene, scene.chat(case, case))
    try:
        await watch(scene, case, caplog)
    finally:
        for step in case.get("after", []):
            await run_step(scene, step, case)
            await settle(h)


async def watch(scene: Scene, case: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    """Run the case's action and check what must always hold, then what it expects."""
    h, expect = scene.h, _expectations(case)
    where = str(case.get("watch", scene.chat(case, case)))
    watched: list[SimUser | SimGroup] = [scene.actor]
    if scene.group is not None:
        watched.append(scene.group)
    seen = {id(inbox): len(inbox.inbox) for inbox in watched}
    scene.presses = []  # only the action's own presses are judged
    before = await snapshot(h, scene.actor.id) if "no_change" in expect else None
    calls = _api_calls(h.sandbox)
    caplog.clear()

    await run_step(scene, case, case)
    await settle(h)

    crashes = [
        r.getMessage()
        for r in caplog.records
        if r.name == "handlers.errors"
        and r.getMessage().startswith(("unhandled error", "error outside an update"))
    ]
    assert not crashes, f"the bot failed on this input: {crashes}"
    fresh = _api_calls(h.sandbox) - calls
    refused = [
        f"{r.method} -> {r.status} {r.description}"
        for r in (list(h.sandbox.requests)[-fresh:] if fresh > 0 else [])
        if r.status == 400 and any(e in (r.description or "") for e in FORMAT_ERRORS)
    ]
    assert not refused, f"Telegram refused what the bot sent: {refused}"
    for press in scene.presses:
        assert h.sandbox.callback_answer(press["id"]) is not None, f"unanswered: {press!r}"

    # After a migration the group to watch is the new supergroup (nothing was seen there).
    target = scene.inbox(where)
    new = target.inbox[seen.get(id(target), 0) :]
    if "reply" in expect:
        assert new, f"{target.label} got no reply"
    if "says" in case:
        texts = [m.text or "" for m in new]
        assert any(case["says"] in t for t in texts), f"{case['says']!r} not in {texts}"
    if "ignored" in expect:
        for inbox in {id(i): i for i in [*watched, target]}.values():
            got = inbox.inbox[seen.get(id(inbox), 0) :]
            assert not got, f"{inbox.label} got {[m.describe() for m in got]}"
    if "alert" in expect:
        assert scene.presses, "alert needs a press_data action"
        for press in scene.presses:
            answer = h.sandbox.callback_answer(press["id"])
            assert answer is not None and answer.show_alert, f"no alert for {press.get('data')!r}"
    if before is not None:
        after = await snapshot(h, scene.actor.id)
        changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
        assert not changed, f"the input changed the database: {changed}"


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("case", [_param(c) for c in CASES])
async def test_bad_input_is_handled_calmly(
    stage: Stage, case: dict[str, Any], caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.INFO)
    if not case.get("isolated"):
        await check_case(stage, case, caplog)
        return
    async with running_harness(tmp_path, tick=False) as h:
        await check_case(await prepare(h), case, caplog)


CASE_KEYS = {
    "id",
    "actor",
    "actor_name",
    "language",
    "where",
    "group_type",
    "group_title",
    "actor_status",
    "before",
    "after",
    "expect",
    "watch",
    "says",
    "isolated",
    "xfail",
}
STEP_KEYS = {
    "action",
    "where",
    "then",
    "text",
    "image",
    "content",
    "caption",
    "file_name",
    "mime_type",
    "media_group_id",
    "latitude",
    "longitude",
    "phone",
    "first_name",
    "own",
    "emoji",
    "duration",
    "data",
    "button",
    "origin",
    "event",
    "category",
    "place",
    "count",
    "name",
    "role",
}
ACTIONS = {
    "text",
    "command",
    "photo_bytes",
    "document",
    "location",
    "contact",
    "sticker",
    "voice",
    "edit",
    "press_data",
    "press",
    "forward",
    "group_event",
    "file_report",
    "seed_role_holders",
}


def _check_step(step: dict[str, Any], extra: Collection[str] = ()) -> None:
    unknown = set(step) - STEP_KEYS - set(extra)
    assert step["action"] in ACTIONS, step
    assert not unknown, f"unknown keys {unknown} in {step}"
    assert "image" not in step or step["image"] in IMAGES, step
    for follow in [*step.get("then", [])]:
        _check_step(follow)


def test_corpus_is_well_formed() -> None:
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    assert len(CASES) >= 120
    for case in CASES:
        assert case["actor"] in ("resident", "cadre", "admin", "stranger", "inspector"), case
        assert case.get("where", "private") in ("private", "group"), case
        assert case.get("watch", "private") in ("private", "group"), case
        _expectations(case)
        _check_step(case, CASE_KEYS)
        for step in [*case.get("before", []), *case.get("after", [])]:
            _check_step(step)
