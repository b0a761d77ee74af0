"""Open311 GeoReport v2: what a city system may ask and post, as pure rules.

The web layer turns query strings into these values and these values into JSON or XML;
the service reads and writes tickets. A request is a ticket: its id is the ticket's
number, its service code the ticket's category, and its status "open" until the
ticket is closed or rejected (a fix awaiting re-check is still open, because the loop is
only closed after the re-check). Nothing here names the reporter: no name, phone or
resident's own words ever leave through the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.domain.reports import CATEGORIES
from bot.domain.tickets import Source, Status


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A city system's key to post requests for one community; revoked keys stay on record."""

    id: int
    community_id: int
    person_id: int
    label: str
    created_at: datetime
    revoked_at: datetime | None


# GeoReport's defaults: at most 90 days and 1000 requests per query.
MAX_SPAN = timedelta(days=90)
MAX_RESULTS = 1000
MAX_IDS = 100
MAX_DESCRIPTION = 500
MAX_ADDRESS = 200
MAX_MEDIA_URL = 2000
FORMATS = ("json", "xml")


class Open311Error(ValueError):
    """A request the API refuses; ``code`` is the HTTP status GeoReport documents."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


@dataclass(frozen=True, slots=True)
class RequestQuery:
    """GET requests: by ids (overriding everything else), or by filters."""

    ids: tuple[str, ...] = ()
    service_code: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    statuses: frozenset[str] = frozenset({"open", "closed"})


@dataclass(frozen=True, slots=True)
class NewRequest:
    """POST requests, validated: a category and a place (a point or an address)."""

    service_code: str
    lat: float | None
    lon: float | None
    address: str | None
    description: str
    media_url: str | None


def public_status(status: Status) -> str:
    """GeoReport knows only open and closed."""
    return "closed" if status in (Status.CLOSED, Status.REJECTED) else "open"


def shares_description(source: Source) -> bool:
    """Only words an official system or inspector wrote are published; a resident's
    own description may carry personal data and stays inside the bot."""
    return source is not Source.RESIDENT


def shares_media(source: Source) -> bool:
    """A resident's photo may show faces, doors or number plates: it stays inside the bot,
    like their words. Photos the API or an inspection brought in are published."""
    return source is not Source.RESIDENT


def parse_query(params: dict[str, str], now: datetime) -> RequestQuery:
    """Validate GET requests' parameters; the default window is the last 90 days."""
    raw_ids = params.get("service_request_id", "").strip()
    if raw_ids:
        ids = tuple(dict.fromkeys(i.strip() for i in raw_ids.split(",") if i.strip()))
        if len(ids) > MAX_IDS:
            raise Open311Error(400, f"at most {MAX_IDS} service_request_id values at once")
        return RequestQuery(ids=ids)
    code = params.get("service_code", "").strip() or None
    if code is not None and code not in CATEGORIES:
        raise Open311Error(400, f"unknown service_code {code!r}")
    start = _instant(params, "start_date")
    end = _instant(params, "end_date")
    if start is not None and end is not None:
        if end < start:
            raise Open311Error(400, "end_date is before start_date")
        if end - start > MAX_SPAN:
            raise Open311Error(400, "start_date to end_date may not span more than 90 days")
    if start is None:
        start = (end or now) - MAX_SPAN
    if end is None:
        end = min(start + MAX_SPAN, now) if start < now else start + MAX_SPAN
    statuses = frozenset(
        s.strip().lower() for s in params.get("status", "").split(",") if s.strip()
    )
    if statuses - {"open", "closed"}:
        raise Open311Error(400, "status must be open, closed, or both comma-separated")
    return RequestQuery(
        service_code=code, start=start, end=end, statuses=statuses or frozenset({"open", "closed"})
    )


def parse_new_request(params: dict[str, str]) -> NewRequest:
    """Validate POST requests' fields (the api_key and jurisdiction are checked apart)."""
    code = params.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, "service_code is required")
    if code not in CATEGORIES:
        raise Open311Error(404, f"unknown service_code {code!r}")
    lat = _coordinate(params, "lat", 90.0)
    lon = _coordinate(params, "long", 180.0)
    if (lat is None) != (lon is None):
        raise Open311Error(400, "lat and long must be given together")
    address = " ".join(params.get("address_string", "").split()) or None
    if address is not None and len(address) > MAX_ADDRESS:
        raise Open311Error(400, f"address_string is longer than {MAX_ADDRESS} characters")
    if lat is None and address is None:
        raise Open311Error(400, "a location is required: lat and long, or address_string")
    description = params.get("description", "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise Open311Error(
            400, f"description is longer than {MAX_DESCRIPTION} characters; shorten it"
        )
    media_url = params.get("media_url", "").strip() or None
    if media_url is not None and (
        len(media_url) > MAX_MEDIA_URL or not media_url.startswith(("http://", "https://"))
    ):
        raise Open311Error(400, "media_url must be an http(s) URL")
    return NewRequest(code, lat, lon, address, description, media_url)


def _instant(params: dict[str, str], name: str) -> datetime | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, f"{name} must be an ISO 8601 date-time") from None
    # GeoReport's examples are UTC; a time without an offset is read as UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _coordinate(params: dict[str, str], name: str, bound: float) -> float | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise Open311Error(400, f"{name} must be a number") from None
    if not -bound <= value <= bound:
        raise Open311Error(400, f"{name} must be between {-bound:g} and {bound:g}")
    return value
