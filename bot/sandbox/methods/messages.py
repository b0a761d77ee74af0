"""Sending, editing and deleting messages, and the files they carry.

Validation runs in Telegram's order as far as it shows from outside: the chat first (not
found, blocked, kicked, migrated), then the content (entities, lengths, keyboard), then
flood control, so a refused message never consumes a flood-control slot.
"""

from __future__ import annotations

import copy
import mimetypes
import re
from typing import Any

from bot.sandbox import validation
from bot.sandbox.errors import ApiError, bad_request
from bot.sandbox.files import MAX_DOWNLOAD_BYTES, MAX_UPLOAD_BYTES, StoredFile
from bot.sandbox.methods import Call, Handler
from bot.sandbox.records import ADMIN_STATUSES, ChatRecord
from bot.sandbox.sent import SentMessage
from bot.sandbox.spec import Upload

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
CONTENT_KEYS = (
    "text",
    "entities",
    "photo",
    "document",
    "caption",
    "caption_entities",
    "location",
    "contact",
    "venue",
    "sticker",
    "voice",
    "video",
    "video_note",
    "audio",
    "animation",
    "dice",
    "poll",
)
_ALBUM_TYPES = ("photo", "video", "document", "audio")
_MEDIA_KEYS = ("photo", "document", "video", "audio", "animation", "voice")
_URL_RE = re.compile(r"^https?://", re.IGNORECASE)
_DELETE_WINDOW = 48 * 3600


# ------------------------------------------------------------------------ shared pieces


def _reply_to(call: Call, chat: ChatRecord) -> dict[str, Any] | None:
    parameters = call.params.get("reply_parameters")
    if not parameters:
        return None
    if not isinstance(parameters, dict) or "message_id" not in parameters:
        raise bad_request("can't parse reply parameters JSON object")
    message = call.world.message(chat, int(parameters["message_id"]))
    if message is None:
        if parameters.get("allow_sending_without_reply"):
            return None
        raise bad_request("message to be replied not found")
    return message


def _markup(call: Call) -> dict[str, Any] | None:
    return validation.reply_markup(call.params.get("reply_markup"))


def _caption(call: Call) -> dict[str, Any]:
    caption, entities = validation.caption_text(
        call.params.get("caption"),
        call.params.get("parse_mode"),
        call.params.get("caption_entities"),
    )
    content: dict[str, Any] = {}
    if caption is not None:
        content["caption"] = caption
        if entities:
            content["caption_entities"] = entities
    return content


def _existing_file(call: Call, value: str) -> StoredFile:
    if _URL_RE.match(value):
        raise bad_request(
            "failed to get HTTP URL content (the sandbox has no network: "
            "upload the file or pass a file_id)"
        )
    stored = call.world.files.get(value)
    if stored is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    return stored


def _photo_sizes(call: Call, value: Upload | str) -> list[StoredFile]:
    if isinstance(value, Upload):
        return call.world.files.add_photo(value.data, strict=True)
    sizes = call.world.files.photo_set(_existing_file(call, value).file_id)
    if sizes is None:
        raise bad_request("type of file mismatch")
    return sizes


def _upload_mime(upload: Upload) -> str | None:
    declared = upload.content_type
    if declared and declared != "application/octet-stream":
        return declared
    guessed, _ = mimetypes.guess_type(upload.filename or "")
    return guessed or declared


def _file(call: Call, value: Upload | str, kind: str) -> StoredFile:
    if isinstance(value, str):
        stored = _existing_file(call, value)
        if stored.kind != kind:
            raise bad_request("type of file mismatch")
        return stored
    if len(value.data) > MAX_UPLOAD_BYTES:
        raise ApiError(413, "Request Entity Too Large")
    if not value.data:
        raise bad_request("file must be non-empty")
    return call.world.files.add(
        value.data,
        kind,
        file_name=value.filename or ("document" if kind == "document" else None),
        mime_type=_upload_mime(value),
    )


