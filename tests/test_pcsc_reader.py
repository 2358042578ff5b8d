"""The PC/SC driver through the real pcscd + vpcd: reads, events, pulls, two slots, errors."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time

import pytest

from card_helpers import psam
from drivers.errors import CardError
from drivers.pcsc import PcscReader
from drivers.reader import CardEvent
from drivers.ssse import read_card
from emulator.inprocess import InProcessReader
from emulator.profiles import load_card

pytestmark = pytest.mark.pcsc
SLOT0, SLOT1 = "Virtual PCD 00 00", "Virtual PCD 00 01"


def holder_in_process(profile: str, state_dir, **options):
    return read_card(InProcessReader(load_card(profile, state_dir, **options)), psam()).holder


class Events:
    """Collects CardEvents from pyscard's monitor thread; waits with a bound."""

    def __init__(self) -> None:
        self.q: "queue.Queue[CardEvent]" = queue.Queue()

    def __call__(self, event: CardEvent) -> None:
        self.q.put(event)

    def kinds(self) -> list[str]:
        """The kinds of the events received so far and not taken by next()."""
        return [event.kind for event in list(self.q.queue)]

    def next(self, kind: str, timeout: float = 3.0) -> CardEvent:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {kind!r} event within {timeout} s")
            try:
                event = self.q.get(timeout=left)
            except queue.Empty:
                continue
            if event.kind == kind:
                return event


def test_reads_the_same_holder_as_in_process(pcsc_reader_factory, state_dir):
    for profile in ("li_na", "chen_jie", "liu_yang"):
        reader = pcsc_reader_factory(profile)
        result = read_card(reader, psam())
        assert result.holder == holder_in_process(profile, state_dir)
        assert result.atr == "3B6D0000008C544CB386844116018593CA" or result.atr
        assert reader.name == SLOT0


def test_first_reader_holding_a_card_is_picked(pcsc_reader_factory):
    pcsc_reader_factory("zhang_wei", slot=1)                      # slot 0 stays empty
    reader = PcscReader(None, timeout=2.0)
    try:
        assert set(reader.list_readers()) >= {SLOT0, SLOT1}
        assert read_card(reader, psam()).holder.name == "张伟"
        assert reader.name == SLOT1
    finally:
        reader.close()


def test_insert_and_remove_events_reach_the_listener(pcsc_reader_factory):
    stack = pcsc_reader_factory.stack
    stack.pull(0)
    watcher = PcscReader(SLOT0)
    events = Events()
    watcher.add_listener(events)
    try:
        pcsc_reader_factory("zhang_wei")
        inserted = events.next("inserted")
        assert inserted.reader == SLOT0 and inserted.atr.hex().upper().startswith("3B6D")
        stack.side(0).remove()
        assert events.next("removed").reader == SLOT0
    finally:
        watcher.remove_listener(events)
        watcher.close()


def test_a_failing_listener_does_not_stop_the_events(pcsc_reader_factory):
    pcsc_reader_factory.stack.pull(0)
    watcher = PcscReader(SLOT0)
    events = Events()

    def broken(event: CardEvent) -> None:
        raise RuntimeError("listener bug")

    watcher.add_listener(broken)
    watcher.add_listener(events)
    try:
        pcsc_reader_factory("zhang_wei")
        events.next("inserted")
        pcsc_reader_factory.stack.pull(0)
        events.next("removed")                                   # the monitor thread lived on
    finally:
        watcher.close()


def test_events_of_another_reader_are_not_delivered(pcsc_reader_factory):
    watcher = PcscReader(SLOT0)
    events = Events()
    watcher.add_listener(events)
    every = PcscReader(None)            # any reader: added after `watcher`, so pyscard's monitor tells it second
    seen = Events()
    every.add_listener(seen)
    try:
        pcsc_reader_factory("li_na", slot=1)
        assert seen.next("inserted").reader == SLOT1                # the monitor has told both by now
        assert "inserted" not in events.kinds()
    finally:
        every.close()
        watcher.close()


def test_a_card_reinserted_quickly_is_still_seen(pcsc_reader_factory):
    side = pcsc_reader_factory.stack.side(0)
    first = pcsc_reader_factory("zhang_wei")
    assert read_card(first, psam()).holder.name == "张伟"
    watcher = PcscReader(SLOT0)
    events = Events()
    watcher.add_listener(events)
    try:
        side.remove()
        side.insert(load_card("li_na", None), wait=5.0)         # at once: the card side keeps the gap
        events.next("removed")
        events.next("inserted", timeout=4.0)
        again = PcscReader(SLOT0, timeout=2.0)
        try:
            assert read_card(again, psam()).holder.name == "李娜"
        finally:
            again.close()
    finally:
        watcher.close()


class PulledAfter:
    """A card that is pulled out of its slot while answering its n-th APDU."""

    def __init__(self, card, side, n: int) -> None:
        self.card, self.side, self.n, self.count = card, side, n, 0
        self.atr = card.atr

    def power_on(self):
        return self.card.power_on()

    def power_off(self) -> None:
        self.card.power_off()

    def process(self, apdu: bytes) -> bytes:
        self.count += 1
        if self.count == self.n:
            threading.Thread(target=self.side.remove, daemon=True).start()
            assert self.side.wait_until(lambda side: side.card is None, timeout=5.0)  # pulled: the answer is lost
        return self.card.process(apdu)


