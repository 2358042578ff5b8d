"""One reader per kiosk: an `fcntl` lock file per reader spec, held by the app process.

Each browser connection starts its own app process (textual-serve), so two tabs would
otherwise fight over one card reader. The first process to take the lock owns the reader;
the kernel drops the lock when that process exits or dies, so a crashed tab never
leaves the kiosk locked.
"""

from __future__ import annotations

import fcntl
import os
import re
from pathlib import Path


def lock_name(reader_spec: str) -> str:
    """A file name for a reader spec: `pcsc:ACS ACR 38U 00` -> `kiosk-pcsc_ACS_ACR_38U_00.lock`.

    Every emulator profile shares one lock: the kiosk's emulator tray is one reader.
    """
    spec = reader_spec.strip()
    if spec.startswith("emulator"):
        spec = "emulator"
    return "kiosk-" + (re.sub(r"[^A-Za-z0-9.-]+", "_", spec).strip("_") or "reader") + ".lock"


class ReaderLock:
    """A non-blocking exclusive lock on `<lock_dir>/kiosk-<spec>.lock`."""

    def __init__(self, lock_dir: Path, reader_spec: str) -> None:
        self.path = Path(lock_dir) / lock_name(reader_spec)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; True when this process holds it now."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def holder_pid(self) -> int | None:
        """The pid written by the current holder (for messages), if any."""
        try:
            return int(self.path.read_text().strip() or 0) or None
        except (OSError, ValueError):
            return None
