"""Where money moves for this window: one interface, two ledgers.

- `CentreLedger` (`[centre] enabled = true`, the default): the window is the insurance centre's client; every
  money journey is the national sequence (1101, 2201/2203/2204, 2206, PIN, 2207, 2208, 3201 ...) through
  `terminal.insurance`, on the embedded centre (`[centre] url` empty) or a centre over HTTP. The window's own
  database keeps only the cache and its log (see terminal/services/centre_ledger.py).
- `WindowLedger` (`enabled = false`): the offline training ledger: today's services, unchanged, moving money
  in the window's own SQLite file.

Both return the same result types (`Patient`, `FamilyView`, `PreSettlement`, `SettlementResult`, the
binding records), so the command line, the cashier's screens and the kiosk do not care which one runs;
terminal/services/views.py holds what the screens read of them (`FamilyView`, `Split`).
`ledger.client` is the `CentreClient` (its `health` and its log) or None. Services never import Textual.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Iterator, Protocol

from terminal.card_session import CardIdentity
from terminal.config import Config
from terminal.domain.bill import Bill

if TYPE_CHECKING:
    from terminal.domain.presettle import PreSettlement
    from terminal.services.centre_reconcile import CentreReconcileReport
    from terminal.services.reconcile import ReconcileReport
    from terminal.services.settlement import SettlementResult
    from terminal.services.views import FamilyView

Relatives = Any     # "auto" | "none" | [owner psn_no, ...]


class Ledger(Protocol):
    """What the window's screens, its command line and the kiosk ask of wherever the money is."""

    cfg: Config
    client: Any       # CentreClient | None
    kind: str         # "centre" | "window"

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
                  now: datetime | None = None, self_pay: bool = False) -> PreSettlement: ...

    def settle(self, session: Any, bill: Bill, *, pin: str | None = None, relatives: Relatives = "auto",
               acct_used_flag: bool = True, request_id: str | None = None, now: datetime | None = None,
               save_slip: bool = True, cash_allowed: bool = True, expected_card: CardIdentity | None = None,
               self_pay: bool = False) -> SettlementResult: ...

    def reverse(self, setl_id: str, now: datetime | None = None) -> SettlementResult: ...

    def load_result(self, setl_id: str) -> SettlementResult: ...

    def find_by_request(self, request_id: str) -> SettlementResult | None: ...

    def todays(self, day: str, window: str) -> tuple[list[SettlementResult], dict[str, str]]: ...

    def reconcile(self, day: str | None = None, window: str | None = None
                  ) -> ReconcileReport | CentreReconcileReport: ...

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


