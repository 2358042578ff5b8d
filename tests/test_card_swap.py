"""A card swapped in the reader never pays the bill of the card that was read and shown (issue 11, item 1).

On every transport — in-process, a serial card terminal on a real pty, PC/SC through pcscd + vpcd — a
different card in the reader when the bill is charged (swapped after the read, or while the PIN is typed) is
refused with card_swapped, "卡已更换，请重新读卡", and nothing is written. At the window the screen then
shows the card now in the reader.
"""

from __future__ import annotations

import asyncio
import re

import pytest
from ui_pilot import AMOXICILLIN_LINE, enter_bill, press, screen_text, wait_for, window

from drivers.errors import CardError
from terminal.card_session import CardIdentity, CardSession
from terminal.domain.bill import parse_bill

BILL = {"med_type": "11", "items": [{"code": "X001", "name": "阿莫西林胶囊", "category": "drug", "class": "A",
                                     "qty": "2", "price": 12550}]}
SWAPPED_ZH = "卡已更换，请重新读卡"
DEMO_BALC = 356000 - 30000   # 张伟 on the demo centre: ¥300.00 of his account is in his sister 张敏's wallet


@pytest.fixture
def ledger(cfg):
    """The window's ledger on the embedded centre holding the demo data."""
    from terminal.services.demo_db import ensure_demo_db
    from terminal.services.ledger import open_ledger
    ensure_demo_db(cfg)
    ledger = open_ledger(cfg)
    yield ledger
    ledger.close()


def centre_all(cfg, sql: str) -> list[tuple]:
    from centre.store.engine import open_store
    store = open_store(cfg.resolve(cfg.centre.db))
    try:
        return [tuple(r) for r in store.db().all(sql)]
    finally:
        store.close()


def money(ledger) -> tuple:
    """Everything a charge would move at the centre: rows written, and the balances of both families."""
    q = lambda sql: centre_all(ledger.cfg, sql)    # noqa: E731
    return (q("SELECT count(*) FROM settlements"), q("SELECT count(*) FROM ledger"),
            tuple(q("SELECT psn_no, balc FROM accounts ORDER BY psn_no")))


def bindings(ledger) -> tuple:
    return tuple(centre_all(ledger.cfg, "SELECT count(*), sum(status = 'active') FROM bindings"))


def card(profile: str, state_dir):
    from emulator.profiles import load_card
    return load_card(profile, state_dir)


def assert_swapped(exc: CardError) -> None:
    assert exc.code == "card_swapped"
    assert exc.localized("zh").startswith(SWAPPED_ZH) and "A10000001" in exc.message_zh
    assert exc.localized("en").startswith("The card was changed: read the card again")
    words = re.sub(r"[A-Z][0-9]{8}", "", exc.message_zh)                 # card numbers aside ...
    assert not re.search(r"[A-Za-z]", words), exc.message_zh             # ... one language


class SwapWhilePinTyped(CardSession):
    """The card is swapped right after its PIN was checked (a patient hands over another card meanwhile)."""

    swap = staticmethod(lambda: None)

    def verify_pin(self, pin):
        super().verify_pin(pin)
        self.swap()


# ---------------------------------------------------------------- the service, on each transport

def test_inprocess_swap_after_the_read_is_refused(ledger, cfg, state_dir):
    from emulator.inprocess import InProcessReader
    reader = InProcessReader(card("zhang_wei", state_dir))
    shown = CardIdentity.of(CardSession(reader, cfg).read())     # the card on screen
    before = money(ledger)
    reader.insert(card("chen_jie", state_dir))                   # another card, before F5
    with pytest.raises(CardError) as caught:
        ledger.settle(CardSession(reader, cfg), parse_bill(BILL), pin="123456", expected_card=shown)
    assert_swapped(caught.value)
    assert money(ledger) == before