def _media_bytes(call: Call, content: dict[str, Any]) -> dict[str, Any]:
    """Return the SentMessage file fields for stored content (photo or document bytes)."""
    files = call.world.files
    result: dict[str, Any] = {}
    if content.get("photo"):
        largest = files.get(content["photo"][-1]["file_id"])
        result["photo"] = largest.data if largest else None
    if content.get("document"):
        doc = files.get(content["document"]["file_id"])
        result["document"] = doc.data if doc else None
        result["file_name"] = content["document"].get("file_name")
    return result


def _send(
    call: Call,
    chat: ChatRecord,
    content: dict[str, Any],
    *,
    reply: dict[str, Any] | None,
    markup: dict[str, Any] | None,
    parse_mode: str | None = None,
) -> SentMessage:
    return call.world.add_bot_message(
        chat,
        content,
        method=call.method.name,
        reply_to=reply,
        parse_mode=parse_mode,
        reply_markup=markup,
        **_media_bytes(call, content),
    )


# ------------------------------------------------------------------------ sending


def send_message(call: Call) -> dict[str, Any]:
    """Send a text message."""
    params = call.params
    chat = call.writable_chat()
    text, entities = validation.message_text(
        params["text"], params.get("parse_mode"), params.get("entities")
    )
    markup = _markup(call)
    reply = _reply_to(call, chat)
    call.throttle(chat)
    content: dict[str, Any] = {"text": text}
    if entities:
        content["entities"] = entities
    if params.get("link_preview_options"):
        content["link_preview_options"] = params["link_preview_options"]
    sent = _send(
        call, chat, content, reply=reply, markup=markup, parse_mode=params.get("parse_mode")
    )
    return copy.deepcopy(sent.raw)


def send_photo(call: Call) -> dict[str, Any]:
    """Send a photo: an upload, or the file_id of a known photo (no URLs offline)."""
    chat = call.writable_chat()
    caption = _caption(call)
    markup = _markup(call)
    reply = _reply_to(call, chat)
    sizes = _photo_sizes(call, call.params["photo"])
    call.throttle(chat)
    content = {"photo": [size.to_photo_size() for size in sizes], **caption}
    if call.params.get("has_spoiler"):
        content["has_media_spoiler"] = True
    sent = _send(
        call, chat, content, reply=reply, markup=markup, parse_mode=call.params.get("parse_mode")
    )
    return copy.deepcopy(sent.raw)


def send_document(call: Call) -> dict[str, Any]:
    """Send a general file."""
    chat = call.writable_chat()
    caption = _caption(call)
    markup = _markup(call)
    reply = _reply_to(call, chat)
    stored = _file(call, call.params["document"], "document")
    call.throttle(chat)
    content = {"document": stored.to_document(), **caption}
    sent = _send(
        call, chat, content, reply=reply, markup=markup, parse_mode=call.params.get("parse_mode")
    )
    return copy.deepcopy(sent.raw)


def _media_item(call: Call, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict) or item.get("type") not in _ALBUM_TYPES:
        raise bad_request("can't parse InputMedia JSON object")
    value = item.get("media")
    if isinstance(value, str) and value.startswith("attach://"):
        name = value.removeprefix("attach://")
        if name not in call.uploads:
            raise bad_request(f'can\'t find attached file "{name}"')
        value = call.uploads[name]
    if not isinstance(value, Upload | str) or not value:
        raise bad_request("media is empty")
    caption, entities = validation.caption_text(
        item.get("caption"), item.get("parse_mode"), item.get("caption_entities")
    )
    content: dict[str, Any] = {}
    kind = item["type"]
    if kind == "photo":
        content["photo"] = [size.to_photo_size() for size in _photo_sizes(call, value)]
    elif kind == "document":
        content["document"] = _file(call, value, "document").to_document()
    else:
        content[kind] = _file_object(call, kind.capitalize(), _file(call, value, kind))
    if caption is not None:
        content["caption"] = caption
        if entities:
            content["caption_entities"] = entities
    return content


