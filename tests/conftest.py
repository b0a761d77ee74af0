"""Both backends for the storage, service and end-to-end tests.

``--backend`` (or ``JIAYUAN_TEST_BACKEND``) picks ``sqlite``, ``postgresql`` or ``both``
(the default). PostgreSQL runs in a throwaway cluster the session starts itself
(tests/postgres_cluster.py); each test gets its own database copied from a migrated
template. Where no server can be started, the PostgreSQL runs are skipped with the reason
shown in the summary — and fail instead when ``JIAYUAN_REQUIRE_POSTGRES=1`` (CI).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import backend as current_backend
from tests.postgres_cluster import Cluster, ClusterUnavailable

# The tests that run on both backends; the rest run on SQLite (their own files) only.
BOTH_BACKENDS = ("tests/integration/", "tests/unit/services/", "tests/flows/")
ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        choices=("sqlite", "postgresql", "both"),
        default=os.environ.get("JIAYUAN_TEST_BACKEND", "both"),
        help="database backend(s) for storage, service and end-to-end tests",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only: a test of the SQLite file itself (PRAGMAs, locks, backups)"
    )
    config.addinivalue_line("markers", "postgresql: needs the test PostgreSQL cluster")


def _backends(config: pytest.Config) -> list[str]:
    chosen = str(config.getoption("--backend"))
    return ["sqlite", "postgresql"] if chosen == "both" else [chosen]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    path = Path(str(metafunc.definition.fspath)).resolve().relative_to(ROOT).as_posix()
    both = path.startswith(BOTH_BACKENDS) and not metafunc.definition.get_closest_marker(
        "sqlite_only"
    )
    names = _backends(metafunc.config) if both else ["sqlite"]
    metafunc.parametrize("backend", names, indirect=True, ids=names if both else [""])


# The longest tests (whole processes killed and restarted, outages sat out): handed out
# first, so that with several workers (-n) they run beside the rest instead of after it.
SLOW_FIRST = ("tests/reliability/",)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def slow(item: pytest.Item) -> bool:
        return Path(str(item.fspath)).resolve().relative_to(ROOT).as_posix().startswith(SLOW_FIRST)

    items.sort(key=lambda item: not slow(item))


class _ClusterState:
    cluster: Cluster | None = None
    failure: str | None = None
    template: str | None = None


def _require_postgres() -> bool:
    return os.environ.get("JIAYUAN_REQUIRE_POSTGRES") == "1"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """The session's PostgreSQL cluster, started on first use and stopped at the end."""
    if _ClusterState.failure is None and _ClusterState.cluster is None:
        try:
            _ClusterState.cluster = Cluster().start()
        except ClusterUnavailable as exc:
            _ClusterState.failure = str(exc)
    if _ClusterState.cluster is None:
        message = f"PostgreSQL tests not run: {_ClusterState.failure}"
        if _require_postgres():
            pytest.fail(message)
        pytest.skip(message)
    yield _ClusterState.cluster


def pytest_sessionfinish(session: pytest.Session) -> None:
    _stop_leaked_sqlite_threads()
    if _ClusterState.cluster is not None:
        _ClusterState.cluster.stop()
        _ClusterState.cluster = None


def _stop_leaked_sqlite_threads() -> None:
    """aiosqlite's worker threads are not daemons: one connection a test left open keeps
    the finished run from exiting at all. Stop them, and say so (the leak is a bug to find)."""
    import gc
    import warnings

    import aiosqlite

    leaked = [
        obj
        for obj in gc.get_objects()
        if isinstance(obj, aiosqlite.Connection) and getattr(obj, "_running", False)
    ]
    for conn in leaked:
        conn.stop()
    if leaked:
        warnings.warn(f"{len(leaked)} SQLite connection(s) left open by a test", stacklevel=1)


@pytest.fixture(scope="session")
def pg_template(pg_cluster: Cluster) -> str:
    """A database with every migration applied, copied for each test (much faster than
    migrating each one)."""
    if _ClusterState.template is None:
        from storage.postgres import PostgresDatabase

        url = pg_cluster.create_database("template")

        async def migrate() -> None:
            db = PostgresDatabase(url)
            await db.connect()
            await db.close()

        asyncio.run(migrate())
        _ClusterState.template = url.rsplit("/", 1)[1]
    return _ClusterState.template


@pytest.fixture
def pg_database(pg_cluster: Cluster, pg_template: str) -> Iterator[str]:
    """A migrated database of this test's own; its URL."""
    url = pg_cluster.create_database(template=pg_template)
    try:
        yield url
    finally:
        pg_cluster.drop_database(url)


@pytest.fixture(autouse=True)
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    name = str(getattr(request, "param", "sqlite") or "sqlite")
    if name == "postgresql":
        url = request.getfixturevalue("pg_database")
        current_backend.use(url)
        try:
            yield name
        finally:
            current_backend.use(None)
    else:
        yield name
