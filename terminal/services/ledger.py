"""Where money moves for this window: the insurance centre, through `Ledger`, the interface the command line,
the cashier's screens and the kiosk call.

The one ledger is `CentreLedger` (terminal/services/centre_ledger.py): the window is the centre's client;
every money journey is the national sequence (1101, 2201/2203/2204, 2206, PIN, 2207, 2208, 3201 ...) through
`terminal.insurance`, on the embedded centre (`[centre] url` empty: in-process, no server) or a centre over
HTTP. The window's own database keeps only the cache and its log. Its answers are the types of
terminal/services/results.py (`Patient`, `SettlementResult`, `Unbound`; a pre-settlement is views.py's `Split`) and
terminal/services/views.py (`FamilyView`, `Split`: what the screens read). `ledger.client` is the
`CentreClient` (its `health` and its log). Services never import Textual.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from terminal.card_session import CardIdentity
from terminal.config import Config
from terminal.domain.bill import Bill

if TYPE_CHECKING:
    from terminal.insurance.client import CentreClient
    from terminal.services.centre_reconcile import CentreReconcileReport
    from terminal.services.results import SettlementResult
    from terminal.services.views import FamilyView, Split

Relatives = Any     # "auto" | "none" | [owner psn_no, ...]


class Ledger(Protocol):
    """What the window's screens, its command line and the kiosk ask of wherever the money is."""

    cfg: Config
    client: CentreClient

    def patient_for_card(self, card_read: Any) -> Any: ...

    def patient_for_voucher(self, code: str, certno: str = "") -> Any: ...

    def settle_voucher(self, psn_no: str, bill: Bill, *, relatives: Relatives = "auto", acct_used_flag: bool = True,
                       request_id: str | None = None, now: datetime | None = None, save_slip: bool = True,
                       cash_allowed: bool = True, self_pay: bool = False) -> SettlementResult: ...

    def patient_for_id_card(self, certno: str) -> Any: ...

    def account_may_pay(self, psn_no: str) -> bool:
        """Whether a personal account may pay for the patient as identified (not on the ID card, by default)."""
        ...

    def settle_id_card(self, psn_no: str, bill: Bill, *, relatives: Relatives = "auto",
                       acct_used_flag: bool | None = None, request_id: str | None = None, now: datetime | None = None,
                       save_slip: bool = True, cash_allowed: bool = True, self_pay: bool = False) -> SettlementResult: ...

    def family(self, *, card_no: str | None = None, certno: str | None = None, psn_no: str | None = None,
               today: str | None = None) -> FamilyView: ...

    def cached_psn_no(self, card_no: str) -> str | None:
        """The psn_no the centre last gave for this card (the window's cache); None where nothing is cached."""
        ...

    def presettle(self, psn_no: str, bill: Bill, *, relatives: Relatives = "auto", acct_used_flag: bool = True,
                  now: datetime | None = None, self_pay: bool = False) -> Split: ...

    def settle(self, session: Any, bill: Bill, *, pin: str | None = None, relatives: Relatives = "auto",
               acct_used_flag: bool = True, request_id: str | None = None, now: datetime | None = None,
               save_slip: bool = True, cash_allowed: bool = True, expected_card: CardIdentity | None = None,
               self_pay: bool = False) -> SettlementResult: ...

    def reverse(self, setl_id: str, now: datetime | None = None) -> SettlementResult: ...

    def load_result(self, setl_id: str) -> SettlementResult: ...

    def find_by_request(self, request_id: str) -> SettlementResult | None: ...

    def todays(self, day: str, window: str) -> tuple[list[SettlementResult], dict[str, str]]: ...

    def reconcile(self, day: str | None = None, window: str | None = None) -> CentreReconcileReport: ...

    def bind(self, session: Any, pin: str | None, user: str, relation: str, *, scope: str = "local", quota: int = 0,
             today: str | None = None, expected_card: CardIdentity | None = None) -> Any: ...

    def unbind(self, session: Any, pin: str | None, user: str, *, today: str | None = None,
               expected_card: CardIdentity | None = None) -> Any: ...

    def owner_bindings(self, owner_psn_no: str) -> list[tuple[Any, Any]]: ...

    def binding_json(self, binding: Any) -> dict[str, Any]: ...

    def slip_text(self, result: Any) -> str: ...

    def sign_in(self) -> None: ...

    def probe(self) -> None: ...

    def message_log(self, limit: int = 50) -> list[Any]: ...

    def close(self) -> None: ...

    def wallet_transfer(self, session: Any, pin: str | None, to: str, amount: int, *, today: str | None = None,
                        expected_card: CardIdentity | None = None) -> Any: ...

    def wallet_accept(self, session: Any, transfer_id: int, *, today: str | None = None,
                      expected_card: CardIdentity | None = None) -> Any: ...

    def wallet_show(self, session: Any, *, today: str | None = None,
                    expected_card: CardIdentity | None = None) -> Any: ...


def open_ledger(cfg: Config, *, kiosk: bool = False) -> Ledger:
    """The centre's client the config asks for: the embedded centre (`[centre] url` empty) or one over HTTP."""
    from terminal.insurance.connect import open_client
    from terminal.services.centre_ledger import CentreLedger
    return CentreLedger(cfg, open_client(cfg, kiosk=kiosk))


_OPEN: dict[int, tuple[Any, Ledger]] = {}
_OPEN_LOCK = threading.Lock()


def ledger_of(cfg: Config) -> Ledger:
    """One ledger per loaded config, shared by every screen and worker of an app (`app.ledger` is this one)."""
    with _OPEN_LOCK:
        held = _OPEN.get(id(cfg.raw))
        if held is None or held[0] is not cfg.raw:
            held = _OPEN[id(cfg.raw)] = (cfg.raw, open_ledger(cfg))
        return held[1]


@dataclass(frozen=True)
class CentreStatus:
    """What the header shows: the centre's state as the window last saw it, and who is signed in."""

    state: str                  # connected | slow | down | unknown (nothing asked yet)
    operator: str               # the signed-in opter ("" = not signed in)
    last_ms: float | None = None


def status_of(cfg: Config) -> CentreStatus:
    """The centre's state from the ledger already open for `cfg` (opens nothing, sends nothing: polled by the
    header on the UI thread)."""
    with _OPEN_LOCK:
        held = _OPEN.get(id(cfg.raw))
    client = held[1].client if held is not None and held[0] is cfg.raw else None
    if client is None:
        return CentreStatus("unknown", "")
    health = client.health
    return CentreStatus(health.state, health.operator if health.sign_no else "", health.last_ms)


def close_ledger(cfg: Config) -> None:
    """The app is done with its ledger: signed out (9002) and closed; the next `ledger_of` opens a new one."""
    with _OPEN_LOCK:
        held = _OPEN.pop(id(cfg.raw), None)
    if held is not None:
        held[1].close()