def send_media_group(call: Call) -> list[dict[str, Any]]:
    """Send an album of 2-10 photos/videos, documents or audios sharing a media_group_id."""
    chat = call.writable_chat()
    media = call.params["media"]
    if not isinstance(media, list) or not 2 <= len(media) <= 10:
        raise bad_request("media must contain 2-10 items")
    kinds = {item.get("type") for item in media if isinstance(item, dict)}
    for exclusive in ("document", "audio"):
        if exclusive in kinds and len(kinds) > 1:
            raise bad_request(f"{exclusive} can't be mixed with other media types")
    reply = _reply_to(call, chat)
    contents = [_media_item(call, item) for item in media]
    call.throttle(chat, len(contents))
    group_id = call.world.new_media_group_id()
    results = []
    for content in contents:
        content["media_group_id"] = group_id
        sent = _send(call, chat, content, reply=reply, markup=None)
        results.append(copy.deepcopy(sent.raw))
    return results


def _send_simple(call: Call, content: dict[str, Any]) -> dict[str, Any]:
    chat = call.writable_chat()
    markup = _markup(call)
    reply = _reply_to(call, chat)
    call.throttle(chat)
    sent = _send(call, chat, content, reply=reply, markup=markup)
    return copy.deepcopy(sent.raw)


def _location(call: Call) -> dict[str, Any]:
    latitude, longitude = float(call.params["latitude"]), float(call.params["longitude"])
    if not -90 <= latitude <= 90 or not -180 <= longitude <= 180:
        raise bad_request("wrong latitude or longitude")
    return {"latitude": latitude, "longitude": longitude}


def send_location(call: Call) -> dict[str, Any]:
    """Send a point on the map."""
    return _send_simple(call, {"location": _location(call)})


def send_venue(call: Call) -> dict[str, Any]:
    """Send a venue (a location with a title and address)."""
    location = _location(call)
    venue = {
        "location": location,
        "title": call.params["title"],
        "address": call.params["address"],
    }
    return _send_simple(call, {"venue": venue, "location": location})


def send_contact(call: Call) -> dict[str, Any]:
    """Send a phone contact."""
    contact = {
        k: call.params[k]
        for k in ("phone_number", "first_name", "last_name", "vcard")
        if k in call.params
    }
    return _send_simple(call, {"contact": contact})


def send_dice(call: Call) -> dict[str, Any]:
    """Send a dice; the value is always 1 so tests stay deterministic."""
    return _send_simple(call, {"dice": {"emoji": call.params.get("emoji", "🎲"), "value": 1}})


# Required fields the spec's zero values would make implausible.
_FILE_DEFAULTS: dict[str, dict[str, Any]] = {
    "Sticker": {"type": "regular", "width": 512, "height": 512},
    "Video": {"width": 640, "height": 480, "duration": 1},
    "Animation": {"width": 320, "height": 240, "duration": 1},
    "VideoNote": {"length": 240, "duration": 1},
    "Voice": {"duration": 1},
    "Audio": {"duration": 1},
}


def _file_object(call: Call, type_name: str, stored: StoredFile) -> dict[str, Any]:
    """Describe ``stored`` as a ``type_name`` object with only the fields that type has."""
    known = {field.name for field in call.spec.type_fields(type_name)}
    media: dict[str, Any] = call.spec.example([type_name])
    media.update(_FILE_DEFAULTS.get(type_name, {}))
    media.update({k: v for k, v in stored.to_document().items() if k in known})
    return media


def _file_sender(field: str, type_name: str) -> Handler:
    """Build sendSticker/sendVoice/...: store the file, describe it as ``type_name``."""

    def handler(call: Call) -> dict[str, Any]:
        chat = call.writable_chat()
        caption = _caption(call)
        markup = _markup(call)
        reply = _reply_to(call, chat)
        stored = _file(call, call.params[field], field)
        call.throttle(chat)
        media = _file_object(call, type_name, stored)
        for key in ("duration", "width", "height", "length", "performer", "title", "emoji"):
            if key in call.params and key in media:
                media[key] = call.params[key]
        sent = _send(call, chat, {field: media, **caption}, reply=reply, markup=markup)
        return copy.deepcopy(sent.raw)

    handler.__doc__ = f"Send a {type_name} file."
    return handler


