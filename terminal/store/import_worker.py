"""Large imports: a second process reads and validates the export while this one writes.

`_Worker` starts the reading process (`_validate_worker`, spawned, never forked), takes its chunks of
rows off the pipe in file order and writes them through the main process's `_Importer`.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Callable

from terminal.domain.mutual_aid import MutualAidPolicy
from terminal.error_codes import E
from terminal.store.import_lines import ImportReport, Progress, _Importer, _read_lines

READ_AHEAD = 32  # chunks of the reading process queued ahead of the writes


def _file_of(conn: sqlite3.Connection) -> str:
    """The main database's file, or "" for an in-memory one."""
    for _seq, name, file in conn.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return file or ""
    return ""


class _Worker:
    """Large files: a second process reads and validates while this one writes (the JSON work and the
    SQLite work overlap on two cores). Rows arrive in chunks, in file order, over a pipe."""

    def __init__(self, path: Path, db_file: str, stamp: str, policy: MutualAidPolicy) -> None:
        import multiprocessing
        ctx = multiprocessing.get_context("spawn")  # never fork a process holding an open SQLite connection
        self.path = path
        self.recv, send = ctx.Pipe(duplex=False)
        self.proc = ctx.Process(target=_validate_worker, args=(str(path), db_file, stamp, policy, send),
                                daemon=True)
        self.proc.start()
        send.close()

    def kill(self) -> None:
        """Not needed after all (the file was imported before, or could not be read, or the import failed
        before reading): stop it now. Harmless when it has ended."""
        self.recv.close()
        self.proc.kill()
        self.proc.join()

    def receive(self, imp: _Importer, progress: Progress | None) -> None:
        """Write the rows as they come; at the end take the worker's counts, errors and held-back lines.

        A thread of this process takes the chunks off the pipe as bytes (it waits in the read, without the
        GIL) into a queue up to READ_AHEAD chunks deep, so neither process stalls the other each time one
        of them is briefly off the CPU of a busy machine; this thread unpickles them as it writes."""
        import pickle
        import queue
        import threading
        chunks: queue.Queue = queue.Queue(maxsize=READ_AHEAD)

        def pump() -> None:
            try:
                while True:
                    chunks.put(self.recv.recv_bytes())
            except (EOFError, OSError):  # the worker has ended (after its "end" or "fail"), or died
                chunks.put(None)

        def next_message() -> tuple:
            data = chunks.get()
            return ("eof",) if data is None else pickle.loads(data)

        thread = threading.Thread(target=pump, name="import-pipe", daemon=True)
        thread.start()
        done = False
        try:
            self._receive(imp, progress, next_message)
            done = True
        finally:
            if not done:
                self.proc.kill()  # abandoned: no more chunks; let the pump see the end of the pipe
            while thread.is_alive():
                try:
                    chunks.get_nowait()
                except queue.Empty:
                    thread.join(0.01)
            self.recv.close()
            self.proc.join(timeout=10)
            if self.proc.is_alive():
                self.proc.kill()
                self.proc.join()

    def _receive(self, imp: _Importer, progress: Progress | None, next_message: Callable[[], tuple]) -> None:
        path = self.path
        while True:
            msg = next_message()
            if msg[0] == "eof":
                raise E.IMPORT_WORKER.error()
            if msg[0] == "rows":
                imp.write(msg[1], msg[2], msg[3])
            elif msg[0] == "progress":
                if progress is not None:
                    progress(msg[1], msg[2])
            elif msg[0] == "end":
                _, lines, bad, errors, pending, ended = msg
                imp.report.lines += lines
                imp.report.bad += bad
                imp.report.errors.extend(errors)
                imp.pending.extend(pending)
                imp.ended.extend(ended)
                return
            else:
                raise E.IMPORT_FILE.error(f"cannot read {path}: {msg[1]}", f"无法读取导入文件 {path}")


def _validate_worker(path: str, db_file: str, stamp: str, policy: MutualAidPolicy, out) -> None:
    """The reading process: validate, send chunks; references are checked against the database as it was
    before this import (a read-only connection) and against the persons of the file itself."""
    try:
        lookup = sqlite3.connect(Path(db_file).as_uri() + "?mode=ro", uri=True)
        report = ImportReport(path)
        imp = _Importer(report, lookup, sink=lambda kind, rows, linenos: out.send(("rows", kind, rows, linenos)),
                        policy=policy)
        imp.stamp = stamp
        with open(path, "rb") as fh:
            _read_lines(imp, fh, os.path.getsize(path), lambda done, total: out.send(("progress", done, total)))
        imp.flush()
        out.send(("end", report.lines, report.bad, report.errors, imp.pending, imp.ended))
    except BaseException as exc:
        try:
            out.send(("fail", f"{type(exc).__name__}: {exc}"))
        except OSError:
            pass
    finally:
        out.close()
