"""Expected failures: each carries an i18n key so the handler can tell the user why."""

from __future__ import annotations

from typing import Any


class JiayuanError(Exception):
    """A failure the user should hear about, in their language."""

    key = "errors.generic"

    def __init__(self, key: str | None = None, **params: Any) -> None:
        self.key = key or type(self).key
        self.params = params
        super().__init__(self.key)


class NotFound(JiayuanError):
    key = "errors.not_found"


class NotAllowed(JiayuanError):
    key = "errors.not_allowed"


class InvalidInput(JiayuanError):
    key = "errors.invalid_input"


class Conflict(JiayuanError):
    """Someone else changed the thing first (optimistic locking lost)."""

    key = "errors.conflict"
