"""A Telegram Bot API simulator for tests and the terminal demo (``jiayuan demo``).

``Sandbox`` serves ``/bot<token>/<method>`` and ``/file/bot<token>/<file_path>`` on
127.0.0.1, so the real python-telegram-bot Application talks to it over HTTP exactly as to
api.telegram.org (``sandbox.application_builder()`` sets token and URLs). Scripts act as
people through ``SimUser``/``SimGroup`` and read what the bot sent as ``SentMessage``.

What it checks, as Telegram does: the token (401), the method name against the official
Bot API 10.1 description in ``api.min.json`` (404), required fields (400), HTML and
MarkdownV2 entities, 4096/1024-character limits after parsing, 64-byte callback_data,
unknown chats, 403s (never started, blocked, kicked), group migration (400 with
``migrate_to_chat_id``), edits that change nothing, getUpdates offsets and conflicts, and
flood control (429 with ``retry_after``; see ``FloodLimits``).

Webhooks are called: while one is set, each pending update is POSTed to it in update_id
order, one at a time, with the secret_token header; it is dropped only on a 2xx answer,
otherwise re-sent after a short backoff (``WebhookTiming``) while getWebhookInfo shows the
pending count and Telegram's last error. getUpdates answers 409 meanwhile; deleteWebhook
stops delivery. ``sandbox.webhook_attempts`` lists what was tried.

Modelled methods: getMe, logOut, close, getUpdates, set/delete/getWebhookInfo, sendMessage,
sendPhoto, sendDocument, sendMediaGroup, sendLocation, sendVenue, sendContact, sendDice,
sendSticker/Voice/Audio/Video/Animation/VideoNote, forwardMessage, copyMessage,
editMessageText/Caption/ReplyMarkup, deleteMessage(s), answerCallbackQuery, getFile,
getChat, getChatMember, getChatAdministrators, getChatMemberCount, leaveChat,
sendChatAction, set/get/deleteMyCommands, set/getChatMenuButton. Every other method is
validated against the spec and answered with a value of its declared type (``true`` for
Boolean methods, else a minimal object with the required fields; other ``send*`` methods
post a placeholder message).

Deliberate differences from Telegram: a bare ``&`` in HTML is an error (Telegram keeps it,
but it means the bot did not escape user text); the largest size of a photo keeps the
uploaded bytes (Telegram re-encodes; keeping them lets tests check the bot's own EXIF
stripping); photo URLs are refused (no network); webhooks are reached over plain HTTP and
only on loopback hosts (an ``https://127.0.0.1:PORT/...`` URL is POSTed to
``http://127.0.0.1:PORT/...``; other hosts fail as unresolvable), on any port, and in one
global order rather than per chat; inline messages and forum topics are not modelled.
"""

from bot.sandbox.errors import ApiError, SandboxError
from bot.sandbox.faults import Fault, FaultInjector
from bot.sandbox.flood import FloodLimits
from bot.sandbox.sandbox import Sandbox
from bot.sandbox.sent import CallbackAnswer, SandboxEvent, SentMessage
from bot.sandbox.stats import Stats
from bot.sandbox.users import SAMPLE_JPG, GroupMember, SimGroup, SimUser
from bot.sandbox.webhook import WebhookAttempt, WebhookTiming

__all__ = [
    "SAMPLE_JPG",
    "ApiError",
    "CallbackAnswer",
    "Fault",
    "FaultInjector",
    "FloodLimits",
    "GroupMember",
    "Sandbox",
    "SandboxError",
    "SandboxEvent",
    "SentMessage",
    "SimGroup",
    "SimUser",
    "Stats",
    "WebhookAttempt",
    "WebhookTiming",
]
