"""The UI's calls into the services, one function per thing a screen asks for.

Each runs on a worker thread and goes through the app's one ledger (`ledger_of(cfg)`, held as `app.ledger`):
the insurance centre's client (the embedded centre, or one over HTTP). It raises the services' own errors
(CashierError, CardError) for the screen to show. No rule lives here: amounts, eligibility and order come
from the centre.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator

from drivers.reader import Reader
from terminal.config import Config
from terminal.services.ledger import ledger_of
from terminal.services.results import SettlementResult
from terminal.services.views import FamilyView, Split

if TYPE_CHECKING:   # the day end's reports: never loaded by the kiosk
    from terminal.services.centre_reconcile import CentreReconcileReport


@contextmanager
def database(cfg: Config) -> Iterator[Any]:
    """One connection for one worker, closed when it is done."""
    from terminal.store.db import opened
    with opened(cfg) as db:
        yield db


def load_patient(cfg: Config, reader: Reader | None, today: str | None = None
                 ) -> tuple[Any, FamilyView, dict[str, str], int | None]:
    """Read the card in the reader, then find the person and every account that may pay for them.

    Also the names of the places on screen (card region, insured area): {code: name}, and the card's
    PIN tries left (VERIFY without data asks the card's counter; None when the card will not say), so the
    window can say at once that a blocked PIN leaves only cash.
    """
    from terminal.store.people import region
    session = _read_settled(cfg, _need(reader))
    card = session.last_read
    tries_left = _pin_tries_left(session)
    ledger = ledger_of(cfg)
    patient = ledger.patient_for_card(card)     # 1101 with the card, then the accounts that may pay (the cache if down)
    family = ledger.family(psn_no=patient.psn_no, today=today)
    with database(cfg) as db:
        places = {}
        for code in {card.card.region, family.person.insuplc_admdvs}:
            place = region(db, code)
            if place is not None:
                places[code] = f"{place.province}{place.name}" if place.province != place.name else place.name
    return card, family, places, tries_left


def load_voucher_patient(cfg: Config, code: str, today: str | None = None
                         ) -> tuple[Any, FamilyView, dict[str, str], int | None]:
    """A scanned e-voucher code: 1101 with it (mdtrt_cert_type 01) through the centre, then the accounts that
    may pay. The same shape as `load_patient`, the card read being a `VoucherRead` (no card, no PIN)."""
    from terminal.services.voucher_read import voucher_read
    ledger = ledger_of(cfg)
    return _load_without_card(cfg, ledger.patient_for_voucher(code), voucher_read, today)


def load_id_card_patient(cfg: Config, certno: str, today: str | None = None
                         ) -> tuple[Any, FamilyView, dict[str, str], int | None]:
    """An ID number read or typed at the window: 1101 with it (mdtrt_cert_type 02) through the centre, then the
    accounts. As `load_voucher_patient`, the read's credential being 02 (no card, no PIN)."""
    from terminal.services.voucher_read import id_card_read
    ledger = ledger_of(cfg)
    return _load_without_card(cfg, ledger.patient_for_id_card(certno), id_card_read, today)


def _load_without_card(cfg: Config, patient: Any, read_of: Any, today: str | None
                       ) -> tuple[Any, FamilyView, dict[str, str], int | None]:
    """The patient the centre named by a credential that is not a card: the accounts, the insured area's name."""
    from terminal.store.people import region
    family = ledger_of(cfg).family(psn_no=patient.psn_no, today=today)
    places = {}
    with database(cfg) as db:
        place = region(db, family.person.insuplc_admdvs)
        if place is not None:
            places[family.person.insuplc_admdvs] = f"{place.province}{place.name}" \
                if place.province != place.name else place.name
    return read_of(family.person), family, places, None


def _pin_tries_left(session: Any) -> int | None:
    """The card's own PIN counter; asking it changes nothing on the card. None when it will not say."""
    try:
        return session.card.pin_tries_left()
    except Exception:
        return None


def _read_settled(cfg: Config, reader: Reader, attempts: int = 3) -> Any:
    """Read the card (the session, its `last_read` set); a card that pcscd reports "removed" while it is still in the slot was being
    powered up as we came in (seen right after an insert event through vpcd): read it again."""
    import time

    from drivers.errors import CARD_REMOVED, CardError
    from terminal.card_session import CardSession
    for attempt in range(attempts):
        try:
            session = CardSession(reader, cfg)
            session.read()
            return session
        except CardError as exc:
            if exc.kind is not CARD_REMOVED or attempt == attempts - 1 or not reader.card_present():
                raise
            reader.disconnect()
            time.sleep(0.05)
    raise AssertionError("unreachable")


def day_report(cfg: Config, day: str, window: str | None) -> CentreReconcileReport:
    """Today's totals and the day-end check for this window (`reconcile`)."""
    return ledger_of(cfg).reconcile(day, window)


def message_log(cfg: Config, limit: int) -> list[Any]:
    """The window's last messages to the centre, newest first (the message log screen)."""
    return ledger_of(cfg).message_log(limit)


def presettle(cfg: Config, psn_no: str, bill: Any, relatives: Any = "auto", acct_used_flag: bool = True,
              now: Any = None, self_pay: bool = False) -> Split:
    """The split as it would be now (self_pay: the whole bill in cash); writes nothing."""
    ledger = ledger_of(cfg)
    acct_used_flag = acct_used_flag and ledger.account_may_pay(psn_no)   # the ID card: no account by default
    return ledger.presettle(psn_no, bill, relatives=relatives, acct_used_flag=acct_used_flag, now=now,
                            self_pay=self_pay)


def settle(cfg: Config, reader: Reader | None, bill: Any, *, pin: str | None, relatives: Any,
           acct_used_flag: bool, request_id: str, card: Any, now: Any = None, self_pay: bool = False
           ) -> tuple[SettlementResult, str]:
    """Settle with the card in the reader (PIN verified on the card, or on its keypad when pin is None).

    `card` is the CardRead shown on the screen: the card in the reader must be that card (card_swapped
    otherwise). Returns the result and the slip's text. A card pulled or swapped before the commit leaves
    nothing written (the service checks the card again inside the transaction).
    """
    from terminal.card_session import CardIdentity, CardSession
    from terminal.services.voucher_read import is_voucher, without_card
    ledger = ledger_of(cfg)
    if without_card(card):      # the e-voucher (confirmed in the app) or the ID card: no card, no PIN
        settle_by = ledger.settle_voucher if is_voucher(card) else ledger.settle_id_card
        result = settle_by(card.psn_no, bill, relatives=relatives, acct_used_flag=acct_used_flag,
                           request_id=request_id, now=now, self_pay=self_pay)
        return result, ledger.slip_text(result)
    session = CardSession(_need(reader), cfg)
    result = ledger.settle(session, bill, pin=pin, relatives=relatives, acct_used_flag=acct_used_flag,
                           request_id=request_id, now=now, expected_card=CardIdentity.of(card), self_pay=self_pay)
    return result, ledger.slip_text(result)


def slip_text(db: Any, cfg: Config, result: SettlementResult) -> str:
    from terminal.services.slip import slip_text as render
    return render(cfg, result, db)


def todays_settlements(cfg: Config, day: str, window: str) -> tuple[list[SettlementResult], dict[str, str], str]:
    """This window's settlements and reversals of the day, newest first; the names of the account owners they
    drew on ({psn_no: name}), so a reversal can say where each amount goes back; and the day they are of (the
    centre's: past its midnight, the machine's today is the centre's tomorrow)."""
    from terminal.services.centre_ledger import centre_day
    rows, names = ledger_of(cfg).todays(day, window)
    return rows, names, centre_day(cfg, day)


def reverse(cfg: Config, setl_id: str, now: Any = None) -> SettlementResult:
    return ledger_of(cfg).reverse(setl_id, now=now)


def owner_bindings(cfg: Config, owner_psn_no: str) -> list[tuple[Any, Any]]:
    """The owner's active bindings, each with the user (Person), oldest first."""
    return ledger_of(cfg).owner_bindings(owner_psn_no)


def bind(cfg: Config, reader: Reader | None, *, pin: str | None, user: str, relation: str, scope: str,
         quota: int, today: str, card: Any) -> Any:
    """Binding at the window with the owner's card in the reader (rules checked by the service); `card` is
    the CardRead shown: the card in the reader must be that card."""
    from terminal.card_session import CardIdentity, CardSession
    return ledger_of(cfg).bind(CardSession(_need(reader), cfg), pin, user, relation, scope=scope, quota=quota,
                               today=today, expected_card=CardIdentity.of(card))


def unbind(cfg: Config, reader: Reader | None, *, pin: str | None, user: str, today: str, card: Any) -> Any:
    from terminal.card_session import CardIdentity, CardSession
    return ledger_of(cfg).unbind(CardSession(_need(reader), cfg), pin, user, today=today,
                                 expected_card=CardIdentity.of(card))


def family(cfg: Config, card_no: str, today: str, psn_no: str = "") -> FamilyView:
    """The family view of the card's holder as it is now (balances, what each relative may pay): asked again
    after every write, so no screen shows a balance from before it. `psn_no`: a patient without a card
    (the e-voucher)."""
    ledger = ledger_of(cfg)
    if psn_no:
        return ledger.family(psn_no=psn_no, today=today)
    cached = ledger.cached_psn_no(card_no)
    if cached is not None:
        return ledger.family(psn_no=cached, today=today)
    return ledger.family(card_no=card_no, today=today)


def _need(reader: Reader | None) -> Reader:
    from drivers.errors import NO_CARD, CardError
    if reader is None:
        raise CardError(NO_CARD)
    return reader
