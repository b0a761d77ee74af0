"""A round trip with third-party Open311 clients from the package index: civicbot posts a
request as a city robot would, georeport reads it back (JSON and XML), and the zone's
cadre gets the ticket in Telegram."""

from __future__ import annotations

import asyncio
from typing import Any

from civicbot.open311 import CONFIRM_TOKEN, Open311Client
from civicbot.registry import Endpoint
from georeport import GeoReport

from tests.flows.conftest import ADMIN_ID
from tests.web.conftest import WebHarness

MEDIA = "https://city.example/photos/8842.jpg"


def post_and_read_back(
    base: str, key: str
) -> tuple[str, dict[str, Any], dict[str, Any], list[Any]]:
    endpoint = Endpoint(id="jiayuan", name="幸福里社区", base_url=base, write=True)
    poster = Open311Client(endpoint, jurisdiction_id="xingfuli")
    prepared = poster.create_request(
        "stalls",
        dry_run=False,
        confirm=CONFIRM_TOKEN,
        api_key=key,
        lat=30.2769,
        lng=120.1508,
        description="5号楼门口占道经营",
        media_url=MEDIA,
        first_name="张",
        last_name="三",
        phone="13800138000",
        email="zhang@example.org",
        validate_remote=True,
    )
    number = str(prepared.response[0]["service_request_id"])
    reader = GeoReport(base, jurisdiction="xingfuli")
    services = reader.get_service_list()
    assert "stalls" in [s["service_code"] for s in services]
    as_json = reader.get_service_request(number)
    as_xml = GeoReport(base, jurisdiction="xingfuli", output_format="xml").get_service_request(
        number
    )
    listed = reader.get_service_requests(service_code="stalls", status="open")
    return number, as_json, as_xml, listed


async def test_a_request_posted_by_one_client_is_read_back_by_another(
    web_harness: WebHarness,
) -> None:
    h = web_harness
    cadre = await h.bot.cadre("Z3")
    actor, _ = await h.bot.services.people.identify(ADMIN_ID, "刘主任", "zh-hans", True)
    _, key = await h.bot.services.open311.issue_key(actor, "城市机器人")
    number, as_json, as_xml, listed = await asyncio.to_thread(post_and_read_back, h.open311, key)
    assert as_json["service_request_id"] == number and as_json["status"] == "open"
    assert as_json["media_url"] == MEDIA
    assert as_json["description"] == "5号楼门口占道经营"
    assert as_xml["service_request_id"] == number and as_xml["media_url"] == MEDIA
    assert [r["service_request_id"] for r in listed] == [number]
    for document in (as_json, as_xml):
        text = str(document)
        assert "13800138000" not in text and "zhang@" not in text and "张" not in text
    card = await cadre.wait_for(lambda m: number in (m.text or m.caption or ""))
    assert "占道经营" in (card.text or card.caption or "")
