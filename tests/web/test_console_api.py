"""The office console over HTTP: its two doors and every refusal, then what each role may
read and do. The browser tests (test_console_browser.py) drive the same pages in Chromium."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook

from bot.domain.models import Role
from bot.sandbox import SimUser
from bot.sandbox.webapps import init_data
from tests.flows.conftest import ADMIN_ID
from tests.flows.reporting import file_report
from tests.web.conftest import WebHarness, serving_web

LINK = re.compile(r"(http://127\.0\.0\.1:\d+/console/login\?token=[\w-]+)")


async def login_link(h: WebHarness, user: SimUser) -> str:
    await user.send("/console")
    message = await user.wait_for(lambda m: "/console/login?token=" in (m.text or ""))
    found = LINK.search(message.text or "")
    assert found, message.text
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, link: str) -> httpx.Response:
    """Open the link (a page with a button, spending nothing), then press the button."""
    page = await client.get(link)
    assert page.status_code == 200 and 'name="token"' in page.text
    token = link.split("token=", 1)[1]
    return await client.post("/console/login", data={"token": token})


@asynccontextmanager
async def signed_in(h: WebHarness, user: SimUser) -> AsyncIterator[httpx.AsyncClient]:
    """A browser that followed ``user``'s login link from the bot."""
    link = await login_link(h, user)
    async with httpx.AsyncClient(base_url=h.base) as client:
        response = await sign_in(client, link)
        assert response.status_code == 303, response.text
        yield client


class TestDoors:
    async def test_a_login_link_opens_a_session_once(self, web_harness: WebHarness) -> None:
        h = web_harness
        link = await login_link(h, h.bot.admin)
        async with httpx.AsyncClient(base_url=h.base) as preview:
            # A link preview or a scanner fetching the link spends nothing.
            assert (await preview.get(link)).status_code == 200
        async with httpx.AsyncClient(base_url=h.base) as browser:
            first = await sign_in(browser, link)
            assert first.status_code == 303 and first.headers["location"] == "/console/tickets"
            cookie = first.headers["set-cookie"]
            assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/console" in cookie
            page = await browser.get("/console/tickets")
            assert page.status_code == 200 and "工单" in page.text
        async with httpx.AsyncClient(base_url=h.base) as other:
            again = await sign_in(other, link)
            assert again.status_code == 403 and "已过期或已用过" in again.text
            assert (await other.get("/console/tickets")).status_code == 401

    async def test_forged_and_expired_links_are_refused(self, web_harness: WebHarness) -> None:
        h = web_harness
        async with httpx.AsyncClient(base_url=h.base) as browser:
            forged = await browser.post("/console/login", data={"token": "guessed"})
            assert forged.status_code == 403
            link = await login_link(h, h.bot.admin)
            h.bot.clock.advance(timedelta(minutes=11))
            assert (await sign_in(browser, link)).status_code == 403

    async def test_a_resident_gets_no_link_and_a_stranger_no_page(
        self, web_harness: WebHarness
    ) -> None:
        h = web_harness
        resident = await h.bot.resident("李明")
        await resident.send("/console")
        answer = await resident.next_message()
        assert "工作台供" in (answer.text or "") and "token" not in (answer.text or "")
        async with httpx.AsyncClient(base_url=h.base) as stranger:
            page = await stranger.get("/console/tickets")
            assert page.status_code == 401 and "/console" in page.text

    async def test_mini_app_init_data_is_checked_on_every_call(
        self, web_harness: WebHarness
    ) -> None:
        h = web_harness
        admin = h.bot.admin.record
        now = int(h.bot.clock.now().timestamp())
        good = init_data(h.bot.sandbox.token, admin, now)
        old = init_data(h.bot.sandbox.token, admin, now - 7 * 3600)
        forged = init_data("999:NOT-THE-TOKEN", admin, now)
        altered = good.replace(str(ADMIN_ID), "4242")
        async with httpx.AsyncClient(base_url=h.base) as app:
            ok = await app.get("/console/tickets", headers={"X-Telegram-Init-Data": good})
            assert ok.status_code == 200 and "刘主任" in ok.text
            for bad in (old, forged, altered):
                refused = await app.get("/console/tickets", headers={"X-Telegram-Init-Data": bad})
                assert refused.status_code == 401
            # No session was made: the next call without the data is a stranger's.
            assert (await app.get("/console/tickets")).status_code == 401

    async def test_a_revoked_role_closes_the_console_at_once(
        self, web_harness: WebHarness
    ) -> None:
        h = web_harness
        leader = await h.bot.with_role("赵书记", Role.LEADER)
        async with signed_in(h, leader) as browser:
            assert (await browser.get("/console/zones")).status_code == 200
            actor, _ = await h.bot.services.people.identify(ADMIN_ID, "刘主任", "zh-hans", True)
            person = await h.bot.services.people.find(leader.id)
            assert person is not None
            await h.bot.services.people.revoke(actor, person.id, Role.LEADER)
            assert (await browser.get("/console/zones")).status_code == 401

    async def test_a_form_from_another_site_is_refused(self, web_harness: WebHarness) -> None:
        h = web_harness
        async with signed_in(h, h.bot.admin) as browser:
            response = await browser.post(
                "/console/rules",
                data={"name": "talk_threshold", "value": "90"},
                headers={"Origin": "https://evil.example"},
            )
            assert response.status_code == 403
        async with h.bot.services.db.read() as tx:
            assert (await tx.communities.rules(h.bot.community.id)).talk_threshold == 83


