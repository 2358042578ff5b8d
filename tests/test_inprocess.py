"""The in-process reader: tray events, removal, fault hooks, use from several threads."""

from __future__ import annotations

import threading
import time

import pytest
from card_helpers import SELECT_SSSE, psam, tx

from drivers.errors import CardError
from drivers.ssse import read_card
from emulator.inprocess import InProcessReader
from emulator.profiles import load_card


def test_no_card(state_dir):
    r = InProcessReader(None)
    assert not r.card_present() and r.atr == b""
    with pytest.raises(CardError) as e:
        r.connect()
    assert e.value.code == "no_card"
    with pytest.raises(CardError) as e:
        r.transmit(bytes.fromhex("00A4040000"))
    assert e.value.code == "no_card"


def test_insert_and_remove_events(state_dir):
    r = InProcessReader(None)
    events = []
    r.add_listener(events.append)
    card = load_card("zhang_wei", state_dir)
    r.insert(card)
    assert r.connect() == card.atr
    r.remove()
    r.remove()  # twice: nothing more happens
    assert [e.kind for e in events] == ["inserted", "removed"]
    assert events[0].atr == card.atr and events[0].reader == r.name


def test_transmit_after_removal(state_dir):
    r = InProcessReader(load_card("zhang_wei", state_dir))
    tx(r, SELECT_SSSE)
    r.remove()
    with pytest.raises(CardError) as e:
        r.transmit(bytes.fromhex("00B2072C00"))
    assert e.value.code == "card_removed"


def test_card_swapped_between_commands(state_dir):
    """Another card in the slot does not continue the first card's session."""
    r = InProcessReader(load_card("zhang_wei", state_dir))
    tx(r, SELECT_SSSE)
    r.insert(load_card("li_na", state_dir))
    with pytest.raises(CardError) as e:
        r.transmit(bytes.fromhex("00B2072C00"))
    assert e.value.code == "card_removed"
    assert r.atr == b""
    r.connect()
    assert read_card(r, psam()).card.card_no == "A10000002"


def test_card_pulled_mid_read(state_dir):
    r = InProcessReader(load_card("zhang_wei", state_dir))
    r.faults.remove_after(5)
    with pytest.raises(CardError) as e:
        read_card(r, psam())
    assert e.value.code == "card_removed"
    assert not r.card_present()
    r.insert(load_card("zhang_wei", state_dir))  # put back: reads again
    assert read_card(r, psam()).card.card_no == "A10000001"


@pytest.mark.parametrize("nth", range(0, 20, 3))
def test_corrupted_response_is_a_card_error(state_dir, nth):
    """Whichever response of a read is corrupted, the read fails with the project's own error."""
    r = InProcessReader(load_card("chen_jie", state_dir))
    r.connect()
    sent = []
    orig = r.transmit

    def counting(apdu: bytes):
        sent.append(apdu)
        if len(sent) == nth + 1:
            r.faults.corrupt_next(1)
        return orig(apdu)

    r.transmit = counting  # type: ignore[method-assign]
    with pytest.raises(CardError) as e:
        read_card(r, psam())
    assert e.value.code in {"malformed", "checksum", "card_status", "wrong_card_type", "file_not_found",
                            "record_not_found", "external_auth_failed", "internal_auth_failed"}


def test_corrupt_flips_bytes(state_dir):
    r = InProcessReader(load_card("zhang_wei", state_dir))
    tx(r, SELECT_SSSE)
    r.faults.corrupt_next(2)
    data, sw = tx(r, "00 B2 07 2C 00")
    assert sw == 0x9000 and data == bytes(b ^ 0xFF for b in b"\x07\x09A10000001")
    assert tx(r, "00 A4 02 00 02 EF 05") == (b"", 0x6FFF)   # a bare status word inverted
    assert tx(r, "00 A4 02 00 02 EF 05") == (b"", 0x9000)


def test_delay(state_dir):
    r = InProcessReader(load_card("zhang_wei", state_dir))
    r.faults.delay_s = 0.05
    t = time.perf_counter()
    tx(r, SELECT_SSSE)
    assert time.perf_counter() - t >= 0.05


def test_threads_and_tray(state_dir):
    """Workers read while the tray swaps cards: every outcome is a read or a CardError."""
    r = InProcessReader(load_card("zhang_wei", state_dir))
    stop = threading.Event()
    errors: list[BaseException] = []
    reads = []

    def worker() -> None:
        while not stop.is_set():
            try:
                reads.append(read_card(r, psam()).card.card_no)
            except CardError:
                pass
            except BaseException as exc:  # anything else is a bug
                errors.append(exc)
                return

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for i in range(30):
        r.insert(load_card(["zhang_wei", "li_na"][i % 2], state_dir))
        time.sleep(0.005)
        if i % 3 == 0:
            r.remove()
    stop.set()
    for t in threads:
        t.join(5)
    assert not errors
    assert set(reads) <= {"A10000001", "A10000002"}
