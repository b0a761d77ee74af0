"""Logging to stderr; every line written while handling an update names it."""

from __future__ import annotations

import contextvars
import logging
import sys

current_update: contextvars.ContextVar[str] = contextvars.ContextVar("current_update", default="")


class UpdateFields(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        fields = current_update.get()
        record.update_fields = f" [{fields}]" if fields else ""
        return True


def setup(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(UpdateFields())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s%(update_fields)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL at INFO, and the URL carries the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