# ------------------------------------------------------------------------ forward and copy


def _source_message(call: Call, verb: str, done: str) -> dict[str, Any]:
    world = call.world
    source = world.chat_for_bot(call.params["from_chat_id"])
    if source.is_group:
        world.check_bot_can_write(source)
    message = world.message(source, int(call.params["message_id"]))
    if message is None:
        raise bad_request(f"message to {verb} not found")
    if not any(key in message for key in CONTENT_KEYS):
        raise bad_request(f"message can't be {done}")
    return message


def forward_message(call: Call) -> dict[str, Any]:
    """Forward a message, keeping its original sender in forward_origin."""
    message = _source_message(call, "forward", "forwarded")
    chat = call.writable_chat()
    call.throttle(chat)
    content = {k: copy.deepcopy(message[k]) for k in CONTENT_KEYS if k in message}
    content["forward_origin"] = copy.deepcopy(
        message.get("forward_origin")
        or {"type": "user", "sender_user": message["from"], "date": message["date"]}
    )
    sent = _send(call, chat, content, reply=None, markup=None)
    return copy.deepcopy(sent.raw)


def copy_message(call: Call) -> dict[str, Any]:
    """Copy a message without a link to the original; returns only the new message_id."""
    message = _source_message(call, "copy", "copied")
    chat = call.writable_chat()
    markup = _markup(call)
    reply = _reply_to(call, chat)
    content = {k: copy.deepcopy(message[k]) for k in CONTENT_KEYS if k in message}
    if "caption" in call.params and any(key in content for key in _MEDIA_KEYS):
        content.pop("caption", None)
        content.pop("caption_entities", None)
        content.update(_caption(call))
    call.throttle(chat)
    sent = _send(call, chat, content, reply=reply, markup=markup)
    return {"message_id": sent.message_id}


# ------------------------------------------------------------------------ editing


def _edit_target(call: Call) -> SentMessage:
    params = call.params
    if params.get("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")
    if "chat_id" not in params:
        raise bad_request("chat_id is empty")
    if "message_id" not in params:
        raise bad_request("message identifier is not specified")
    chat = call.writable_chat()
    message_id = int(params["message_id"])
    if call.world.message(chat, message_id) is None:
        raise bad_request("message to edit not found")
    sent = chat.sent_message(message_id)
    if sent is None:
        raise bad_request("message can't be edited")
    return sent


def _edit_markup(call: Call) -> dict[str, Any] | None:
    markup = _markup(call)
    if markup is not None and "inline_keyboard" not in markup:
        raise bad_request("inline keyboard expected")
    return markup


def _stored_markup(sent: SentMessage, new: dict[str, Any] | None) -> dict[str, Any] | None:
    # A reply keyboard lives in the user's client, not in the message; edits keep it.
    if new is None and sent.reply_markup and "inline_keyboard" not in sent.reply_markup:
        return sent.reply_markup
    return new


def edit_message_text(call: Call) -> dict[str, Any]:
    """Edit the text (and inline keyboard; omitting it removes the keyboard)."""
    sent = _edit_target(call)
    if "text" not in sent.raw:
        raise bad_request("there is no text in the message to edit")
    params = call.params
    text, entities = validation.message_text(
        params["text"], params.get("parse_mode"), params.get("entities")
    )
    markup = _edit_markup(call)
    unchanged = (
        text == sent.raw["text"]
        and entities == sent.raw.get("entities", [])
        and markup == sent.raw.get("reply_markup")
    )
    if unchanged:
        raise bad_request(NOT_MODIFIED)
    call.world.edit_bot_message(
        sent, {"text": text, "entities": entities}, _stored_markup(sent, markup)
    )
    sent.parse_mode = params.get("parse_mode")
    return copy.deepcopy(sent.raw)


