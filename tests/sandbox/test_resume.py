"""A world standing in for one the bot already knew: update ids go on, chats exist."""

from __future__ import annotations

import pytest

from bot.sandbox import FloodLimits, Sandbox, SandboxError


async def test_update_ids_continue_past_the_ones_the_bot_saw() -> None:
    async with Sandbox(limits=FloodLimits.off(), first_update_id=42) as sandbox:
        alice = sandbox.add_user("Alice")
        await alice.send("/start")
        await alice.send("hello")
        async with sandbox.bot() as bot:
            updates = await bot.get_updates()
        assert [u.update_id for u in updates] == [42, 43]


async def test_a_person_who_started_before_can_be_written_to_at_once() -> None:
    async with Sandbox(limits=FloodLimits.off()) as sandbox:
        known = sandbox.add_user("Known", user_id=1005, started=True)
        stranger = sandbox.add_user("Stranger")
        async with sandbox.bot() as bot:
            await bot.send_message(known.id, "welcome back")
            assert (await known.next_message()).text == "welcome back"
            assert not sandbox.pending_updates
            with pytest.raises(Exception, match="initiate conversation"):
                await bot.send_message(stranger.id, "hi")


async def test_a_group_the_bot_joined_before_queues_nothing() -> None:
    async with Sandbox(limits=FloodLimits.off()) as sandbox:
        admin = sandbox.add_user("Admin", started=True)
        group = sandbox.add_group(
            "Old group", {admin: "creator"}, chat_id=-1002000000777, bot_joined_before=True
        )
        assert group.bot_status == "member" and not sandbox.pending_updates
        await admin.in_group(group).send("hi all")
        async with sandbox.bot() as bot:
            (update,) = await bot.get_updates()
            assert update.message is not None and update.message.chat.id == group.id
            await bot.send_message(group.id, "hello group")
        assert (await group.next_message()).text == "hello group"
        with pytest.raises(SandboxError, match="unknown member status"):
            sandbox.add_group("Bad", [], bot_joined_before=True, bot_status="boss")