class TestTickets:
    async def test_a_cadre_sees_their_zone_and_accepting_tells_the_reporter(
        self, web_harness: WebHarness
    ) -> None:
        h = web_harness
        cadre = await h.bot.cadre("Z1")
        resident = await h.bot.resident("李明")
        ours = await file_report(h.bot.sandbox, resident, place="1号楼")
        other = await h.bot.resident("王芳", building="3号楼")
        theirs = await file_report(h.bot.sandbox, other, place="3号楼")
        await h.bot.settle()
        async with signed_in(h, cadre) as browser:
            listing = await browser.get("/console/tickets")
            assert ours in listing.text and theirs not in listing.text
            assert (await browser.get(f"/console/tickets/{theirs}")).status_code == 403
            card = await browser.get(f"/console/tickets/{ours}")
            assert "签收" in card.text and "/accept" in card.text
            done = await browser.post(f"/console/tickets/{ours}/accept", follow_redirects=True)
            assert done.status_code == 200 and "已签收" in done.text
        told = await resident.wait_for(
            lambda m: ours in (m.text or "") and "签收" in (m.text or "")
        )
        assert told is not None

    async def test_filters_sort_and_find_by_number(self, web_harness: WebHarness) -> None:
        h = web_harness
        resident = await h.bot.resident("李明")
        first = await file_report(h.bot.sandbox, resident, place="1号楼", category="楼道堆物")
        second = await file_report(
            h.bot.sandbox, resident, place="2号楼", category="卫生死角/垃圾"
        )
        await h.bot.settle()
        async with signed_in(h, h.bot.admin) as browser:
            clutter = await browser.get("/console/tickets", params={"category": "clutter"})
            assert first in clutter.text and second not in clutter.text
            oldest = await browser.get("/console/tickets", params={"sort": "oldest"})
            assert oldest.text.index(first) < oldest.text.index(second)
            newest = await browser.get("/console/tickets")
            assert newest.text.index(second) < newest.text.index(first)
            short = second.split("-")[1].lstrip("0")
            found = await browser.get("/console/tickets", params={"number": short})
            assert second in found.text and first not in found.text
            bad = await browser.get("/console/tickets", params={"number": "x-1"})
            assert bad.status_code == 403 and "2026-0042" in bad.text
            overdue = await browser.get("/console/tickets", params={"overdue": "1"})
            assert first not in overdue.text
        h.bot.clock.advance(timedelta(days=10))
        async with signed_in(h, h.bot.admin) as browser:
            # The old session lasted 12 hours; the sign-in is a new one.
            overdue = await browser.get("/console/tickets", params={"overdue": "1"})
            assert first in overdue.text and second in overdue.text