def test_inprocess_swap_while_the_pin_is_typed_is_refused(ledger, cfg, state_dir):
    from emulator.inprocess import InProcessReader
    reader = InProcessReader(card("zhang_wei", state_dir))
    session = SwapWhilePinTyped(reader, cfg)
    session.swap = lambda: reader.insert(card("chen_jie", state_dir))
    before = money(ledger)
    with pytest.raises(CardError) as caught:          # the command line: the card read is the card shown
        ledger.settle(session, parse_bill(BILL), pin="123456")
    assert_swapped(caught.value)
    assert money(ledger) == before


def test_inprocess_bind_and_unbind_refuse_a_swapped_card(ledger, cfg, state_dir):
    from emulator.inprocess import InProcessReader
    reader = InProcessReader(card("zhang_wei", state_dir))
    shown = CardIdentity.of(CardSession(reader, cfg).read())
    reader.insert(card("li_na", state_dir))                      # 李娜 could bind her own relatives ...
    before = (money(ledger), bindings(ledger))
    for call in (lambda s: ledger.bind(s, "123456", "A10000004", "51", today="2026-11-29", expected_card=shown),
                 lambda s: ledger.unbind(s, "123456", "A10000003", today="2026-11-29", expected_card=shown)):
        with pytest.raises(CardError) as caught:                 # ... but not on 张伟's screen
            call(CardSession(reader, cfg))
        assert_swapped(caught.value)
    assert (money(ledger), bindings(ledger)) == before


def test_serial_swap_after_the_read_is_refused(ledger, cfg, state_dir, tmp_path):
    from serial_support import reader_on, terminal_with
    with terminal_with("zhang_wei", state_dir, tmp_path, keypad=["123456"]) as term, reader_on(term) as reader:
        shown = CardIdentity.of(CardSession(reader, cfg).read())
        before = money(ledger)
        term.remove()
        term.insert(card("chen_jie", state_dir))                 # between two status polls: no event
        with pytest.raises(CardError) as caught:
            ledger.settle(CardSession(reader, cfg), parse_bill(BILL), pin=None, expected_card=shown)
    assert_swapped(caught.value)
    assert money(ledger) == before


def test_serial_swap_while_the_pin_is_typed_on_the_keypad_is_refused(ledger, cfg, state_dir, tmp_path):
    """The terminal cannot tell: it verifies the PIN typed on whatever card is in it then. The commit can."""
    from serial_support import reader_on

    from emulator.serial_terminal import Keypad, SerialTerminal

    class SwappingKeypad(Keypad):
        def take(self, timeout):
            term.remove()
            term.insert(card("chen_jie", state_dir))
            return "123456"

    term = SerialTerminal(card("zhang_wei", state_dir), tmp_path / "ttyT1", keypad=SwappingKeypad()).start()
    try:
        with reader_on(term) as reader:
            before = money(ledger)
            with pytest.raises(CardError) as caught:
                ledger.settle(CardSession(reader, cfg), parse_bill(BILL), pin=None)
    finally:
        term.stop()
    assert_swapped(caught.value)
    assert money(ledger) == before


@pytest.mark.pcsc
def test_pcsc_swap_after_the_read_is_refused(ledger, cfg, state_dir, pcsc_reader_factory):
    reader = pcsc_reader_factory("zhang_wei")
    shown = CardIdentity.of(CardSession(reader, cfg).read())
    before = money(ledger)
    pcsc_reader_factory.serve_card(card("chen_jie", state_dir))   # pulled, another card in the same slot
    with pytest.raises(CardError) as caught:
        ledger.settle(CardSession(reader, cfg), parse_bill(BILL), pin="123456", expected_card=shown)
    assert_swapped(caught.value)
    assert money(ledger) == before


@pytest.mark.pcsc
def test_pcsc_swap_while_the_pin_is_typed_is_refused(ledger, cfg, state_dir, pcsc_reader_factory):
    reader = pcsc_reader_factory("zhang_wei")
    session = SwapWhilePinTyped(reader, cfg)
    session.swap = lambda: pcsc_reader_factory.serve_card(card("chen_jie", state_dir))
    before = money(ledger)
    with pytest.raises(CardError) as caught:
        ledger.settle(session, parse_bill(BILL), pin="123456")
    assert_swapped(caught.value)
    assert money(ledger) == before


