"""A throwaway PostgreSQL cluster the tests start and stop themselves.

Never a server the project did not start: initdb into a temp dir, listen on a free
loopback port (and a socket in the same dir), stop and delete it afterwards. The server
refuses to run as root, so when the tests run as root the cluster belongs to Debian's
``postgres`` account (or ``nobody``) and every server command runs as that user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

SEARCH_DIRS = ("/usr/lib/postgresql",)


class ClusterUnavailable(RuntimeError):
    """No PostgreSQL server can be started here; the message says why."""


def server_bin_dir() -> Path:
    """The newest installed server's bin dir (Debian keeps them out of PATH)."""
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).parent
    for root in SEARCH_DIRS:
        versions = sorted(
            (p for p in Path(root).glob("*/bin") if (p / "pg_ctl").exists()),
            key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        )
        if versions:
            return versions[-1]
    raise ClusterUnavailable(
        "no PostgreSQL server installed (apt-get install postgresql); .ci/run installs it"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_account() -> pwd.struct_passwd | None:
    """Whom the server runs as: ourselves, unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise ClusterUnavailable("running as root and no unprivileged account to run the server")


class Cluster:
    """initdb, start, hand out databases, stop."""

    def __init__(self) -> None:
        self.bin = server_bin_dir()
        self.account = _server_account()
        self.root = Path(tempfile.mkdtemp(prefix="jiayuan-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.user = "jiayuan"
        self._counter = 0

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.account is not None:
            command = ["runuser", "-u", self.account.pw_name, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=check, timeout=120)

    def start(self) -> Cluster:
        if self.account is not None:
            os.chown(self.root, self.account.pw_uid, self.account.pw_gid)
        try:
            self._run(
                "initdb", "-D", str(self.data), "-U", self.user, "--auth=trust",
                "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync",
            )  # fmt: skip
            # Durability off: a test cluster is thrown away, speed is what counts. In the
            # config file rather than on the command line so resume() starts it the same.
            with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
                conf.write(
                    f"\nlisten_addresses = '127.0.0.1'\nport = {self.port}\n"
                    f"unix_socket_directories = '{self.root}'\n"
                    "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                    "max_connections = 300\nshared_buffers = 128MB\n"
                )
            self.resume()
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            detail = getattr(exc, "stderr", "") or ""
            self.stop()
            raise ClusterUnavailable(
                f"could not start PostgreSQL: {exc} {detail}".strip()
            ) from exc
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def admin_sql(self, sql: str) -> None:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql.encode())

    def create_database(self, prefix: str = "t", template: str | None = None) -> str:
        """A new empty (or copied) database; returns its URL."""
        self._counter += 1
        name = f"{prefix}_{os.getpid()}_{self._counter}"
        clause = f" TEMPLATE {template}" if template else ""
        self.admin_sql(f"CREATE DATABASE {name}{clause}")
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        self.admin_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def pause(self) -> None:
        """Stop the server, keeping its data (the bot must wait and recover)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def resume(self) -> None:
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"),
            "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)