class WindowLedger:
    """The offline training ledger: the services on the window's own SQLite (one connection per call, so any
    worker thread may call it)."""

    kind = "window"
    client = None

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg

    @contextmanager
    def db(self) -> Iterator[Any]:
        from terminal.store.db import opened
        with opened(self.cfg) as db:
            yield db

    def patient_for_card(self, card_read: Any) -> Any:
        from terminal.services.settlement import patient_for_card
        with self.db() as db:
            return patient_for_card(db, card_read)

    def patient_for_voucher(self, code: str, certno: str = "") -> Any:
        raise voucher_needs_centre()

    def settle_voucher(self, psn_no: str, bill: Bill, **_: Any) -> SettlementResult:
        raise voucher_needs_centre()

    def patient_for_id_card(self, certno: str) -> Any:
        raise id_card_needs_centre()

    def account_may_pay(self, psn_no: str) -> bool:
        return True     # the training ledger knows no ID card patient

    def settle_id_card(self, psn_no: str, bill: Bill, **_: Any) -> SettlementResult:
        raise id_card_needs_centre()

    def cached_psn_no(self, card_no: str) -> str | None:
        return None  # the training ledger holds the persons themselves: no cache to consult

    def family(self, *, card_no: str | None = None, certno: str | None = None, psn_no: str | None = None,
               today: str | None = None) -> FamilyView:
        from terminal.services.bindings import policy_of
        from terminal.services.family import family_for
        with self.db() as db:
            return family_for(db, card_no=card_no, certno=certno, psn_no=psn_no, today=today,
                              policy=policy_of(self.cfg))

    def presettle(self, psn_no: str, bill: Bill, *, relatives: Relatives = "auto", acct_used_flag: bool = True,
                  now: datetime | None = None, self_pay: bool = False) -> PreSettlement:
        from terminal.services.settlement import presettle_for
        with self.db() as db:
            return presettle_for(db, self.cfg, psn_no, bill, relatives=relatives, acct_used_flag=acct_used_flag,
                                 now=now, self_pay=self_pay)

    def settle(self, session: Any, bill: Bill, *, pin: str | None = None, relatives: Relatives = "auto",
               acct_used_flag: bool = True, request_id: str | None = None, now: datetime | None = None,
               save_slip: bool = True, cash_allowed: bool = True, expected_card: CardIdentity | None = None,
               self_pay: bool = False) -> SettlementResult:
        from terminal.services.settlement import settle
        with self.db() as db:
            return settle(db, self.cfg, session, bill, pin=pin, relatives=relatives, acct_used_flag=acct_used_flag,
                          request_id=request_id, now=now, save_slip=save_slip, cash_allowed=cash_allowed,
                          expected_card=expected_card, self_pay=self_pay)

    def reverse(self, setl_id: str, now: datetime | None = None) -> SettlementResult:
        from terminal.services.reversal import reverse
        with self.db() as db:
            return reverse(db, self.cfg, setl_id, now=now)

    def load_result(self, setl_id: str) -> SettlementResult:
        from terminal.services.settlement import load_result
        with self.db() as db:
            return load_result(db, setl_id)

    def find_by_request(self, request_id: str) -> SettlementResult | None:
        from terminal.services.settlement import find_by_request
        with self.db() as db:
            return find_by_request(db, request_id)

    def todays(self, day: str, window: str) -> tuple[list[SettlementResult], dict[str, str]]:
        from terminal.services.settlement import results_of_day
        from terminal.store.people import person_names
        with self.db() as db:
            rows = results_of_day(db, day, window)
            names: dict[str, str] = {row.psn_no: row.psn_name for row in rows}
            owners = sorted({part.owner_psn_no for row in rows for part in row.mulaid}
                            - set(names) - {""})
            found = person_names(db, owners)
            names.update({owner: found.get(owner, owner) for owner in owners})
            return rows, names

    def reconcile(self, day: str | None = None, window: str | None = None) -> ReconcileReport:
        from terminal.services.reconcile import reconcile
        with self.db() as db:
            return reconcile(db, self.cfg, day, window)

    def bind(self, session: Any, pin: str | None, user: str, relation: str, *, scope: str = "local", quota: int = 0,
             today: str | None = None, expected_card: CardIdentity | None = None) -> Any:
        from terminal.services.bindings import bind_at_window
        with self.db() as db:
            return bind_at_window(db, self.cfg, session, pin, user, relation, scope=scope, quota=quota, today=today,
                                  expected_card=expected_card)

    def unbind(self, session: Any, pin: str | None, user: str, *, today: str | None = None,
               expected_card: CardIdentity | None = None) -> Any:
        from terminal.services.bindings import unbind_at_window
        with self.db() as db:
            return unbind_at_window(db, self.cfg, session, pin, user, today=today, expected_card=expected_card)

    def owner_bindings(self, owner_psn_no: str) -> list[tuple[Any, Any]]:
        from terminal.store.people import bindings_of_owner, find_person
        with self.db() as db:
            return [(b, find_person(db, psn_no=b.user_psn_no)) for b in bindings_of_owner(db, owner_psn_no)]

    def binding_json(self, binding: Any) -> dict[str, Any]:
        """`cashier bind/unbind --json`: the binding with both names and the owner's balance (fen)."""
        from terminal.domain import relations
        from terminal.store.people import account_of, person_names
        with self.db() as db:
            names = person_names(db, [binding.owner_psn_no, binding.user_psn_no])
            acct = account_of(db, binding.owner_psn_no)
        return {"binding_id": binding.id, "owner_psn_no": binding.owner_psn_no,
                "owner_name": names.get(binding.owner_psn_no), "user_psn_no": binding.user_psn_no,
                "user_name": names.get(binding.user_psn_no), "relation": binding.relation,
                "relation_name": relations.name(binding.relation), "scope": binding.scope, "quota": binding.quota,
                "begin_date": binding.begin_date, "end_date": binding.end_date, "status": binding.status,
                "owner_balc": acct.balc if acct else None}

    def slip_text(self, result: Any) -> str:
        from terminal.services.slip import slip_text
        with self.db() as db:
            return slip_text(self.cfg, result, db)

    def sign_in(self) -> None:
        """The training ledger has no centre to sign in to."""

    def probe(self) -> None:
        """Nor any centre to ask after."""

    def message_log(self, limit: int = 50) -> list[Any]:
        """The messages this window's database logged (none while it trains; any from its days on the centre)."""
        from terminal.services.message_log import recent_messages
        with self.db() as db:
            return recent_messages(db, limit)

    def close(self) -> None:
        pass

    # the insurance wallet is the centre's: the training ledger has none
    def wallet_transfer(self, session: Any, pin: str | None, to: str, amount: int, *, today: str | None = None,
                        expected_card: CardIdentity | None = None) -> Any:
        from terminal.services.wallet import needs_centre
        raise needs_centre()

    def wallet_accept(self, session: Any, transfer_id: int, *, today: str | None = None,
                      expected_card: CardIdentity | None = None) -> Any:
        from terminal.services.wallet import needs_centre
        raise needs_centre()

    def wallet_show(self, session: Any, *, today: str | None = None,
                    expected_card: CardIdentity | None = None) -> Any:
        from terminal.services.wallet import needs_centre
        raise needs_centre()


def voucher_needs_centre() -> Exception:
    """Only the insurance centre can read an e-voucher code: the training ledger refuses it, clearly."""
    from terminal.error_codes import E
    return E.VOUCHER_NEEDS_CENTRE.error()


def id_card_needs_centre() -> Exception:
    """A visit on the ID card is the insurance centre's to allow (1101 with mdtrt_cert_type 02): the training
    ledger refuses it, clearly."""
    from terminal.error_codes import E
    return E.ID_CARD_NEEDS_CENTRE.error()


def open_ledger(cfg: Config, *, kiosk: bool = False) -> Ledger:
    """The ledger the config asks for: the centre's client (`[centre] enabled`), or the window's own."""
    if not cfg.centre.enabled:
        return WindowLedger(cfg)
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

    state: str                  # connected | slow | down | unknown (nothing asked yet) | training (no centre)
    operator: str               # the signed-in opter ("" = not signed in); the cashier on the training ledger
    last_ms: float | None = None


def status_of(cfg: Config) -> CentreStatus:
    """The centre's state from the ledger already open for `cfg` (opens nothing, sends nothing: polled by the
    header on the UI thread)."""
    if not cfg.centre.enabled:
        return CentreStatus("training", cfg.terminal.operator)
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
