"""Payment: which accounts pay and in which order, the PIN (masked, or on the reader's keypad), confirmation.

The split shown is the settlement service's pre-settlement for exactly these choices; the charge is
the service's `settle` (the card must be the card shown, PIN verified on the card, the card checked again
inside the transaction). Balances are read again when the screen opens and after every refusal.
When no insurance settlement is possible (card expired, insurance not active) the screen offers the way
on: full self-pay in cash, no PIN. A PIN that becomes blocked turns the split to cash, said in place.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Input, Label

from drivers.errors import CARD_SWAPPED, PIN_BLOCKED, PIN_WRONG
from terminal.error_codes import E
from terminal.services.views import FamilyView, Relative
from terminal.ui.messages import PreSettled, Settled, WorkFailed
from terminal.ui.screens.base import CardScreen, ErrorLine, tcss
from terminal.ui.widgets.fit_table import Col, FitTable
from terminal.ui.widgets.money import yuan
from terminal.ui.widgets.pin_input import PinInput
from terminal.ui.widgets.split import SplitPanel, SplitPreview
from terminal.ui.workers import run_service

MONEY = 11


class PaymentScreen(SplitPreview, CardScreen):
    """↑/↓: choose an account row (from the PIN box too); Space: use or skip the chosen relative (Space on
    the own account row = F7); Ctrl+↑/↓: reorder; F7: personal accounts on/off; Enter or F5: charge."""

    CSS_PATH = tcss(__file__)
    PAYING = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f5", "confirm", "confirm", key_display="F5"),
        Binding("f7", "toggle_accounts", "accounts", key_display="F7"),
        # priority: Space works while the PIN box has the focus (a PIN is digits only, Space types nothing)
        Binding("space", "toggle_row", "toggle", key_display="Space", priority=True),
        Binding("up", "pick_row(-1)", "pick", key_display="↑↓"),
        Binding("down", "pick_row(1)", "pick", key_display="↓", show=False),
        Binding("ctrl+up", "move(-1)", "up", key_display="Ctrl+↑", show=False),
        Binding("ctrl+down", "move(1)", "down", key_display="Ctrl+↓", show=False),
        # priority: every digit is the PIN's, in the order typed, even one that comes before the PIN box is up
        *(Binding(d, f"pin_digit('{d}')", d, show=False, priority=True) for d in "0123456789"),
    ]
    LABELS = {"confirm": "key.confirm", "toggle_accounts": "key.accounts", "toggle_row": "key.toggle",
              "move(-1)": "key.up", "move(1)": "key.down", "pick_row(-1)": "key.pick_row",
              "pick_row(1)": "key.pick_row"}

    family: FamilyView

    def __init__(self, card, family: FamilyView, bill) -> None:
        super().__init__()
        self.card = card
        self.family = family
        self.bill = bill
        self.request_id = uuid.uuid4().hex      # one per payment: a retry never charges twice
        self.order: list[Relative] = list(family.relatives)   # relatives in the order to draw on them
        self.skipped: set[str] = set()           # owners the cashier chose not to use
        self.acct_used = True
        self.busy = False
        self.self_pay = False                    # full self-pay in cash (set at mount when nothing else can)
        self._typed_ahead: list[str] | None = []  # PIN digits typed before the PIN box was up (None once it is)
        self._confirm_when_split = False         # F5 came before the split: charge once it is in
        self._split_refused: str | None = None   # why the newest split was refused, until one is given

    # what the patient has ------------------------------------------------------

    def own_balance(self) -> int | None:
        return self.family.own

    def chosen_relatives(self) -> list[str]:
        return [r.owner_psn_no for r in self.order if r.owner_psn_no not in self.skipped and not r.by_wallet]

    @property
    def keypad(self) -> bool:
        return bool(getattr(self.app.reader, "has_keypad", False))

    @property
    def voucher(self) -> bool:
        """The patient showed the e-voucher: no PIN at the window (confirmed in the app), accounts still pay."""
        from terminal.services.voucher_read import is_voucher
        return is_voucher(self.card)

    @property
    def id_card(self) -> bool:
        """The patient showed the resident ID card: no PIN (it has none); the personal account does not pay
        unless the centre allows it on the ID card (`[centre] id_card_account`)."""
        from terminal.services.voucher_read import is_id_card
        return is_id_card(self.card)

    @property
    def without_card(self) -> bool:
        """The e-voucher or the ID card: no card in the reader, no PIN box."""
        from terminal.services.voucher_read import without_card
        return without_card(self.card)

    def pin_needed(self) -> bool:
        """An account will pay (the service asks the card for the PIN then); never without a card."""
        return (not self.without_card and not self.self_pay and self.acct_used
                and self.preview is not None and self.preview.acct_pay > 0)

    # layout --------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        t = self.t
        yield from self.compose_frame_top()
        with Horizontal(id="payment"):
            with Vertical(id="left"):
                yield Label(f"{t('pay.title')} · {self.card.holder.full_name}", id="pay-title")
                yield Label(t("pay.self_pay_why", why=""), id="self-pay-why")
                yield Label(t("pay.order"), classes="section", id="order-title")
                yield FitTable([Col("#", 2), Col(t("col.use"), 4), Col(t("col.account"), 6, flex=1),
                                Col(t("col.available"), MONEY, right=True), Col(t("col.pays"), MONEY, right=True)],
                               id="accounts")
                yield Label("", id="accounts-state")
                with Vertical(id="pin-box"):
                    yield Label(t("pay.pin_keypad") if self.keypad else t("pay.pin_hint"), id="pin-hint")
                    yield PinInput(placeholder=t("pay.pin"), id="pin")
                yield ErrorLine(id="error")
                yield Label(t("pay.confirm_hint"), id="confirm-hint")
            with Vertical(id="right"):
                yield SplitPanel(id="split")
                with Horizontal(id="cash-due"):
                    yield Label(t("pay.cash_due"), id="cash-label")
                    yield Label("—", id="cash-value")
        yield from self.compose_frame_bottom()

    def on_mount(self) -> None:
        super().on_mount()
        t = self.t
        self.query_one("#split", SplitPanel).border_title = t("bill.split")
        pin = self.query_one("#pin", Input)
        if self.keypad:
            pin.display = False
        self.self_pay = self.self_pay_only
        why = self.query_one("#self-pay-why", Label)
        why.display = self.self_pay
        if self.self_pay:   # no insurance settlement possible: the way on is the whole bill in cash
            self.acct_used = False
            self.query_one("#pay-title", Label).update(
                f"{t('pay.title')} · {t('pay.self_pay')} · {self.card.holder.full_name}")
            self.query_one("#split", SplitPanel).border_title = t("pay.self_pay")
            why.update(t("pay.self_pay_why", why=self._why_self_pay()))
            self.query_one("#confirm-hint", Label).update(t("pay.self_pay_hint"))
            self.query_one("#pin-box").display = False
        elif self.id_card:            # the ID card: the fund and cash, the account only where the centre allows it
            self.acct_used = self.app.cfg.centre.id_card_account
            why.display = True
            why.update(t("pay.id_card_account_ok" if self.acct_used else "pay.id_card_why"))
        elif self.pin_blocked:
            self.acct_used = False    # the card refuses any PIN: the accounts cannot pay, say so at once
        elif self.card_pin_tries == 1:
            self.query_one("#error", ErrorLine).show(t("pat.pin_last_try"))
        self._show_accounts()
        self.update_preview()
        (self.query_one("#accounts") if (self.keypad or self.self_pay or self.without_card) else pin).focus()
        typed, self._typed_ahead = self._typed_ahead or [], None
        for digit in typed:
            self.action_pin_digit(digit)
        self.refresh_money()   # the balances as they are now, not as they were when the card was read

    def _why_self_pay(self) -> str:
        t = self.t
        if self.card_expired:
            return t("pay.why_expired")
        if self.centre_unreachable:
            return "医保中心无法连接" if self.app.lang == "zh" else "the insurance centre cannot be reached"
        stas = self.family.person.psn_insu_stas
        return t("pay.why_inactive", status=t(f"stas.{stas}") if t.has(f"stas.{stas}") else stas)

    def show_money(self) -> None:
        """The family accounts as read again: same order and choices, current amounts."""
        fresh = {r.owner_psn_no: r for r in self.family.relatives}
        order = [fresh[r.owner_psn_no] for r in self.order if r.owner_psn_no in fresh]
        order += [r for owner, r in fresh.items() if all(o.owner_psn_no != owner for o in order)]
        self.order = order
        self._show_accounts()
        self.update_preview()

    def _show_accounts(self) -> None:
        from centre.interface import relations
        t = self.t
        own = self.own_balance()
        preview = self.preview
        on = "[X]" if self.acct_used else "[ ]"
        rows: list = []
        if not self.self_pay:
            if own is not None:
                rows.append(([str(len(rows) + 1), on, t("pay.own"), yuan(own),
                              yuan(preview.own_acct_pay if preview is not None else None)], "own"))
            wallet_paid = preview.wallet_pay if preview is not None else 0
            wallet = self.family.wallet
            if wallet_paid or wallet:   # the patient's insurance wallet: their own money, after their own account
                rows.append(([str(len(rows) + 1), on, t("pay.wallet"), yuan(wallet) if wallet is not None else "",
                              yuan(wallet_paid)], "wallet"))
            for rel in self.order:
                owner = rel.owner_psn_no
                use = self.acct_used and owner not in self.skipped
                label = f"{rel.owner_name} ({t('rel.patient_is', name=relations.name(rel.relation, self.lang))})"
                if rel.by_wallet:   # pays nothing here: not a choice, the way is a wallet transfer (the note)
                    rows.append(([str(len(rows) + 1), "-", label, t("bind.by_wallet"), yuan(0)], owner))
                    continue
                paid = preview.paid_by(owner) if use and preview is not None else 0
                rows.append(([str(len(rows) + 1), "[X]" if use else "[ ]", label, yuan(rel.available), yuan(paid)],
                             owner))
        rows.append(([str(len(rows) + 1), "[X]", t("pay.self_pay") if self.self_pay else t("pay.cash"), "",
                      yuan(preview.psn_cash_pay if preview is not None else None)], "cash"))
        self.query_one("#accounts", FitTable).show(rows)
        state = self.query_one("#accounts-state", Label)
        state.display = not self.self_pay
        text = f"{t('pay.use_account')}: {t('yes') if self.acct_used else t('no')}  (F7)"
        if self.pin_blocked:
            text += f"  · {t('pay.pin_blocked')}"
        from terminal.services.wallet import by_wallet_owners
        owners = by_wallet_owners(self.order)
        if owners:   # a cross-province binding's ¥0.00: the way is a wallet transfer
            text += "\n" + t("fam.wallet_way", owner="、".join(owners))
        state.update(text)

    def _show_pin_state(self) -> None:
        hint = self.query_one("#pin-hint", Label)
        pin = self.query_one("#pin", Input)
        table = self.query_one("#accounts", DataTable)
        if not self.pin_needed():
            hint.update(self.t("pay.pin_voucher" if self.voucher else "pay.pin_id_card" if self.id_card
                               else "pay.pin_not_needed"))
            pin.display = pin.display and not self.without_card
            if self.focused is pin or self.focused is None:
                table.focus()              # a disabled box keeps no focus: the keys go on working
                self._pin_lent_focus = True
            pin.disabled = True
        else:
            hint.update(self.t("pay.pin_keypad") if self.keypad else self.t("pay.pin_hint"))
            pin.disabled = self.busy
            if getattr(self, "_pin_lent_focus", False) and not pin.disabled and pin.display:
                self._pin_lent_focus = False
                if self.focused is table:
                    pin.focus()           # the PIN is wanted again: back where the patient types it

    # choices -------------------------------------------------------------------
    def _row_key(self) -> str | None:
        table = self.query_one("#accounts", DataTable)
        if table.row_count == 0:
            return None
        return table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value

    def _row_owner(self) -> str | None:
        key = self._row_key()
        return key if key not in (None, "own", "wallet", "cash") else None

    def action_toggle_row(self) -> None:
        if self.self_pay:
            self.query_one("#error", ErrorLine).show(self.t("pay.self_pay_no_accounts"))
            return
        owner = self._row_owner()
        if owner is None:
            if self._row_key() in ("own", "wallet"):
                self.action_toggle_accounts()
            return
        rel = next((r for r in self.order if r.owner_psn_no == owner), None)
        if rel is not None and rel.by_wallet:
            self.query_one("#error", ErrorLine).show(self.t("pay.by_wallet_row", owner=rel.owner_name))
            return
        self.skipped ^= {owner}
        self._changed()

    def action_pick_row(self, step: int) -> None:
        """↑/↓ from the PIN box choose the account row (the table handles them itself when focused)."""
        table = self.query_one("#accounts", DataTable)
        if table.row_count:
            table.move_cursor(row=max(0, min(table.row_count - 1, table.cursor_row + step)))

    def action_move(self, step: int) -> None:
        owner = self._row_owner()
        if owner is None:
            return
        idx = next(i for i, r in enumerate(self.order) if r.owner_psn_no == owner)
        new = idx + step
        if 0 <= new < len(self.order):
            self.order.insert(new, self.order.pop(idx))
            table = self.query_one("#accounts", DataTable)
            self._changed()
            table.move_cursor(row=table.cursor_row + step)

    def action_toggle_accounts(self) -> None:
        if self.self_pay:
            self.query_one("#error", ErrorLine).show(self.t("pay.self_pay_no_accounts"))
            return
        if self.id_card and not self.acct_used and not self.app.cfg.centre.id_card_account:
            self.query_one("#error", ErrorLine).show(self.t("pay.id_card_no_account"))
            return
        self.acct_used = not self.acct_used
        self._changed()

    def _changed(self) -> None:
        """The cashier changed the choices: an old refusal (a wrong PIN, ...) no longer applies."""
        if not self.busy:
            self.query_one("#error", ErrorLine).clear()
        self._show_accounts()
        self.update_preview()

    # the split for these choices -------------------------------------------------
    def update_preview(self) -> None:
        from terminal.ui import window_ops
        cfg, now, psn_no, bill = self.app.cfg, self.app.now(), self.psn_no, self.bill
        relatives, acct_used, self_pay = self.chosen_relatives(), self.acct_used, self.self_pay
        self.ask_split(lambda: window_ops.presettle(cfg, psn_no, bill, relatives=relatives,
                                                    acct_used_flag=acct_used, now=now, self_pay=self_pay))

    def on_pre_settled(self, message: PreSettled) -> None:
        if not self.take_split(message):
            return
        self._split_refused = None
        self.query_one("#cash-value", Label).update(yuan(message.result.psn_cash_pay))
        self._show_accounts()
        self._show_pin_state()
        if self._confirm_when_split:
            self._confirm_when_split = False
            self.action_confirm()

    def action_pin_digit(self, digit: str) -> None:
        """A digit typed on this screen goes into the PIN box wherever the focus is. Keys a patient or a burst
        types right after F5 reach the screen before its PIN box has the focus; they are kept, in order."""
        if self._typed_ahead is not None:
            self._typed_ahead.append(digit)
            return
        pin = self.query_one("#pin", PinInput)
        if self.keypad or self.self_pay or self.without_card or pin.disabled or not pin.display:
            return                               # no PIN typed here, or a charge under way
        selection = pin.selection
        if selection.is_empty:
            pin.insert_text_at_cursor(digit)
        else:
            pin.replace(digit, *selection)

    # charge --------------------------------------------------------------------
    @on(Input.Submitted, "#pin")
    def pin_entered(self) -> None:
        self.action_confirm()

    @on(DataTable.RowSelected, "#accounts")
    def row_entered(self, event: DataTable.RowSelected) -> None:
        """Enter on the accounts table charges, as F5 does, when no PIN box waits for the PIN (e-voucher, ID
        card, self-pay, no account paying, the reader's keypad); with a PIN box up, Enter goes to the box."""
        event.stop()
        pin = self.query_one("#pin", PinInput)
        if self.pin_needed() and not self.keypad and pin.display and not pin.disabled:
            pin.focus()
            return
        self.action_confirm()

    def action_confirm(self) -> None:
        if self.busy:
            return
        if self.preview is None:
            if self._split_refused is not None:   # the split was refused: so would the charge be; say why again
                self.query_one("#error", ErrorLine).show(self._split_refused)
                return
            self._confirm_when_split = True   # Enter before the split is in (keys typed ahead): charge once it is
            return
        error = self.query_one("#error", ErrorLine)
        pin: str | None = None
        if self.pin_needed() and not self.keypad:
            pin = self.query_one("#pin", Input).value
            if not pin:
                error.show(self.t("pay.need_pin"))
                self.query_one("#pin", Input).focus()
                return
            box = self.query_one("#pin", PinInput)
            if not box.card_takes():      # refused here: the card is not asked, no try is spent
                error.show(self.t("pay.pin_invalid"))
                box.value = ""
                box.focus()
                return
        self.busy = True
        error.show(self.t(self._working_message()), ok=True)
        self._show_pin_state()
        self.charge(pin, self.chosen_relatives(), self.acct_used)

    def _working_message(self) -> str:
        """What the charge is doing: a PIN is checked only when an account pays."""
        if not self.pin_needed():
            return "pay.working_no_pin"
        return "pay.keypad_wait" if self.keypad else "pay.working"

    def charge(self, pin: str | None, relatives: list[str], acct_used: bool) -> None:
        from terminal.ui import window_ops
        app = self.app
        cfg, reader, now, bill, request_id = app.cfg, app.reader, app.now(), self.bill, self.request_id
        card, self_pay = self.card, self.self_pay
        run_service(self, "settle", lambda: window_ops.settle(cfg, reader, bill, pin=pin, relatives=relatives,
                                                              acct_used_flag=acct_used, request_id=request_id,
                                                              card=card, now=now, self_pay=self_pay),
                    lambda done: Settled(done[0], done[1], done[0].slip_path or ""))

    def on_work_failed(self, message: WorkFailed) -> None:
        if message.action == "family":
            return   # the balances could not be read again: the ones shown stay (the commit re-checks them)
        if message.action == "settle" and message.code == CARD_SWAPPED.code:
            self.app.card_changed(message.message)
            return
        if message.action == "presettle":
            if not self.drop_split(message):
                return             # the choices changed since: their own split is on the way
            self._split_refused = message.message
            self._confirm_when_split = False
            self._show_accounts()
        error = self.query_one("#error", ErrorLine)
        error.show(message.message)
        if message.action != "settle":
            return
        self.busy = False
        pin = self.query_one("#pin", Input)
        pin.value = ""
        patient = self.patient_screen
        if message.code == PIN_BLOCKED.code:   # no account can pay any more: the split turns to cash, said so
            if patient is not None:
                patient.pin_tries_left = 0
            self.acct_used = False
            self._show_accounts()
            self.update_preview()
            error.show(self.t("pay.pin_now_blocked"))
        elif message.code == PIN_WRONG.code and message.tries_left is not None:
            if patient is not None:
                patient.pin_tries_left = message.tries_left
            if message.tries_left == 1:
                error.show(self.t("pay.pin_last_try"))
        elif message.code in (E.INSUFFICIENT_BALANCE.code, E.INSUFFICIENT_QUOTA.code):
            self.refresh_money()   # another window spent it: show what is there now
        self._show_pin_state()
        if not pin.disabled and pin.display:
            pin.focus()

    def on_settled(self, message: Settled) -> None:
        from terminal.ui.screens.result import ResultScreen
        patient = self.patient_screen
        if patient is not None:
            patient.bill = {}   # charged: nothing left to keep for this card
        self.app.switch_screen(ResultScreen(self.card, message.result, message.slip_text, message.slip_path))