class TestPages:
    async def test_each_role_reaches_its_pages_and_no_others(
        self, web_harness: WebHarness
    ) -> None:
        h = web_harness
        cadre = await h.bot.cadre("Z1")
        leader = await h.bot.with_role("赵书记", Role.LEADER)
        expected = {
            cadre: {"tickets", "map", "zones", "volunteers"},
            leader: {
                "tickets",
                "map",
                "zones",
                "inspections",
                "volunteers",
                "ratings",
                "ledgers",
                "rules",
            },
            h.bot.admin: {
                "tickets",
                "map",
                "zones",
                "inspections",
                "volunteers",
                "ratings",
                "ledgers",
                "rules",
                "people",
            },
        }
        every = set().union(*expected.values())
        for user, allowed in expected.items():
            async with signed_in(h, user) as browser:
                for page in sorted(every):
                    response = await browser.get(f"/console/{page}")
                    wanted = 200 if page in allowed else 403
                    assert response.status_code == wanted, (user, page, response.text[:300])
                    title = response.text.split("<title>", 1)[1].split("</title>", 1)[0]
                    assert "<" not in title and "工作台" in title, (page, title)

    async def test_an_admin_changes_a_rule_and_a_bad_value_is_explained(
        self, web_harness: WebHarness
    ) -> None:
        h = web_harness
        async with signed_in(h, h.bot.admin) as browser:
            saved = await browser.post(
                "/console/rules",
                data={"name": "talk_threshold", "value": "80"},
                follow_redirects=True,
            )
            assert saved.status_code == 200 and 'value="80' in saved.text
            refused = await browser.post(
                "/console/rules", data={"name": "talk_threshold", "value": "120"}
            )
            assert refused.status_code == 403
        async with h.bot.services.db.read() as tx:
            assert (await tx.communities.rules(h.bot.community.id)).talk_threshold == 80

    async def test_a_ledger_downloads_as_the_same_workbook_as_export(
        self, web_harness: WebHarness
    ) -> None:
        h = web_harness
        resident = await h.bot.resident("李明")
        await file_report(h.bot.sandbox, resident, place="1号楼")
        async with signed_in(h, h.bot.admin) as browser:
            response = await browser.get(
                "/console/ledgers/download",
                params={"month": "2026-11", "what": "tickets", "format": "xlsx"},
            )
        assert response.status_code == 200
        assert "attachment" in response.headers["content-disposition"]
        book = load_workbook(io.BytesIO(response.content), read_only=True)
        rows = list(book.worksheets[0].iter_rows(values_only=True))
        assert len(rows) == 2  # the header and the one ticket

    async def test_people_invites_are_made_and_revoked(self, web_harness: WebHarness) -> None:
        h = web_harness
        async with signed_in(h, h.bot.admin) as browser:
            made = await browser.post(
                "/console/invites",
                data={"role": "cadre", "zone": "Z2", "uses": "2"},
                follow_redirects=True,
            )
            assert made.status_code == 200 and "已生成邀请链接" in made.text
            code = re.search(r"start=inv_([\w-]+)", made.text)
            assert code
            gone = await browser.post(
                f"/console/invites/{code.group(1)}/revoke", follow_redirects=True
            )
            assert "已撤销邀请链接" in gone.text and code.group(1) not in gone.text

    async def test_the_map_carries_open_tickets_and_sites(self, web_harness: WebHarness) -> None:
        h = web_harness
        resident = await h.bot.resident("李明")
        number = await file_report(h.bot.sandbox, resident, place="1号楼")
        async with signed_in(h, h.bot.admin) as browser:
            page = await browser.get("/console/map")
        assert number in page.text and '"kind": "site"' in page.text
        assert 'data-tiles=""' in page.text


@pytest.mark.parametrize("path", ["/console/static/htmx.min.js", "/console/static/leaflet.js"])
async def test_the_front_end_is_served_from_the_package(
    web_harness: WebHarness, path: str
) -> None:
    async with httpx.AsyncClient(base_url=web_harness.base) as http:
        response = await http.get(path)
    assert response.status_code == 200 and len(response.content) > 10_000


