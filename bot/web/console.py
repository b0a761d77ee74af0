"""The office console at /console/: server-rendered pages (Jinja2) made lively by htmx,
both vendored under static/ so nothing is fetched from a CDN. Every request finds its
visitor again (a session cookie, or a Mini App's initData) and every action goes through
the same services as the bot, so the bot's notifications follow.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import fields
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web
from markupsafe import Markup

from bot.domain.errors import InvalidInput, JiayuanError
from bot.domain.models import Language, Role
from bot.domain.open311 import ApiKey
from bot.domain.reports import CATEGORIES
from bot.domain.rules import BOUNDS, CommunityRules
from bot.domain.scoring import YearMonth
from bot.domain.tickets import RejectReason, Status
from bot.domain.volunteers import Activity
from bot.i18n import t
from bot.render.trend import month_points, render_trend
from bot.render.worker import run_image_work
from bot.services.console import PAGES, Visitor, may_open, parse_number, require
from bot.services.container import Services
from bot.services.exports import FORMATS, WHATS
from bot.services.messages import localized
from bot.services.ticket_cards import event_note
from bot.services.volunteers import title_of
from storage.console import TicketFilter
from storage.scores import StoredScore
from storage.tickets import StoredEvent

log = logging.getLogger(__name__)

PREFIX = "/console"
SESSION_COOKIE = "jy_console"
INIT_DATA_HEADER = "X-Telegram-Init-Data"
HERE = Path(__file__).parent
DEFAULT_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Page = Callable[[web.Request, Visitor], Awaitable[web.StreamResponse]]

_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
)


def routes(
    services: Services, public_url: str | None, tiles: str | None
) -> list[web.AbstractRouteDef]:
    console = _Console(services, public_url, DEFAULT_TILES if tiles is None else tiles)
    page = console.page
    return [
        web.get(f"{PREFIX}", console.home),
        web.get(f"{PREFIX}/", console.home),
        web.get(f"{PREFIX}/login", console.login_page),
        web.post(f"{PREFIX}/login", console.login),
        web.post(f"{PREFIX}/logout", console.logout),
        web.get(f"{PREFIX}/app", console.mini_app),
        web.get(f"{PREFIX}/tickets", page(console.tickets)),
        web.get(f"{PREFIX}/tickets/{{number}}", page(console.ticket)),
        web.post(f"{PREFIX}/tickets/{{number}}/{{action}}", page(console.act)),
        web.get(f"{PREFIX}/photos/{{number}}/{{photo_id:\\d+}}", page(console.photo)),
        web.get(f"{PREFIX}/map", page(console.map)),
        web.get(f"{PREFIX}/zones", page(console.zones)),
        web.get(f"{PREFIX}/zones/{{zone_id:\\d+}}/trend.png", page(console.trend)),
        web.get(f"{PREFIX}/inspections", page(console.inspections)),
        web.get(f"{PREFIX}/volunteers", page(console.volunteers)),
        web.get(f"{PREFIX}/ratings", page(console.ratings)),
        web.get(f"{PREFIX}/ledgers", page(console.ledgers)),
        web.get(f"{PREFIX}/ledgers/download", page(console.download)),
        web.get(f"{PREFIX}/rules", page(console.rules)),
        web.post(f"{PREFIX}/rules", page(console.set_rule)),
        web.get(f"{PREFIX}/people", page(console.people)),
        web.post(f"{PREFIX}/people/{{person_id:\\d+}}/revoke", page(console.revoke_role)),
        web.post(f"{PREFIX}/invites", page(console.invite)),
        web.post(f"{PREFIX}/invites/{{code}}/revoke", page(console.revoke_invite)),
        web.post(f"{PREFIX}/apikeys", page(console.issue_key)),
        web.post(f"{PREFIX}/apikeys/{{key_id:\\d+}}/revoke", page(console.revoke_key)),
        web.static(f"{PREFIX}/static", HERE / "static"),
    ]


class _Console:
    def __init__(self, services: Services, public_url: str | None, tiles: str) -> None:
        self.svc = services
        self.public_url = public_url
        self.tiles = tiles

    # -- who is asking ----------------------------------------------------------------

    async def visitor(self, request: web.Request) -> Visitor | None:
        init_data = request.headers.get(INIT_DATA_HEADER)
        if not init_data and request.method == "GET":
            # Pictures and downloads cannot carry a header; nothing that acts may use this.
            init_data = request.query.get("tgWebAppData")
        if init_data:
            return await self.svc.console.by_init_data(init_data)
        session = request.cookies.get(SESSION_COOKIE)
        return await self.svc.console.by_session(session) if session else None

    def page(self, handler: Page) -> Handler:
        """Find the visitor, refuse strangers, turn refusals into a page in their words."""

        async def guarded(request: web.Request) -> web.StreamResponse:
            if request.method == "POST" and not _same_origin(request, self.public_url):
                return self.render(request, None, "signed_out.html", status=403, foreign=True)
            visitor = await self.visitor(request)
            if visitor is None:
                return self.render(request, None, "signed_out.html", status=401)
            try:
                return await handler(request, visitor)
            except JiayuanError as error:
                lang = _language(visitor)
                message = _trusted(lang, error.key, **error.params)
                return self.render(request, visitor, "refused.html", status=403, message=message)

        return guarded

    def render(
        self,
        request: web.Request,
        visitor: Visitor | None,
        template: str,
        *,
        status: int = 200,
        **context: Any,
    ) -> web.Response:
        lang = _language(visitor)

        def say(key: str, **params: Any) -> Markup:
            return _trusted(lang, key, **params)

        tz = ZoneInfo(visitor.community.timezone if visitor else "UTC")
        html = _templates.get_template(template).render(
            t=say,
            lang=lang.value,
            visitor=visitor,
            nav=_nav(visitor),
            path=request.path,
            prefix=PREFIX,
            when=lambda value: _when(value, tz),
            day=lambda value: _day(value, tz),
            **context,
        )
        return web.Response(
            text=html,
            status=status,
            content_type="text/html",
            charset="utf-8",
            headers={
                "Content-Security-Policy": _CSP,
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "same-origin",
                "Cache-Control": "no-store",
            },
        )

    # -- doors ------------------------------------------------------------------------

    async def home(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(f"{PREFIX}/tickets")

    async def login_page(self, request: web.Request) -> web.StreamResponse:
        """The sign-in link opens a button; a preview or scanner fetching it spends nothing."""
        token = request.query.get("token", "")
        return self.render(request, None, "sign_in.html", token=token)

    async def login(self, request: web.Request) -> web.StreamResponse:
        if not _same_origin(request, self.public_url):
            return self.render(request, None, "signed_out.html", status=403, foreign=True)
        form = await request.post()
        session = await self.svc.console.open_session(str(form.get("token", "")))
        if session is None:
            return self.render(request, None, "signed_out.html", status=403, expired=True)
        response = web.HTTPSeeOther(f"{PREFIX}/tickets")
        response.set_cookie(
            SESSION_COOKIE,
            session,
            path=PREFIX,
            httponly=True,
            samesite="Lax",
            secure=(self.public_url or str(request.url)).startswith("https://"),
            max_age=int(timedelta(hours=12).total_seconds()),
        )
        raise response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        if not _same_origin(request, self.public_url):
            return self.render(request, None, "signed_out.html", status=403, foreign=True)
        session = request.cookies.get(SESSION_COOKIE)
        if session:
            await self.svc.console.logout(session)
        response = self.render(request, None, "signed_out.html", logged_out=True)
        response.del_cookie(SESSION_COOKIE, path=PREFIX)
        return response

    async def mini_app(self, request: web.Request) -> web.StreamResponse:
        """The Mini App's first page: it reads Telegram's launch data from the URL
        fragment (the server never sees a fragment) and loads the tickets with it."""
        return self.render(request, None, "mini_app.html")

    # -- tickets ----------------------------------------------------------------------

    async def tickets(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        q = request.query
        tz = ZoneInfo(visitor.community.timezone)
        year = self.svc.clock.now().astimezone(tz).year
        number = parse_number(q.get("number", ""), year)
        wanted = TicketFilter(
            statuses=frozenset(Status(s) for s in q.getall("status", []) if s in _STATUSES),
            zone_id=int(q["zone"]) if q.get("zone", "").isdigit() else None,
            category=q.get("category") if q.get("category") in CATEGORIES else None,
            overdue_only=q.get("overdue") == "1",
            created_from=_local_midnight(q.get("from", ""), tz),
            created_to=_local_midnight(q.get("to", ""), tz, next_day=True),
            number=number,
            sort=q.get("sort", "newest"),
        )
        rows = await self.svc.console.tickets(visitor, wanted)
        zones = await self.svc.console.zones_of(visitor)
        return self.render(
            request,
            visitor,
            "tickets.html",
            rows=rows,
            zones=zones,
            statuses=_STATUSES,
            categories=CATEGORIES,
            query=q,
            chosen_statuses=set(q.getall("status", [])),
            notice=_done(request, _TICKET_ACTIONS),
        )

    async def ticket(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        detail = await self.svc.console.ticket(visitor, request.match_info["number"])
        lang = _language(visitor)
        ticket = detail.timeline.ticket

        def note(event: StoredEvent) -> Markup:
            key, params = event_note(event, ticket, visitor.community.timezone)
            return _trusted(lang, key, **localized(lang, params))

        return self.render(
            request,
            visitor,
            "ticket.html",
            d=detail,
            note=note,
            reasons=list(RejectReason),
            notice=_done(request, _TICKET_ACTIONS),
        )

    async def act(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        number = request.match_info["number"]
        action = request.match_info["action"]
        form = await request.post()
        await self.svc.console.act(visitor, number, action, {k: str(v) for k, v in form.items()})
        if action == "transfer":
            # Handed to another zone, the ticket may be out of this visitor's sight now.
            raise web.HTTPSeeOther(f"{PREFIX}/tickets?{urlencode({'done': action})}")
        raise web.HTTPSeeOther(f"{PREFIX}/tickets/{number}?{urlencode({'done': action})}")

    async def photo(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        path = await self.svc.console.photo_path(
            visitor, request.match_info["number"], int(request.match_info["photo_id"])
        )
        file = (self.svc.settings.data_dir / path).resolve()
        if not file.is_relative_to(self.svc.settings.data_dir.resolve()) or not file.exists():
            raise web.HTTPNotFound()
        return web.FileResponse(file, headers={"Content-Type": "image/jpeg"})

    # -- map, zones, inspections, volunteers, ratings ----------------------------------

    async def map(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        points = await self.svc.console.map_points(visitor)
        lang = _language(visitor)
        for point in points:
            if point["kind"] == "ticket":
                point["label"] = t(lang, f"categories.{point['category']}")
                point["href"] = f"{PREFIX}/tickets/{point['number']}"
        return self.render(
            request,
            visitor,
            "map.html",
            # "</" cannot end the <script> element the points sit in.
            points_json=Markup(json.dumps(points, ensure_ascii=False).replace("</", "<\\/")),
            ticket_count=sum(1 for p in points if p["kind"] == "ticket"),
            site_count=sum(1 for p in points if p["kind"] == "site"),
            tiles=self.tiles,
        )

    async def zones(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        board = await self.svc.console.zone_board(visitor)
        return self.render(
            request,
            visitor,
            "zones.html",
            board=board,
            indicator_keys=_INDICATORS,
            indicator=_indicator,
        )

    async def trend(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        tz = ZoneInfo(visitor.community.timezone)
        today = self.svc.clock.now().astimezone(tz).date()
        last = YearMonth(today.year, today.month).previous()
        zone, points = await self.svc.scoring.trend(
            visitor.actor, int(request.match_info["zone_id"]), last
        )
        png = await run_image_work(render_trend, zone.name, month_points(points))
        return web.Response(body=png, content_type="image/png")

    async def inspections(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        rows = await self.svc.console.inspections(visitor)
        return self.render(request, visitor, "inspections.html", rows=rows)

    async def volunteers(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        rosters = await self.svc.console.rosters(visitor)
        lang = _language(visitor)

        def title(activity: Activity) -> str:
            named = title_of(activity)
            return named if isinstance(named, str) else named.render(lang)

        return self.render(request, visitor, "volunteers.html", rosters=rosters, title=title)

    async def ratings(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        listing = await self.svc.console.ratings(visitor)
        return self.render(request, visitor, "ratings.html", listing=listing)

    # -- ledgers ----------------------------------------------------------------------

    async def ledgers(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        require(visitor, "ledgers")
        tz = ZoneInfo(visitor.community.timezone)
        today = self.svc.clock.now().astimezone(tz).date()
        months = [YearMonth(today.year, today.month)]
        for _ in range(11):
            months.append(months[-1].previous())
        return self.render(
            request, visitor, "ledgers.html", months=months[1:], whats=WHATS, formats=FORMATS
        )

    async def download(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        q = request.query
        try:
            month = YearMonth.parse(q.get("month", ""))
        except ValueError:
            raise InvalidInput("console.bad_month") from None
        what = q.get("what", "all")
        fmt = q.get("format", "xlsx")
        exported = await self.svc.exports.prepare(visitor.actor, month, what, fmt)
        return web.Response(
            body=exported.data,
            content_type=_MIME[fmt],
            headers={"Content-Disposition": f'attachment; filename="{exported.filename}"'},
        )

    # -- rules ------------------------------------------------------------------------

    async def rules(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        require(visitor, "rules")
        values = await self.svc.console.rule_values(visitor)
        return self.render(
            request,
            visitor,
            "rules.html",
            rules=[f.name for f in fields(CommunityRules)],
            bounds=BOUNDS,
            values=values,
            editable=visitor.has(Role.ADMIN),
            notice=_done(request, frozenset(f.name for f in fields(CommunityRules))),
            rule_title=lambda name: _rule_text(visitor, name, "name"),
            rule_help=lambda name: _rule_text(visitor, name, "help"),
        )

    async def set_rule(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        form = await request.post()
        name = str(form.get("name", ""))
        await self.svc.communities.set_rule(visitor.actor, name, str(form.get("value", "")))
        raise web.HTTPSeeOther(f"{PREFIX}/rules?{urlencode({'done': name})}#rule-{name}")

    # -- people and invites -----------------------------------------------------------

    async def people(
        self, request: web.Request, visitor: Visitor, new_key: tuple[ApiKey, str] | None = None
    ) -> web.StreamResponse:
        require(visitor, "people")
        keys = await self.svc.open311.keys(visitor.actor)
        people = await self.svc.people.list_people(visitor.actor)
        links = await self.svc.invites.open_links(visitor.actor)
        zones = await self.svc.console.zones_of(visitor)
        return self.render(
            request,
            visitor,
            "people.html",
            people=people,
            links=links,
            zones=zones,
            bot=self.svc.rhythm.bot_username or "",
            roles=list(_INVITABLE),
            notice=_done(request, _PEOPLE_ACTIONS),
            keys=keys,
            new_key=new_key,
            open311_url=f"{self.public_url or request.url.origin()}/open311/v2/requests.json",
        )

    async def revoke_role(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        form = await request.post()
        role = _role(str(form.get("role", "")))
        await self.svc.people.revoke(visitor.actor, int(request.match_info["person_id"]), role)
        raise web.HTTPSeeOther(f"{PREFIX}/people?done=revoked")

    async def invite(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        form = await request.post()
        role = _role(str(form.get("role", "")))
        uses_text = str(form.get("uses") or "1")
        if not uses_text.isdigit():
            raise InvalidInput("admin.invite_bad_uses", max=100)
        uses = int(uses_text)
        await self.svc.invites.create(
            visitor.actor, role, str(form.get("zone") or "") or None, uses=uses
        )
        raise web.HTTPSeeOther(f"{PREFIX}/people?done=invited")

    async def issue_key(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        """A new Open311 key, shown on this page once (only its hash is kept)."""
        form = await request.post()
        issued = await self.svc.open311.issue_key(visitor.actor, str(form.get("label", "")))
        return await self.people(request, visitor, new_key=issued)

    async def revoke_key(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        await self.svc.open311.revoke_key(visitor.actor, int(request.match_info["key_id"]))
        raise web.HTTPSeeOther(f"{PREFIX}/people?done=key_revoked")

    async def revoke_invite(self, request: web.Request, visitor: Visitor) -> web.StreamResponse:
        await self.svc.invites.revoke(visitor.actor, request.match_info["code"])
        raise web.HTTPSeeOther(f"{PREFIX}/people?done=invite_revoked")


_STATUSES = [s.value for s in Status]
_TICKET_ACTIONS = frozenset({"accept", "transfer", "reject", "extend", "confirm", "reopen"})
_PEOPLE_ACTIONS = frozenset({"revoked", "invited", "invite_revoked", "key_revoked"})
_INVITABLE = (Role.CADRE, Role.INSPECTOR, Role.LEADER, Role.ADMIN)
# Our own scripts and styles only; tiles may come from a configured https host. Leaflet and
# the map legend set inline styles, nothing runs inline script.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: https:; connect-src 'self'; frame-ancestors https://web.telegram.org "
    "https://*.telegram.org 'self'; form-action 'self'; base-uri 'none'"
)
_MIME = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
}


_INDICATORS = (
    "on_time_acceptance",
    "on_time_rectification",
    "reopen_rate",
    "transfer_back_rate",
    "satisfaction",
)


def _indicator(score: StoredScore | None, key: str) -> str:
    value = score.indicators.get(key) if score is not None else None
    return "—" if not isinstance(value, int | float) else f"{100 * value:.0f}%"


def _rule_text(visitor: Visitor, name: str, part: str) -> str:
    """A rule's name or line of help in the reader's language (the key itself if the
    catalogs lack it, which a catalog test prevents)."""
    key = f"admin.rule_{name}" + ("_help" if part == "help" else "")
    text = t(_language(visitor), key)
    return name if text == key else text


def _nav(visitor: Visitor | None) -> list[tuple[str, str]]:
    """The pages this visitor may open, as (path, catalog key)."""
    if visitor is None:
        return []
    return [(page, f"console.nav_{page}") for page in PAGES if may_open(visitor, page)]


def _role(value: str) -> Role:
    if value not in {r.value for r in _INVITABLE}:
        raise InvalidInput("admin.invite_bad_role", roles=", ".join(r.value for r in _INVITABLE))
    return Role(value)


def _trusted(lang: Language, key: str, **params: Any) -> Markup:
    """Catalog text (HTML we wrote, parameters escaped by ``t``) as safe markup; a key the
    catalogs lack comes back as the key, which is escaped like any other text."""
    text = t(lang, key, **params)
    return Markup.escape(text) if text == key else Markup(text)


def _done(request: web.Request, allowed: frozenset[str]) -> str | None:
    """The action a redirect says was done, if it is one we know (never free text)."""
    done = request.query.get("done")
    return done if done in allowed else None


def _language(visitor: Visitor | None) -> Language:
    if visitor is None or visitor.person.language is None:
        return Language.ZH
    return visitor.person.language


def _same_origin(request: web.Request, public_url: str | None) -> bool:
    """A form from another site must not act with our cookie (SameSite=Lax covers most
    browsers; the Origin header covers the rest). Behind a reverse proxy the browser's
    origin is the public URL's, not the address this server sees."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    expected = {str(request.url.origin())}
    if public_url:
        parts = urlsplit(public_url)
        expected.add(f"{parts.scheme}://{parts.netloc}")
    return origin in expected


def _when(value: datetime | None, tz: ZoneInfo) -> str:
    return "—" if value is None else value.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _day(value: datetime | date | None, tz: ZoneInfo) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(tz).date()
    return value.isoformat()


def _local_midnight(text: str, tz: ZoneInfo, *, next_day: bool = False) -> datetime | None:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    if next_day:
        day += timedelta(days=1)
    return datetime.combine(day, time.min, tzinfo=tz)


__all__ = ["INIT_DATA_HEADER", "PREFIX", "SESSION_COOKIE", "routes"]