def edit_message_caption(call: Call) -> dict[str, Any]:
    """Edit the caption of a media message."""
    sent = _edit_target(call)
    if "text" in sent.raw:
        raise bad_request("there is no caption in the message to edit")
    caption = _caption(call)
    markup = _edit_markup(call)
    unchanged = (
        caption.get("caption") == sent.raw.get("caption")
        and caption.get("caption_entities", []) == sent.raw.get("caption_entities", [])
        and markup == sent.raw.get("reply_markup")
    )
    if unchanged:
        raise bad_request(NOT_MODIFIED)
    changes = {
        "caption": caption.get("caption"),
        "caption_entities": caption.get("caption_entities"),
    }
    call.world.edit_bot_message(sent, changes, _stored_markup(sent, markup))
    sent.parse_mode = call.params.get("parse_mode")
    return copy.deepcopy(sent.raw)


def edit_message_reply_markup(call: Call) -> dict[str, Any]:
    """Replace or remove the inline keyboard."""
    sent = _edit_target(call)
    markup = _edit_markup(call)
    if markup == sent.raw.get("reply_markup"):
        raise bad_request(NOT_MODIFIED)
    call.world.edit_bot_message(sent, {}, _stored_markup(sent, markup))
    return copy.deepcopy(sent.raw)


# ------------------------------------------------------------------------ deleting


def _check_deletable(call: Call, chat: ChatRecord, message: dict[str, Any]) -> None:
    world = call.world
    own = message.get("from", {}).get("id") == world.bot.id
    if chat.is_group and not own and chat.bot_status not in ADMIN_STATUSES:
        raise bad_request("message can't be deleted")
    if world.now() - int(message["date"]) > _DELETE_WINDOW:
        raise bad_request("message can't be deleted for everyone")


def delete_message(call: Call) -> bool:
    """Delete a message the bot may delete (its own, or any in private chats / as admin)."""
    chat = call.chat()
    message = call.world.message(chat, int(call.params["message_id"]))
    if message is None:
        raise bad_request("message to delete not found")
    _check_deletable(call, chat, message)
    call.world.delete_message(chat, int(message["message_id"]))
    return True


def delete_messages(call: Call) -> bool:
    """Delete several messages; missing ones are skipped, as Telegram documents."""
    chat = call.chat()
    ids = call.params["message_ids"]
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad_request("message_ids must contain 1-100 items")
    for message_id in ids:
        message = call.world.message(chat, int(message_id))
        if message is not None:
            _check_deletable(call, chat, message)
            call.world.delete_message(chat, int(message_id))
    return True


# ------------------------------------------------------------------------ files


def get_file(call: Call) -> dict[str, Any]:
    """Return a File with the file_path to download it from."""
    stored = call.world.files.get(str(call.params["file_id"]))
    if stored is None:
        raise bad_request("wrong file_id or the file is temporarily unavailable")
    if stored.file_size > MAX_DOWNLOAD_BYTES:
        raise bad_request("file is too big")
    return stored.to_file()


HANDLERS: dict[str, Handler] = {
    "sendMessage": send_message,
    "sendPhoto": send_photo,
    "sendDocument": send_document,
    "sendMediaGroup": send_media_group,
    "sendLocation": send_location,
    "sendVenue": send_venue,
    "sendContact": send_contact,
    "sendDice": send_dice,
    "sendSticker": _file_sender("sticker", "Sticker"),
    "sendVoice": _file_sender("voice", "Voice"),
    "sendAudio": _file_sender("audio", "Audio"),
    "sendVideo": _file_sender("video", "Video"),
    "sendAnimation": _file_sender("animation", "Animation"),
    "sendVideoNote": _file_sender("video_note", "VideoNote"),
    "forwardMessage": forward_message,
    "copyMessage": copy_message,
    "editMessageText": edit_message_text,
    "editMessageCaption": edit_message_caption,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "deleteMessage": delete_message,
    "deleteMessages": delete_messages,
    "getFile": get_file,
}
