"""The bill: items added, removed and their quantity changed in place, and the pre-settlement split
updating as the cashier types.

Every amount comes from the domain (`terminal.domain.bill.parse_bill`) and the settlement service's
pre-settlement; this screen only collects the items (price typed in yuan, kept in fen). A patient who
cannot settle with insurance (card expired, insurance not active) sees the full self-pay split.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Input, Label

from centre.interface.codes import MedType
from terminal.domain.text import shown
from terminal.services.views import FamilyView
from terminal.ui.messages import PreSettled, WorkFailed
from terminal.ui.screens.base import CardScreen, ErrorLine, tcss
from terminal.ui.widgets.fields import fit
from terminal.ui.widgets.fit_table import Col, FitTable
from terminal.ui.widgets.money import parse_yuan, plain_number, yuan
from terminal.ui.widgets.split import SplitPanel, SplitPreview

ENTRY = ("in-code", "in-name", "in-class", "in-qty", "in-price")
NARROW = 100   # the app's -narrow breakpoint
PLACEHOLDERS = {"in-code": "bill.code", "in-name": "bill.item", "in-qty": "bill.qty", "in-price": "bill.price"}
AMOUNT_COL = 6


class BillScreen(SplitPreview, CardScreen):
    """Enter adds the line being typed; ↑/↓ choose an item in the table (from the entry row too: the
    inputs do not use those keys); F2 (or Enter on the table) changes the chosen item's quantity in place;
    F3 removes the chosen item; F7 changes the visit type; F5 pays (a line typed but not added is added first,
    as Enter would, or F5 stops and says what is wrong with it). Esc goes back to the patient and keeps
    the bill there while the same card stays in; a card pulled keeps it too, until that card comes back."""

    CSS_PATH = tcss(__file__)
    BINDINGS = [
        Binding("f5", "pay", "pay", key_display="F5"),
        Binding("f2", "edit_qty", "qty", key_display="F2"),
        Binding("f3", "remove_item", "remove", key_display="F3"),
        Binding("f7", "med_type", "medtype", key_display="F7"),
        Binding("up", "pick_row(-1)", "pick", key_display="↑↓"),
        Binding("down", "pick_row(1)", "pick", key_display="↓", show=False),
    ]
    LABELS = {"pay": "key.pay", "edit_qty": "key.edit_qty", "remove_item": "key.remove_row",
              "med_type": "key.medtype", "pick_row(-1)": "key.pick_row", "pick_row(1)": "key.pick_row"}

    family: FamilyView

    def __init__(self, card, family: FamilyView, items: list[dict] | None = None, med_type: str = "11",
                 entry: dict[str, str] | None = None) -> None:
        super().__init__()
        self.card = card
        self.family = family
        self.items: list[dict] = list(items or [])
        self.med_type = med_type
        self.entry = dict(entry or {})   # the line being typed, kept with the bill
        self.editing: int | None = None   # the row whose quantity is being changed
        self._asked: dict | None = None   # the bill whose split was last asked for
        self._answered = False            # and whether its answer is in
        self._refused_while: dict | None = None   # the bill asked for when a typed value was last refused

    def compose(self) -> ComposeResult:
        t = self.t
        yield from self.compose_frame_top()
        with Horizontal(id="bill"):
            with Vertical(id="left"):
                with Horizontal(id="bill-head"):
                    yield Label(f"{t('bill.title')} · {self.card.holder.full_name}", id="bill-title")
                    yield Label("", id="med-type")
                yield FitTable([Col("#", 2), Col(t("bill.code"), 4, flex=1), Col(t("bill.item"), 6, flex=3),
                                Col(t("col.class"), 4), Col(t("bill.qty"), 4, right=True),
                                Col(t("bill.price"), 9, right=True), Col(t("bill.amount"), 10, right=True)],
                               id="items", zebra_stripes=True)
                yield Label(t("bill.empty"), id="items-empty")
                with Horizontal(id="qty-edit"):
                    yield Label("", id="qty-label")
                    yield Input(id="qty-input", max_length=10)   # checked on Enter: nothing dropped
                with Horizontal(id="entry-labels"):
                    for key, ident in (("bill.code", "l-code"), ("bill.item", "l-name"), ("bill.class", "l-class"),
                                       ("bill.qty", "l-qty"), ("bill.price", "l-price")):
                        yield Label(t(key), id=ident)
                with Horizontal(id="entry"):
                    yield Input(placeholder=t("bill.code"), id="in-code", max_length=20)
                    yield Input(placeholder=t("bill.item"), id="in-name", max_length=40)
                    yield Input(placeholder="A/B/C", id="in-class", max_length=1, restrict=r"[AaBbCc]?")
                    yield Input(placeholder=t("bill.qty"), id="in-qty", max_length=10)
                    yield Input(placeholder=t("bill.price"), id="in-price", max_length=12)
                yield ErrorLine(id="error")
            with Vertical(id="right"):
                yield SplitPanel(id="split")
                yield Label(t("bill.split_hint"), id="split-hint")
        yield from self.compose_frame_bottom()

    def on_mount(self) -> None:
        super().on_mount()
        t = self.t
        self.query_one("#split", SplitPanel).border_title = t("pay.self_pay") if self.self_pay_only else t("bill.split")
        self.query_one("#qty-edit").display = False
        for ident, value in self.entry.items():
            self.query_one(f"#{ident}", Input).value = value
        self._show_items()
        self._show_med_type()
        self.query_one("#in-code", Input).focus()
        self.on_resize()
        self.update_preview()

    def on_resize(self) -> None:
        """Under 100 columns the boxes are too small for their placeholders (the labels above name them)."""
        narrow = self.app.size.width < NARROW
        for ident, key in PLACEHOLDERS.items():
            self.query_one(f"#{ident}", Input).placeholder = "" if narrow else self.t(key)
        self._show_med_type()   # narrow: without its label, so the patient's name beside it stays whole

    def snapshot(self) -> dict:
        """The bill as it stands (items, visit type, the line being typed): kept when the card leaves."""
        entry = {ident: self.query_one(f"#{ident}", Input).value for ident in ENTRY}
        return {"items": list(self.items), "med_type": self.med_type, "entry": entry}

    # the items -------------------------------------------------------------------
    def _show_items(self) -> None:
        table = self.query_one("#items", FitTable)
        self._asked = None   # the amounts column is empty again: ask for the split anew
        table.show([([str(i), item["code"], item["name"], item["class"], str(item["qty"]),
                      yuan(item["price"]).lstrip("¥"), ""], None) for i, item in enumerate(self.items, 1)])
        self.query_one("#items-empty", Label).display = not self.items
        table.display = bool(self.items)
        if self.items:
            table.move_cursor(row=len(self.items) - 1)   # the newest item is the chosen one until ↑/↓

    def action_pick_row(self, step: int) -> None:
        """↑/↓ from the entry row move the items table's cursor (the table itself handles them when focused)."""
        table = self.query_one("#items", DataTable)
        if self.items and self.editing is None:
            table.move_cursor(row=max(0, min(len(self.items) - 1, table.cursor_row + step)))

    def _show_amounts(self, amounts: tuple[int, ...]) -> None:
        table = self.query_one("#items", FitTable)
        for row, value in zip(range(len(self.items)), amounts):
            table.update_text(row, AMOUNT_COL, yuan(value))

    def _show_med_type(self) -> None:
        label = "" if self.app.size.width < NARROW else f"{self.t('bill.med_type')}: "
        self.query_one("#med-type", Label).update(f"{label}{self.med_type} {self.t('med_type.' + self.med_type)}  (F7)")

    def draft(self) -> dict | None:
        """The line being typed, when it is complete enough to be an item."""
        return self._line()[0]

    def _line(self) -> tuple[dict | None, str]:
        """The line being typed as an item, or why it is not one ("" when nothing is typed at all)."""
        typed = {ident: self.query_one(f"#{ident}", Input).value.strip() for ident in ENTRY}
        if not any(typed.values()):
            return None, ""
        code, qty, price_text = typed["in-code"], typed["in-qty"] or "1", typed["in-price"]
        if not code or not price_text:
            return None, self.t("bill.bad_line")
        where = {"n": len(self.items) + 1, "code": code}
        if not plain_number(qty):
            return None, self.t("bill.bad_qty", got=shown(qty), **where)
        price = parse_yuan(price_text) if plain_number(price_text) else None
        if price is None:
            return None, self.t("bill.bad_price", got=shown(price_text), **where)
        return {"code": code, "name": typed["in-name"] or code, "category": "",
                "class": (typed["in-class"] or "A").upper(), "qty": qty, "price": price}, ""

    def _add_line(self) -> bool | None:
        """Add the line being typed, with every check (Enter, and F5 before it pays): True when added, False when
        refused (the reason shown, the line left to correct), None when nothing is typed."""
        from terminal.domain.bill import parse_bill
        error = self.query_one("#error", ErrorLine)
        item, refusal = self._line()
        if item is None:
            if refusal:
                self._refuse(refusal)
            return None if not refusal else False
        try:
            parse_bill({"med_type": self.med_type, "items": self.items + [item]})
        except Exception as exc:
            self._refuse(self.error_text(exc))
            return False
        error.clear()
        self.items.append(item)
        for ident in ENTRY:
            self.query_one(f"#{ident}", Input).value = ""
        self.query_one("#in-code", Input).focus()
        self._show_items()
        self.update_preview()
        return True

    @on(Input.Submitted)
    def add_item(self, event: Input.Submitted) -> None:
        """Enter adds the line being typed; on an empty line it pays."""
        if event.input.id == "qty-input":
            self._apply_qty(event.value)
            return
        if self._add_line() is None:
            if self.items:
                self.action_pay()
            else:
                self.query_one("#error", ErrorLine).show(self.t("bill.need_items"))

    @on(Input.Changed)
    def typing(self, event: Input.Changed) -> None:
        if event.input.id == "in-class" and event.value != event.value.upper():
            event.input.value = event.value.upper()   # A, B, C as the catalogue writes them
            return
        if event.input.id != "qty-input":
            self.update_preview()

    # the quantity, in place ----------------------------------------------------------
    def _chosen_row(self) -> int:
        table = self.query_one("#items", DataTable)
        return table.cursor_row if 0 <= table.cursor_row < len(self.items) else len(self.items) - 1

    def action_edit_qty(self) -> None:
        """F2: change the chosen item's quantity (the box opens under the table with the quantity selected)."""
        if not self.items:
            self.query_one("#error", ErrorLine).show(self.t("bill.nothing_to_edit"))
            return
        row = self._chosen_row()
        self.editing = row
        item = self.items[row]
        self.query_one("#qty-label", Label).update(self.t("bill.edit_qty", n=row + 1, name=fit(item["name"], 16)))
        box = self.query_one("#qty-input", Input)
        box.value = str(item["qty"])
        self.query_one("#qty-edit").display = True
        box.focus()
        box.select_all()
        self.query_one("#error", ErrorLine).clear()

    @on(DataTable.RowSelected, "#items")
    def row_chosen(self) -> None:
        self.action_edit_qty()

    def _apply_qty(self, text: str) -> None:
        from terminal.domain.bill import parse_bill
        row, error = self.editing, self.query_one("#error", ErrorLine)
        if row is None or not 0 <= row < len(self.items):
            self._end_edit()
            return
        items = [dict(item) for item in self.items]
        items[row]["qty"] = text.strip() or "0"
        if not plain_number(items[row]["qty"]):
            self._refuse(self.t("bill.bad_qty", n=row + 1, code=items[row]["code"], got=shown(text.strip())))
            return
        try:
            parse_bill({"med_type": self.med_type, "items": items})
        except Exception as exc:
            self._refuse(self.error_text(exc))   # the old quantity stands; the box stays open to correct it
            return
        self.items = items
        self._end_edit()
        self._show_items()
        self.query_one("#items", DataTable).move_cursor(row=row)
        error.show(self.t("bill.qty_changed", n=row + 1, name=items[row]["name"], qty=items[row]["qty"]), ok=True)
        self.update_preview()

    def _end_edit(self) -> None:
        self.editing = None
        self.query_one("#qty-edit").display = False
        self.query_one("#in-code", Input).focus()

    def action_remove_item(self) -> None:
        """F3: remove the highlighted row of the items table (↑/↓ choose it), and say which."""
        table = self.query_one("#items", DataTable)
        if not self.items:
            self.query_one("#error", ErrorLine).show(self.t("bill.nothing_to_remove"))
            return
        if self.editing is not None:
            self._end_edit()
        row = self._chosen_row()
        removed = self.items.pop(row)
        self._show_items()
        if self.items:
            table.move_cursor(row=min(row, len(self.items) - 1))
        self.query_one("#error", ErrorLine).show(self.t("bill.removed", n=row + 1, name=removed["name"]), ok=True)
        self.update_preview()

    def action_back(self) -> None:
        """Esc: while a quantity is being changed, leave it as it was; else back to the patient, who keeps
        this bill (F2 shows it again while the same card stays in)."""
        if self.editing is not None:
            self._end_edit()
            return
        from terminal.ui.screens.patient import PatientScreen
        below = self.app.screen_stack[-2] if len(self.app.screen_stack) > 1 else None
        if isinstance(below, PatientScreen):
            held = self.snapshot()
            below.keep_bill(held["items"], held["med_type"], held["entry"])
        super().action_back()

    def action_med_type(self) -> None:
        med_types = MedType.values()
        self.med_type = med_types[(med_types.index(self.med_type) + 1) % len(med_types)]
        self._show_med_type()
        self.update_preview()

    def bill_obj(self, with_draft: bool = True) -> dict | None:
        items = list(self.items)
        draft = self.draft() if with_draft else None
        if draft is not None:
            items.append(draft)
        return {"med_type": self.med_type, "items": items} if items else None

    # the split ---------------------------------------------------------------------
    def update_preview(self) -> None:
        from terminal.domain.bill import parse_bill
        obj = self.bill_obj()
        bill = None
        if obj is not None:
            try:
                bill = parse_bill(obj)
            except Exception:
                obj = self.bill_obj(with_draft=False) if self.items else None
                try:  # the line being typed is not valid yet: the split of the items so far
                    bill = parse_bill(obj) if obj is not None else None
                except Exception:
                    bill = None
        if bill is None:
            self._asked = None
            self._token = -1   # drop any answer still on its way
            self.preview = None
            self.query_one("#split", SplitPanel).show(None)
            return
        if obj == self._asked:   # a keystroke that leaves the bill as it was: the split asked for stands
            if self._answered:
                self._clear_refusal()   # as its answer did when it came
            return
        self._asked, self._answered = obj, False
        from terminal.ui import window_ops
        cfg, now, psn_no, self_pay = self.app.cfg, self.app.now(), self.psn_no, self.self_pay_only
        self.ask_split(lambda: window_ops.presettle(cfg, psn_no, bill, now=now, self_pay=self_pay))

    def show_money(self) -> None:
        """Back from a screen that may have moved money: the split asked again."""
        self._asked = None
        self.update_preview()

    def on_pre_settled(self, message: PreSettled) -> None:
        if not self.take_split(message):
            return
        amounts = message.result.item_amounts
        if amounts:
            self._show_amounts(amounts)
        self._answered = True
        if self._asked is None or self._refused_while is not self._asked:   # asked before a refusal: it stands
            self._clear_refusal()

    def _refuse(self, text: str) -> None:
        """Say why a typed value is refused: it stays until the bill changes (the split of the bill as it was when
        refused, arriving after, does not clear it)."""
        self._refused_while = self._asked
        self.query_one("#error", ErrorLine).show(text)

    def _clear_refusal(self) -> None:
        error = self.query_one("#error", ErrorLine)
        if not error.has_class("ok"):   # a refusal is over once the bill splits; a notice stays
            error.clear()

    def on_work_failed(self, message: WorkFailed) -> None:
        if message.action == "presettle":
            if not self.drop_split(message):
                return            # a bill edited since: its own answer is on the way
            self._asked = None   # the next keystroke asks again
            self.query_one("#error", ErrorLine).show(message.message)

    def action_pay(self) -> None:
        from terminal.domain.bill import parse_bill
        if self.editing is not None:
            self._apply_qty(self.query_one("#qty-input", Input).value)
            if self.editing is not None:
                return
        if self._add_line() is False:   # a line typed but not added: added as Enter would, or F5 stops
            return
        if not self.items:
            self.query_one("#error", ErrorLine).show(self.t("bill.need_items"))
            return
        try:
            bill = parse_bill(self.bill_obj(with_draft=False))
        except Exception as exc:
            self.query_one("#error", ErrorLine).show(self.error_text(exc))
            return
        from terminal.ui.screens.payment import PaymentScreen
        self.app.push_screen(PaymentScreen(self.card, self.family, bill))
