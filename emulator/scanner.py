"""A serial code scanner on a real pty: each `scan(text)` sends the text and CR LF, as a scanner in serial mode.

The window opens the pty's slave (published as a symlink at `link`, like the serial card terminal) with
`drivers.scanner.SerialScanner`. As on a real serial port, a scan made while no program has the port open
is lost: `scan` says so (False) instead of queueing it for whoever opens the port later.
"""

from __future__ import annotations

import os
import select
import time
import tty
from pathlib import Path

LINE_END = b"\r\n"


class PtyScanner:
    """`scan(text)`, `host_listening()`, `wait_for_host(timeout)`, `stop()`; the host opens `path`."""

    def __init__(self, link: str | os.PathLike[str] | None = None, *, line_end: bytes = LINE_END) -> None:
        self.line_end = line_end
        self.link_path = Path(link) if link else None
        if self.link_path is not None and self.link_path.exists() and not self.link_path.is_symlink():
            raise FileExistsError(f"{self.link_path} exists and is not a link; not replacing it")
        self.master, slave = os.openpty()
        tty.setraw(slave)
        self.slave_path = os.ttyname(slave)
        os.close(slave)            # only a host holds the slave open: the master then sees it (no POLLHUP)
        os.set_blocking(self.master, False)
        if self.link_path is not None:
            if self.link_path.is_symlink():
                self.link_path.unlink()  # a link left by an earlier scanner
            self.link_path.symlink_to(self.slave_path)
        self.scans = 0

    @property
    def path(self) -> str:
        """What the host opens: the link, or the pty slave itself."""
        return str(self.link_path) if self.link_path is not None else self.slave_path

    def host_listening(self) -> bool:
        """Whether a program has the scanner's port open now."""
        if self.master < 0:
            return False
        poller = select.poll()
        poller.register(self.master, select.POLLHUP)
        return not any(ev & select.POLLHUP for _fd, ev in poller.poll(0))

    def wait_for_host(self, timeout_s: float) -> bool:
        end = time.monotonic() + timeout_s
        while not self.host_listening():
            if time.monotonic() >= end:
                return False
            time.sleep(0.02)
        return True

    def scan(self, text: str) -> bool:
        """Send one scan; False (nothing sent) when no host has the port open."""
        if not self.host_listening():
            return False
        self._drain()
        data = text.encode("utf-8") + self.line_end
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self.master, view):]
            except BlockingIOError:    # the host is not reading: wait for room
                select.select([], [self.master], [], 0.05)
            except OSError:            # the host closed the port mid-scan
                return False
        self.scans += 1
        return True

    def _drain(self) -> None:
        """Whatever the host wrote (a scanner takes no commands here): read and dropped."""
        try:
            while os.read(self.master, 4096):
                pass
        except OSError:
            pass

    def stop(self) -> None:
        if self.master >= 0:
            os.close(self.master)
            self.master = -1
        if self.link_path is not None and self.link_path.is_symlink():
            self.link_path.unlink()

    def __enter__(self) -> "PtyScanner":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = ["PtyScanner"]
