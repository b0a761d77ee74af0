"""Liveness that means something: the running bot records when it last fetched updates
and last ticked, and `jiayuan health` (the Docker HEALTHCHECK) fails when either is stale.

A database that opens says little: a bot whose fetch loop died keeps its database open
and its tick running while it never reads another update. The record is a small JSON
file in the data dir, written atomically, in wall-clock time (``time.time()``), because
the checker is another process and the bot's own clock may be shifted by JIAYUAN_NOW.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

HEARTBEAT_FILE = "heartbeat.json"


def heartbeat_path(data_dir: Path, *, shared: bool = False) -> Path:
    """Where a process's heartbeat lives. Processes sharing a PostgreSQL database may
    share the data dir too (a volume for the photos), so each host writes its own file;
    `jiayuan health`, run on the same host (in the same container), reads that one."""
    if shared:
        return data_dir / f"heartbeat-{socket.gethostname()}.json"
    return data_dir / HEARTBEAT_FILE


# A long poll returns at least every poll timeout (10 s) and the tick runs every minute:
# three minutes of silence is a stall, not a slow moment.
DEFAULT_MAX_AGE_S = 180.0
# Writing the file on every empty long poll would be needless disk traffic.
MIN_WRITE_INTERVAL_S = 15.0


@dataclass
class Heartbeat:
    """What this process last did, written to ``data_dir/heartbeat.json``."""

    path: Path
    polling: bool
    fetched_at: float | None = None
    ticked_at: float | None = None
    _written_at: float = 0.0

    @classmethod
    def in_dir(cls, data_dir: Path, *, polling: bool, shared: bool = False) -> Heartbeat:
        return cls(heartbeat_path(data_dir, shared=shared), polling)

    def fetched(self) -> None:
        """Updates were fetched (even none: the long poll came back)."""
        self.fetched_at = time.time()
        self._write(force=False)

    def ticked(self) -> None:
        self.ticked_at = time.time()
        self._write(force=True)

    def started(self) -> None:
        now = time.time()
        # A fresh process is given a full max-age before its first fetch counts as late.
        self.fetched_at = self.fetched_at or now
        self.ticked_at = self.ticked_at or now
        self._write(force=True)

    def stopped(self) -> None:
        try:
            self.path.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("could not remove the heartbeat file: %s", exc)

    def _write(self, *, force: bool) -> None:
        now = time.monotonic()
        if not force and now - self._written_at < MIN_WRITE_INTERVAL_S:
            return
        self._written_at = now
        record = {
            "pid": os.getpid(),
            "polling": self.polling,
            "fetched_at": self.fetched_at,
            "ticked_at": self.ticked_at,
        }
        tmp = self.path.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(record), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("could not write the heartbeat file: %s", exc)


def check(
    data_dir: Path, max_age_s: float = DEFAULT_MAX_AGE_S, *, shared: bool = False
) -> tuple[bool, str]:
    """(healthy, one line saying why) from the heartbeat file of a running bot."""
    path = heartbeat_path(data_dir, shared=shared)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return False, f"no heartbeat at {path}: the bot is not running"
    except (OSError, ValueError) as exc:
        return False, f"unreadable heartbeat {path}: {exc}"
    if not isinstance(record, dict):
        return False, f"unreadable heartbeat {path}"
    now = time.time()
    checks = [("ticked_at", "tick")]
    if record.get("polling"):
        checks.insert(0, ("fetched_at", "update fetch"))
    for field, what in checks:
        at = record.get(field)
        if not isinstance(at, int | float):
            return False, f"no {what} recorded yet"
        age = now - at
        if age > max_age_s:
            return False, f"last {what} {age:.0f}s ago (limit {max_age_s:.0f}s)"
    return True, "ok"
