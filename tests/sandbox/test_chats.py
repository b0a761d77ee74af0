"""Who the bot may talk to: private chats, blocks, groups, kicks and migrations."""

from __future__ import annotations

import pytest
from telegram import Bot, ChatMemberAdministrator, ChatMemberOwner
from telegram.error import BadRequest, ChatMigrated, Forbidden

from bot.sandbox import Sandbox, SimUser


async def _updates(bot: Bot) -> list[dict]:
    updates = await bot.get_updates()
    if updates:
        await bot.get_updates(offset=updates[-1].update_id + 1)
    return [u.to_dict() for u in updates]


class TestPrivateChats:
    async def test_unknown_chat_is_not_found(self, bot: Bot) -> None:
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(424242, "hi")
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message("@nobody_here", "hi")

    async def test_bot_cannot_write_first(self, bot: Bot, alice: SimUser) -> None:
        with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
            await bot.send_message(alice.id, "hi")
        await alice.send("/start")
        await bot.send_message(alice.id, "hi")
        assert [m.text for m in alice.inbox] == ["hi"]

    async def test_blocked_bot_gets_403_and_my_chat_member(
        self, bot: Bot, started_alice: SimUser
    ) -> None:
        await _updates(bot)
        started_alice.block_bot()
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(started_alice.id, "hi")
        (update,) = await _updates(bot)
        change = update["my_chat_member"]
        assert (change["old_chat_member"]["status"], change["new_chat_member"]["status"]) == (
            "member",
            "kicked",
        )
        started_alice.unblock_bot()
        await bot.send_message(started_alice.id, "welcome back")

    async def test_get_chat_of_a_started_user(self, bot: Bot, started_alice: SimUser) -> None:
        chat = await bot.get_chat(started_alice.id)
        assert (chat.type, chat.username) == ("private", "alice")


class TestGroups:
    async def test_adding_the_bot_sends_my_chat_member_and_a_service_message(
        self, bot: Bot, sandbox: Sandbox, alice: SimUser
    ) -> None:
        group = sandbox.add_group("幸福里业主群", members={alice: "creator"})
        my_chat_member, joined = await _updates(bot)
        assert my_chat_member["my_chat_member"]["new_chat_member"]["status"] == "member"
        assert my_chat_member["my_chat_member"]["from"]["id"] == alice.id
        assert joined["message"]["new_chat_members"][0]["id"] == sandbox.world.bot.id
        assert group.id < -1_000_000_000_000  # supergroup ids look like -100xxxxxxxxxx

    async def test_members_and_administrators(
        self, bot: Bot, sandbox: Sandbox, alice: SimUser
    ) -> None:
        bob = sandbox.add_user("Bob")
        carol = sandbox.add_user("Carol")
        group = sandbox.add_group(
            "楼组长群", members={alice: "creator", bob: "administrator", carol: "member"}
        )
        admins = await bot.get_chat_administrators(group.id)
        assert [type(a) for a in admins] == [ChatMemberOwner, ChatMemberAdministrator]
        assert (await bot.get_chat_member(group.id, carol.id)).status == "member"
        outsider = sandbox.add_user("Dave")
        assert (await bot.get_chat_member(group.id, outsider.id)).status == "left"
        assert await bot.get_chat_member_count(group.id) == 4
        group.set_status(carol, "restricted")
        assert (await bot.get_chat_member(group.id, carol.id)).status == "restricted"

    async def test_group_messages_carry_commands_for_the_bot(
        self, bot: Bot, sandbox: Sandbox, alice: SimUser
    ) -> None:
        group = sandbox.add_group("群", members={alice: "member"})
        await _updates(bot)
        sent = await alice.in_group(group).send("/report@jiayuan_bot 垃圾")
        (update,) = await _updates(bot)
        message = update["message"]
        assert message["chat"]["id"] == group.id
        assert message["message_id"] == sent["message_id"]
        assert message["entities"][0] == {"type": "bot_command", "offset": 0, "length": 19}

    async def test_kicked_bot_gets_403(self, bot: Bot, sandbox: Sandbox, alice: SimUser) -> None:
        group = sandbox.add_group("群", members={alice: "creator"})
        basic = sandbox.add_group("小群", members={alice: "creator"}, supergroup=False)
        group.remove_bot()
        basic.remove_bot()
        with pytest.raises(Forbidden, match="bot was kicked from the supergroup chat"):
            await bot.send_message(group.id, "hi")
        with pytest.raises(Forbidden, match="bot was kicked from the group chat"):
            await bot.send_message(basic.id, "hi")

    async def test_migrated_group_answers_with_migrate_to_chat_id(
        self, bot: Bot, sandbox: Sandbox, alice: SimUser
    ) -> None:
        basic = sandbox.add_group("小群", members={alice: "creator"}, supergroup=False)
        await _updates(bot)
        supergroup = basic.migrate_to_supergroup()
        with pytest.raises(ChatMigrated) as raised:
            await bot.send_message(basic.id, "hi")
        assert raised.value.new_chat_id == supergroup.id
        to_message, from_message = await _updates(bot)
        assert to_message["message"]["migrate_to_chat_id"] == supergroup.id
        assert from_message["message"]["migrate_from_chat_id"] == basic.id
        await bot.send_message(supergroup.id, "moved")
        assert (await supergroup.next_message()).text == "moved"

    async def test_leave_chat_and_chat_actions(
        self, bot: Bot, sandbox: Sandbox, alice: SimUser
    ) -> None:
        group = sandbox.add_group("群", members={alice: "creator"})
        await bot.send_chat_action(group.id, "typing")
        assert group.chat_actions == ["typing"]
        with pytest.raises(BadRequest, match="Wrong parameter action"):
            await bot.send_chat_action(group.id, "dancing")
        await bot.leave_chat(group.id)
        assert group.bot_status == "left"
        with pytest.raises(Forbidden, match="bot is not a member of the supergroup chat"):
            await bot.send_message(group.id, "hi")

    async def test_privacy_mode_hides_ordinary_group_chatter(self) -> None:
        async with Sandbox(privacy_mode=True) as sandbox, sandbox.bot() as bot:
            alice = sandbox.add_user("Alice")
            group = sandbox.add_group("群", members={alice: "creator"})
            await _updates(bot)
            await alice.in_group(group).send("今天天气不错")
            await alice.in_group(group).send("/help")
            updates = await _updates(bot)
            assert [u["message"]["text"] for u in updates] == ["/help"]
            assert (await bot.get_me()).can_read_all_group_messages is False
