"""Message entities: Telegram's HTML and Markdown parse modes, and auto-detected entities.

The parsers follow tdlib's ``parse_html``/``parse_markdown_v2`` closely enough that text
Telegram rejects is rejected here with the same kind of message ("Unsupported start tag
"foo" at byte offset 3", "Can't find end tag corresponding to start tag "b"", ...), and
text Telegram accepts yields the same plain text and entities (offsets in UTF-16 units).

One deliberate difference: a bare ``&`` that starts no HTML entity is an error here, while
Telegram keeps it as a literal. The bot must escape user text, and a stray ``&`` is the
cheapest sign that it did not, so the simulator reports it instead of letting the next
stray ``<`` find the bug in production.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

Entity = dict[str, Any]


class EntityParseError(ValueError):
    """The text is not valid in its parse mode; the message is tdlib's wording."""


def utf16_len(text: str) -> int:
    """Return the length of ``text`` in UTF-16 code units, the unit of entity offsets."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _byte_offset(text: str, index: int) -> int:
    # tdlib reports positions as UTF-8 byte offsets into the original text.
    return len(text[:index].encode("utf-8"))


class _Output:
    """The plain text being built, with its running UTF-16 length."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.u16 = 0

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.u16 += utf16_len(text)

    def text(self) -> str:
        return "".join(self.parts)


def _sorted(entities: list[Entity]) -> list[Entity]:
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


# --------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------

_HTML_TAGS = {
    "a",
    "b",
    "strong",
    "i",
    "em",
    "s",
    "strike",
    "del",
    "u",
    "ins",
    "tg-spoiler",
    "tg-emoji",
    "span",
    "pre",
    "code",
    "blockquote",
}
_SIMPLE_HTML = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]+));")


@dataclass
class _OpenTag:
    name: str
    offset: int
    begin: int
    attrs: dict[str, str] = field(default_factory=dict)


def _decode_html_entity(text: str, pos: int) -> tuple[str, int] | None:
    match = _ENTITY_RE.match(text, pos)
    if match is None:
        return None
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        decoded = _NAMED_ENTITIES.get(name.lower())
        if decoded is None:
            return None
        return decoded, match.end()
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), match.end()


def parse_html(text: str) -> tuple[str, list[Entity]]:
    """Parse Telegram HTML into plain text and entities, or raise :class:`EntityParseError`."""
    out = _Output()
    stack: list[_OpenTag] = []
    entities: list[Entity] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "&":
            decoded = _decode_html_entity(text, i)
            if decoded is None:
                raise EntityParseError(
                    f'Character "&" at byte offset {_byte_offset(text, i)} must be escaped '
                    'as "&amp;"'
                )
            out.add(decoded[0])
            i = decoded[1]
            continue
        if ch != "<":
            out.add(ch)
            i += 1
            continue
        if i + 1 < n and text[i + 1] == "/":
            i = _html_end_tag(text, i, stack, entities, out)
        else:
            i = _html_start_tag(text, i, stack, out)
    if stack:
        raise EntityParseError(
            f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"'
        )
    return out.text(), _sorted(entities)


def _html_start_tag(text: str, begin: int, stack: list[_OpenTag], out: _Output) -> int:
    n = len(text)
    i = begin + 1
    while i < n and not text[i].isspace() and text[i] != ">":
        i += 1
    if i >= n:
        raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
    name = text[begin + 1 : i].lower()
    if name not in _HTML_TAGS:
        raise EntityParseError(
            f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, begin)}'
        )
    attrs: dict[str, str] = {}
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise EntityParseError(
                f"Unclosed start tag at byte offset {_byte_offset(text, begin)}"
            )
        if text[i] == ">":
            i += 1
            break
        i = _html_attribute(text, i, begin, name, attrs)
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise EntityParseError(
            f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(text, begin)}'
        )
    stack.append(_OpenTag(name=name, offset=out.u16, begin=begin, attrs=attrs))
    return i


