"""Bot API error replies: one exception type that the server turns into Telegram's JSON shape.

Telegram answers every failure as ``{"ok": false, "error_code": N, "description": "...",
"parameters": {...}}`` with the same HTTP status; method implementations raise
:class:`ApiError` and ``server.py`` renders it, so no handler builds responses by hand.
"""

from __future__ import annotations

from typing import Any

_STATUS_PREFIX = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class ApiError(Exception):
    """A Bot API failure with Telegram's status code, description and optional parameters."""

    def __init__(
        self, error_code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def to_json(self) -> dict[str, Any]:
        """Return the response body exactly as Telegram shapes it."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def status_text(status: int) -> str:
    """Return Telegram's bare description for an HTTP status (``"Bad Gateway"`` for 502)."""
    return _STATUS_PREFIX.get(status, "Error")


def bad_request(detail: str) -> ApiError:
    """Return a 400 whose description reads ``Bad Request: <detail>``."""
    return ApiError(400, f"Bad Request: {detail}")


def forbidden(detail: str) -> ApiError:
    """Return a 403 whose description reads ``Forbidden: <detail>``."""
    return ApiError(403, f"Forbidden: {detail}")


def not_found() -> ApiError:
    """Return the 404 Telegram gives for unknown methods and files."""
    return ApiError(404, "Not Found")


def unauthorized() -> ApiError:
    """Return the 401 Telegram gives for a wrong token."""
    return ApiError(401, "Unauthorized")


def conflict(detail: str) -> ApiError:
    """Return a 409 whose description reads ``Conflict: <detail>``."""
    return ApiError(409, f"Conflict: {detail}")


def too_many_requests(retry_after: int) -> ApiError:
    """Return the flood-control 429 with ``parameters.retry_after``."""
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


def chat_migrated(new_chat_id: int) -> ApiError:
    """Return the 400 sent for a group that was upgraded to a supergroup."""
    return ApiError(
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        {"migrate_to_chat_id": new_chat_id},
    )


class SandboxError(Exception):
    """A scripting mistake in a test or demo (not a Bot API error the bot would see)."""
