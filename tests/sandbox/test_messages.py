"""Editing, deleting, files and command lists, through a bare PTB Bot."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    MenuButtonCommands,
    ReplyParameters,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.sandbox import SAMPLE_JPG, Sandbox, SimUser


def _jpeg(size: tuple[int, int] = (800, 600), color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG")
    return buffer.getvalue()


def _keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d, callback_data=d) for d in data]])


class TestEditing:
    async def test_edit_updates_the_sent_message_and_keeps_history(
        self, bot: Bot, started_alice: SimUser
    ) -> None:
        sent = await bot.send_message(started_alice.id, "待处理", reply_markup=_keyboard("acc"))
        view = await started_alice.next_message()
        await bot.edit_message_text(
            "<b>已受理</b>",
            chat_id=started_alice.id,
            message_id=sent.message_id,
            parse_mode=ParseMode.HTML,
        )
        assert view.text == "已受理"
        assert view.buttons == []  # no reply_markup in the edit removes the keyboard
        assert view.history[0]["text"] == "待处理"
        assert view.edits == 1
        assert view.raw["edit_date"] >= view.date

    async def test_editing_to_the_same_content_is_not_modified(
        self, bot: Bot, started_alice: SimUser
    ) -> None:
        sent = await bot.send_message(started_alice.id, "same", reply_markup=_keyboard("a"))
        with pytest.raises(BadRequest, match="Message is not modified: specified new message"):
            await bot.edit_message_text(
                "same",
                chat_id=started_alice.id,
                message_id=sent.message_id,
                reply_markup=_keyboard("a"),
            )
        with pytest.raises(BadRequest, match="Message is not modified"):
            await bot.edit_message_reply_markup(
                chat_id=started_alice.id, message_id=sent.message_id, reply_markup=_keyboard("a")
            )
        await bot.edit_message_reply_markup(chat_id=started_alice.id, message_id=sent.message_id)

    async def test_editing_a_missing_or_foreign_message_fails(
        self, bot: Bot, started_alice: SimUser
    ) -> None:
        with pytest.raises(BadRequest, match="Message to edit not found"):
            await bot.edit_message_text("x", chat_id=started_alice.id, message_id=999)
        with pytest.raises(BadRequest, match="Message can't be edited"):
            await bot.edit_message_text("x", chat_id=started_alice.id, message_id=1)  # /start

    async def test_edit_caption_of_a_photo(self, bot: Bot, started_alice: SimUser) -> None:
        sent = await bot.send_photo(started_alice.id, _jpeg(), caption="旧")
        await bot.edit_message_caption(
            chat_id=started_alice.id, message_id=sent.message_id, caption="新"
        )
        assert (await started_alice.next_message()).caption == "新"
        with pytest.raises(BadRequest, match="There is no text in the message to edit"):
            await bot.edit_message_text("t", chat_id=started_alice.id, message_id=sent.message_id)


class TestDeleting:
    async def test_delete_marks_the_message_and_forgets_it(
        self, bot: Bot, started_alice: SimUser
    ) -> None:
        sent = await bot.send_message(started_alice.id, "bye")
        assert await bot.delete_message(started_alice.id, sent.message_id)
        assert started_alice.inbox[0].deleted
        with pytest.raises(BadRequest, match="Message to delete not found"):
            await bot.delete_message(started_alice.id, sent.message_id)

    async def test_bot_needs_admin_rights_to_delete_others_in_groups(
        self, bot: Bot, sandbox: Sandbox, alice: SimUser
    ) -> None:
        group = sandbox.add_group("群", members={alice: "creator"})
        posted = await alice.in_group(group).send("广告")
        with pytest.raises(BadRequest, match="Message can't be deleted"):
            await bot.delete_message(group.id, posted["message_id"])
        group.set_bot_status("administrator")
        assert await bot.delete_message(group.id, posted["message_id"])


class TestFiles:
    async def test_uploaded_photo_downloads_byte_for_byte(
        self, bot: Bot, started_alice: SimUser
    ) -> None:
        data = _jpeg((1000, 750))
        message = await bot.send_photo(started_alice.id, data, caption="整改通知")
        assert [p.width for p in message.photo] == [90, 320, 800, 1000]
        downloaded = await (await bot.get_file(message.photo[-1].file_id)).download_as_bytearray()
        assert bytes(downloaded) == data
        view = await started_alice.next_message()
        assert view.photo == data
        assert Image.open(io.BytesIO(view.photo)).size == (1000, 750)

    async def test_a_user_photo_can_be_fetched_and_resent_by_file_id(
        self, bot: Bot, started_alice: SimUser
    ) -> None:
        incoming = await started_alice.send_photo(caption="垃圾")
        file_id = incoming["photo"][-1]["file_id"]
        downloaded = await (await bot.get_file(file_id)).download_as_bytearray()
        assert bytes(downloaded) == SAMPLE_JPG.read_bytes()
        resent = await bot.send_photo(started_alice.id, file_id)
        assert resent.photo[-1].file_id == file_id

    async def test_photo_urls_and_bad_images_are_refused(
        self, bot: Bot, started_alice: SimUser
    ) -> None:
        with pytest.raises(BadRequest, match="Failed to get http url content"):
            await bot.send_photo(started_alice.id, "https://example.org/a.jpg")
        with pytest.raises(BadRequest, match="Wrong file identifier"):
            await bot.send_photo(started_alice.id, "AgACnotreal")
        with pytest.raises(BadRequest, match="Image_process_failed"):
            await bot.send_photo(started_alice.id, b"not an image at all")
        with pytest.raises(BadRequest, match="Wrong file_id"):
            await bot.get_file("nope")

    async def test_documents_keep_name_and_bytes(self, bot: Bot, started_alice: SimUser) -> None:
        sent = await bot.send_document(started_alice.id, b"a,b\n1,2\n", filename="排名.csv")
        assert sent.document.file_name == "排名.csv"
        view = await started_alice.next_message()
        assert (view.document, view.file_name) == (b"a,b\n1,2\n", "排名.csv")
        incoming = await started_alice.send_document(b"%PDF-1.4", "report.pdf")
        assert incoming["document"]["mime_type"] == "application/pdf"

    async def test_media_group_shares_one_id(self, bot: Bot, started_alice: SimUser) -> None:
        messages = await bot.send_media_group(
            started_alice.id,
            [InputMediaPhoto(_jpeg(color="red"), caption="前"), InputMediaPhoto(_jpeg())],
        )
        assert len({m.media_group_id for m in messages}) == 1
        assert [m.caption for m in messages] == ["前", None]
        assert len(started_alice.inbox) == 2


async def test_replies_reference_the_original(bot: Bot, started_alice: SimUser) -> None:
    reply = await bot.send_message(
        started_alice.id, "收到", reply_parameters=ReplyParameters(message_id=1)
    )
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.text == "/start"
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(
            started_alice.id, "x", reply_parameters=ReplyParameters(message_id=99)
        )


async def test_forward_and_copy(bot: Bot, sandbox: Sandbox, started_alice: SimUser) -> None:
    bob = sandbox.add_user("Bob")
    await bob.send("/start")
    forwarded = await bot.forward_message(bob.id, started_alice.id, 1)
    assert forwarded.text == "/start"
    assert forwarded.forward_origin is not None
    copied = await bot.copy_message(bob.id, started_alice.id, 1)
    assert [m.message_id for m in bob.inbox] == [2, copied.message_id]


class TestCommands:
    async def test_commands_are_stored_per_scope_and_language(
        self, bot: Bot, sandbox: Sandbox, started_alice: SimUser
    ) -> None:
        await bot.set_my_commands(
            [BotCommand("start", "开始"), BotCommand("report", "随手拍")], language_code="zh"
        )
        await bot.set_my_commands([BotCommand("start", "Start")])
        await bot.set_my_commands(
            [BotCommand("inspect", "巡查")],
            scope=BotCommandScopeChat(started_alice.id),
            language_code="zh",
        )
        await bot.set_my_commands(
            [BotCommand("help", "帮助")], scope=BotCommandScopeAllPrivateChats()
        )
        assert sandbox.commands() == [{"command": "start", "description": "Start"}]
        assert [c["command"] for c in sandbox.commands(language_code="zh")] == ["start", "report"]
        assert sandbox.commands("chat", "zh", chat_id=started_alice.id)[0]["command"] == "inspect"
        assert [c.command for c in await bot.get_my_commands(language_code="zh")] == [
            "start",
            "report",
        ]
        # Alice's client is zh-hans, so her chat-scoped zh list wins.
        assert sandbox.commands_for(started_alice)[0]["command"] == "inspect"
        await bot.delete_my_commands(
            scope=BotCommandScopeChat(started_alice.id), language_code="zh"
        )
        assert sandbox.commands_for(started_alice)[0]["command"] == "help"

    async def test_invalid_commands_are_refused(self, bot: Bot) -> None:
        with pytest.raises(BadRequest, match="Bot_command_invalid"):
            await bot.set_my_commands([BotCommand("Start", "大写")])
        with pytest.raises(BadRequest, match="Invalid language code"):
            await bot.set_my_commands([BotCommand("start", "x")], language_code="zh-hans")

    async def test_menu_button_is_recorded(self, bot: Bot, sandbox: Sandbox) -> None:
        await bot.set_chat_menu_button(menu_button=MenuButtonCommands())
        assert sandbox.menu_button() == {"type": "commands"}
        assert isinstance(await bot.get_chat_menu_button(), MenuButtonCommands)
