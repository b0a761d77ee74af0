"""The HTTP surface: routing, tokens, parameter encodings and Telegram's reply shape."""

from __future__ import annotations

import httpx

from bot.sandbox import Sandbox, SimUser


async def test_wrong_token_is_unauthorized(sandbox: Sandbox) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{sandbox.base_url}/bot999:WRONG/getMe")
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


async def test_unknown_method_is_not_found(sandbox: Sandbox) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{sandbox.api_url}/sendTelepathy", data={"chat_id": 1})
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_method_names_are_case_insensitive_like_telegram(sandbox: Sandbox) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{sandbox.api_url}/GETME")
    assert response.json()["result"]["username"] == "jiayuan_bot"


async def test_missing_required_field_is_a_bad_request(sandbox: Sandbox) -> None:
    async with httpx.AsyncClient() as client:
        no_chat = await client.post(f"{sandbox.api_url}/sendMessage", data={"text": "hi"})
        no_text = await client.post(f"{sandbox.api_url}/sendMessage", data={"chat_id": 5})
    assert no_chat.status_code == 400
    assert no_chat.json()["description"] == "Bad Request: chat_id is empty"
    assert no_text.json()["description"] == "Bad Request: message text is empty"


async def test_json_and_query_string_bodies_are_accepted(
    sandbox: Sandbox, started_alice: SimUser
) -> None:
    markup = {"inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}]]}
    async with httpx.AsyncClient() as client:
        by_json = await client.post(
            f"{sandbox.api_url}/sendMessage",
            json={"chat_id": started_alice.id, "text": "json", "reply_markup": markup},
        )
        by_query = await client.get(
            f"{sandbox.api_url}/sendMessage",
            params={"chat_id": str(started_alice.id), "text": "query"},
        )
    assert by_json.json()["result"]["reply_markup"] == markup
    assert by_query.json()["ok"] is True
    assert [m.text for m in started_alice.inbox] == ["json", "query"]


async def test_unknown_paths_answer_in_telegram_shape(sandbox: Sandbox) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{sandbox.base_url}/favicon.ico")
    assert response.status_code == 404
    assert response.json()["ok"] is False


async def test_unmodelled_methods_validate_and_answer_true(sandbox: Sandbox) -> None:
    async with httpx.AsyncClient() as client:
        missing = await client.post(f"{sandbox.api_url}/setMyDescription", data={})
        fine = await client.post(
            f"{sandbox.api_url}/setMyDescription", data={"description": "家园"}
        )
        needs_sticker = await client.post(
            f"{sandbox.api_url}/setStickerPositionInSet", data={"position": 1}
        )
    assert missing.json()["ok"] is True  # every field of setMyDescription is optional
    assert fine.json() == {"ok": True, "result": True}
    assert needs_sticker.json()["description"] == "Bad Request: sticker is empty"
