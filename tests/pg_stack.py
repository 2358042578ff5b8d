"""pytest plugin: the centre's tests on both stores, SQLite and our own PostgreSQL.

Session fixture `pg_server`: a PostgreSQL of this run's own (`pg_cluster.LocalPostgres`: initdb in a temporary
folder as an unprivileged user, a Unix socket in that folder, stopped by its PID) with one database migrated
once as a template; each test's database is a copy of it (about 0.1 s) dropped after the test.
Where PostgreSQL cannot run, the PostgreSQL variants are skipped with the reason — unless CI=true, where
that is a failure.

`store_kind` is parametrised `sqlite` / `postgres` (marked `postgres`); `centre_where(name)` gives a fresh
centre database of that kind: a SQLite path in tmp_path (not yet created) or a PostgreSQL connection string.
"""

from __future__ import annotations

import itertools
import os
import queue
import threading
from pathlib import Path
from typing import Callable, Iterator

import pytest
from pg_cluster import LocalPostgres, PgUnavailable

TEMPLATE = "centre_template"
STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
# the ways into a served or embedded centre: both on SQLite, and HTTP (as a hospital runs it) on PostgreSQL
TRANSPORTS = ["inprocess", "http", pytest.param("http+postgres", marks=pytest.mark.postgres)]


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def _unavailable(reason: str) -> None:
    if _in_ci():
        pytest.fail(f"PostgreSQL unavailable under CI=true: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL unavailable: {reason}")


class PgServer:
    """Our cluster and its migrated template: `new_database()` -> the DSN of a fresh centre database.
    Used databases are dropped by a thread of their own (a drop waits for a checkpoint: no test waits for it)."""

    def __init__(self, cluster: LocalPostgres) -> None:
        self.cluster = cluster
        self._numbers = itertools.count(1)
        self._drops: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._dropper = threading.Thread(target=self._drop_loop, name="pg-drops", daemon=True)
        self._dropper.start()

    def new_database(self) -> str:
        return self.cluster.create_database(f"centre_{next(self._numbers)}", TEMPLATE)

    def drop(self, dsn: str) -> None:
        self._drops.put(dsn.rsplit("/", 1)[1].split("?", 1)[0])

    def _drop_loop(self) -> None:
        while (name := self._drops.get()) is not None:
            try:
                self.cluster.drop_database(name)
            except Exception:           # the cluster goes away at the end of the run anyway
                pass

    def close(self) -> None:
        self._drops.put(None)
        self._dropper.join(60)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    try:
        cluster = LocalPostgres().start()
    except PgUnavailable as exc:
        _unavailable(str(exc))
    try:
        from centre.store.migrate import migrate
        from centre.store.postgres import PgStore
        store = PgStore(cluster.create_database(TEMPLATE), min_size=1, max_size=1)
        try:
            migrate(store.db())
        finally:
            store.close()
        server = PgServer(cluster)
        yield server
        server.close()
    finally:
        cluster.stop()


class Databases:
    """Fresh centre databases of one kind: SQLite paths in `folder` (not yet created), or PostgreSQL databases
    (copies of the template) dropped by `close()` — call it after whatever used them has stopped."""

    def __init__(self, request: pytest.FixtureRequest, kind: str, folder: Path) -> None:
        self.request = request
        self.kind = kind
        self.folder = folder
        self.made: list[str] = []

    def new(self, name: str = "centre") -> Path | str:
        if self.kind == "sqlite":
            return self.folder / f"{name}.db"
        self.made.append(self.request.getfixturevalue("pg_server").new_database())
        return self.made[-1]

    def close(self) -> None:
        if self.made:
            server: PgServer = self.request.getfixturevalue("pg_server")
            for dsn in self.made:
                server.drop(dsn)
            self.made.clear()


def split_transport(param: str) -> tuple[str, str]:
    """A TRANSPORTS value -> (transport, store kind)."""
    transport, _, store = param.partition("+")
    return transport, store or "sqlite"


@pytest.fixture(params=STORES)
def store_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def centre_where(store_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[..., object]]:
    """where(name="centre") -> a new centre database of this test's store kind (a Path, or a DSN string)."""
    databases = Databases(request, store_kind, tmp_path)
    yield databases.new
    databases.close()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test that uses `pg_server` directly is a `postgres` test too (for `-m 'not postgres'`)."""
    for item in items:
        if "pg_server" in getattr(item, "fixturenames", ()) and item.get_closest_marker("postgres") is None:
            item.add_marker(pytest.mark.postgres)
