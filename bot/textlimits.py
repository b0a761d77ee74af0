"""Telegram's length limits, applied to HTML without breaking it.

Telegram counts the characters *after* parsing the HTML (a tag counts nothing, ``&amp;``
counts one) and refuses a message over the limit, or one whose HTML is cut in the middle
of a tag or an entity. ``clip_html`` shortens visible text only, keeps tags balanced and
never splits an entity.
"""

from __future__ import annotations

import re

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024

_TOKEN = re.compile(r"<(/?)([a-zA-Z-]+)[^>]*>|&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);|.", re.S)


def visible_length(html: str) -> int:
    """Characters as Telegram counts them (UTF-16 units are close enough for our limits)."""
    return sum(1 for m in _TOKEN.finditer(html) if m.group(2) is None)


def clip_html(html: str, limit: int = MESSAGE_LIMIT) -> str:
    """``html`` unchanged if it fits, else cut to ``limit`` visible characters with "…"."""
    if visible_length(html) <= limit:
        return html
    out: list[str] = []
    open_tags: list[str] = []
    seen = 0
    for match in _TOKEN.finditer(html):
        name = match.group(2)
        if name is not None:
            if match.group(1):
                if open_tags and open_tags[-1] == name.lower():
                    open_tags.pop()
            else:
                open_tags.append(name.lower())
            out.append(match.group(0))
            continue
        if seen >= limit - 1:
            break
        out.append(match.group(0))
        seen += 1
    out.append("…")
    out.extend(f"</{tag}>" for tag in reversed(open_tags))
    return "".join(out)
