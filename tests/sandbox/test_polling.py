"""getMe, getUpdates offsets and long polling, webhooks: Telegram's delivery contract."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Bot
from telegram.error import Conflict

from bot.sandbox import Sandbox, SimUser


async def test_get_me_describes_the_configured_bot(bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456, "jiayuan_bot", True)
    assert me.can_join_groups is True


async def test_the_bot_id_is_the_number_its_token_starts_with() -> None:
    async with Sandbox("777000111:OTHER-TOKEN") as sandbox, sandbox.bot() as bot:
        assert (await bot.get_me()).id == 777000111
    with pytest.raises(ValueError, match="starts with the bot's id"):
        Sandbox("777000111:OTHER-TOKEN", bot_id=5)


async def test_a_world_can_number_its_people_from_elsewhere() -> None:
    async with Sandbox(first_user_id=50_001) as sandbox:
        assert (sandbox.add_user("甲").id, sandbox.add_user("乙").id) == (50_001, 50_002)


async def test_get_me_uses_a_custom_username() -> None:
    async with Sandbox(bot_username="other_bot") as sandbox, sandbox.bot() as bot:
        assert (await bot.get_me()).username == "other_bot"


class TestOffsets:
    async def test_unconfirmed_updates_are_delivered_again(self, bot: Bot, alice: SimUser) -> None:
        await alice.send("/start")
        await alice.send("hello")
        first = await bot.get_updates()
        again = await bot.get_updates()
        assert [u.update_id for u in first] == [u.update_id for u in again]
        assert [u.message.text for u in again if u.message] == ["/start", "hello"]

    async def test_an_offset_confirms_and_forgets_older_updates(
        self, bot: Bot, sandbox: Sandbox, alice: SimUser
    ) -> None:
        await alice.send("one")
        await alice.send("two")
        updates = await bot.get_updates()
        rest = await bot.get_updates(offset=updates[0].update_id + 1)
        assert [u.message.text for u in rest if u.message] == ["two"]
        assert await bot.get_updates(offset=updates[-1].update_id + 1) == ()
        # Confirmed updates are gone for good, even when asking from the start again.
        assert await bot.get_updates() == ()
        assert sandbox.pending_updates == []

    async def test_limit_and_negative_offset(self, bot: Bot, alice: SimUser) -> None:
        for text in ("a", "b", "c"):
            await alice.send(text)
        assert len(await bot.get_updates(limit=2)) == 2
        last = await bot.get_updates(offset=-1)
        assert [u.message.text for u in last if u.message] == ["c"]
        assert len(await bot.get_updates()) == 1  # "a" and "b" were forgotten

    async def test_allowed_updates_filter_updates_created_later(
        self, bot: Bot, sandbox: Sandbox, alice: SimUser
    ) -> None:
        await alice.send("before")
        await bot.get_updates(allowed_updates=["callback_query"])
        await alice.send("after")
        # "before" existed before the setting changed, so it is still delivered.
        updates = await bot.get_updates()
        assert [u.message.text for u in updates if u.message] == ["before"]


class TestLongPolling:
    async def test_a_long_poll_wakes_as_soon_as_an_update_arrives(
        self, bot: Bot, sandbox: Sandbox, alice: SimUser
    ) -> None:
        poll = asyncio.create_task(bot.get_updates(timeout=20, read_timeout=25))
        await sandbox.wait_until(lambda: sandbox.poll_count == 1)
        assert not poll.done()
        await alice.send("/start")
        updates = await asyncio.wait_for(poll, timeout=3)
        assert updates[0].message is not None
        assert updates[0].message.text == "/start"

    async def test_a_long_poll_without_updates_returns_empty_after_the_timeout(
        self, bot: Bot
    ) -> None:
        assert await bot.get_updates(timeout=1) == ()

    async def test_a_newer_poll_terminates_the_waiting_one(
        self, bot: Bot, sandbox: Sandbox
    ) -> None:
        older = asyncio.create_task(bot.get_updates(timeout=20, read_timeout=25))
        await sandbox.wait_until(lambda: sandbox.poll_count == 1)
        # A second instance of the bot (PTB gives getUpdates a one-connection pool).
        async with sandbox.bot() as second_instance:
            assert await second_instance.get_updates() == ()
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await asyncio.wait_for(older, timeout=3)


class TestWebhook:
    async def test_get_updates_conflicts_while_a_webhook_is_set(
        self, bot: Bot, sandbox: Sandbox
    ) -> None:
        assert await bot.set_webhook("https://example.org/hook", allowed_updates=["message"])
        assert sandbox.webhook["url"] == "https://example.org/hook"
        info = await bot.get_webhook_info()
        assert info.url == "https://example.org/hook"
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
        await bot.delete_webhook()
        assert await bot.get_updates() == ()

    async def test_delete_webhook_can_drop_pending_updates(
        self, bot: Bot, sandbox: Sandbox, alice: SimUser
    ) -> None:
        await alice.send("/start")
        assert (await bot.get_webhook_info()).pending_update_count == 1
        await bot.delete_webhook(drop_pending_updates=True)
        assert await bot.get_updates() == ()


async def test_wait_idle_returns_once_the_bot_confirmed_everything(
    bot: Bot, sandbox: Sandbox, alice: SimUser
) -> None:
    await alice.send("/start")
    with pytest.raises(TimeoutError, match="1 update"):
        await sandbox.wait_idle(timeout=0.3)
    updates = await bot.get_updates()
    await bot.get_updates(offset=updates[-1].update_id + 1)
    await sandbox.wait_idle(timeout=2)


class TestRawUpdates:
    async def test_a_raw_update_is_delivered_exactly_as_given_with_the_next_id(
        self, bot: Bot, sandbox: Sandbox, alice: SimUser
    ) -> None:
        await alice.send("before")
        raw = sandbox.inject_raw_update({"message": {"message_id": 1, "chat": "not a chat"}})
        await alice.send("after")
        pending = sandbox.pending_updates
        assert pending[1] == raw == {"update_id": raw["update_id"], "message": raw["message"]}
        assert [u["update_id"] for u in pending] == sorted(u["update_id"] for u in pending)

    async def test_a_client_library_cannot_parse_it_and_an_offset_past_it_confirms_it(
        self, bot: Bot, sandbox: Sandbox
    ) -> None:
        raw = sandbox.inject_raw_update({"message": {"message_id": 1, "text": "no date"}})
        with pytest.raises(KeyError):
            await bot.get_updates()
        assert await bot.get_updates(offset=raw["update_id"] + 1) == ()
        assert sandbox.pending_updates == []

    async def test_a_raw_update_may_set_its_own_update_id_and_goes_with_any_offset(
        self, bot: Bot, sandbox: Sandbox, alice: SimUser
    ) -> None:
        raw = sandbox.inject_raw_update({"update_id": "seven"})
        assert sandbox.pending_updates == [raw] and raw["update_id"] == "seven"
        await alice.send("later")
        later = sandbox.pending_updates[-1]["update_id"]
        assert await bot.get_updates(offset=later + 1) == ()
        assert sandbox.pending_updates == []
