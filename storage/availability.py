"""A database that is unavailable for now, told apart from a bug.

PostgreSQL stopped, restarting or unreachable, or the SQLite file locked by another
process: the bot's loops wait that out and try again, with a warning and the updates kept
unconfirmed at Telegram. Anything else is a bug and keeps its traceback in the log.
"""

from __future__ import annotations

import sqlite3
import sys

# The longest wait between tries to reach a database that is unavailable: each try
# already waits itself (the pool's timeout, SQLite's busy timeout).
RETRY_MAX_S = 5.0

# SQLite's primary result codes that pass by themselves: another connection holds the
# lock (BUSY after busy_timeout, LOCKED), or the file cannot be reached or grown for now.
_SQLITE_PASSING = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_FULL,
    }
)


def unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be used just now (worth waiting for and
    retrying), rather than that a statement or the code is wrong."""
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        return code is not None and (code & 0xFF) in _SQLITE_PASSING
    # psycopg's OperationalError: the server is down, shutting down or refusing
    # connections, a connection broke, or the pool found none in time (PoolTimeout);
    # also a serialization failure or a deadlock, which a retry settles as well. Looked
    # up, not imported: a process on SQLite never loads psycopg, so cannot meet its errors.
    psycopg = sys.modules.get("psycopg")
    return psycopg is not None and isinstance(exc, psycopg.OperationalError)