def test_a_card_pulled_mid_read_gives_a_clear_error(pcsc_reader_factory, state_dir):
    side = pcsc_reader_factory.stack.side(0)
    reader = pcsc_reader_factory.serve_card(PulledAfter(load_card("li_na", state_dir), side, 5))
    t0 = time.monotonic()
    with pytest.raises(CardError) as err:
        read_card(reader, psam())
    assert err.value.code == "card_removed"
    assert "removed" in err.value.message
    assert time.monotonic() - t0 < 3.0
    with pytest.raises(CardError) as later:                     # no silent reconnect mid-session
        reader.transmit(bytes.fromhex("00A4040000"))
    assert later.value.code == "card_removed"
    with pytest.raises(CardError) as again:                     # and a new session finds no card
        reader.connect()
    assert again.value.code == "no_card"


def test_two_cards_in_two_slots_are_read_independently(pcsc_reader_factory):
    r0 = pcsc_reader_factory("zhang_wei", slot=0)
    r1 = pcsc_reader_factory("zhang_min", slot=1)
    assert r0.name == SLOT0 and r1.name == SLOT1
    results: dict[str, str] = {}

    def read(reader: PcscReader) -> None:
        for _ in range(5):
            results[reader.name] = read_card(reader, psam()).holder.name

    threads = [threading.Thread(target=read, args=(r,)) for r in (r0, r1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert results == {SLOT0: "张伟", SLOT1: "张敏"}


def test_no_card_and_no_reader_are_clear(pcsc_stack):
    pcsc_stack.pull(0)
    pcsc_stack.pull(1)
    for name, code in ((SLOT0, "no_card"), (None, "no_card"), ("Nonexistent Reader 9", "no_reader")):
        reader = PcscReader(name, timeout=1.0)
        try:
            with pytest.raises(CardError) as err:
                reader.connect()
            assert err.value.code == code, name
            assert not reader.card_present()
        finally:
            reader.close()


HOLD_EXCLUSIVE = """
import sys, time
from smartcard import scard as sc
rc, ctx = sc.SCardEstablishContext(sc.SCARD_SCOPE_USER)
rc, card, proto = sc.SCardConnect(ctx, sys.argv[1], sc.SCARD_SHARE_EXCLUSIVE, sc.SCARD_PROTOCOL_T0 | sc.SCARD_PROTOCOL_T1)
print("held" if rc == 0 else f"failed {rc:x}", flush=True)
sys.stdin.readline()
"""


def test_a_reader_held_exclusively_by_another_process_is_busy(pcsc_reader_factory):
    reader = pcsc_reader_factory("zhang_wei")
    holder = subprocess.Popen([sys.executable, "-c", HOLD_EXCLUSIVE, SLOT0], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        t0 = time.monotonic()
        with pytest.raises(CardError) as err:
            reader.connect()
        assert err.value.code == "reader_busy"
        assert "another program" in err.value.message
        assert time.monotonic() - t0 < 2.0
    finally:
        holder.stdin.close()
        holder.wait(10)
    deadline = time.monotonic() + 3.0                            # free again once pcscd sees it let go
    while True:
        try:
            assert read_card(reader, psam()).holder.name == "张伟"
            break
        except CardError as exc:
            if exc.code != "reader_busy" or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class NotSocialSecurity:
    """Some other smart card: knows no SSSE application."""

    atr = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")

    def power_on(self):
        return self.atr

    def power_off(self) -> None:
        pass

    def process(self, apdu: bytes) -> bytes:
        return b"\x6A\x82"


def test_an_unknown_card_is_the_wrong_card_type(pcsc_reader_factory):
    reader = pcsc_reader_factory.serve_card(NotSocialSecurity())
    with pytest.raises(CardError) as err:
        read_card(reader, psam())
    assert err.value.code == "wrong_card_type"
    assert err.value.reader_code == -1


class Silent(NotSocialSecurity):
    """A card that does not answer READ BINARY until the test lets it (vpcd itself would wait for ever)."""

    def __init__(self) -> None:
        self.answer = threading.Event()     # set by the test: answer now
        self.answered = threading.Event()   # set by the card: the late answer is on its way

    def process(self, apdu: bytes) -> bytes:
        if apdu[1] == 0xB0:
            self.answer.wait(30.0)
            self.answered.set()
        return b"\x90\x00"


def test_a_card_that_never_answers_times_out_instead_of_hanging(pcsc_reader_factory):
    card = Silent()
    name = pcsc_reader_factory.stack.serve(card, 0)
    reader = PcscReader(name, timeout=1.0)
    try:
        reader.connect()
        t0 = time.monotonic()
        with pytest.raises(CardError) as err:
            reader.transmit(bytes.fromhex("00B0000000"))
        assert err.value.code == "timeout"
        assert 0.9 < time.monotonic() - t0 < 2.5                 # the bound, plus the watchdog's 0.1 s tick
        with pytest.raises(CardError) as later:                 # the broken session stays broken
            reader.transmit(bytes.fromhex("00A4000000"))
        assert later.value.code == "timeout"
        card.answer.set()                                       # the card finally answers the old command
        assert card.answered.wait(5.0)
        reader.connect()
        assert reader.transmit(bytes.fromhex("00A4000000")) == (b"", 0x9000)
    finally:
        card.answer.set()
        reader.close()


# Cards with other habits (FCI, 61xx, 6Cxx, space padding) are read through PC/SC by the shared
# suite: tests/test_ssse_protocol.py::test_drivers_read_cards_with_other_habits[pcsc-...].