# ---------------------------------------------------------------- at the window, through a real pty

@pytest.fixture
def terminal(tmp_path, state_dir):
    from emulator.serial_terminal import SerialTerminal
    term = SerialTerminal(card("zhang_wei", state_dir), link=tmp_path / "ttyCT").start()
    yield term
    term.stop()


async def _to_payment(app, pilot) -> None:
    await wait_for(app, pilot, lambda: type(app.screen).__name__ == "PatientScreen", timeout=10)
    await press(app, pilot, "f2")
    await enter_bill(app, pilot, [AMOXICILLIN_LINE])
    await press(app, pilot, "f5")
    assert type(app.screen).__name__ == "PaymentScreen" and "张伟" in screen_text(app)


def swap(terminal, other) -> None:
    """Out and in faster than the reader's status poll (a paste of "remove" and "insert" on the emulator's
    stdin): one step for the terminal, so no poll falls between them."""
    with terminal._lock:
        terminal.remove()
        terminal.insert(other)


def _new_patient_shown(app) -> bool:
    return type(app.screen).__name__ == "PatientScreen" and app.screen.card.card.card_no == "C30000007"


def _rows(cfg) -> tuple:
    """Settlements and ledger entries at the centre."""
    return (centre_all(cfg, "SELECT count(*) FROM settlements")[0][0],
            centre_all(cfg, "SELECT count(*) FROM ledger")[0][0])


def balance(cfg, psn_no: str) -> int:
    """The account's balance as the centre has it."""
    return centre_all(cfg, f"SELECT balc FROM accounts WHERE psn_no = '{psn_no}'")[0][0]


async def test_window_swap_on_the_payment_screen_settles_nobody(cfg, terminal, state_dir):
    """remove, insert chen_jie on the terminal, then F5 and the PIN: the old bill is not charged to 陈𬌗."""
    async with window(cfg, reader_spec=f"serial:{terminal.path}", demo=False) as (app, pilot):
        await _to_payment(app, pilot)
        swap(terminal, card("chen_jie", state_dir))
        terminal.keypad.type("123456")
        await press(app, pilot, "f5")
        await wait_for(app, pilot, lambda: _new_patient_shown(app), timeout=15)
        text = screen_text(app)
        assert SWAPPED_ZH in text and "陈𬌗" in text
        assert "张伟 的账单(1 项)未结算,已保留" in text         # the old bill is not lost either
    assert _rows(cfg) == (0, 0)
    assert balance(cfg, "P10000001") == DEMO_BALC and balance(cfg, "P30000006") == 80000


async def test_window_swap_while_the_pin_is_typed_on_the_keypad_settles_nobody(cfg, terminal, state_dir):
    async with window(cfg, reader_spec=f"serial:{terminal.path}", demo=False) as (app, pilot):
        await _to_payment(app, pilot)
        await pilot.press("f5")                           # the terminal now waits for the PIN on its keypad
        for _ in range(100):                              # (no waiting for workers: this one waits for the PIN)
            await pilot.pause(0.05)
            if "等待读卡器键盘输入密码" in screen_text(app):
                break
        assert "等待读卡器键盘输入密码" in screen_text(app)
        await asyncio.sleep(0.5)
        swap(terminal, card("chen_jie", state_dir))
        terminal.keypad.type("123456")                   # typed, on 陈𬌗's card
        await wait_for(app, pilot, lambda: _new_patient_shown(app), timeout=15)
        assert SWAPPED_ZH in screen_text(app)
    assert _rows(cfg) == (0, 0)
    assert balance(cfg, "P10000001") == DEMO_BALC and balance(cfg, "P30000006") == 80000
