"""Family mutual-aid bindings of the card's holder as the owner (授权人): the list, a new binding, ending one.

Every decision is the bindings service's (relations allowed on the date, regions, quota, PIN on the
card, the card in the reader being the card shown); a refusal is shown in place with the rule's reason.
The owner's balance and what each binding may pay are read again after every binding and unbinding.
Under the wallet model (a window on the centre, the default) a cross-province binding sets no quota: the form
has no quota box and says how the aid goes instead (a transfer into the relative's insurance wallet).
"""

from __future__ import annotations

from functools import cached_property

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Input, Label, Select, Static

from centre.interface import relations
from centre.interface.codes import BindingScope, Insutype
from drivers.errors import CARD_SWAPPED
from terminal.domain.text import shown
from terminal.services.views import FamilyView
from terminal.store.people import Person
from terminal.ui.messages import BindingChanged, BindingsLoaded, WorkFailed
from terminal.ui.screens.base import CardScreen, ErrorLine, tcss
from terminal.ui.widgets.confirm import ConfirmModal
from terminal.ui.widgets.fit_table import Col, FitTable
from terminal.ui.widgets.masked_id import masked
from terminal.ui.widgets.money import parse_yuan, plain_number, yuan
from terminal.ui.workers import run_service


class BindingsScreen(CardScreen):
    """F5 (or Enter) binds the relative typed below; F3 ends the chosen binding (after a yes/no)."""

    CSS_PATH = tcss(__file__)
    BINDINGS = [
        Binding("f5", "bind", "add", key_display="F5"),
        Binding("f3", "unbind", "remove", key_display="F3"),
    ]
    LABELS = {"bind": "key.add", "unbind": "key.unbind"}

    family: FamilyView

    def __init__(self, card, family: FamilyView) -> None:
        super().__init__()
        self.card = card
        self.family = family
        self.rows: list = []
        self.busy = False
        self._just_bound: int | None = None

    @property
    def owner(self) -> Person:
        return self.family.person

    @property
    def keypad(self) -> bool:
        return bool(getattr(self.app.reader, "has_keypad", False))

    @cached_property
    def by_wallet(self) -> bool:
        """Cross-province aid goes by the insurance wallet here: no quota to set at binding."""
        from terminal.services.wallet import wallet_model
        return wallet_model(self.app.cfg)

    @property
    def can_own(self) -> bool:
        """Only an employee-insurance (310) person with a personal account can be an owner (授权人)."""
        return self.family.own is not None and self.owner.insutype == Insutype.EMPLOYEE

    def compose(self) -> ComposeResult:
        t = self.t
        owner = self.owner
        yield from self.compose_frame_top()
        with Vertical(id="bindings"):
            yield Label(f"{t('bind.title')} · {owner.psn_name} {masked(owner.certno)}",
                        id="bind-title")
            yield Label("", id="bind-own")
            # where this person is the one bound (read-only here: the owner's card changes it)
            yield Label(t("bind.as_user"), classes="section", id="as-user-title")
            yield Static("", id="bound-by", markup=False)
            if not self.can_own:
                yield Label(t("bind.not_owner"), id="not-owner")
            yield Label(t("bind.list"), classes="section", id="list-title")
            yield FitTable([Col(t("bind.col_user"), 4, flex=1), Col(t("bind.col_certno"), 18),
                            Col(t("col.relation"), 6, flex=1), Col(t("col.scope"), 6),
                            Col(t("bind.col_way" if self.by_wallet else "bind.col_quota"), 11, right=True),
                            Col(t("bind.col_since"), 10)],
                           id="list", zebra_stripes=True)
            yield Label(t("bind.none"), id="none")
            yield Static("", id="list-wallet-way", markup=False)
            yield Label(t("bind.add"), classes="section")
            with Horizontal(id="form-labels"):
                for key, ident in (("bind.user", "l-user"), ("bind.relation", "l-relation"),
                                   ("bind.scope", "l-scope"), ("bind.quota", "l-quota")):
                    yield Label(t(key), id=ident)
            with Horizontal(id="form"):
                yield Input(placeholder=t("bind.user_short"), id="user", max_length=18)
                yield Select([(f"{r.code} {r.name(self.lang)}", r.code) for r in relations.table().values()],
                             prompt=t("col.relation"), id="relation")
                yield Select([(t(f"scope.{scope.value}"), scope.value) for scope in BindingScope],
                             value=BindingScope.LOCAL.value, allow_blank=False, id="scope")
                yield Input(placeholder="0.00", id="quota", max_length=12)   # kept as typed: checked at F5
            yield Static(self._form_wallet_way(), id="form-wallet-way", markup=False)
            with Horizontal(id="pin-row"):
                yield Label(t("pay.pin_keypad") if self.keypad else t("bind.pin"), id="pin-label")
                yield Input(placeholder=t("pay.pin"), password=True, id="pin", max_length=16, restrict=r"[0-9]*")
            yield ErrorLine(id="error")
        yield from self.compose_frame_bottom()

    def _form_wallet_way(self) -> str:
        if not self.by_wallet:
            return ""
        from terminal.services.wallet import transfer_limits
        per_day, most = transfer_limits(self.app.cfg)
        return self.t("bind.form_wallet_way", per_day=per_day, max_transfer=yuan(most))

    def on_mount(self) -> None:
        super().on_mount()
        self.show_money()
        wallet = self.by_wallet
        for ident in ("#quota", "#l-quota"):   # the wallet model: nothing to set aside across provinces
            self.query_one(ident).display = not wallet
        self.query_one("#form-wallet-way").display = wallet and self.can_own   # a form switched off says nothing
        if self.keypad:
            self.query_one("#pin", Input).display = False
        if self.can_own:
            self.query_one("#user", Input).focus()
        else:   # nothing to add from this card: the form is shown switched off, the reason above it
            for ident in ("#user", "#relation", "#scope", "#quota", "#pin"):
                self.query_one(ident).disabled = True
        self.load()

    def load(self) -> None:
        from terminal.ui import window_ops
        cfg, owner = self.app.cfg, self.owner
        run_service(self, "load", lambda: window_ops.owner_bindings(cfg, owner.psn_no),
                    lambda rows: BindingsLoaded(owner, rows))

    def show_money(self) -> None:
        """The owner's balance and what each binding that pays for this person may pay, as last read."""
        t = self.t
        balc, wallet = self.family.own, self.family.wallet
        line = f"{t('pat.own')}: {yuan(balc) if balc is not None else t('bind.own_none')}"
        if self.by_wallet or wallet:   # the wallet beside it, as the patient screen has it (the centre keeps it)
            line += f" · {t('pat.wallet')}: {yuan(wallet) if wallet is not None else t('pat.wallet_unknown')}"
        self.query_one("#bind-own", Label).update(line)
        lines = []
        for rel in self.family.relatives:
            scope = rel.scope
            lines.append(t("bind.bound_by", owner=rel.owner_name,
                           relation=relations.name(rel.relation, self.lang),
                           scope=t(f"scope.{scope}") if t.has(f"scope.{scope}") else scope,
                           available=yuan(rel.available)))
        from terminal.services.wallet import by_wallet_owners
        owners = by_wallet_owners(self.family.relatives)
        if owners:   # ¥0.00 available is not a fault: the way across provinces is the wallet
            lines.append(t("fam.wallet_way", owner="、".join(owners)))
        self.query_one("#bound-by", Static).update("\n".join(lines))
        self.query_one("#bound-by").display = bool(lines)
        self.query_one("#as-user-title").display = bool(lines)

    def _by_wallet(self, binding) -> bool:
        """A cross-province binding without a quota on the centre (the wallet model): it pays through the
        relative's wallet, after a transfer, never from the owner's account directly."""
        return binding.scope == BindingScope.CROSS_PROVINCE and not binding.quota

    def _quota_cell(self, binding) -> str:
        if binding.scope != BindingScope.CROSS_PROVINCE:
            return "—"
        return self.t("bind.by_wallet") if self._by_wallet(binding) else yuan(binding.quota)

    def on_bindings_loaded(self, message: BindingsLoaded) -> None:
        t = self.t
        self.rows = list(message.rows or [])
        table = self.query_one("#list", FitTable)
        table.show([([user.psn_name if user else binding.user_psn_no, masked(user.certno if user else ""),
                      f"{binding.relation} {relations.name(binding.relation, self.lang)}",
                      t(f"scope.{binding.scope}") if t.has(f"scope.{binding.scope}") else binding.scope,
                      self._quota_cell(binding), binding.begin_date], None)
                    for binding, user in self.rows])
        table.display = bool(self.rows)
        by_wallet = [binding for binding, _ in self.rows if self._by_wallet(binding)]
        way = self.query_one("#list-wallet-way", Static)
        way.update(t("bind.owner_wallet_way") if by_wallet else "")
        way.display = bool(by_wallet)
        # a person who cannot own has no list of their own to show (the reason is said above)
        self.query_one("#none", Label).display = not self.rows and self.can_own
        self.query_one("#list-title", Label).display = bool(self.rows) or self.can_own
        bound = [user for binding, user in self.rows if binding.id == self._just_bound and user is not None]
        if bound:   # say who, not the number typed
            self.query_one("#error", ErrorLine).show(self.t("notice.bound", name=bound[0].psn_name), ok=True)
            self._just_bound = None

    def _pin(self) -> tuple[bool, str | None]:
        """(ok, pin): the PIN typed, or None for the keypad."""
        if self.keypad:
            return True, None
        pin = self.query_one("#pin", Input).value
        if not pin:
            self.query_one("#error", ErrorLine).show(self.t("bind.need_pin"))
            self.query_one("#pin", Input).focus()
            return False, None
        return True, pin

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        self.action_bind()

    def action_bind(self) -> None:
        if self.busy:
            return
        error = self.query_one("#error", ErrorLine)
        if not self.can_own:
            error.show(self.t("bind.not_owner"))
            return
        user = self.query_one("#user", Input).value.strip().upper()
        relation = self.query_one("#relation", Select).value
        scope = str(self.query_one("#scope", Select).value)
        quota_text = "" if self.by_wallet else self.query_one("#quota", Input).value
        if not user:
            error.show(self.t("bind.need_user"))
            self.query_one("#user", Input).focus()
            return
        if relation is Select.BLANK or relation is None:
            error.show(self.t("bind.need_relation"))
            self.query_one("#relation", Select).focus()
            return
        typed = quota_text.strip()
        quota = (parse_yuan(typed) if plain_number(typed) else None) if typed else 0
        if quota is None:   # "12,50" or "12。50" is refused as typed, never read as ¥1,250.00
            error.show(self.t("bind.bad_quota", got=shown(typed)))
            self.query_one("#quota", Input).focus()
            return
        ok, pin = self._pin()
        if not ok:
            return
        self.busy = True
        error.show(self.t("notice.busy"), ok=True)
        self.do_bind(pin, user, str(relation), scope, quota)

    def do_bind(self, pin: str | None, user: str, relation: str, scope: str, quota: int) -> None:
        from terminal.ui import window_ops
        app = self.app
        cfg, reader, today, card = app.cfg, app.reader, app.today(), self.card
        run_service(self, "bind", lambda: window_ops.bind(cfg, reader, pin=pin, user=user, relation=relation,
                                                          scope=scope, quota=quota, today=today, card=card),
                    lambda binding: BindingChanged("bound", user, binding))

    def action_unbind(self) -> None:
        if self.busy:
            return
        table = self.query_one("#list", DataTable)
        if not self.rows or not (0 <= table.cursor_row < len(self.rows)):
            self.query_one("#error", ErrorLine).show(self.t("today.pick"))
            return
        binding, user = self.rows[table.cursor_row]
        ok, pin = self._pin()
        if not ok:
            return
        name = user.psn_name if user else binding.user_psn_no
        who = (user.card_no or user.certno) if user else binding.user_psn_no

        def answered(yes: bool | None) -> None:
            if yes:
                self.busy = True
                self.query_one("#error", ErrorLine).show(self.t("notice.busy"), ok=True)
                self.do_unbind(pin, who, name)
        self.app.push_screen(ConfirmModal(self.t("bind.confirm_unbind", owner=self.owner.psn_name,
                                                 user=name)), answered)

    def do_unbind(self, pin: str | None, user: str, name: str) -> None:
        from terminal.ui import window_ops
        app = self.app
        cfg, reader, today, card = app.cfg, app.reader, app.today(), self.card
        run_service(self, "unbind", lambda: window_ops.unbind(cfg, reader, pin=pin, user=user, today=today,
                                                              card=card),
                    lambda result: BindingChanged("unbound", name, result), group="bind")

    def on_binding_changed(self, message: BindingChanged) -> None:
        self.busy = False
        self.query_one("#pin", Input).value = ""
        if message.kind == "bound":   # the form is ready for the next relative: nothing of this one is left
            for name in ("#user", "#quota"):
                self.query_one(name, Input).value = ""
            self.query_one("#relation", Select).clear()
        self.query_one("#error", ErrorLine).show(self.t(f"notice.{message.kind}", name=message.name), ok=True)
        self._just_bound = getattr(message.result, "id", None) if message.kind == "bound" else None
        self.load()
        self.refresh_money()   # a quota moved between the owner's balance and the binding

    def on_work_failed(self, message: WorkFailed) -> None:
        if message.action == "family":
            return   # the balances could not be read again: the ones shown stay
        if message.code == CARD_SWAPPED.code:
            self.app.card_changed(message.message)
            return
        self.busy = False
        self.query_one("#pin", Input).value = ""
        self.query_one("#error", ErrorLine).show(message.message)
