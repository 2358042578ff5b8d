"""Group commit for a centre answering many windows at once (the HTTP server's threads).

At synchronous=FULL every COMMIT waits for the disk; one COMMIT per message makes the disk the queue, and a
window's answer waits behind every other window's fsync. Here the request threads hand their write work to
one writer thread, which runs everything that is waiting in one transaction — each piece of work in its own
SAVEPOINT, so a refusal undoes only its own writes — and COMMITs once. Nothing is answered before the COMMIT
that holds it has returned: an acknowledged settlement is on disk exactly as before, and the work still runs
one piece after another, each seeing the writes of those before it (as if serial).

The embedded, single-threaded centre does not use it (it would only add a thread hop).
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import Any, Callable, TypeVar

from centre.store.engine import Database, Store

T = TypeVar("T")
MAX_BATCH = 64


class GroupCommit:
    """`run(work)` from any thread: `work(db)` runs in a shared write transaction on the writer's connection."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._queue: queue.SimpleQueue[tuple[Callable[[Database], Any], Future[Any]]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    def run(self, work: Callable[[Database], T]) -> T:
        """Run `work` in the next group's transaction; its result once that transaction has committed."""
        self._ensure_started()
        done: Future[T] = Future()
        self._queue.put((work, done))
        return done.result()

    def _ensure_started(self) -> None:
        if self._thread is None:
            with self._start:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._loop, name="centre-group-commit", daemon=True)
                    self._thread.start()

    def _loop(self) -> None:
        db = self.store.db()
        while True:
            batch = [self._queue.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._commit(db, batch)

    @staticmethod
    def _commit(db: Database, batch: list[tuple[Callable[[Database], Any], Future[Any]]]) -> None:
        outcomes: list[tuple[Future[Any], Any, BaseException | None]] = []
        try:
            with db.write():
                for work, done in batch:
                    try:
                        with db.write():                 # nested: a SAVEPOINT of its own
                            outcomes.append((done, work(db), None))
                    except Exception as exc:             # handed to the thread that asked
                        outcomes.append((done, None, exc))
        except Exception as exc:                         # BEGIN or COMMIT failed: nothing holds
            for _work, done in batch:
                done.set_exception(exc)
            return
        for done, result, error in outcomes:
            if error is None:
                done.set_result(result)
            else:
                done.set_exception(error)
