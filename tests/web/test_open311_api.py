"""Open311 GeoReport v2: each endpoint as a city system uses it, and each refusal."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any

import httpx
import pytest
from PIL import Image

from bot.domain.models import Role
from bot.domain.reports import CATEGORIES
from tests.factories import EXAMPLES
from tests.flows.conftest import ADMIN_ID
from tests.flows.reporting import file_report
from tests.web.conftest import WebHarness

JURISDICTION = "xingfuli"
# Beside 3号楼 (西片区, zone Z2) in the sample community.
NEAR_BUILDING_3 = {"lat": "30.27412", "long": "120.14821"}


async def issue_key(h: WebHarness, label: str = "12345热线") -> str:
    services = h.bot.services
    actor, _ = await services.people.identify(ADMIN_ID, "刘主任", "zh-hans", True)
    _, plain = await services.open311.issue_key(actor, label)
    return plain


def jpeg(colour: str = "red", exif_gps: bool = True) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", (640, 480), colour)
    exif = Image.Exif()
    if exif_gps:
        exif[0x8825] = {1: "N", 2: (30.0, 16.0, 25.0)}  # GPSInfo: where the photo was taken
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


async def post(h: WebHarness, fields: dict[str, str], **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.post(f"{h.open311}/requests.json", data=fields, **kwargs)


async def get(h: WebHarness, path: str, **params: str) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.get(f"{h.open311}/{path}", params=params)


class TestDiscoveryAndServices:
    async def test_discovery_names_the_endpoint_and_formats(self, web_harness: WebHarness) -> None:
        response = await get(web_harness, "discovery.json")
        assert response.status_code == 200
        endpoint = response.json()["endpoints"][0]
        assert endpoint["url"] == web_harness.open311
        assert endpoint["formats"] == ["application/json", "text/xml"]
        xml = ET.fromstring((await get(web_harness, "discovery.xml")).text)
        assert xml.findtext("endpoints/endpoint/specification") == endpoint["specification"]

    async def test_services_are_the_report_categories_in_both_languages(
        self, web_harness: WebHarness
    ) -> None:
        zh = (await get(web_harness, "services.json", jurisdiction_id=JURISDICTION)).json()
        assert [s["service_code"] for s in zh] == list(CATEGORIES)
        assert zh[2]["service_name"] == "楼道堆物"
        en = await get(web_harness, "services.json", jurisdiction_id=JURISDICTION, locale="en")
        assert en.json()[2]["service_name"] == "Stairwell clutter"
        xml = ET.fromstring((await get(web_harness, "services.xml")).text)
        assert [e.findtext("service_code") for e in xml.findall("service")] == list(CATEGORIES)
        assert xml.find("service/metadata") is not None

    async def test_a_service_definition_and_an_unknown_one(self, web_harness: WebHarness) -> None:
        ok = await get(web_harness, "services/litter.json", jurisdiction_id=JURISDICTION)
        assert ok.json() == {"service_code": "litter", "attributes": []}
        missing = await get(web_harness, "services/potholes.json", jurisdiction_id=JURISDICTION)
        assert missing.status_code == 404
        assert missing.json()[0]["code"] == 404

    async def test_an_unknown_jurisdiction_is_refused_in_the_format_asked(
        self, web_harness: WebHarness
    ) -> None:
        response = await get(web_harness, "services.xml", jurisdiction_id="nowhere")
        assert response.status_code == 404
        error = ET.fromstring(response.text).find("error")
        assert error is not None and error.findtext("code") == "404"
        assert "nowhere" in (error.findtext("description") or "")


class TestPosting:
    async def test_a_posted_request_becomes_a_ticket_the_zone_cadre_receives(
        self, web_harness: WebHarness
    ) -> None:
        h = web_harness
        cadre = await h.bot.cadre("Z2")
        key = await issue_key(h)
        response = await post(
            h,
            {
                "api_key": key,
                "jurisdiction_id": JURISDICTION,
                "service_code": "clutter",
                "description": "3号楼二单元楼道堆放纸箱",
                **NEAR_BUILDING_3,
                "first_name": "张",
                "phone": "13800138000",
            },
        )
        assert response.status_code == 200, response.text
        [created] = response.json()
        number = created["service_request_id"]
        assert "西片区" in created["service_notice"]
        card = await cadre.wait_for(lambda m: number in (m.text or m.caption or ""))
        text = card.text or card.caption or ""
        assert "楼道堆物" in text and "3号楼" in text
        assert "13800138000" not in text, "the poster's own phone is never stored"

        [read] = (await get(h, f"requests/{number}.json", jurisdiction_id=JURISDICTION)).json()
        assert read["status"] == "open" and read["service_code"] == "clutter"
        assert read["description"] == "3号楼二单元楼道堆放纸箱"
        assert read["agency_responsible"] == "西片区"
        assert "13800138000" not in str(read) and "张" not in str(read)
        assert float(read["lat"]) == pytest.approx(30.27412)

    async def test_an_address_naming_a_building_places_the_request(
        self, web_harness: WebHarness
    ) -> None:
        h = web_harness
        key = await issue_key(h)
        response = await post(
            h,
            {
                "api_key": key,
                "jurisdiction_id": JURISDICTION,
                "service_code": "ads",
                "address_string": "幸福里社区 5号楼 东门",
            },
        )
        assert response.status_code == 200, response.text
        number = response.json()[0]["service_request_id"]
        [read] = (await get(h, f"request/{number}.json", jurisdiction_id=JURISDICTION)).json()
        assert read["address"] == "幸福里社区 5号楼 东门"
        assert read["agency_responsible"] == "北片区"

    async def test_an_uploaded_photo_is_stored_clean_and_served_back(
        self, web_harness: WebHarness
    ) -> None:
        h = web_harness
        key = await issue_key(h)
        fields = {"api_key": key, "service_code": "litter", **NEAR_BUILDING_3}
        response = await post(h, fields, files={"media": ("p.jpg", jpeg(), "image/jpeg")})
        assert response.status_code == 200, response.text
        number = response.json()[0]["service_request_id"]
        [read] = (await get(h, f"requests/{number}.json")).json()
        async with httpx.AsyncClient() as http:
            photo = await http.get(read["media_url"])
        assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
        served = Image.open(io.BytesIO(photo.content))
        assert served.size == (640, 480)
        assert 0x8825 not in served.getexif(), "no GPS leaves with the photo"

    @pytest.mark.parametrize(
        ("fields", "status", "words"),
        [
            ({"service_code": "litter"}, 400, "location is required"),
            ({"service_code": "litter", "lat": "91", "long": "120"}, 400, "lat must be"),
            ({"service_code": "litter", "lat": "30.2"}, 400, "together"),
            ({"service_code": "potholes", **NEAR_BUILDING_3}, 404, "unknown service_code"),
            ({"service_code": "litter", "lat": "39.9", "long": "116.4"}, 400, "outside"),
            ({"service_code": "litter", "address_string": "月球"}, 400, "names no building"),
            (
                {"service_code": "litter", "description": "长" * 501, **NEAR_BUILDING_3},
                400,
                "longer than 500",
            ),
            (
                {"service_code": "litter", "media_url": "ftp://x/y.jpg", **NEAR_BUILDING_3},
                400,
                "media_url",
            ),
        ],
    )
    async def test_bad_requests_are_refused_clearly_and_file_nothing(
        self, web_harness: WebHarness, fields: dict[str, str], status: int, words: str
    ) -> None:
        key = await issue_key(web_harness)
        response = await post(web_harness, {"api_key": key, **fields})
        assert response.status_code == status, response.text
        assert words in response.json()[0]["description"]
        async with web_harness.bot.services.db.read() as tx:
            assert await tx.open311.requests_by_number(1, ["2026-0001"]) == []

    async def test_a_file_that_is_not_a_photo_is_refused(self, web_harness: WebHarness) -> None:
        key = await issue_key(web_harness)
        fields = {"api_key": key, "service_code": "litter", **NEAR_BUILDING_3}
        response = await post(
            web_harness, fields, files={"media": ("x.jpg", b"not an image", "image/jpeg")}
        )
        assert response.status_code == 400
        assert "photo" in response.json()[0]["description"]


class TestKeys:
    @pytest.mark.parametrize("key", ["", "jy311_guessed", "revoked", "other-community"])
    async def test_posting_without_a_valid_key_for_this_jurisdiction_is_forbidden(
        self, web_harness: WebHarness, key: str
    ) -> None:
        h = web_harness
        services = h.bot.services
        if key == "revoked":
            actor, _ = await services.people.identify(ADMIN_ID, "刘主任", "zh-hans", True)
            issued, key = await services.open311.issue_key(actor, "old")
            await services.open311.revoke_key(actor, issued.id)
        elif key == "other-community":
            other = (EXAMPLES / "community.yaml").read_text(encoding="utf-8")
            from bot.importer import load_plan

            path = h.bot.data_dir / "other.yaml"
            path.write_text(other.replace("code: xingfuli", "code: heping"), encoding="utf-8")
            summary = await services.communities.apply_plan(load_plan(path))
            grant_id = await _admin_of(h, summary.community.id)
            actor, _ = await services.people.identify(grant_id, "何主任", "zh-hans", False)
            _, key = await services.open311.issue_key(actor, "heping")
        fields = {"jurisdiction_id": JURISDICTION, "service_code": "litter", **NEAR_BUILDING_3}
        if key:
            fields["api_key"] = key
        response = await post(h, fields)
        assert response.status_code == 403
        assert "api_key" in response.json()[0]["description"]

    async def test_admins_issue_list_and_revoke_keys_in_private_chat_only(
        self, web_harness: WebHarness
    ) -> None:
        h = web_harness
        admin = h.bot.admin
        await admin.send("/apikey new 城管平台")
        issued = await admin.wait_for(lambda m: "jy311_" in (m.text or ""))
        assert "城管平台" in (issued.text or "") and "jy311_" in (issued.text or "")
        key = (issued.text or "").split("jy311_", 1)[1].split()[0]
        ok = await post(
            h, {"api_key": f"jy311_{key}", "service_code": "stalls", **NEAR_BUILDING_3}
        )
        assert ok.status_code == 200
        await admin.send("/apikey")
        listed = await admin.wait_for(lambda m: "API" in (m.text or "") and "#1" in (m.text or ""))
        assert "#1 城管平台" in (listed.text or "") and "有效" in (listed.text or "")
        await admin.send("/apikey revoke 1")
        await admin.wait_for(lambda m: "已吊销" in (m.text or ""))
        refused = await post(
            h, {"api_key": f"jy311_{key}", "service_code": "stalls", **NEAR_BUILDING_3}
        )
        assert refused.status_code == 403

        resident = await h.bot.resident("李明")
        await resident.send("/apikey new mine")
        answer = await resident.next_message()
        assert "jy311_" not in (answer.text or "")
        async with h.bot.services.db.read() as tx:
            assert len(await tx.open311.list_keys(1)) == 1


async def _admin_of(h: WebHarness, community_id: int) -> int:
    """A person who administers ``community_id``; returns their Telegram id."""
    services = h.bot.services
    telegram_id = 9100
    super_actor, _ = await services.people.identify(ADMIN_ID, "刘主任", "zh-hans", True)
    _, person = await services.people.identify(telegram_id, "何主任", "zh-hans", False)
    await services.people.choose_community(person, community_id)
    root, _ = await services.people.identify(ADMIN_ID, "刘主任", "zh-hans", True)
    from dataclasses import replace

    invite, _ = await services.invites.create(replace(root, community_id=community_id), Role.ADMIN)
    _, person = await services.people.identify(telegram_id, "何主任", "zh-hans", False)
    await services.invites.redeem(person, invite.code)
    del super_actor
    return telegram_id


class TestReading:
    async def test_requests_filter_by_status_code_dates_and_ids_and_never_name_people(
        self, web_harness: WebHarness
    ) -> None:
        h = web_harness
        key = await issue_key(h)
        numbers = []
        for code in ("litter", "ads", "litter"):
            response = await post(h, {"api_key": key, "service_code": code, **NEAR_BUILDING_3})
            numbers.append(response.json()[0]["service_request_id"])
        everything = (await get(h, "requests.json", jurisdiction_id=JURISDICTION)).json()
        assert [r["service_request_id"] for r in everything] == numbers[::-1]
        litter = (await get(h, "requests.json", service_code="litter")).json()
        assert {r["service_request_id"] for r in litter} == {numbers[0], numbers[2]}
        assert (await get(h, "requests.json", status="closed")).json() == []
        assert len((await get(h, "requests.json", status="open,closed")).json()) == 3
        picked = await get(h, "requests.json", service_request_id=f"{numbers[1]},nope")
        assert [r["service_request_id"] for r in picked.json()] == [numbers[1]]
        later = await get(h, "requests.json", start_date="2030-01-01T00:00:00Z")
        assert later.json() == []
        too_long = await get(
            h, "requests.json", start_date="2026-01-01T00:00:00Z", end_date="2026-06-01T00:00:00Z"
        )
        assert too_long.status_code == 400 and "90 days" in too_long.json()[0]["description"]
        xml = ET.fromstring((await get(h, "requests.xml")).text)
        assert xml.tag == "service_requests"
        assert [e.findtext("service_request_id") for e in xml.findall("request")] == numbers[::-1]

    async def test_a_residents_report_is_published_without_their_words_or_name(
        self, web_harness: WebHarness
    ) -> None:
        h = web_harness
        resident = await h.bot.resident("李明", building="2号楼")
        number = await file_report(
            h.bot.sandbox, resident, caption="李明 13900001111 楼下有垃圾", place="2号楼"
        )
        [read] = (await get(h, f"requests/{number}.json")).json()
        assert "description" not in read
        assert "李明" not in str(read) and "13900001111" not in str(read)
        assert read["address"] == "2号楼 · 东片区"

    async def test_an_unknown_request_is_404(self, web_harness: WebHarness) -> None:
        response = await get(web_harness, "requests/2026-9999.json")
        assert response.status_code == 404
        assert (await get(web_harness, "tokens/abc.json")).status_code == 404


async def test_the_next_digest_counts_city_system_requests_as_their_own_source(
    web_harness: WebHarness,
) -> None:
    h = web_harness
    key = await issue_key(h)
    response = await post(h, {"api_key": key, "service_code": "litter", **NEAR_BUILDING_3})
    assert response.status_code == 200
    h.bot.clock.advance(timedelta(days=1))
    await h.bot.admin.send("/digest")
    digest = await h.bot.admin.wait_for(lambda m: "简报" in (m.text or ""))
    assert "新上报 1（居民 0｜督查 0｜月讲评 0｜城市系统 1）" in (digest.text or "")


async def second_community_key(h: WebHarness) -> str:
    """A key of a second community ("heping", a copy of the sample) from its own admin."""
    from bot.importer import load_plan

    services = h.bot.services
    path = h.bot.data_dir / "other.yaml"
    other = (EXAMPLES / "community.yaml").read_text(encoding="utf-8")
    path.write_text(other.replace("code: xingfuli", "code: heping"), encoding="utf-8")
    summary = await services.communities.apply_plan(load_plan(path))
    telegram_id = await _admin_of(h, summary.community.id)
    actor, _ = await services.people.identify(telegram_id, "何主任", "zh-hans", False)
    _, key = await services.open311.issue_key(actor, "heping")
    return key


async def test_without_a_key_no_photo_is_even_read(web_harness: WebHarness) -> None:
    h = web_harness
    photos = h.bot.data_dir / "photos"
    before = sorted(photos.rglob("*")) if photos.exists() else []
    response = await post(
        h,
        {"api_key": "jy311_wrong", "service_code": "litter", **NEAR_BUILDING_3},
        files={"media": ("p.jpg", jpeg("blue"), "image/jpeg")},
    )
    assert response.status_code == 403
    after = sorted(photos.rglob("*")) if photos.exists() else []
    assert after == before, "nothing was decoded or written for a request without a key"


async def test_a_residents_photo_is_not_published(web_harness: WebHarness) -> None:
    h = web_harness
    resident = await h.bot.resident("李明")
    number = await file_report(h.bot.sandbox, resident, place="1号楼")
    [read] = (await get(h, f"requests/{number}.json")).json()
    assert "media_url" not in read
    async with httpx.AsyncClient() as http:
        photo = await http.get(f"{h.open311}/media/{JURISDICTION}/{number}.jpg")
    assert photo.status_code == 404


async def test_another_jurisdictions_requests_are_not_listed_here(web_harness: WebHarness) -> None:
    h = web_harness
    key = await second_community_key(h)
    posted = await post(
        h, {"api_key": key, "jurisdiction_id": "heping", "service_code": "ads", **NEAR_BUILDING_3}
    )
    number = posted.json()[0]["service_request_id"]
    ours = await get(h, "requests.json", jurisdiction_id=JURISDICTION)
    assert ours.json() == []
    assert (
        await get(h, f"requests/{number}.json", jurisdiction_id=JURISDICTION)
    ).status_code == 404
    theirs = await get(h, f"requests/{number}.json", jurisdiction_id="heping")
    assert theirs.json()[0]["service_request_id"] == number
