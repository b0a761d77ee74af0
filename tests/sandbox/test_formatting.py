"""Text rules: HTML entity parsing, length limits after parsing, keyboards, MarkdownV2."""

from __future__ import annotations

import html

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.sandbox import SimUser
from bot.sandbox.entities import (
    EntityParseError,
    detect_entities,
    parse_html,
    parse_markdown_v2,
    utf16_len,
)


class TestHtmlParser:
    def test_tags_become_entities_with_utf16_offsets(self) -> None:
        text, entities = parse_html('😀 <b>粗</b> <a href="https://t.me/x?a=1&amp;b=2">链接</a>')
        assert text == "😀 粗 链接"
        assert entities == [
            {"type": "bold", "offset": 3, "length": 1},
            {"type": "text_link", "offset": 5, "length": 2, "url": "https://t.me/x?a=1&b=2"},
        ]

    def test_pre_with_code_language_is_one_pre_entity(self) -> None:
        text, entities = parse_html('<pre><code class="language-python">x = 1</code></pre>')
        assert text == "x = 1"
        assert entities == [{"type": "pre", "offset": 0, "length": 5, "language": "python"}]

    def test_spoilers_blockquotes_and_entities(self) -> None:
        source = (
            '<span class="tg-spoiler">a</span><tg-spoiler>b</tg-spoiler>'
            "<blockquote expandable>c &lt;&gt;&quot;&#39;&#x4e2d;</blockquote>"
        )
        text, entities = parse_html(source)
        assert text == "abc <>\"'中"
        assert [e["type"] for e in entities] == ["spoiler", "spoiler", "expandable_blockquote"]

    @pytest.mark.parametrize(
        ("source", "message"),
        [
            ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
            ("a < b", 'Unsupported start tag "" at byte offset 2'),
            ("<script>x</script>", 'Unsupported start tag "script" at byte offset 0'),
            ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
            ("x</b>", "Unexpected end tag at byte offset 1"),
            ('<span class="red">x</span>', 'Tag "span" must have class "tg-spoiler"'),
            ("Tom & Jerry", 'Character "&" at byte offset 4 must be escaped'),
            ("<b", "Unclosed start tag at byte offset 0"),
        ],
    )
    def test_invalid_html_is_refused(self, source: str, message: str) -> None:
        with pytest.raises(EntityParseError, match=message.replace("(", r"\(")):
            parse_html(source)

    @settings(derandomize=True, max_examples=200, deadline=None)
    @given(st.text())
    def test_escaped_text_parses_back_to_itself(self, text: str) -> None:
        parsed, entities = parse_html(html.escape(text, quote=False))
        assert parsed == text
        assert entities == []


class TestMarkdownV2Parser:
    def test_entities_and_escapes(self) -> None:
        text, entities = parse_markdown_v2(
            r"*粗* _斜_ __下__ ~删~ ||秘|| `c` [t](https://t.me/a\)b) 1\.5"
        )
        assert text == "粗 斜 下 删 秘 c t 1.5"
        assert [e["type"] for e in entities] == [
            "bold",
            "italic",
            "underline",
            "strikethrough",
            "spoiler",
            "code",
            "text_link",
        ]
        assert entities[-1]["url"] == "https://t.me/a)b"

    def test_reserved_characters_must_be_escaped(self) -> None:
        with pytest.raises(EntityParseError, match=r"Character '\.' is reserved"):
            parse_markdown_v2("Done.")

    def test_unclosed_entity_is_refused(self) -> None:
        with pytest.raises(EntityParseError, match="Can't find end of Bold entity"):
            parse_markdown_v2("*bold")


def test_user_text_gets_command_mention_and_link_entities() -> None:
    text = "/start@jiayuan_bot hi @alice_w #垃圾 https://example.org"
    kinds = [
        (e["type"], text[e["offset"] : e["offset"] + e["length"]]) for e in detect_entities(text)
    ]
    assert kinds == [
        ("bot_command", "/start@jiayuan_bot"),
        ("mention", "@alice_w"),
        ("hashtag", "#垃圾"),
        ("url", "https://example.org"),
    ]
    assert utf16_len("😀a") == 3


class TestSendMessageRules:
    async def test_html_errors_are_bad_requests(self, bot: Bot, started_alice: SimUser) -> None:
        for text in ("<b>x", "a < b", "<blink>x</blink>"):
            with pytest.raises(BadRequest, match="Can't parse entities"):
                await bot.send_message(started_alice.id, text, parse_mode=ParseMode.HTML)

    async def test_text_limit_counts_characters_after_entity_parsing(
        self, bot: Bot, started_alice: SimUser
    ) -> None:
        # 4096 visible characters: tags don't count and "&amp;" counts as one.
        exact = "<b>" + "x" * 4090 + "</b>" + "&amp;" * 6
        sent = await bot.send_message(started_alice.id, exact, parse_mode=ParseMode.HTML)
        assert len(sent.text) == 4096
        await bot.send_message(started_alice.id, "字" * 4096)
        with pytest.raises(BadRequest, match="Message is too long"):
            await bot.send_message(started_alice.id, exact + "y", parse_mode=ParseMode.HTML)

    async def test_empty_text_is_refused(self, bot: Bot, started_alice: SimUser) -> None:
        with pytest.raises(BadRequest, match="Message text is empty"):
            await bot.send_message(started_alice.id, "<b> </b>", parse_mode=ParseMode.HTML)

    async def test_caption_limit_is_1024(self, bot: Bot, started_alice: SimUser) -> None:
        photo = (await started_alice.send_photo())["photo"][-1]["file_id"]
        await bot.send_photo(started_alice.id, photo, caption="c" * 1024)
        with pytest.raises(BadRequest, match="Message caption is too long"):
            await bot.send_photo(started_alice.id, photo, caption="c" * 1025)

    async def test_callback_data_is_limited_to_64_bytes(
        self, bot: Bot, started_alice: SimUser
    ) -> None:
        def keyboard(data: str) -> InlineKeyboardMarkup:
            return InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data=data)]])

        await bot.send_message(started_alice.id, "ok", reply_markup=keyboard("x" * 64))
        # 22 CJK characters are 66 bytes in UTF-8.
        with pytest.raises(BadRequest, match="Button_data_invalid"):
            await bot.send_message(started_alice.id, "no", reply_markup=keyboard("字" * 22))

    async def test_markdown_v2_reserved_characters(self, bot: Bot, started_alice: SimUser) -> None:
        with pytest.raises(BadRequest, match="is reserved"):
            await bot.send_message(started_alice.id, "1.5", parse_mode=ParseMode.MARKDOWN_V2)
        sent = await bot.send_message(
            started_alice.id, r"*1\.5*", parse_mode=ParseMode.MARKDOWN_V2
        )
        assert sent.text == "1.5"
