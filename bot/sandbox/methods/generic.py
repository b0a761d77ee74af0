"""Every Bot API method the simulator does not model: validated, then answered plausibly.

The spec already rejected unknown methods and missing required fields. What is left gets
an answer of the declared return type: ``true`` for Boolean methods; for other types a
minimal object with the spec's required fields (zeros, empty strings, False), so a client
library can still parse it. A ``send*`` method returning a Message really posts a message
(through flood control and the chat checks) whose content is such a minimal object.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

from bot.sandbox.methods import Call

logger = logging.getLogger(__name__)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def call_generic(call: Call) -> Any:
    """Answer an unmodelled method with a value of its declared return type."""
    method = call.method
    returns = list(method.returns) or ["Boolean"]
    logger.debug("generic answer method=%s returns=%s", method.name, returns)
    if returns[0] == "Message" and "chat_id" in call.params:
        if method.name.startswith("send"):
            return _generic_send(call)
        chat = call.chat()
        if "message_id" in call.params:
            sent = chat.sent_message(int(call.params["message_id"]))
            if sent is not None and not sent.deleted:
                return copy.deepcopy(sent.raw)
    if "Boolean" in returns and returns[0] != "Boolean" and "chat_id" not in call.params:
        # "On success, if the message is not an inline message, the Message is returned,
        # otherwise True": an inline-message edit.
        return True
    return call.spec.example(returns)


def _generic_send(call: Call) -> dict[str, Any]:
    chat = call.writable_chat()
    call.throttle(chat)
    type_name = call.method.name.removeprefix("send")
    content: dict[str, Any] = {}
    if call.spec.type_fields(type_name):
        content[_snake(type_name)] = call.spec.example([type_name])
    sent = call.world.add_bot_message(chat, content, method=call.method.name)
    return copy.deepcopy(sent.raw)