async def test_the_mini_app_opens_from_the_bots_menu_with_valid_launch_data(
    tmp_path: Path,
) -> None:
    from urllib.parse import parse_qsl

    public = "https://console.example.cn"
    async with serving_web(tmp_path, public_url=public) as h:
        bot, port = h.bot, h.port
        await bot.admin.send("/console")
        reply = await bot.admin.wait_for(lambda m: "/console/login?token=" in (m.text or ""))
        assert f"{public}/console/login?token=" in (reply.text or "")
        await bot.sandbox.wait_idle(timeout=10)
        menu = bot.sandbox.menu_button(bot.admin.id)
        assert menu is not None and menu["web_app"]["url"] == f"{public}/console/app"
        for opened in (bot.admin.open_menu_app(), bot.admin.open_web_app(reply, 1)):
            assert opened.startswith(f"{public}/console/app#tgWebAppData=")
            data = dict(parse_qsl(opened.split("#", 1)[1]))["tgWebAppData"]
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as app:
                page = await app.get("/console/tickets", headers={"X-Telegram-Init-Data": data})
                assert page.status_code == 200 and "刘主任" in page.text
                tampered = data.replace("auth_date=", "auth_date=1")
                refused = await app.get(
                    "/console/tickets", headers={"X-Telegram-Init-Data": tampered}
                )
                assert refused.status_code == 401


async def test_a_zones_trend_is_drawn_as_a_picture(web_harness: WebHarness) -> None:
    h = web_harness
    async with signed_in(h, h.bot.admin) as browser:
        async with h.bot.services.db.read() as tx:
            zones = await tx.zones.list_by_community(h.bot.community.id)
        picture = await browser.get(f"/console/zones/{zones[0].id}/trend.png")
        assert picture.status_code == 200, picture.text[:500]
        assert picture.headers["content-type"] == "image/png"
        assert picture.content.startswith(b"\x89PNG") and len(picture.content) > 5_000
        missing = await browser.get("/console/zones/999/trend.png")
        assert missing.status_code == 403


class TestHardening:
    @pytest.mark.parametrize(
        "path",
        [
            "/console/tickets/2026-0001?done=<svg onload=alert(1)>",
            "/console/people?done=<img src=x onerror=alert(1)>",
            "/console/rules?done=<script>alert(1)</script>",
        ],
    )
    async def test_nothing_typed_into_a_link_reaches_the_page_as_html(
        self, web_harness: WebHarness, path: str
    ) -> None:
        h = web_harness
        resident = await h.bot.resident("李明")
        await file_report(h.bot.sandbox, resident, place="1号楼")
        async with signed_in(h, h.bot.admin) as browser:
            page = await browser.get(path)
        assert page.status_code == 200
        assert "<svg" not in page.text and "<img src=x" not in page.text
        assert "<script>alert" not in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]

    async def test_forms_behind_the_public_address_of_a_reverse_proxy_are_accepted(
        self, tmp_path: Path
    ) -> None:
        public = "https://jiayuan.example.cn"
        async with serving_web(tmp_path, public_url=public) as h:
            bot, port = h.bot, h.port
            await bot.admin.send("/console")
            reply = await bot.admin.wait_for(lambda m: "token=" in (m.text or ""))
            token = (reply.text or "").split("token=", 1)[1].split()[0]
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as browser:
                refused = await browser.post(
                    "/console/login", data={"token": token}, headers={"Origin": "null"}
                )
                assert refused.status_code == 403
                signed = await browser.post(
                    "/console/login", data={"token": token}, headers={"Origin": public}
                )
                assert signed.status_code == 303
                assert "Secure" in signed.headers["set-cookie"]
                # The browser talks https to the proxy; here the cookie is handed over
                # by hand, since it is marked Secure and this leg is plain http.
                session = signed.cookies["jy_console"]
                saved = await browser.post(
                    "/console/rules",
                    data={"name": "notice_days", "value": "6"},
                    headers={"Origin": public, "Cookie": f"jy_console={session}"},
                )
                assert saved.status_code == 303

    async def test_bad_form_values_are_refused_not_errors(self, web_harness: WebHarness) -> None:
        async with signed_in(web_harness, web_harness.bot.admin) as browser:
            for data in (
                {"role": "king", "uses": "1"},
                {"role": "cadre", "zone": "Z1", "uses": "x"},
            ):
                response = await browser.post("/console/invites", data=data)
                assert response.status_code == 403
            bad_month = await browser.get("/console/ledgers/download", params={"month": "soon"})
            assert bad_month.status_code == 403 and "YYYY-MM" in bad_month.text


