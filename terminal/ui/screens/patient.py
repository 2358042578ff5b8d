"""The patient at the window: card and insurance details (ID masked), own balance, and every family
account that may pay for them, with relation and amount available; beside the own balance, the insurance
wallet (医保钱包) as the centre answered. F2 opens the bill, F3 the bindings.

What stands in the way of an insurance settlement (card expired, insurance not active, PIN blocked or about
to be) is said at the top, with the way on (full self-pay in cash, or cash for the part the accounts
would have paid). A bill kept when this card left the reader is restored, and the cashier is asked
whether to discard it.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, Static

from centre.interface import relations
from terminal.services.views import FamilyView, Relative
from terminal.store.people import Person
from terminal.ui.screens.base import CardScreen, tcss
from terminal.ui.widgets.fields import FieldPanel
from terminal.ui.widgets.fit_table import Col, FitTable
from terminal.ui.widgets.masked_id import masked
from terminal.ui.widgets.money import yuan

MONEY = 12   # "¥123,456.78"


class PatientScreen(CardScreen):
    """Who is at the window and what may pay for them."""

    CSS_PATH = tcss(__file__)
    BINDINGS = [
        Binding("f2", "bill", "bill", key_display="F2"),
        Binding("f3", "bindings", "bindings", key_display="F3"),
    ]
    LABELS = {"bill": "key.bill", "bindings": "key.bindings"}

    family: FamilyView

    def __init__(self, card, family: FamilyView, places: dict[str, str] | None = None,
                 pin_tries_left: int | None = None, *, notice: str | None = None, kept=None) -> None:
        super().__init__()
        self.card = card
        self.family = family
        self.places = places or {}
        self.pin_tries_left = pin_tries_left   # the card's PIN counter (0: blocked); a wrong PIN updates it
        self.notice = notice                   # why this screen opened by itself (the card was changed)
        self.kept = kept                       # a bill kept when this card left the reader (bills_kept.KeptBill)
        # the bill typed so far for this card (kept when the cashier goes back with Esc, or the card left)
        self.bill: dict = kept.as_patient_bill() if kept is not None else {}

    @property
    def name(self) -> str:
        return self.card.holder.full_name or self.person.psn_name

    def keep_bill(self, items: list[dict], med_type: str, entry: dict[str, str]) -> None:
        self.bill = {"items": list(items), "med_type": med_type, "entry": dict(entry)}
        if items:
            self.notify(self.t("bill.kept", n=len(items)), timeout=4)

    @property
    def person(self) -> Person:
        return self.family.person

    def compose(self) -> ComposeResult:
        t = self.t
        card, holder, person = self.card.card, self.card.holder, self.person
        yield from self.compose_frame_top()
        with Vertical(id="patient"):
            with Horizontal(id="who"):
                yield Static(holder.full_name or person.psn_name, id="name")
                yield Label(t(f"gend.{holder.gend}") if t.has(f"gend.{holder.gend}") else "", id="gend")
                yield Label(f"{t('pat.certno')} {masked(holder.certno or person.certno)}", id="certno")
            yield Static("", id="warnings", markup=False)
            with Horizontal(id="panels"):
                yield FieldPanel([
                    (t("pat.card_no"), card.card_no, False),
                    (t("pat.card_ver"), card.version, False),
                    (t("pat.valid"), f"{card.issue_date} ~ {card.expiry_date}", self.expired),
                    (t("pat.region"), self._region_text(card.region), False),
                    (t("pat.brdy"), holder.brdy, False),
                ] if not getattr(self.card, "psn_no", "") else [      # the e-voucher: no card to show
                    (t("pat.credential"), t("pat.id_card" if getattr(self.card, "mdtrt_cert_type", "") == "02"
                                            else "pat.voucher"), False),
                    (t("pat.brdy"), holder.brdy, False),
                ], id="card-panel")
                insutype, stas = person.insutype, person.psn_insu_stas
                yield FieldPanel([
                    (t("pat.psn_no"), person.psn_no, False),
                    (t("pat.insutype"), f"{insutype} {t('insutype.' + insutype) if t.has('insutype.' + insutype) else ''}",
                     False),
                    (t("pat.status"), t(f"stas.{stas}") if t.has(f"stas.{stas}") else stas, not self.active),
                    (t("pat.insuplc"), self._region_text(person.insuplc_admdvs), False),
                ], id="insu-panel")
            with Horizontal(id="own"):
                yield Label(t("pat.own"), id="own-label")
                yield Static("", id="own-balc")
                yield Label(t("pat.wallet"), id="wallet-label")
                yield Static("", id="wallet-balc")
            yield Label(t("pat.family"), id="family-title")
            yield FitTable([Col("#", 2), Col(t("col.owner"), 6, flex=1), Col(t("col.relation"), 8, flex=2),
                            Col(t("col.scope"), 6), Col(t("col.available"), MONEY, right=True)],
                           id="family", zebra_stripes=True)
            yield Label(t("pat.family_none"), id="family-none")
            yield Static("", id="family-wallet-way", markup=False)
            with Horizontal(id="sum"):
                yield Label(t("pat.total_avail"), id="sum-label")
                yield Static("", id="sum-value")
        yield from self.compose_frame_bottom()

    @property
    def expired(self) -> bool:
        return self.card.card.expired(self.app.today())

    @property
    def active(self) -> bool:
        return self.insurance_active

    def _region_text(self, code: object) -> str:
        name = self.places.get(str(code))
        return f"{code} {name}" if name else str(code or "")

    def own_balance(self) -> int | None:
        return self.family.own

    def wallet_balance(self) -> int | None:
        """The patient's insurance wallet (医保钱包, fen) as the centre answered; None when not known."""
        return self.family.wallet

    def relatives(self) -> list[Relative]:
        return list(self.family.relatives)

    def total_available(self) -> int:
        return self.family.total_available

    def on_mount(self) -> None:
        super().on_mount()
        self.show_money()
        self.show_warnings()
        if self.kept is not None:
            self.call_after_refresh(self._ask_about_kept)

    def show_money(self) -> None:
        """Own balance, each family account and the total, as last read (again after every write)."""
        t = self.t
        own = self.own_balance()
        balc = self.query_one("#own-balc", Static)
        balc.update(yuan(own) if own is not None else t("pat.own_none"))
        balc.set_class(own is None, "none")
        from terminal.services.wallet import wallet_shown
        wallet = self.wallet_balance()
        shown = self.query_one("#wallet-balc", Static)
        shown.update(yuan(wallet) if wallet is not None else t("pat.wallet_unknown"))
        shown.set_class(wallet is None, "none")
        shown.display = self.query_one("#wallet-label", Label).display = wallet_shown(self.app.cfg, wallet)
        rows = []
        for i, rel in enumerate(self.relatives(), 1):
            scope = rel.scope
            rows.append(([str(i), rel.owner_name, t("rel.patient_is", name=relations.name(rel.relation, self.lang)),
                          t(f"scope.{scope}") if t.has(f"scope.{scope}") else scope, yuan(rel.available)], None))
        table = self.query_one("#family", FitTable)
        table.show(rows)
        table.display = bool(rows)
        self.query_one("#family-none", Label).display = not rows
        from terminal.services.wallet import by_wallet_owners
        owners = by_wallet_owners(self.relatives())
        way = self.query_one("#family-wallet-way", Static)
        way.update(t("fam.wallet_way", owner="、".join(owners)) if owners else "")
        way.display = bool(owners)
        self.query_one("#sum-value", Static).update(yuan(self.total_available()))

    def show_warnings(self) -> None:
        """What stands in the way, and the way on; the notice the screen opened with first."""
        t = self.t
        lines = [self.notice] if self.notice else []
        if self.expired:
            lines.append(t("pat.expired", date=self.card.card.expiry_date))
        if not self.active:
            stas = self.person.psn_insu_stas
            lines.append(t("pat.inactive", status=t(f"stas.{stas}") if t.has(f"stas.{stas}") else stas))
        if self.self_pay_only:
            lines.append(t("pat.self_pay_way"))
        elif self.pin_tries_left == 0:
            lines.append(t("pat.pin_blocked"))
        elif self.pin_tries_left == 1:
            lines.append(t("pat.pin_last_try"))
        w = self.query_one("#warnings", Static)
        w.update("\n".join(f"⚠ {line}" for line in lines))
        w.display = bool(lines)

    def _ask_about_kept(self) -> None:
        """The bill typed before this card left is back; discarding it is the cashier's choice, asked."""
        from terminal.ui.widgets.confirm import ConfirmModal
        kept = self.kept
        if kept is None or self.app.screen is not self:
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.bill = {}
                self.notify(self.t("kept.discarded", n=kept.count), timeout=4)
            else:
                self.notify(self.t("kept.restored", n=kept.count), timeout=6)
        self.app.push_screen(ConfirmModal(self.t("kept.ask", name=kept.name, n=kept.count)), answered)

    def action_bill(self) -> None:
        from terminal.ui.screens.bill import BillScreen
        self.app.push_screen(BillScreen(self.card, self.family, **self.bill))

    def action_bindings(self) -> None:
        from terminal.ui.screens.bindings import BindingsScreen
        self.app.push_screen(BindingsScreen(self.card, self.family))
