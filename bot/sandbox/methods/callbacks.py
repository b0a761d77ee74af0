"""answerCallbackQuery: each query exists once and is answered once."""

from __future__ import annotations

import logging
import re

from bot.sandbox import validation
from bot.sandbox.errors import bad_request
from bot.sandbox.methods import Call, Handler
from bot.sandbox.sent import CallbackAnswer, SandboxEvent

logger = logging.getLogger(__name__)

_GAME_OR_START_URL = re.compile(r"^(?:https?://)?t\.me/[A-Za-z0-9_]+\?start=", re.IGNORECASE)


def answer_callback_query(call: Call) -> bool:
    """Record the answer; a second answer or an unknown id fails like Telegram."""
    params = call.params
    record = call.world.callbacks.get(str(params["callback_query_id"]))
    if record is None or record.answer is not None:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    text = validation.callback_answer_text(params.get("text"))
    url = params.get("url")
    if url and not _GAME_OR_START_URL.match(url):
        # Only game URLs and t.me/<bot>?start= links are allowed here.
        raise bad_request("URL_INVALID")
    record.answer = CallbackAnswer(
        callback_query_id=record.id,
        text=text,
        show_alert=bool(params.get("show_alert", False)),
        url=url,
        cache_time=int(params.get("cache_time", 0)),
    )
    logger.debug("callback answered id=%s", record.id)
    call.world.emit(
        SandboxEvent(kind="callback_answer", chat_id=record.chat_id, answer=record.answer)
    )
    return True


HANDLERS: dict[str, Handler] = {"answerCallbackQuery": answer_callback_query}
