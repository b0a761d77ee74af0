"""The real python-telegram-bot Application, polling the sandbox like api.telegram.org."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from bot.sandbox import Sandbox


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply with the command's arguments and a button."""
    assert update.effective_message is not None
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("再来", callback_data="again")]])
    await update.effective_message.reply_text(
        f"echo: {' '.join(context.args or [])}", reply_markup=keyboard
    )


async def _again(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the button and edit the message."""
    query = update.callback_query
    assert query is not None
    await query.answer("好")
    await query.edit_message_text("done")


async def test_application_polls_and_replies(sandbox: Sandbox) -> None:
    application = sandbox.application_builder().build()
    application.add_handler(CommandHandler("start", _echo))
    application.add_handler(CallbackQueryHandler(_again, pattern="^again$"))
    alice = sandbox.add_user("Alice", username="alice")
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=1)
        try:
            await alice.send("/start inv_abc")
            reply = await alice.next_message(timeout=5)
            assert reply.text == "echo: inv_abc"
            query = await alice.press(reply, "再来")
            assert (await alice.wait_answer(query)).text == "好"
            await sandbox.wait_until(lambda: reply.text == "done")
            await sandbox.wait_idle(timeout=5)
        finally:
            await application.updater.stop()
            await application.stop()
    assert sandbox.pending_updates == []
