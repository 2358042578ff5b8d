"""emulator.pcscd_runner without touching pcscd: the lock, foreign-daemon detection, skip-or-fail."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import pcsc_stack
from emulator import pcscd_runner
from emulator.pcscd_runner import PcscdUnavailable, foreign_pcscd, machine_lock, running_pcscd_pids

HOLD_LOCK = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
sys.stdin.readline()
"""


def test_the_lock_waits_for_another_run_then_gives_up(tmp_path: Path):
    lock = tmp_path / "pcscd.lock"
    other = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(lock)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "locked"
        t0 = time.monotonic()
        with pytest.raises(PcscdUnavailable, match="held the PC/SC lock"):
            with machine_lock(timeout=0.5, path=lock):
                pass
        assert 0.4 < time.monotonic() - t0 < 3
    finally:
        other.stdin.close()
        other.wait(10)
    with machine_lock(timeout=2, path=lock):  # free once the other run ends
        assert lock.read_text().strip() == str(os.getpid())


def test_a_pcscd_we_did_not_start_is_refused(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(pcscd_runner, "running_pcscd_pids", lambda: [4242, 777])
    why = foreign_pcscd(ours=777)
    assert why and "4242" in why and "777" not in why and "did not start" in why
    assert foreign_pcscd(ours=None) and "777" in foreign_pcscd(ours=None)
    monkeypatch.setattr(pcscd_runner, "running_pcscd_pids", lambda: [777])
    assert foreign_pcscd(ours=777) is None


def test_process_scan_finds_processes_by_comm_only():
    pids = running_pcscd_pids()
    assert os.getpid() not in pids
    for pid in pids:
        assert Path(f"/proc/{pid}/comm").read_text().strip() == "pcscd"


def test_missing_pcscd_is_a_reason(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(pcscd_runner, "pcscd_path", lambda: None)
    assert "pcscd is not installed" in pcscd_runner.missing_parts()
    monkeypatch.setattr(pcscd_runner, "pcscd_path", lambda: "/usr/sbin/pcscd")
    monkeypatch.setattr(pcscd_runner, "VPCD_CONF", Path("/nonexistent/vpcd"))
    assert "vsmartcard-vpcd" in pcscd_runner.missing_parts()


def test_unavailable_stack_skips_but_fails_under_ci(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no root"):
        pcsc_stack._unavailable("no root")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true: no root"):
        pcsc_stack._unavailable("no root")


def test_a_held_comm_socket_without_pcscd_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import socket
    path = tmp_path / "pcscd.comm"
    assert not pcscd_runner.comm_socket_listening(path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    assert not pcscd_runner.comm_socket_listening(path)      # bound is not listening
    server.listen(1)
    try:
        assert pcscd_runner.comm_socket_listening(path)
        monkeypatch.setattr(pcscd_runner, "running_pcscd_pids", lambda: [])
        monkeypatch.setattr(pcscd_runner, "COMM_SOCKET", path)
        monkeypatch.setattr(pcscd_runner, "comm_socket_listening", lambda p=path: True)
        assert "pcscd.socket" in foreign_pcscd()
    finally:
        server.close()



_KILLED_RUN = r"""
import subprocess, sys
sys.path.insert(0, sys.argv[1])
from emulator.pcscd_runner import _die_with_parent
child = subprocess.Popen(["sleep", "60"], start_new_session=True, preexec_fn=_die_with_parent)
print(child.pid, flush=True)
child.wait()
"""


def test_a_run_killed_hard_takes_its_daemon_with_it():
    """SIGKILL skips every teardown; the kernel still ends what the run started the way pcscd is started.

    (The suite's own pcscd holds the machine's one slot, so a stand-in process is started with the
    runner's exact pre-exec hook.)
    """
    root = str(Path(__file__).resolve().parent.parent)
    run = subprocess.Popen([sys.executable, "-c", _KILLED_RUN, root], stdout=subprocess.PIPE, text=True)
    try:
        pid = int(run.stdout.readline())
    finally:
        run.kill()
        run.wait()
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"
