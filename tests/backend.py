"""Which database the current test runs on: the SQLite file (default) or PostgreSQL.

Storage, service and end-to-end tests run once per backend (tests/conftest.py
parametrises them); the builders in tests/factories.py and the flows harness read the
URL from here, so a test body never says which backend it is on.
"""

from __future__ import annotations

_url: str | None = None


def database_url() -> str | None:
    """The PostgreSQL URL of the current test's own database, or None for SQLite."""
    return _url


def use(url: str | None) -> None:
    global _url
    _url = url