class TestIsolation:
    async def test_another_communitys_tickets_and_photos_stay_out_of_reach(
        self, web_harness: WebHarness
    ) -> None:
        from tests.web.test_open311_api import NEAR_BUILDING_3, post, second_community_key

        h = web_harness
        # Only the other community has a ticket: 2026-0001 is theirs.
        key = await second_community_key(h)
        posted = await post(
            h,
            {
                "api_key": key,
                "jurisdiction_id": "heping",
                "service_code": "ads",
                **NEAR_BUILDING_3,
            },
        )
        assert posted.status_code == 200
        number = posted.json()[0]["service_request_id"]
        async with signed_in(h, h.bot.admin) as browser:
            assert number not in (await browser.get("/console/tickets")).text
            assert (await browser.get(f"/console/tickets/{number}")).status_code == 403
            assert (await browser.get(f"/console/photos/{number}/1")).status_code == 403
            accept = await browser.post(f"/console/tickets/{number}/accept")
            assert accept.status_code == 403

    async def test_a_cadre_cannot_see_another_zones_photo(self, web_harness: WebHarness) -> None:
        h = web_harness
        cadre = await h.bot.cadre("Z1")
        other = await h.bot.resident("王芳", building="3号楼")
        theirs = await file_report(h.bot.sandbox, other, place="3号楼")
        async with h.bot.services.db.read() as tx:
            ticket = await tx.tickets.find_by_number(h.bot.community.id, theirs)
            assert ticket is not None
            photo = (await tx.tickets.photos(ticket.id))[0]
        async with signed_in(h, cadre) as browser:
            response = await browser.get(f"/console/photos/{theirs}/{photo.id}")
            assert response.status_code == 403

    async def test_a_residents_mini_app_is_a_stranger(self, web_harness: WebHarness) -> None:
        h = web_harness
        resident = await h.bot.resident("李明")
        data = init_data(h.bot.sandbox.token, resident.record, int(h.bot.clock.now().timestamp()))
        async with httpx.AsyncClient(base_url=h.base) as app:
            page = await app.get("/console/tickets", headers={"X-Telegram-Init-Data": data})
            assert page.status_code == 401


class TestActions:
    async def test_transfer_reject_extend_and_recheck_from_the_card(
        self, web_harness: WebHarness
    ) -> None:
        h = web_harness
        cadre = await h.bot.cadre("Z1")
        resident = await h.bot.resident("李明")
        moved = await file_report(h.bot.sandbox, resident, place="1号楼")
        refused = await file_report(
            h.bot.sandbox, resident, place="2号楼", category="卫生死角/垃圾"
        )
        await h.bot.settle()
        async with h.bot.services.db.read() as tx:
            zones = {z.code: z for z in await tx.zones.list_by_community(h.bot.community.id)}
        async with signed_in(h, cadre) as browser:
            done = await browser.post(
                f"/console/tickets/{moved}/transfer",
                data={"zone": str(zones["Z2"].id), "reason": "在西片区"},
                follow_redirects=True,
            )
            assert "已转派" in done.text
            done = await browser.post(
                f"/console/tickets/{refused}/reject",
                data={"kind": "not_a_problem", "reason": "已清理"},
                follow_redirects=True,
            )
            assert "已退回" in done.text
        told = await resident.wait_for(
            lambda m: refused in (m.text or "") and "已清理" in (m.text or "")
        )
        assert told is not None
        async with h.bot.services.db.read() as tx:
            transferred = await tx.tickets.find_by_number(h.bot.community.id, moved)
        assert transferred is not None and transferred.zone_id == zones["Z2"].id

        third = await file_report(h.bot.sandbox, resident, place="1号楼")
        async with signed_in(h, cadre) as browser:
            await browser.post(f"/console/tickets/{third}/accept")
            asked = await browser.post(
                f"/console/tickets/{third}/extend",
                data={"days": "3", "reason": "等待物业配合"},
                follow_redirects=True,
            )
            assert "已申请延期" in asked.text

    async def test_the_console_speaks_english_to_an_english_reader(
        self, web_harness: WebHarness
    ) -> None:
        h = web_harness
        leader = await h.bot.with_role("Alice", Role.LEADER, language_code="en")
        async with signed_in(h, leader) as browser:
            page = await browser.get("/console/rules")
        assert page.status_code == 200
        assert "Days to fix" in page.text and "Sign out" in page.text
        assert 'lang="en"' in page.text