def _html_attribute(text: str, i: int, begin: int, tag: str, attrs: dict[str, str]) -> int:
    n = len(text)
    start = i
    while i < n and not text[i].isspace() and text[i] not in "=>":
        i += 1
    attr_name = text[start:i].lower()
    if not attr_name:
        raise EntityParseError(
            f'Empty attribute name in the tag "{tag}" at byte offset {_byte_offset(text, begin)}'
        )
    while i < n and text[i].isspace():
        i += 1
    if i < n and text[i] != "=":
        # A bare attribute such as <blockquote expandable>.
        attrs[attr_name] = ""
        return i
    i += 1
    while i < n and text[i].isspace():
        i += 1
    if i >= n:
        raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
    if text[i] in "\"'":
        quote = text[i]
        i += 1
        value: list[str] = []
        while i < n and text[i] != quote:
            if text[i] == "&":
                decoded = _decode_html_entity(text, i)
                if decoded is not None:
                    value.append(decoded[0])
                    i = decoded[1]
                    continue
            value.append(text[i])
            i += 1
        if i >= n:
            raise EntityParseError(
                f"Unclosed start tag at byte offset {_byte_offset(text, begin)}"
            )
        attrs[attr_name] = "".join(value)
        return i + 1
    token_start = i
    while i < n and (text[i].isalnum() or text[i] in ".-"):
        i += 1
    if i < n and not text[i].isspace() and text[i] != ">":
        raise EntityParseError(
            f"Unexpected end of name token at byte offset {_byte_offset(text, token_start)}"
        )
    attrs[attr_name] = text[token_start:i].lower()
    return i


def _html_end_tag(
    text: str, begin: int, stack: list[_OpenTag], entities: list[Entity], out: _Output
) -> int:
    n = len(text)
    end = text.find(">", begin)
    if end == -1:
        raise EntityParseError(f"Unclosed end tag at byte offset {_byte_offset(text, begin)}")
    name = text[begin + 2 : end].strip().lower()
    if not stack:
        raise EntityParseError(f"Unexpected end tag at byte offset {_byte_offset(text, begin)}")
    tag = stack.pop()
    if tag.name != name:
        raise EntityParseError(
            f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
            f'expected "</{tag.name}>", found "</{name}>"'
        )
    length = out.u16 - tag.offset
    if length > 0:
        entity = _html_entity(tag, length, out)
        if entity is not None:
            _merge_pre_code(entity, entities)
    return min(end + 1, n)


def _html_entity(tag: _OpenTag, length: int, out: _Output) -> Entity | None:
    base: Entity = {"offset": tag.offset, "length": length}
    if tag.name in _SIMPLE_HTML:
        return {"type": _SIMPLE_HTML[tag.name], **base}
    if tag.name == "a":
        url = tag.attrs.get("href")
        if url is None:
            # Like tdlib: <a> without href links to its own text.
            url = _slice_u16(out.text(), tag.offset, length)
        return {"type": "text_link", **base, "url": url}
    if tag.name == "code":
        entity: Entity = {"type": "code", **base}
        language = tag.attrs.get("class", "")
        if language.startswith("language-"):
            entity["language"] = language.removeprefix("language-")
        return entity
    if tag.name == "pre":
        return {"type": "pre", **base}
    if tag.name == "blockquote":
        kind = "expandable_blockquote" if "expandable" in tag.attrs else "blockquote"
        return {"type": kind, **base}
    if tag.name == "tg-emoji":
        emoji_id = tag.attrs.get("emoji-id", "")
        if not emoji_id:
            raise EntityParseError("Custom emoji identifier must be non-empty")
        return {"type": "custom_emoji", **base, "custom_emoji_id": emoji_id}
    return None


def _merge_pre_code(entity: Entity, entities: list[Entity]) -> None:
    """Fold ``<pre><code class="language-x">`` into one ``pre`` entity with a language."""
    if entity["type"] == "pre" and entities:
        last = entities[-1]
        same_span = last["offset"] == entity["offset"] and last["length"] == entity["length"]
        if last["type"] == "code" and same_span:
            entities.pop()
            if "language" in last:
                entity["language"] = last["language"]
    entities.append(entity)


def _slice_u16(text: str, offset: int, length: int) -> str:
    encoded = text.encode("utf-16-le")
    return encoded[offset * 2 : (offset + length) * 2].decode("utf-16-le")


