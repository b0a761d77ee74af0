"""The HTTP face of the simulator: aiohttp routes shaped like api.telegram.org.

* ``GET|POST /bot<token>/<method>``: query string, form, multipart or JSON parameters;
  answered ``{"ok": true, "result": ...}`` or Telegram's error object with the same
  HTTP status.
* ``GET /file/bot<token>/<file_path>``: the bytes of a stored file.

Around each call: the token check (401), the method check against the spec (404),
injected faults, spec validation and coercion, the method itself, statistics, and the
bookkeeping ``Sandbox.wait_idle`` relies on (requests in flight, last activity).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.sandbox.errors import ApiError, bad_request, not_found, status_text, unauthorized
from bot.sandbox.faults import Fault, FaultInjector
from bot.sandbox.flood import FloodControl
from bot.sandbox.methods import Call, handlers
from bot.sandbox.methods.generic import call_generic
from bot.sandbox.spec import ApiSpec, MethodSpec, Upload
from bot.sandbox.stats import Stats
from bot.sandbox.world import World

logger = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 60 * 1024 * 1024  # above Telegram's 50 MB upload limit, so it can answer
_dumps = functools.partial(json.dumps, ensure_ascii=False)
# Where a call's parameters come from: the HTTP request, or a webhook's answer.
ParamReader = Callable[[], Awaitable[tuple[dict[str, Any], dict[str, Upload]]]]


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One answered request, for tests that check what the bot called."""

    method: str
    params: dict[str, Any]
    status: int
    description: str | None


