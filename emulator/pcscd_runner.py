"""Start and stop our own pcscd, and only ours.

Only one pcscd can run on a machine and vpcd's ports are single, so every user of
the real PC/SC stack (the test suite, the benchmark, the UI's PC/SC test) goes
through here: take the machine-wide lock, refuse a pcscd we did not start, start
`pcscd --foreground`, wait until the reader list answers, stop it by its PID.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

COMM_SOCKET = Path("/run/pcscd/pcscd.comm")
VPCD_CONF = Path("/etc/reader.conf.d/vpcd")
VPCD_READERS = ("Virtual PCD 00 00", "Virtual PCD 00 01")
LOCK_FILE = Path(tempfile.gettempdir()) / "cashier-pcscd.lock"


class PcscdUnavailable(RuntimeError):
    """pcscd cannot be used here (not installed, a foreign daemon, would not start)."""


def pcscd_path() -> str | None:
    """The pcscd binary (often in /usr/sbin, which a user's PATH may lack)."""
    found = shutil.which("pcscd")
    if found:
        return found
    for candidate in ("/usr/sbin/pcscd", "/usr/local/sbin/pcscd"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def running_pcscd_pids() -> list[int]:
    """PIDs of every process whose comm is pcscd (reads /proc; never signals anything)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if comm == "pcscd":
            pids.append(int(entry.name))
    return pids


def missing_parts() -> str | None:
    """Why the stack cannot run here (None when pcscd and vpcd are installed)."""
    if pcscd_path() is None:
        return "pcscd is not installed (Debian: apt-get install pcscd)"
    if not VPCD_CONF.exists():
        return f"vpcd is not installed ({VPCD_CONF} missing; Debian: apt-get install vsmartcard-vpcd)"
    return None


def comm_socket_listening(path: Path = COMM_SOCKET) -> bool:
    """Whether some process listens on pcscd's socket (read from /proc/net/unix: no connection made,
    so a socket-activated pcscd is not started by looking)."""
    try:
        lines = Path("/proc/net/unix").read_text().splitlines()[1:]
    except OSError:
        return False
    for line in lines:
        fields = line.split()
        if len(fields) >= 8 and fields[7] == str(path) and int(fields[3], 16) & 0x10000:  # __SO_ACCEPTCON
            return True
    return False


def foreign_pcscd(ours: int | None = None) -> str | None:
    """A reason to refuse when a pcscd we did not start is running (or its socket is held for one)."""
    others = [pid for pid in running_pcscd_pids() if pid != ours]
    if others:
        return (f"a pcscd we did not start is running (PID {', '.join(map(str, others))}); "
                "refusing to touch it — stop it yourself to run the PC/SC path")
    if ours is None and comm_socket_listening():
        return (f"something listens on {COMM_SOCKET} without a pcscd process (systemd's pcscd.socket?); "
                "refusing to touch it — e.g. `systemctl stop pcscd.socket` to run the PC/SC path")
    return None


def _polkit_flag(binary: str) -> list[str]:
    """pcsc-lite 2.x built with polkit needs --disable-polkit where no polkit daemon runs."""
    try:
        out = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return ["--disable-polkit"] if "--disable-polkit" in out.stdout + out.stderr else []


@contextlib.contextmanager
def machine_lock(timeout: float = 600.0, path: Path = LOCK_FILE) -> Iterator[None]:
    """Exclusive flock shared by every user of pcscd on this machine; waits up to `timeout`."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise PcscdUnavailable(f"another run held the PC/SC lock {path} for {timeout:.0f} s") from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)  # closing releases the lock


def visible_readers() -> list[str]:
    """PC/SC reader names, or [] when pcscd does not answer yet."""
    from drivers.errors import CardError
    from drivers.pcsc import list_readers
    try:
        return list_readers()
    except CardError:
        return []


@dataclass
class Pcscd:
    """A pcscd this process started; stop() signals only that PID."""

    proc: subprocess.Popen | None = None
    log_path: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / f"cashier-pcscd-{os.getpid()}.log")

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self, ready_timeout: float = 20.0, reader: str = VPCD_READERS[0]) -> "Pcscd":
        why = missing_parts() or foreign_pcscd()
        if why:
            raise PcscdUnavailable(why)
        binary = pcscd_path()
        assert binary is not None
        try:
            with open(self.log_path, "wb") as log:
                self.proc = subprocess.Popen([binary, "--foreground", *_polkit_flag(binary)], stdout=log,
                                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                             start_new_session=True, preexec_fn=_die_with_parent)
        except OSError as exc:
            raise PcscdUnavailable(f"cannot start pcscd: {exc}") from exc
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self.log_path.read_text(errors="replace")[-600:]
                self.proc = None
                raise PcscdUnavailable(f"pcscd exited at start (need root for /run/pcscd?): {tail.strip()}")
            if COMM_SOCKET.exists() and reader in visible_readers():
                return self
            time.sleep(0.05)
        self.stop()
        raise PcscdUnavailable(f"pcscd did not list {reader!r} within {ready_timeout:.0f} s")

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM our PID, wait, SIGKILL that PID only if it will not stop."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(grace)


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM pcscd when the thread that started it dies (Linux prctl).

    A run killed hard (SIGKILL, or a SIGTERM that skips teardown) would otherwise leave its pcscd
    behind, and every later run would refuse it as a pcscd it did not start.
    """
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


@contextlib.contextmanager
def own_pcscd(lock_timeout: float = 600.0) -> Iterator[Pcscd]:
    """Lock, start our pcscd, yield it, stop it: the one way to use the real stack."""
    with machine_lock(lock_timeout):
        daemon = Pcscd().start()
        try:
            yield daemon
        finally:
            daemon.stop()