# --------------------------------------------------------------------------------------
# MarkdownV2
# --------------------------------------------------------------------------------------

_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


@dataclass
class _OpenMd:
    kind: str
    offset: int
    begin: int
    language: str = ""


def _mdv2_token(text: str, i: int) -> tuple[str, int] | None:
    """Return the entity kind a reserved character starts or ends, and its width."""
    ch = text[i]
    nxt = text[i + 1] if i + 1 < len(text) else ""
    if ch == "*":
        return "bold", 1
    if ch == "_":
        return ("underline", 2) if nxt == "_" else ("italic", 1)
    if ch == "~":
        return "strikethrough", 1
    if ch == "|" and nxt == "|":
        return "spoiler", 2
    if ch == "`":
        return ("pre", 3) if text.startswith("```", i) else ("code", 1)
    if ch == "[":
        return "text_link", 1
    if ch == "!" and nxt == "[":
        return "custom_emoji", 2
    return None


def parse_markdown_v2(text: str) -> tuple[str, list[Entity]]:
    """Parse MarkdownV2 into plain text and entities, or raise :class:`EntityParseError`."""
    out = _Output()
    stack: list[_OpenMd] = []
    entities: list[Entity] = []
    quote_start: int | None = None
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        at_line_start = i == 0 or text[i - 1] == "\n"
        in_code = bool(stack) and stack[-1].kind in ("code", "pre")
        if at_line_start and not in_code:
            if ch == ">":
                if quote_start is None:
                    quote_start = out.u16
                i += 1
                continue
            if quote_start is not None:
                entities.append(_quote(quote_start, out))
                quote_start = None
        if ch == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
            out.add(text[i + 1])
            i += 2
            continue
        if in_code:
            top = stack[-1]
            closer = "```" if top.kind == "pre" else "`"
            if text.startswith(closer, i):
                stack.pop()
                _close_md(top, entities, out, text)
                i += len(closer)
                continue
            out.add(ch)
            i += 1
            continue
        if ch not in _MDV2_RESERVED:
            out.add(ch)
            i += 1
            continue
        if stack and stack[-1].kind in ("text_link", "custom_emoji") and ch == "]":
            i = _close_link(text, i, stack.pop(), entities, out)
            continue
        token = _mdv2_token(text, i)
        if token is None:
            raise EntityParseError(
                f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
            )
        kind, width = token
        if stack and stack[-1].kind == kind and kind not in ("text_link", "custom_emoji"):
            _close_md(stack.pop(), entities, out, text)
            i += width
            continue
        if kind == "pre":
            # The rest of the opening line names the language.
            line_end = text.find("\n", i + 3)
            language = text[i + 3 : line_end].strip() if line_end != -1 else ""
            stack.append(_OpenMd(kind="pre", offset=out.u16, begin=i, language=language))
            i = line_end + 1 if line_end != -1 and language else i + 3
            continue
        stack.append(_OpenMd(kind=kind, offset=out.u16, begin=i))
        i += width
    if quote_start is not None:
        entities.append(_quote(quote_start, out))
    if stack:
        top = stack[-1]
        raise EntityParseError(
            f"Can't find end of {_MDV2_NAMES[top.kind]} entity at byte offset "
            f"{_byte_offset(text, top.begin)}"
        )
    return out.text(), _sorted([e for e in entities if e["length"] > 0])


def _quote(start: int, out: _Output) -> Entity:
    return {"type": "blockquote", "offset": start, "length": out.u16 - start}


def _close_md(tag: _OpenMd, entities: list[Entity], out: _Output, text: str) -> None:
    entity: Entity = {"type": tag.kind, "offset": tag.offset, "length": out.u16 - tag.offset}
    if tag.kind == "pre" and tag.language:
        entity["language"] = tag.language
    entities.append(entity)


