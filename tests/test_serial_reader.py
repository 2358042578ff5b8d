"""The serial card terminal end to end through a real pty: card reads, keypad PIN, faults."""

from __future__ import annotations

import threading
import time

import pytest
from card_helpers import PROFILE_IDS, QUIRKS, psam
from serial_support import reader_on, terminal_with

from drivers.errors import CardError
from drivers.serial_t1.reader import SerialReader
from drivers.ssse import SocialSecurityCard, read_card
from emulator.inprocess import InProcessReader
from emulator.profiles import load_card
from emulator.serial_terminal import LineFaults


def inprocess_read(profile: str, state_dir, **options) -> dict:
    with InProcessReader(load_card(profile, state_dir, **options)) as r:
        r.connect()
        return read_card(r, psam()).to_json()


@pytest.mark.parametrize("profile", PROFILE_IDS)
def test_full_card_read_matches_the_inprocess_read(profile, state_dir, tmp_path):
    with terminal_with(profile, state_dir, tmp_path) as term, reader_on(term) as reader:
        atr = reader.connect()
        assert atr == term.card.atr
        got = read_card(reader, psam()).to_json()
    assert got == inprocess_read(profile, state_dir)


@pytest.mark.parametrize("quirks", QUIRKS[-1:])
def test_card_quirks_read_the_same_over_serial(quirks, state_dir, tmp_path):
    """61xx / GET RESPONSE, 6Cxx, FCI on SELECT: the APDU rules run unchanged over the serial line."""
    with terminal_with("li_na", state_dir, tmp_path, **quirks) as term, reader_on(term) as reader:
        reader.connect()
        got = read_card(reader, psam()).to_json()
    assert got == inprocess_read("li_na", state_dir, **quirks)


@pytest.mark.parametrize("rate, runs", [(0.01, 3), (0.03, 3), (0.05, 3)])
def test_noisy_line_reads_the_card_exactly_or_fails_clearly(rate, runs, state_dir, tmp_path):
    """Bits flipped in 1% / 5% of bytes, both ways: exactly the right data, or LINE_ERROR — never wrong data."""
    want = inprocess_read("zhang_wei", state_dir)
    ok = 0
    for seed in range(runs):
        faults = LineFaults(flip_rate=rate, seed=seed)
        with terminal_with("zhang_wei", state_dir, tmp_path, faults) as term, reader_on(term, bwt=0.3) as reader:
            try:
                reader.connect()
                assert read_card(reader, psam()).to_json() == want
                ok += 1
            except CardError as exc:
                assert exc.code == "line_error", exc.message
    if rate <= 0.01:
        assert ok >= runs - 1


def test_keypad_pin_right_and_the_pin_never_crosses_the_line(state_dir, tmp_path):
    sent = []
    with terminal_with("zhang_wei", state_dir, tmp_path, keypad=["123456"]) as term, \
            reader_on(term, trace=lambda d, b: sent.append(b.encode()) if d == ">" else None) as reader:
        reader.connect()
        card = SocialSecurityCard(reader, psam())
        card.select_application()
        card.verify_pin_on_keypad(timeout=5)
    wire = b"".join(sent)
    assert bytes.fromhex("123456") not in wire and b"123456" not in wire
    assert bytes.fromhex("20180100") in wire  # PERFORM VERIFICATION went to the terminal


def test_keypad_pin_wrong_tells_tries_left(state_dir, tmp_path):
    with terminal_with("zhang_wei", state_dir, tmp_path, keypad=["111111", "123456"]) as term, \
            reader_on(term) as reader:
        reader.connect()
        card = SocialSecurityCard(reader, psam())
        card.select_application()
        with pytest.raises(CardError) as info:
            card.verify_pin_on_keypad(timeout=5)
        assert info.value.code == "pin_wrong" and info.value.tries_left == 2
        card.verify_pin_on_keypad(timeout=5)  # the right one now


def test_keypad_pin_on_a_blocked_card(state_dir, tmp_path):
    with terminal_with("wang_fang", state_dir, tmp_path, keypad=["123456"]) as term, reader_on(term) as reader:
        reader.connect()
        card = SocialSecurityCard(reader, psam())
        card.select_application()
        with pytest.raises(CardError) as info:
            card.verify_pin_on_keypad(timeout=5)
        assert info.value.code == "pin_blocked"


def test_keypad_waits_with_wtx_and_times_out_clearly(state_dir, tmp_path):
    """PIN typed 1.5 s late (host BWT 1 s): WTX keeps the line alive. Nobody typing: a clear timeout."""
    with terminal_with("zhang_wei", state_dir, tmp_path) as term, reader_on(term, timeout=1.0) as reader:
        reader.connect()
        SocialSecurityCard(reader, psam()).select_application()
        threading.Timer(1.5, term.keypad.type, ("123456",)).start()
        assert reader.verify_on_keypad(0x00, timeout=5) == 0x9000
        assert reader.link.stats["wtx"] >= 2
        start = time.monotonic()
        with pytest.raises(CardError) as info:
            reader.verify_on_keypad(0x00, timeout=1)
        assert info.value.code == "timeout" and "keypad" in info.value.message
        assert time.monotonic() - start < 4


def test_card_removed_mid_command(state_dir, tmp_path):
    """The card is pulled while the terminal is busy with a command: CARD_REMOVED, not a hang."""
    faults = LineFaults(stall_s=1.5, stall_every=3)
    with terminal_with("zhang_wei", state_dir, tmp_path, faults) as term, reader_on(term) as reader:
        reader.connect()
        threading.Timer(0.5, term.remove).start()
        start = time.monotonic()
        with pytest.raises(CardError) as info:
            read_card(reader, psam())
        assert info.value.code == "card_removed"
        assert time.monotonic() - start < 3
        assert reader.atr == b"" and not reader.card_present()


