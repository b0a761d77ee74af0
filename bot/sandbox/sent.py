"""Views of what the bot produced: sent messages, callback answers, and change events.

A :class:`SentMessage` is live: when the bot edits or deletes the message, the same object
changes (earlier versions go to ``history``), so a test holding it sees the current state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(eq=False)
class SentMessage:
    """One message the bot sent, as it is now."""

    message_id: int
    chat_id: int
    method: str
    raw: dict[str, Any]  # the Message object returned to the bot, kept current
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None  # as sent: inline or reply keyboard
    photo: bytes | None = None  # bytes of the largest size, if a photo
    document: bytes | None = None
    file_name: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)  # earlier versions
    deleted: bool = False

    @property
    def text(self) -> str | None:
        """The message text, or the caption of a media message."""
        text = self.raw.get("text")
        return text if text is not None else self.raw.get("caption")

    @property
    def caption(self) -> str | None:
        """The caption of a media message."""
        caption: str | None = self.raw.get("caption")
        return caption

    @property
    def entities(self) -> list[dict[str, Any]]:
        """Entities of the text or caption."""
        found: list[dict[str, Any]] = self.raw.get("entities") or self.raw.get(
            "caption_entities", []
        )
        return found

    @property
    def date(self) -> int:
        """Unix time the message was sent."""
        return int(self.raw["date"])

    @property
    def edits(self) -> int:
        """How many times the bot edited this message."""
        return len(self.history)

    @property
    def buttons(self) -> list[tuple[str, str | None]]:
        """Every button in order: (text, callback_data or url or None)."""
        rows = _keyboard_rows(self.reply_markup)
        result: list[tuple[str, str | None]] = []
        for row in rows:
            for button in row:
                target = button.get("callback_data", button.get("url"))
                result.append((str(button.get("text", "")), target))
        return result

    @property
    def button_texts(self) -> list[str]:
        """The text of every button, in order."""
        return [text for text, _ in self.buttons]

    def button(self, which: str | int) -> dict[str, Any]:
        """Return the button with this exact text, or the one at this flat index."""
        flat = [b for row in _keyboard_rows(self.reply_markup) for b in row]
        if isinstance(which, int):
            if 0 <= which < len(flat):
                return flat[which]
        else:
            for candidate in flat:
                if candidate.get("text") == which:
                    return candidate
        raise LookupError(
            f"message {self.message_id} in chat {self.chat_id} has no button {which!r}; "
            f"buttons: {self.button_texts!r}"
        )

    def describe(self) -> str:
        """One readable line for failure messages."""
        state = " (deleted)" if self.deleted else ""
        extra = " [photo]" if self.photo is not None else ""
        extra += f" [document {self.file_name}]" if self.document is not None else ""
        buttons = f" buttons={self.button_texts!r}" if self.buttons else ""
        text = (self.text or "")[:200]
        return f"#{self.message_id}{state}{extra} {text!r}{buttons}"

    def __repr__(self) -> str:
        return f"SentMessage(chat_id={self.chat_id}, {self.describe()})"


def _keyboard_rows(markup: dict[str, Any] | None) -> list[list[dict[str, Any]]]:
    if not markup:
        return []
    rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
    return [list(row) for row in rows]


@dataclass(frozen=True, slots=True)
class CallbackAnswer:
    """How the bot answered a callback query."""

    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int


EventKind = Literal["sent", "edited", "deleted", "callback_answer", "chat_action"]


@dataclass(frozen=True, slots=True)
class SandboxEvent:
    """Something the bot did, for listeners such as the terminal demo."""

    kind: EventKind
    chat_id: int
    message: SentMessage | None = None
    answer: CallbackAnswer | None = None
    action: str | None = None
