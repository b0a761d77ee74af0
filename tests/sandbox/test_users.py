"""The scripted side: people pressing buttons, editing, waiting for the bot's messages."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from telegram.error import BadRequest

from bot.sandbox import FloodLimits, Sandbox, SandboxError, SandboxEvent, SimUser


async def _drain(bot: Bot) -> list[dict]:
    updates = await bot.get_updates()
    if updates:
        await bot.get_updates(offset=updates[-1].update_id + 1)
    return [u.to_dict() for u in updates]


def _keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("受理", callback_data="tk1:acc:7")],
            [InlineKeyboardButton("详情", url="https://example.org/t/7")],
        ]
    )


class TestButtons:
    async def test_press_by_text_or_index_sends_callback_data(
        self, bot: Bot, started_alice: SimUser
    ) -> None:
        await bot.send_message(started_alice.id, "新工单", reply_markup=_keyboard())
        message = await started_alice.next_message()
        assert message.buttons == [("受理", "tk1:acc:7"), ("详情", "https://example.org/t/7")]
        await _drain(bot)
        by_text = await started_alice.press(message, "受理")
        by_index = await started_alice.press(message, 0)
        first, second = await _drain(bot)
        assert first["callback_query"]["data"] == by_index["data"] == "tk1:acc:7"
        assert first["callback_query"]["message"]["message_id"] == message.message_id
        assert first["callback_query"]["id"] == by_text["id"] != second["callback_query"]["id"]

    async def test_pressing_a_missing_or_url_button_is_a_scripting_error(
        self, bot: Bot, started_alice: SimUser
    ) -> None:
        await bot.send_message(started_alice.id, "新工单", reply_markup=_keyboard())
        message = await started_alice.next_message()
        with pytest.raises(LookupError, match=r"no button '驳回'; buttons: \['受理', '详情'\]"):
            await started_alice.press(message, "驳回")
        with pytest.raises(SandboxError, match="has no callback_data"):
            await started_alice.press(message, "详情")

    async def test_forged_callback_data_and_answers(
        self, bot: Bot, sandbox: Sandbox, started_alice: SimUser
    ) -> None:
        await bot.send_message(started_alice.id, "新工单", reply_markup=_keyboard())
        message = await started_alice.next_message()
        query = await started_alice.press_data(message, "tk1:del:1")
        await bot.answer_callback_query(query["id"], text="按钮已过期", show_alert=True)
        answer = await started_alice.wait_answer(query)
        assert (answer.text, answer.show_alert) == ("按钮已过期", True)
        assert sandbox.callback_answer(query["id"]) == answer
        with pytest.raises(BadRequest, match="Query is too old"):
            await bot.answer_callback_query(query["id"])

    async def test_reply_keyboard_buttons_send_text_or_contact(
        self, bot: Bot, started_alice: SimUser
    ) -> None:
        keyboard = ReplyKeyboardMarkup(
            [[KeyboardButton("随手拍")], [KeyboardButton("分享手机号", request_contact=True)]]
        )
        await bot.send_message(started_alice.id, "菜单", reply_markup=keyboard)
        menu = await started_alice.next_message()
        assert menu.button_texts == ["随手拍", "分享手机号"]
        assert "reply_markup" not in menu.raw  # Telegram echoes only inline keyboards
        text = await started_alice.press(menu, "随手拍")
        contact = await started_alice.press(menu, 1)
        assert text["text"] == "随手拍"
        assert contact["contact"]["user_id"] == started_alice.id


class TestUserMessages:
    async def test_private_and_bot_messages_share_message_ids(
        self, bot: Bot, started_alice: SimUser
    ) -> None:
        await bot.send_message(started_alice.id, "bot")
        second = await started_alice.send("again")
        assert second["message_id"] == 3

    async def test_edit_produces_an_edited_message_update(
        self, bot: Bot, started_alice: SimUser
    ) -> None:
        await _drain(bot)
        original = await started_alice.send("/report 垃圾")
        await started_alice.edit(original, "/report 垃圾桶满了")
        new, edited = await _drain(bot)
        assert new["message"]["text"] == "/report 垃圾"
        assert edited["edited_message"]["text"] == "/report 垃圾桶满了"
        assert edited["edited_message"]["message_id"] == original["message_id"]

    async def test_deep_links_locations_stickers_and_voice(self, bot: Bot, alice: SimUser) -> None:
        await alice.send("/start inv_abc")
        await alice.send_location(31.23, 121.47)
        await alice.send_sticker()
        await alice.send_voice()
        updates = [u["message"] for u in await _drain(bot)]
        assert updates[0]["text"] == "/start inv_abc"
        assert updates[1]["location"] == {"latitude": 31.23, "longitude": 121.47}
        assert "sticker" in updates[2] and "voice" in updates[3]

    async def test_album_photos_share_the_media_group_id(self, bot: Bot, alice: SimUser) -> None:
        await alice.send_photo(caption="一", media_group_id="album1")
        await alice.send_photo(media_group_id="album1")
        first, second = [u["message"] for u in await _drain(bot)]
        assert first["media_group_id"] == second["media_group_id"] == "album1"
        assert len(first["photo"]) == 3  # 90, 320 and the 640x480 original

    async def test_the_clock_dates_messages(self) -> None:
        moment = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
        async with Sandbox(clock=lambda: moment, limits=FloodLimits.off()) as sandbox:
            alice = sandbox.add_user("Alice")
            message = await alice.send("/start")
        assert message["date"] == int(moment.timestamp())


class TestWaiting:
    async def test_next_message_times_out_with_a_helpful_dump(
        self, bot: Bot, started_alice: SimUser
    ) -> None:
        await bot.send_message(started_alice.id, "只有这一条")
        await started_alice.next_message()
        with pytest.raises(BadRequest):
            await bot.send_message(started_alice.id, "<b>", parse_mode="HTML")
        with pytest.raises(TimeoutError) as raised:
            await started_alice.next_message(timeout=0.05)
        dump = str(raised.value)
        assert "[taken] #2 '只有这一条'" in dump
        assert "sendMessage -> 400 Bad Request: can't parse entities" in dump

    async def test_wait_for_takes_the_first_match_and_leaves_the_rest(
        self, bot: Bot, started_alice: SimUser
    ) -> None:
        await bot.send_message(started_alice.id, "欢迎")
        waiting = asyncio.create_task(started_alice.wait_for(lambda m: "工单" in (m.text or "")))
        await bot.send_message(started_alice.id, "工单 #7 已创建")
        assert (await waiting).text == "工单 #7 已创建"
        assert (await started_alice.next_message()).text == "欢迎"

    async def test_group_inbox_and_listeners(
        self, bot: Bot, sandbox: Sandbox, alice: SimUser
    ) -> None:
        events: list[SandboxEvent] = []
        sandbox.add_listener(events.append)
        group = sandbox.add_group("群", members={alice: "creator"})
        await bot.send_message(group.id, "本周清洁日")
        assert (await group.next_message()).text == "本周清洁日"
        assert [(e.kind, e.chat_id) for e in events] == [("sent", group.id)]
        assert alice.inbox == []

    async def test_sending_in_a_group_requires_membership(
        self, sandbox: Sandbox, alice: SimUser
    ) -> None:
        group = sandbox.add_group("群", members={sandbox.add_user("Bob"): "creator"})
        with pytest.raises(SandboxError, match="not a member"):
            await alice.in_group(group).send("hi")
        group.add_member(alice)
        await alice.in_group(group).send("hi")


class TestMiniApps:
    async def test_a_web_app_button_and_the_menu_open_with_signed_launch_data(
        self, sandbox: Sandbox, started_alice: SimUser
    ) -> None:
        from urllib.parse import parse_qsl

        from bot.domain.webapp import verify_init_data

        async with sandbox.bot() as bot:
            message = await bot.send_message(
                started_alice.id,
                "open",
                reply_markup={
                    "inline_keyboard": [
                        [{"text": "App", "web_app": {"url": "https://app.example/x"}}]
                    ]
                },
            )
            with pytest.raises(SandboxError, match="menu button"):
                started_alice.open_menu_app()
            await bot.set_chat_menu_button(
                started_alice.id,
                {"type": "web_app", "text": "Go", "web_app": {"url": "https://app.example/m"}},
            )
        sent = started_alice.inbox[-1]
        assert sent.message_id == message.message_id
        for url, page in (
            (started_alice.open_web_app(sent, "App"), "https://app.example/x"),
            (started_alice.open_menu_app(), "https://app.example/m"),
        ):
            assert url.startswith(page + "#")
            fragment = dict(parse_qsl(url.split("#", 1)[1]))
            assert fragment["tgWebAppPlatform"] and fragment["tgWebAppVersion"]
            user = verify_init_data(
                fragment["tgWebAppData"], sandbox.token, datetime.now(UTC), timedelta(hours=1)
            )
            assert user.telegram_id == started_alice.id