def _close_link(text: str, i: int, tag: _OpenMd, entities: list[Entity], out: _Output) -> int:
    # "]" must be followed by "(url)"; the URL may escape ")" and "\".
    if not text.startswith("(", i + 1):
        raise EntityParseError(
            f"Can't find end of {_MDV2_NAMES[tag.kind]} entity at byte offset "
            f"{_byte_offset(text, tag.begin)}"
        )
    j = i + 2
    url: list[str] = []
    while j < len(text) and text[j] != ")":
        if text[j] == "\\" and j + 1 < len(text):
            j += 1
        url.append(text[j])
        j += 1
    if j >= len(text):
        raise EntityParseError(
            f"Can't find end of a URL at byte offset {_byte_offset(text, i + 1)}"
        )
    target = "".join(url)
    entity: Entity = {"type": tag.kind, "offset": tag.offset, "length": out.u16 - tag.offset}
    if tag.kind == "custom_emoji":
        emoji_id = target.partition("?id=")[2]
        if not target.startswith("tg://emoji?id=") or not emoji_id:
            raise EntityParseError("Custom emoji URL must have an emoji identifier")
        entity["custom_emoji_id"] = emoji_id
    else:
        entity["url"] = target
    entities.append(entity)
    return j + 1


# --------------------------------------------------------------------------------------
# Legacy Markdown
# --------------------------------------------------------------------------------------

_MD_V1 = {"*": "bold", "_": "italic", "`": "code"}


def parse_markdown(text: str) -> tuple[str, list[Entity]]:
    """Parse legacy Markdown (``*bold*``, ``_italic_``, code, pre and ``[text](url)``)."""
    out = _Output()
    entities: list[Entity] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.add(text[i + 1])
            i += 2
            continue
        if text.startswith("```", i):
            end = text.find("```", i + 3)
            if end == -1:
                raise _md_unclosed(text, i)
            body = text[i + 3 : end]
            start = out.u16
            out.add(body)
            entities.append({"type": "pre", "offset": start, "length": out.u16 - start})
            i = end + 3
            continue
        if ch in _MD_V1:
            end = text.find(ch, i + 1)
            if end == -1:
                raise _md_unclosed(text, i)
            start = out.u16
            out.add(text[i + 1 : end])
            entities.append({"type": _MD_V1[ch], "offset": start, "length": out.u16 - start})
            i = end + 1
            continue
        if ch == "[":
            match = re.compile(r"\[([^\]]*)\]\(([^)]*)\)").match(text, i)
            if match is None:
                raise _md_unclosed(text, i)
            start = out.u16
            out.add(match.group(1))
            entities.append(
                {
                    "type": "text_link",
                    "offset": start,
                    "length": out.u16 - start,
                    "url": match.group(2),
                }
            )
            i = match.end()
            continue
        out.add(ch)
        i += 1
    return out.text(), _sorted([e for e in entities if e["length"] > 0])


def _md_unclosed(text: str, i: int) -> EntityParseError:
    return EntityParseError(
        f"Can't find end of the entity starting at byte offset {_byte_offset(text, i)}"
    )


def parse_text(text: str, parse_mode: str | None) -> tuple[str, list[Entity]]:
    """Parse ``text`` in ``parse_mode`` (None/"" means plain text with no entities)."""
    mode = (parse_mode or "").strip().lower()
    if not mode:
        return text, []
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_markdown(text)
    raise EntityParseError(f"Unsupported parse_mode {parse_mode!r}")


# --------------------------------------------------------------------------------------
# Auto-detected entities in what users type
# --------------------------------------------------------------------------------------

_AUTO_PATTERNS = (
    ("bot_command", re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?!\w)")),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z0-9_]{4,32}(?!\w)")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")),
    ("url", re.compile(r"(?<!\S)https?://[^\s<>\"]+")),
    ("email", re.compile(r"(?<![\w.])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?!\w)")),
)


def detect_entities(text: str) -> list[Entity]:
    """Return the entities Telegram's clients mark automatically (commands, @, #, links)."""
    found: list[Entity] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _AUTO_PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(start < t_end and end > t_start for t_start, t_end in taken):
                continue
            taken.append((start, end))
            found.append(
                {
                    "type": kind,
                    "offset": utf16_len(text[:start]),
                    "length": utf16_len(text[start:end]),
                }
            )
    return _sorted(found)