class BotApiServer:
    """Serves the Bot API for one bot token over a :class:`World`."""

    def __init__(
        self,
        *,
        token: str,
        world: World,
        spec: ApiSpec,
        flood: FloodControl,
        faults: FaultInjector,
        stats: Stats,
        max_poll_timeout: float,
    ) -> None:
        self.token = token
        self.world = world
        self.spec = spec
        self.flood = flood
        self.faults = faults
        self.stats = stats
        self.max_poll_timeout = max_poll_timeout
        self.stopping = asyncio.Event()
        self.inflight = 0
        self.last_activity = time.monotonic()
        self.requests: deque[RequestRecord] = deque(maxlen=2000)
        self._handlers = handlers()
        self._runner: web.AppRunner | None = None
        self.app = web.Application(client_max_size=MAX_REQUEST_BYTES)
        self.app.router.add_route("*", "/bot{token}/{method}", self._api)
        self.app.router.add_get("/file/bot{token}/{file_path:.+}", self._file)
        self.app.router.add_route("*", "/{tail:.*}", self._unknown)

    async def start(self, host: str, port: int) -> int:
        """Listen on ``host:port`` (0: any free port) and return the port."""
        self.stopping.clear()
        # Short shutdown: long polls and held fault replies end on ``stopping`` anyway.
        self._runner = web.AppRunner(
            self.app, handle_signals=False, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        address = self._runner.addresses[0]
        return int(address[1])

    async def stop(self) -> None:
        """Wake every waiting request and close the listener."""
        self.stopping.set()
        self.world.signal.notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------------ activity

    def touch(self) -> None:
        self.last_activity = time.monotonic()
        self.world.signal.notify()

    async def _pause(self, seconds: float) -> None:
        """Sleep, but not past shutdown."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), seconds)

    # ------------------------------------------------------------------ routes

    async def _api(self, request: web.Request) -> web.Response:
        name = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return self._answer(name, {}, unauthorized())
        method = self.spec.method(name)
        if method is None:
            return self._answer(name, {}, not_found())
        return await self._call(method, functools.partial(_read_params, request))

    async def call_from_webhook_answer(self, name: str, raw: dict[str, Any]) -> None:
        """Run a Bot API call that a webhook put in its 2xx answer; its result goes nowhere.

        As at Telegram, the call is served like a request (faults, validation, flood
        control, records), and errors are only logged.
        """
        method = self.spec.method(name)
        if method is None:
            self._answer(name, {}, not_found())
            return

        async def read() -> tuple[dict[str, Any], dict[str, Upload]]:
            return dict(raw), {}

        await self._call(method, read)

    async def _call(self, method: MethodSpec, read: ParamReader) -> web.Response:
        long_poll = method.name == "getUpdates"
        if not long_poll:
            # getUpdates is always waiting; only real work counts as activity.
            self.inflight += 1
            self.touch()
        try:
            return await self._serve(method, read)
        finally:
            if not long_poll:
                self.inflight -= 1
                self.touch()

    async def _serve(self, method: MethodSpec, read: ParamReader) -> web.Response:
        params: dict[str, Any] = {}
        fault = self.faults.take(method.name)
        if fault is not None and (fault.kind == "http" or not fault.processed):
            if fault.delay > 0:
                await self._pause(fault.delay)
            logger.info("injected fault method=%s status=%s", method.name, fault.status)
            return self._answer(method.name, params, _fault_error(fault))
        outcome: Any
        try:
            raw, uploads = await read()
            params = self.spec.coerce(method, raw, uploads)
            call = Call(
                world=self.world,
                flood=self.flood,
                spec=self.spec,
                method=method,
                params=params,
                uploads=uploads,
                stopping=self.stopping,
                max_poll_timeout=self.max_poll_timeout,
            )
            result = self._handlers.get(method.name, call_generic)(call)
            if inspect.isawaitable(result):
                result = await result
            if call.notable:
                self.touch()
            outcome = result
        except ApiError as exc:
            outcome = exc
        except Exception as exc:  # a simulator bug must surface as a reply, not a hang
            logger.exception("sandbox failed method=%s", method.name)
            outcome = ApiError(500, f"Internal Server Error: sandbox bug: {exc!r}")
        if fault is not None:
            # A "timeout" fault: the call took effect, the reply comes too late.
            logger.info("injected delay method=%s seconds=%s", method.name, fault.delay)
            await self._pause(fault.delay)
        return self._answer(method.name, params, outcome)

    def _answer(self, method: str, params: dict[str, Any], outcome: Any) -> web.Response:
        if isinstance(outcome, ApiError):
            status, body = outcome.error_code, outcome.to_json()
            description: str | None = outcome.description
            # Failure dumps list the bot's mistakes; a poll retired by the next one (its
            # client was cancelled mid-wait, e.g. on Updater.stop) is no mistake.
            routine = _superseded_poll(method, outcome)
            if not routine:
                self.world.api_errors.append((method, status, outcome.description))
            logger.log(
                logging.DEBUG if routine else logging.INFO,
                "api error method=%s status=%s description=%s",
                method,
                status,
                description,
            )
        else:
            status, body, description = 200, {"ok": True, "result": outcome}, None
            logger.debug("api ok method=%s", method)
        self.stats.record(method, status)
        self.requests.append(RequestRecord(method, _loggable(params), status, description))
        return web.json_response(body, status=status, dumps=_dumps)

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._answer("file", {}, unauthorized())
        stored = self.world.files.by_path(request.match_info["file_path"])
        if stored is None:
            return self._answer("file", {}, not_found())
        self.stats.record("file", 200)
        self.touch()
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    async def _unknown(self, request: web.Request) -> web.Response:
        return self._answer(request.path, {}, not_found())


def _superseded_poll(method: str, error: ApiError) -> bool:
    return method == "getUpdates" and "terminated by other getUpdates" in error.description


def _fault_error(fault: Fault) -> ApiError:
    description = fault.description or status_text(fault.status)
    parameters = {"retry_after": fault.retry_after} if fault.retry_after is not None else None
    return ApiError(fault.status, description, parameters)


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
    """Collect parameters from the query string and a form, multipart or JSON body."""
    raw: dict[str, Any] = dict(request.query)
    uploads: dict[str, Upload] = {}
    if not request.can_read_body:
        return raw, uploads
    content_type = request.content_type
    try:
        if content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise bad_request("can't parse JSON object")
            raw.update(body)
        elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    uploads[key] = Upload(
                        data=value.file.read(),
                        filename=value.filename,
                        content_type=value.content_type,
                    )
                else:
                    raw[key] = value
    except web.HTTPRequestEntityTooLarge as exc:
        raise ApiError(413, "Request Entity Too Large") from exc
    except ValueError as exc:
        raise bad_request("can't parse JSON object") from exc
    return raw, uploads


def _loggable(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters with uploads replaced by a short description (no bytes kept twice)."""
    return {
        key: (
            f"<upload {value.filename} {len(value.data)} bytes>"
            if isinstance(value, Upload)
            else value
        )
        for key, value in params.items()
    }
