"""`cashier emulator vpcd` serving a card and `cashier card read --reader pcsc` reading it.

Both as real processes through our pcscd: the read must give the same card and holder as
the in-process read of the same profile.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from drivers.errors import CardError
from drivers.pcsc import PcscReader, list_readers, wait_card_state

pytestmark = pytest.mark.pcsc
ROOT = Path(__file__).resolve().parent.parent
SLOT0 = "Virtual PCD 00 00"


def cashier(config: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "terminal.cli.main", "--config", str(config), *args],
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def read_json(config: Path, reader: str) -> tuple[int, dict]:
    done = cashier(config, "card", "read", "--reader", reader, "--json")
    return done.returncode, json.loads(done.stdout)


class Served:
    """`cashier emulator vpcd` as a child process we talk to on stdin."""

    def __init__(self, config: Path, profile: str, slot: int = 0) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "terminal.cli.main", "--config", str(config),
             "emulator", "vpcd", "--profile", profile, "--slot", str(slot)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        self.line()  # "serving ..."

    def line(self) -> str:
        assert self.proc.stdout is not None
        text = self.proc.stdout.readline()
        assert text, f"vpcd command ended: {self.proc.stderr.read() if self.proc.stderr else ''}"
        return text.strip()

    def say(self, command: str) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.line()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # our own child, by PID
        try:
            return self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(5)


@pytest.fixture
def served(pcsc_stack, config_file):
    pcsc_stack.pull(0)
    # the child's card side does not know when our last card left: pcscd must have seen the slot empty
    assert wait_card_state(SLOT0, False, 3.0)
    children: list[Served] = []

    def start(profile: str) -> Served:
        child = Served(config_file, profile)
        children.append(child)
        assert wait_card_state(SLOT0, True, 5.0), "pcscd never saw the served card"
        return child

    yield start
    for child in children:
        child.stop()
    wait_card_state(SLOT0, False, 3.0)


def test_card_read_through_pcsc_matches_the_in_process_read(served, config_file):
    served("li_na")
    code, via_pcsc = read_json(config_file, "pcsc")
    assert code == 0, via_pcsc
    code, in_process = read_json(config_file, "emulator:li_na")
    assert code == 0, in_process
    assert via_pcsc["holder"] == in_process["holder"]
    assert via_pcsc["holder"]["name"] == "李娜" and via_pcsc["holder"]["certno"] == "41010519800923682X"
    assert via_pcsc["card"] == in_process["card"]
    assert via_pcsc["atr"] == in_process["atr"]
    assert via_pcsc["line"] == in_process["line"]
    named = cashier(config_file, "card", "read", "--reader", f"pcsc:{SLOT0}", "--line")
    assert named.returncode == 0 and named.stdout.strip() == in_process["line"]


def test_stdin_switches_cards_and_sigterm_stops(served, config_file):
    child = served("zhang_wei")
    assert read_json(config_file, "pcsc")[1]["holder"]["name"] == "张伟"
    assert child.say("remove") == "removed"
    assert wait_card_state(SLOT0, False, 3.0)
    code, out = read_json(config_file, f"pcsc:{SLOT0}")
    assert code == 1 and out["error"]["code"] == "no_card"
    assert child.say("insert chen_jie") == "inserted chen_jie"
    assert wait_card_state(SLOT0, True, 5.0)
    assert read_json(config_file, "pcsc")[1]["holder"]["name"] == "陈𬌗"
    assert child.say("insert nobody").startswith("error:")       # still serving
    assert child.say("jump").startswith("error:")
    assert child.stop() == 0
    assert wait_card_state(SLOT0, False, 3.0)                    # clean shutdown: the card left


def test_unknown_profile_is_refused_at_start(pcsc_stack, config_file):
    done = cashier(config_file, "emulator", "vpcd", "--profile", "nobody", "--json")
    assert done.returncode == 2                                  # a usage error: no such card to serve
    assert json.loads(done.stdout)["error"]["code"] == "unknown_profile"


def test_without_pcscd_every_path_says_the_service_is_down(pcsc_stack, config_file):
    with pcsc_stack.without_pcscd():
        code, out = read_json(config_file, "pcsc")
        assert code == 1 and out["error"]["code"] == "no_service"
        assert "pcscd" in out["error"]["message"]
        reader = PcscReader(None, timeout=1.0)
        for action in (reader.connect, reader.list_readers, lambda: reader.add_listener(print), list_readers):
            with pytest.raises(CardError) as err:
                action()
            assert err.value.code == "no_service"
        assert reader.card_present() is False
        reader.close()
    assert SLOT0 in list_readers()                               # back for the tests that follow