def test_card_removed_during_pin_entry(state_dir, tmp_path):
    with terminal_with("zhang_wei", state_dir, tmp_path) as term, reader_on(term) as reader:
        reader.connect()
        threading.Timer(0.5, term.remove).start()
        with pytest.raises(CardError) as info:
            reader.verify_on_keypad(0x00, timeout=10)
        assert info.value.code == "card_removed"


def test_another_card_put_in_is_not_the_session_card(state_dir, tmp_path):
    with terminal_with("zhang_wei", state_dir, tmp_path) as term, reader_on(term) as reader:
        reader.connect()
        term.insert(load_card("li_na", state_dir))
        with pytest.raises(CardError) as info:
            read_card(reader, psam())
        assert info.value.code == "card_removed"
        reader.connect()
        assert read_card(reader, psam()).card.card_no == "A10000002"


def test_terminal_unplugged_is_a_clear_error_not_a_hang(state_dir, tmp_path):
    with terminal_with("zhang_wei", state_dir, tmp_path) as term, reader_on(term) as reader:
        reader.connect()
        term.unplug()
        start = time.monotonic()
        with pytest.raises(CardError) as info:
            read_card(reader, psam())
        assert time.monotonic() - start < 2
        assert info.value.code == "reader_error"
        assert "went away" in info.value.message


def test_no_card_and_waiting_for_one(state_dir, tmp_path):
    with terminal_with(None, state_dir, tmp_path) as term, reader_on(term) as reader:
        assert not reader.card_present()
        with pytest.raises(CardError) as info:
            reader.connect()
        assert info.value.code == "no_card"
        threading.Timer(0.5, term.insert, (load_card("zhang_wei", state_dir),)).start()
        assert reader.connect(wait_s=3) == bytes.fromhex("3B6D0000008C544CB386844116018593CA")
        assert reader.status() == 0x05  # present and powered


def test_insert_and_remove_events_by_polling(state_dir, tmp_path):
    with terminal_with(None, state_dir, tmp_path) as term, reader_on(term) as reader:
        events = []
        got = threading.Event()

        def listener(ev):
            events.append(ev.kind)
            got.set()

        reader.add_listener(listener)
        time.sleep(0.4)
        term.insert(load_card("zhang_wei", state_dir))
        assert got.wait(2)
        got.clear()
        term.remove()
        assert got.wait(2)
        reader.remove_listener(listener)
    assert events == ["inserted", "removed"]


def test_a_path_with_no_terminal_is_a_clear_error(tmp_path):
    with pytest.raises(CardError) as info:
        SerialReader(str(tmp_path / "nothing-here"))
    assert info.value.code == "reader_error" and "cannot open the card terminal" in info.value.message


def test_loop_url_opens_and_fails_clearly_without_a_terminal():
    """`loop://` echoes our own blocks back: no terminal answers RESYNCH — a bounded, clear error."""
    reader = SerialReader("loop://", timeout=1.0)
    start = time.monotonic()
    with pytest.raises(CardError) as info:
        reader.connect()
    assert info.value.code in ("line_error", "timeout")
    assert time.monotonic() - start < 3
    reader.close()


@pytest.mark.parametrize("profile", ["zhang_wei", "li_na", "chen_jie"])
def test_serial_read_equals_the_other_transports(card_reader, profile, state_dir, tmp_path):
    """The same CardRead over the serial terminal as over the in-process reader and PC/SC (pcscd + vpcd)."""
    other = card_reader(profile)
    other.connect()
    want = read_card(other, psam()).to_json()
    with terminal_with(profile, state_dir, tmp_path) as term, reader_on(term) as reader:
        reader.connect()
        assert read_card(reader, psam()).to_json() == want


def _relay(listener, slave_path: str, stop: threading.Event) -> None:
    """A terminal server (like ser2net): one TCP client <-> the pty, byte for byte."""
    import os
    import select
    conn, _ = listener.accept()
    fd = os.open(slave_path, os.O_RDWR | os.O_NOCTTY)
    try:
        while not stop.is_set():
            ready, _, _ = select.select([conn, fd], [], [], 0.1)
            if conn in ready:
                data = conn.recv(4096)
                if not data:
                    return
                os.write(fd, data)
            if fd in ready:
                conn.sendall(os.read(fd, 4096))
    finally:
        os.close(fd)
        conn.close()


def test_socket_url_through_a_terminal_server(state_dir, tmp_path):
    """`serial:socket://HOST:PORT` reads the card through a TCP terminal server in front of the pty."""
    import socket
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()
    with terminal_with("zhang_wei", state_dir, tmp_path) as term:
        relay = threading.Thread(target=_relay, args=(listener, term.slave_path, stop), daemon=True)
        relay.start()
        with SerialReader(f"socket://127.0.0.1:{port}") as reader:
            reader.connect()
            assert read_card(reader, psam()).holder.certno == "410102197805126716"
        stop.set()
        relay.join(timeout=2)
    listener.close()


def test_terminal_unplugged_during_pin_entry(state_dir, tmp_path):
    with terminal_with("zhang_wei", state_dir, tmp_path) as term, reader_on(term) as reader:
        reader.connect()
        threading.Timer(0.5, term.unplug).start()
        start = time.monotonic()
        with pytest.raises(CardError) as info:
            reader.verify_on_keypad(0x00, timeout=30)
        assert info.value.code == "reader_error"
        assert time.monotonic() - start < 3
