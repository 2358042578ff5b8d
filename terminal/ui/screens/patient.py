"""The patient at the window: card and insurance details (ID masked), own balance, and every family
account that may pay for them, with relation and amount available. F2 opens the bill, F3 the bindings."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Label, Static

from terminal.domain import relations
from terminal.ui.screens.base import CardScreen, pick, tcss
from terminal.ui.widgets.fields import FieldPanel
from terminal.ui.widgets.masked_id import masked
from terminal.ui.widgets.money import money_cell, yuan


class PatientScreen(CardScreen):
    """Who is at the window and what may pay for them."""

    CSS_PATH = tcss(__file__)
    BINDINGS = [
        Binding("f2", "bill", "bill", key_display="F2"),
        Binding("f3", "bindings", "bindings", key_display="F3"),
    ]
    LABELS = {"bill": "key.bill", "bindings": "key.bindings"}

    def __init__(self, card, family, places: dict[str, str] | None = None,
                 pin_tries_left: int | None = None) -> None:
        super().__init__()
        self.card = card
        self.family = family
        self.places = places or {}
        self.pin_tries_left = pin_tries_left   # the card's PIN counter when read (0: blocked)
        self.bill: dict = {}   # the bill typed so far for this card (kept when the cashier goes back with Esc)

    def keep_bill(self, items: list[dict], med_type: str, entry: dict[str, str]) -> None:
        self.bill = {"items": list(items), "med_type": med_type, "entry": dict(entry)}
        if items:
            self.notify(self.t("bill.kept", n=len(items)), timeout=4)

    @property
    def person(self):
        return pick(self.family, "person")

    def compose(self) -> ComposeResult:
        t = self.t
        card, holder, person = self.card.card, self.card.holder, self.person
        yield from self.compose_frame_top()
        with Vertical(id="patient"):
            with Horizontal(id="who"):
                yield Static(holder.full_name or str(pick(person, "psn_name", "")), id="name")
                yield Label(t(f"gend.{holder.gend}") if t.has(f"gend.{holder.gend}") else "", id="gend")
                yield Label(f"{t('pat.certno')} {masked(holder.certno or pick(person, 'certno'))}", id="certno")
            with Horizontal(id="panels"):
                yield FieldPanel([
                    (t("pat.card_no"), card.card_no, False),
                    (t("pat.card_ver"), card.version, False),
                    (t("pat.valid"), f"{card.issue_date} ~ {card.expiry_date}", self.expired),
                    (t("pat.region"), self._region_text(card.region), False),
                    (t("pat.brdy"), holder.brdy, False),
                ], id="card-panel")
                insutype = str(pick(person, "insutype", ""))
                stas = str(pick(person, "psn_insu_stas", ""))
                yield FieldPanel([
                    (t("pat.psn_no"), str(pick(person, "psn_no", "")), False),
                    (t("pat.insutype"), f"{insutype} {t('insutype.' + insutype) if t.has('insutype.' + insutype) else ''}",
                     False),
                    (t("pat.status"), t(f"stas.{stas}") if t.has(f"stas.{stas}") else stas, not self.active),
                    (t("pat.insuplc"), self._region_text(pick(person, "insuplc_admdvs", "")), False),
                ], id="insu-panel")
            with Horizontal(id="own"):
                yield Label(t("pat.own"), id="own-label")
                own = self.own_balance()
                yield Static(yuan(own) if own is not None else t("pat.own_none"), id="own-balc",
                             classes="none" if own is None else "")
            yield Label(t("pat.family"), id="family-title")
            yield DataTable(id="family", cursor_type="row", zebra_stripes=True)
            yield Label("", id="family-none")
            with Horizontal(id="sum"):
                yield Label(t("pat.total_avail"), id="sum-label")
                yield Static(yuan(self.total_available()), id="sum-value")
            yield Label("", id="warnings")
        yield from self.compose_frame_bottom()

    @property
    def expired(self) -> bool:
        return self.card.card.expired(self.app.today())  # type: ignore[attr-defined]

    @property
    def active(self) -> bool:
        return str(pick(self.person, "psn_insu_stas", "1")) == "1"

    def _region_text(self, code: object) -> str:
        name = self.places.get(str(code))
        return f"{code} {name}" if name else str(code or "")

    def own_balance(self) -> int | None:
        own = pick(self.family, "own")
        if own is None or isinstance(own, int):
            return own  # type: ignore[return-value]
        return pick(own, "balc")  # type: ignore[return-value]

    def relatives(self) -> list:
        return list(pick(self.family, "relatives", []) or [])

    def total_available(self) -> int:
        return (self.own_balance() or 0) + sum(int(pick(r, "available", 0) or 0) for r in self.relatives())

    def on_mount(self) -> None:
        super().on_mount()
        t = self.t
        table = self.columns("#family", (("#", 3), ("col.owner", 16), ("col.relation", 28), ("col.scope", 14),
                                         ("col.available", 16)))
        for i, rel in enumerate(self.relatives(), 1):
            code = str(pick(rel, "relation", ""))
            scope = str(pick(rel, "scope", "local"))
            table.add_row(str(i), str(pick(rel, "owner_name", "")),
                          t("rel.patient_is", name=relations.name(code, self.lang)),
                          t(f"scope.{scope}") if t.has(f"scope.{scope}") else scope,
                          money_cell(int(pick(rel, "available", 0) or 0), 16))
        none = self.query_one("#family-none", Label)
        if not self.relatives():
            table.display = False
            none.update(t("pat.family_none"))
        else:
            none.display = False
        warnings = []
        if self.expired:
            warnings.append(t("pat.expired"))
        if not self.active:
            warnings.append(t("pat.inactive"))
        if self.pin_tries_left == 0:
            warnings.append(t("pat.pin_blocked"))
        w = self.query_one("#warnings", Label)
        if warnings:
            w.update("\n".join(f"⚠ {line}" for line in warnings))
        else:
            w.display = False

    def action_bill(self) -> None:
        from terminal.ui.screens.bill import BillScreen
        self.app.push_screen(BillScreen(self.card, self.family, **self.bill))

    def action_bindings(self) -> None:
        from terminal.ui.screens.bindings import BindingsScreen
        self.app.push_screen(BindingsScreen(self.card, self.family))
