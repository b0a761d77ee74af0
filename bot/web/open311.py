"""Open311 GeoReport v2 over HTTP, under /open311/v2/: discovery, services, requests (read
and post), in JSON and XML. Each community is a jurisdiction (its code).

Only presentation lives here: parameters in, the service's answers out as GeoReport
documents. Values that would be empty are left out rather than sent as null, because the
GeoReport description types them as plain strings and numbers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET

from aiohttp import web

from bot.domain.models import Community, Language
from bot.domain.open311 import (
    FORMATS,
    Open311Error,
    parse_new_request,
    parse_query,
    public_status,
    shares_description,
    shares_media,
)
from bot.domain.reports import CATEGORIES, DraftPhoto
from bot.domain.tickets import Status
from bot.i18n import t
from bot.render.photos import PhotoRejected
from bot.render.uploads import save_photo
from bot.services.container import Services
from storage.open311 import RequestRow

log = logging.getLogger(__name__)

PREFIX = "/open311/v2"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# Photos up to Telegram's own limit for bots, plus room for the form around them.
MAX_BODY = 21 * 1024 * 1024
MAX_PHOTOS = 5
# Plural element names for XML lists, as GeoReport's examples write them.
_XML_ITEM = {"services": "service", "service_requests": "request", "errors": "error"}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def routes(services: Services, public_url: str | None) -> list[web.RouteDef]:
    api = _Api(services, public_url)
    fmt = "{fmt:json|xml}"
    one = "{number:[^/]+?}"
    return [
        web.get(f"{PREFIX}/discovery.{fmt}", api.guard(api.discovery)),
        web.get(f"{PREFIX}/services.{fmt}", api.guard(api.services)),
        web.get(f"{PREFIX}/services/{{code:[^/]+?}}.{fmt}", api.guard(api.definition)),
        web.get(f"{PREFIX}/requests.{fmt}", api.guard(api.requests)),
        web.post(f"{PREFIX}/requests.{fmt}", api.guard(api.post)),
        web.get(f"{PREFIX}/requests/{one}.{fmt}", api.guard(api.request)),
        web.get(f"{PREFIX}/request/{one}.{fmt}", api.guard(api.request)),
        web.get(f"{PREFIX}/tokens/{{token:[^/]+?}}.{fmt}", api.guard(api.token)),
        web.get(f"{PREFIX}/media/{{jurisdiction}}/{{number}}.jpg", api.media),
    ]


class _Api:
    def __init__(self, services: Services, public_url: str | None) -> None:
        self.svc = services
        self.public_url = public_url.rstrip("/") if public_url else None

    def guard(self, handler: Handler) -> Handler:
        """Refusals as GeoReport error documents, in the format asked for."""

        async def guarded(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except Open311Error as error:
                return _document(
                    _format(request),
                    "errors",
                    [{"code": error.code, "description": error.description}],
                    status=error.code,
                )

        return guarded

    # -- reads ----------------------------------------------------------------------

    async def discovery(self, request: web.Request) -> web.StreamResponse:
        changeset = _stamp(datetime(2026, 12, 6, tzinfo=UTC))
        body = {
            "changeset": changeset,
            "contact": "Jiayuan (家园) community office",
            "key_service": "Ask a community admin of the bot for an api_key (/apikey).",
            "endpoints": [
                {
                    "specification": SPECIFICATION,
                    "url": f"{self._base(request)}{PREFIX}",
                    "changeset": changeset,
                    "type": "production",
                    "formats": ["application/json", "text/xml"],
                }
            ],
        }
        return _document(_format(request), "discovery", body)

    async def services(self, request: web.Request) -> web.StreamResponse:
        await self._community(request)
        lang = _language(request)
        body = [
            {
                "service_code": code,
                "service_name": t(lang, f"categories.{code}"),
                "description": t(lang, f"categories.{code}"),
                "metadata": False,
                "type": "realtime",
                "keywords": code,
                "group": "civilized-community",
            }
            for code in CATEGORIES
        ]
        return _document(_format(request), "services", body)

    async def definition(self, request: web.Request) -> web.StreamResponse:
        await self._community(request)
        code = request.match_info["code"]
        if code not in CATEGORIES:
            raise Open311Error(404, f"service_code {code!r} not found")
        # No extra attributes: a category, a place, words and a photo are all we ask.
        body = {"service_code": code, "attributes": []}
        return _document(_format(request), "service_definition", body)

    async def requests(self, request: web.Request) -> web.StreamResponse:
        community = await self._community(request)
        query = parse_query(dict(request.query), self.svc.clock.now())
        rows = await self.svc.open311.requests(community, query)
        body = [self._request_doc(request, community, row) for row in rows]
        return _document(_format(request), "service_requests", body)

    async def request(self, request: web.Request) -> web.StreamResponse:
        community = await self._community(request)
        row = await self.svc.open311.request(community, request.match_info["number"])
        body = [self._request_doc(request, community, row)]
        return _document(_format(request), "service_requests", body)

    async def token(self, request: web.Request) -> web.StreamResponse:
        await self._community(request)
        # A posted request gets its id at once, so no token is ever handed out.
        raise Open311Error(404, "tokens are not used: POST requests returns service_request_id")

    async def media(self, request: web.Request) -> web.StreamResponse:
        try:
            community = await self.svc.open311.jurisdiction(request.match_info["jurisdiction"])
        except Open311Error:
            raise web.HTTPNotFound() from None
        path = await self.svc.open311.media_path(community, request.match_info["number"])
        if path is None:
            raise web.HTTPNotFound()
        file = (self.svc.settings.data_dir / path).resolve()
        if not file.is_relative_to(self.svc.settings.data_dir.resolve()) or not file.exists():
            raise web.HTTPNotFound()
        return web.FileResponse(file, headers={"Content-Type": "image/jpeg"})

    # -- post -----------------------------------------------------------------------

    async def post(self, request: web.Request) -> web.StreamResponse:
        fields, uploads = await _form(request)
        community = await self.svc.open311.jurisdiction(fields.get("jurisdiction_id"))
        api_key = fields.get("api_key", "")
        # The key first: nobody without one gets photos decoded and written to disk.
        await self.svc.open311.check_key(community, api_key)
        new = parse_new_request(fields)
        photos = await self._photos(uploads)
        posted = await self.svc.open311.post(community, api_key, new, photos)
        lang = _language(request)
        body = [
            {
                "service_request_id": posted.number,
                "service_notice": t(lang, "open311.notice_dispatched", zone=posted.zone_name),
            }
        ]
        return _document(_format(request), "service_requests", body)

    async def _photos(self, uploads: list[bytes]) -> tuple[DraftPhoto, ...]:
        if len(uploads) > MAX_PHOTOS:
            raise Open311Error(400, f"at most {MAX_PHOTOS} media files")
        photos = []
        for data in uploads:
            try:
                photos.append(await save_photo(data, self.svc.settings.data_dir))
            except PhotoRejected as rejected:
                raise Open311Error(400, f"media is not a usable photo: {rejected}") from None
        return tuple(photos)

    # -- helpers --------------------------------------------------------------------

    async def _community(self, request: web.Request) -> Community:
        return await self.svc.open311.jurisdiction(request.query.get("jurisdiction_id"))

    def _base(self, request: web.Request) -> str:
        return self.public_url or str(request.url.origin())

    def _request_doc(
        self, request: web.Request, community: Community, row: RequestRow
    ) -> dict[str, Any]:
        lang = _language(request)
        doc: dict[str, Any] = {
            "service_request_id": row.number,
            "status": public_status(row.status),
            "status_notes": _status_note(lang, row),
            "service_name": t(lang, f"categories.{row.category}"),
            "service_code": row.category,
            "requested_datetime": _stamp(row.created_at),
            "updated_datetime": _stamp(row.updated_at),
        }
        if row.description and shares_description(row.source):
            doc["description"] = row.description
        if row.zone:
            doc["agency_responsible"] = row.zone
        if row.due_at is not None and public_status(row.status) == "open":
            doc["expected_datetime"] = _stamp(row.due_at)
        address = row.address or " · ".join(p for p in (row.place, row.zone) if p)
        if address:
            doc["address"] = address
        if row.lat is not None and row.lon is not None:
            doc["lat"] = row.lat
            doc["long"] = row.lon
        if row.has_photo and shares_media(row.source):
            doc["media_url"] = (
                f"{self._base(request)}{PREFIX}/media/{community.code}/{row.number}.jpg"
            )
        elif row.media_url:
            doc["media_url"] = row.media_url
        return doc


@web.middleware
async def errors_as_documents(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A path the API does not know still answers in GeoReport's error format."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if not request.path.startswith(PREFIX) or exc.status < 400:
            raise
        fmt = "xml" if request.path.endswith(".xml") else "json"
        return _document(
            fmt, "errors", [{"code": exc.status, "description": exc.reason}], status=exc.status
        )


def _status_note(lang: Language, row: RequestRow) -> str:
    if row.status is Status.REJECTED and row.reject_note:
        kind = row.reject_note.split(":", 1)[0]
        return t(lang, "open311.status_rejected", reason=t(lang, f"tickets.reject_{kind}"))
    return t(lang, f"open311.status_{row.status.value}")


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _format(request: web.Request) -> str:
    fmt = request.match_info.get("fmt", "json")
    return fmt if fmt in FORMATS else "json"


def _language(request: web.Request) -> Language:
    return Language.EN if request.query.get("locale", "").lower().startswith("en") else Language.ZH


async def _form(request: web.Request) -> tuple[dict[str, str], list[bytes]]:
    """Fields from the query string and the body (the body wins), and uploaded media.

    GeoReport's description puts POST parameters in the query; clients send a form.
    """
    fields = {k: v for k, v in request.query.items()}
    uploads: list[bytes] = []
    if request.can_read_body:
        try:
            body = await request.post()
        except ValueError as exc:
            raise Open311Error(400, f"unreadable form: {exc}") from None
        for name, value in body.items():
            if isinstance(value, web.FileField):
                if name == "media":
                    uploads.append(value.file.read())
            else:
                fields[name] = str(value)
    return fields, uploads


def _document(
    fmt: str, root: str, body: Mapping[str, Any] | list[Any], *, status: int = 200
) -> web.Response:
    if fmt == "xml":
        element = ET.Element(root)
        _fill(element, root, body)
        text = ET.tostring(element, encoding="unicode", xml_declaration=True)
        return web.Response(text=text, status=status, content_type="text/xml", charset="utf-8")
    return web.Response(
        text=json.dumps(body, ensure_ascii=False),
        status=status,
        content_type="application/json",
        charset="utf-8",
    )


def _fill(element: ET.Element, name: str, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _fill(ET.SubElement(element, key), key, item)
    elif isinstance(value, list):
        child_name = _XML_ITEM.get(name, name.rstrip("s") or "item")
        if name == "attributes":
            child_name = "attribute"
        elif name == "formats":
            child_name = "format"
        elif name == "endpoints":
            child_name = "endpoint"
        for item in value:
            _fill(ET.SubElement(element, child_name), child_name, item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)


__all__ = ["MAX_BODY", "PREFIX", "errors_as_documents", "routes"]
