"""A throwaway PostgreSQL of our own (Debian's `postgresql` package): for the test suite and the benchmarks.

`initdb` in a new temporary folder, run as an unprivileged user (`nobody` when we are root: PostgreSQL refuses
to run as root), the server listening only on a Unix socket in that folder (no TCP port, nothing shared with
another PostgreSQL on this machine), started and stopped by its own PID — never by name. The folder goes
away with it.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

START_TIMEOUT_S = 30.0


class PgUnavailable(Exception):
    """PostgreSQL cannot be started here (not installed, or it failed): the reason."""


def bin_dir() -> Path:
    """The newest installed server's binaries (CASHIER_PG_BIN overrides)."""
    forced = os.environ.get("CASHIER_PG_BIN")
    if forced:
        return Path(forced)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(Path(p).parts[-3]))
    if not found:
        raise PgUnavailable("no PostgreSQL server installed (Debian package `postgresql`: `bash .ci/setup --test`)")
    return Path(found[-1]).parent


class LocalPostgres:
    """One cluster in a temporary folder. `start()`, `dsn(dbname)`, `create_database(name, template)`, `stop()`."""

    def __init__(self, *, durable: bool = False, settings: dict[str, str] | None = None) -> None:
        self.bin = bin_dir()
        self.durable = durable              # fsync on (benchmarks); off for tests, which never pull the plug
        self.settings = settings or {}
        self.user = _unprivileged()
        # the unprivileged user must reach the folder: under /tmp, whatever TMPDIR says (a short socket path too)
        base = "/tmp" if self.user is not None and os.path.isdir("/tmp") else None
        self.folder = Path(tempfile.mkdtemp(prefix="cashier-pg-", dir=base))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    # ------------------------------------------------------------------------------------------------
    def _as_user(self, argv: list[str]) -> list[str]:
        if self.user is None:
            return argv
        return ["setpriv", f"--reuid={self.user[0]}", f"--regid={self.user[1]}", "--clear-groups", *argv]

    def start(self) -> "LocalPostgres":
        if self.user is not None:
            os.chown(self.folder, self.user[0], self.user[1])
        os.chmod(self.folder, 0o700)
        if not self.data.exists():
            init = subprocess.run(self._as_user([str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                                                 "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]),
                                  capture_output=True, text=True, timeout=120)
            if init.returncode != 0:
                raise PgUnavailable(f"initdb failed: {init.stderr.strip() or init.stdout.strip()}")
        options = {"listen_addresses": "", "unix_socket_directories": str(self.folder), "max_connections": "300",
                   "fsync": "on" if self.durable else "off", "full_page_writes": "on" if self.durable else "off",
                   "synchronous_commit": "on", "shared_buffers": "128MB", "log_min_messages": "warning",
                   "deadlock_timeout": "200ms", **self.settings}
        argv = [str(self.bin / "postgres"), "-D", str(self.data)]
        for key, value in options.items():
            argv += ["-c", f"{key}={value}"]
        log = open(self.log, "ab")  # noqa: SIM115 - the server's own stderr, kept for a failure's message
        self.proc = subprocess.Popen(self._as_user(argv), stdout=log, stderr=log, start_new_session=True)
        log.close()
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        import psycopg
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise PgUnavailable(f"postgres exited ({self.proc.returncode}): {self.log_tail()}")
            try:
                psycopg.connect(self.dsn("postgres"), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                time.sleep(0.05)
        self.stop()
        raise PgUnavailable(f"postgres did not answer within {START_TIMEOUT_S:.0f} s: {self.log_tail()}")

    def log_tail(self, lines: int = 8) -> str:
        try:
            return " | ".join(self.log.read_text(errors="replace").strip().splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def dsn(self, dbname: str) -> str:
        return f"postgresql://postgres@/{dbname}?host={self.folder}"

    def admin(self) -> Any:
        import psycopg
        return psycopg.connect(self.dsn("postgres"), autocommit=True)

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new database (a copy of `template` when given: it must have no connection open); its DSN."""
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.dsn(name)

    def drop_database(self, name: str) -> None:
        with self.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self, remove: bool = True) -> None:
        """Fast shutdown of our own server (by its PID), then its folder."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)         # "fast" shutdown: roll back, close connections, stop
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        self.proc = None
        if remove:
            shutil.rmtree(self.folder, ignore_errors=True)


def _unprivileged() -> tuple[int, int] | None:
    """(uid, gid) to run the server as when we are root (`nobody`); None to run as ourselves."""
    if os.geteuid() != 0:
        return None
    if shutil.which("setpriv") is None:
        raise PgUnavailable("running as root and `setpriv` (util-linux) is missing: cannot drop to nobody")
    try:
        entry = pwd.getpwnam("nobody")
    except KeyError:
        raise PgUnavailable("running as root and there is no user `nobody` to run PostgreSQL as") from None
    return entry.pw_uid, entry.pw_gid
