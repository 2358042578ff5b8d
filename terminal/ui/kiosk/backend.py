"""The kiosk's calls into the ledger (`terminal.services.ledger`: the insurance centre's client), run on
worker threads.

No rule lives here: the card is read by `CardSession` (through the cashier UI's `window_ops`), the
family and the amounts come from the ledger (pre-settlement for each way to pay, then `settle`, which
verifies the PIN on the card and commits). This module
only picks the pending bill and turns the services' answers into what the patient sees.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from drivers.certno import mask
from drivers.reader import Reader
from terminal.config import Config
from terminal.domain.bill import Bill
from terminal.error_codes import E
from terminal.errors import BadInput
from terminal.services.results import SettlementResult
from terminal.ui.kiosk.models import BillLine, FamilyPayer, Patient, PayOption, PendingBill, Receipt
from terminal.ui.kiosk.texts import t
from terminal.web.settings import WebSettings

DEMO_BILLS = Path(__file__).resolve().parent.parent.parent / "web" / "demo_bills"
log = logging.getLogger("cashier.kiosk")
SAFE_STEM = re.compile(r"[A-Za-z0-9_-]{1,64}")   # a card number or psn_no as a file name: no path in it


class KioskBackend:
    """One patient at a time: read → bill → ways to pay → pay."""

    def __init__(self, cfg: Config, reader: Reader | None, *, lang: str = "zh",
                 now: Callable[[], datetime] | None = None) -> None:
        self.cfg = cfg
        self.reader = reader
        self.lang = lang
        self.settings = WebSettings.from_config(cfg)
        self._now = now or datetime.now

    def describe(self, exc: BaseException) -> tuple[str, str]:
        from terminal.errors import describe
        return describe(exc, self.lang)

    # -- read ------------------------------------------------------------------------------
    def read_patient(self) -> Patient:
        """Read the card and look up the patient's own and family accounts."""
        from terminal.ui.window_ops import load_patient
        card, family, _places, tries_left = load_patient(self.cfg, self.reader,
                                                         today=self._now().date().isoformat())
        person = family.person
        payers = tuple(FamilyPayer(owner_psn_no=r.owner_psn_no, owner_name=r.owner_name, relation=r.relation,
                                   relation_name=self._relation_name(r.relation))
                       for r in family.relatives if int(r.available) > 0)   # "available" means it can pay now
        expired = card.card.expired(self._now().date().isoformat())
        return Patient(name=person.psn_name, expired=expired, certno_masked=mask(person.certno), card_no=card.card.card_no,
                       psn_no=person.psn_no, own_balc=family.own, family=payers, pin_blocked=tries_left == 0,
                       wallet_balc=self._wallet(family.wallet))

    def read_voucher_patient(self, code: str) -> Patient:
        """The scanned e-voucher code: 1101 with it through the centre (spent once), then the accounts."""
        from terminal.ui.window_ops import load_voucher_patient
        _read, family, _places, _ = load_voucher_patient(self.cfg, code, today=self._now().date().isoformat())
        person = family.person
        payers = tuple(FamilyPayer(owner_psn_no=r.owner_psn_no, owner_name=r.owner_name, relation=r.relation,
                                   relation_name=self._relation_name(r.relation))
                       for r in family.relatives if int(r.available) > 0)
        return Patient(name=person.psn_name, expired=False, certno_masked=mask(person.certno), card_no="",
                       psn_no=person.psn_no, own_balc=family.own, family=payers, voucher=True,
                       wallet_balc=self._wallet(family.wallet))

    def _wallet(self, balance: int | None) -> int | None:
        """The patient's wallet as the overview shows it: None (not shown) where this model has no wallet."""
        from terminal.services.wallet import wallet_shown
        return balance if wallet_shown(self.cfg, balance) else None

    def _relation_name(self, code: str) -> str:
        from centre.interface.relations import name
        return name(code, self.lang)

    # -- the bill --------------------------------------------------------------------------
    def bill_path(self, patient: Patient) -> Path | None:
        """`<bills_dir>/<card_no>.json` or `<psn_no>.json`; else the bundled demo bill, if allowed and not paid.

        The demo bill is paid once per patient: its request id is the same every time for that patient,
        so a settlement with that id means this patient has paid it (a fresh demo database offers it again).
        """
        folder = self.settings.bills_dir
        for stem in (patient.card_no, patient.psn_no):
            if stem and SAFE_STEM.fullmatch(stem) and (folder / f"{stem}.json").is_file():
                return folder / f"{stem}.json"
        if not self.settings.demo_bill:
            return None
        demo = sorted(DEMO_BILLS.glob("*.json"))
        if not demo:
            return None
        from terminal.services.ledger import ledger_of
        request_id = _request_id("demo", patient, demo[0].name, 0, demo[0].read_bytes())
        paid = ledger_of(self.cfg).find_by_request(request_id) is not None
        return None if paid else demo[0]

    def pending_bill(self, patient: Patient) -> PendingBill | None:
        """The bill with the fund's share for this patient (a refusal, e.g. insurance suspended, raises here).

        The file is read and checked before any screen uses it: a bill that cannot be read, parsed or
        shown raises `E.BAD_BILL` with the reason (see `read_bill`), never anything else.
        """
        from terminal.services.ledger import ledger_of
        path = self.bill_path(patient)
        if path is None:
            return None
        bill, raw, mtime_ns = read_bill(path)
        pre = ledger_of(self.cfg).presettle(patient.psn_no, bill, relatives="none", acct_used_flag=False,
                                            now=self._now())
        lines = tuple(BillLine(i.name, _qty_text(i.qty), amount) for i, amount in zip(bill.items, pre.item_amounts))
        in_folder = path.parent != DEMO_BILLS
        request_id = _request_id("file", patient, path.name, mtime_ns, raw) if in_folder else \
            _request_id("demo", patient, path.name, 0, raw)
        return PendingBill(lines=lines, total=pre.medfee_sumamt, fund_pay=pre.fund_pay_sumamt,
                           bill=bill, path=path if in_folder else None, request_id=request_id)

    # -- ways to pay -----------------------------------------------------------------------
    def pay_options(self, patient: Patient, bill: PendingBill) -> list[PayOption]:
        """The ways to pay that cover the whole out-of-pocket part from accounts: own account alone (when
        there is one), then own + each relative. A kiosk takes no cash, so a split that would leave cash
        to pay is not offered; no option at all sends the patient to a cashier window."""
        from terminal.services.ledger import ledger_of
        ledger = ledger_of(self.cfg)
        choices: list[tuple[str, Any, str, str]] = []
        if patient.own_balc is not None or patient.wallet_balc:   # the patient's own money: account, wallet
            choices.append(("own", "none", patient.name, ""))
        for f in patient.family:
            choices.append((f.owner_psn_no, [f.owner_psn_no], f.owner_name, f.relation_name))
        options: list[Any] = []
        for key, relatives, who, relation in choices:
            pre = ledger.presettle(patient.psn_no, bill.bill, relatives=relatives, now=self._now())
            if pre.psn_cash_pay > 0:
                continue  # would leave cash to pay: not at a kiosk
            if key != "own" and pre.acct_mulaid_pay <= 0 and options:
                continue  # a relative's account that adds nothing is not worth a button
            options.append(PayOption(key=key, relatives=tuple(relatives) if relatives != "none" else (),
                                     payer_name=who, relation_name=relation,
                                     fund_pay=pre.fund_pay_sumamt, own_pay=pre.own_acct_pay,
                                     mulaid_pay=pre.acct_mulaid_pay, cash_pay=pre.psn_cash_pay,
                                     wallet_pay=pre.wallet_pay))
        return options

    # -- pay -------------------------------------------------------------------------------
    def pay(self, patient: Patient, bill: PendingBill, option: PayOption, pin: str) -> Receipt:
        """settle(): the card is read again, its PIN verified on the card, then one transaction.

        `cash_allowed=False`: if the accounts no longer cover the out-of-pocket part (another window paid
        from them since the options were shown), settle refuses (`accounts_short`) and charges nothing.
        The bill's request id makes a retry of a committed payment return the first result.
        """
        from terminal.card_session import CardIdentity, CardSession
        from terminal.services.ledger import ledger_of
        relatives: Any = list(option.relatives) if option.relatives else "none"
        if patient.voucher:    # the e-voucher: no card and no PIN (the patient confirmed in the app)
            result = ledger_of(self.cfg).settle_voucher(patient.psn_no, bill.bill, relatives=relatives,
                                                        request_id=bill.request_id, now=self._now(),
                                                        cash_allowed=False)
            return self._receipt(patient, bill, result)
        if self.reader is None:
            from drivers.errors import NO_READER, CardError
            raise CardError(NO_READER)
        session = CardSession(self.reader, self.cfg)
        result = ledger_of(self.cfg).settle(session, bill.bill, pin=pin, relatives=relatives,
                                            request_id=bill.request_id, now=self._now(), cash_allowed=False,
                                            expected_card=CardIdentity(patient.card_no))   # the card shown, or card_swapped
        return self._receipt(patient, bill, result)

    def _receipt(self, patient: Patient, bill: PendingBill, result: SettlementResult) -> Receipt:
        if bill.path is not None:
            self._file_paid(Path(bill.path))
        from terminal.services.wallet import settlement_wallet
        names = {f.owner_psn_no: f.owner_name for f in patient.family}
        wallet = settlement_wallet(result)
        split = result.split
        return Receipt(
            setl_id=result.setl_id, total=split.medfee_sumamt, fund_pay=split.fund_pay_sumamt,
            own_pay=split.own_acct_pay,
            mulaid=tuple((names.get(m.owner_psn_no, m.owner_psn_no), m.amount) for m in split.mulaid),
            cash_pay=split.psn_cash_pay, own_balc_after=split.balc,
            slip_warning=t("slip_not_saved", self.lang, setl_id=result.setl_id) if result.slip_warning else "",
            voucher=patient.voucher, wallet_pay=wallet.wallet_pay, wallet_balc_after=wallet.wallet_balc)

    @staticmethod
    def _file_paid(path: Path) -> None:
        """A paid bill moves to `<bills_dir>/paid/`, so it is not offered again.

        The payment has committed by now: a failure to move the file is logged, not shown as a failed
        payment (offered again, the same request id returns this payment and charges nothing).
        """
        done = path.parent / "paid"
        try:
            done.mkdir(exist_ok=True)
            shutil.move(str(path), done / path.name)
        except OSError as exc:
            log.warning("paid bill %s not moved to %s: %s", path.name, done, exc)


def read_bill(path: Path) -> tuple[Bill, bytes, int]:
    """The bill in the file, the file's bytes and its mtime (ns); E.BAD_BILL.error(reason) for every
    way it can fail.

    A bill file comes from another system and may be anything: unreadable, not UTF-8, not JSON, nested
    thousands deep (RecursionError), numbers too long for Python (ValueError), or text no screen can
    show (lone surrogates, control characters). The kiosk says which and sends the patient to a window.
    """
    from terminal.domain.bill import bill_from_text
    try:
        mtime_ns = path.stat().st_mtime_ns
        raw = path.read_bytes()
        bill = bill_from_text(raw.decode("utf-8"))
    except BadInput as exc:
        raise E.BAD_BILL.error(exc.message.replace(str(path), path.name),
                       exc.message_zh.replace(str(path), path.name)) from None
    except Exception as exc:  # anything reading or parsing a file can raise: named, never a traceback
        raise _unreadable(exc) from None
    for index, item in enumerate(bill.items, 1):
        if not all(_showable(text) for text in (item.code, item.name, item.category)):
            raise E.BAD_BILL.error(f"item {index}: its text has characters a screen cannot show",
                           f"第{index}项：文字含有无法显示的字符")
    return bill, raw, mtime_ns


def _unreadable(exc: BaseException) -> BadInput:
    if isinstance(exc, RecursionError):
        return E.BAD_BILL.error("the bill file is nested too deeply to read", "账单文件嵌套层数过多，无法读取")
    if isinstance(exc, UnicodeError):
        return E.BAD_BILL.error("the bill file is not valid UTF-8 text", "账单文件不是有效的 UTF-8 文本")
    if isinstance(exc, OSError):
        return E.BAD_BILL.error(f"the bill file cannot be read ({exc.strerror or type(exc).__name__})",
                        f"账单文件无法读取（{exc.strerror or type(exc).__name__}）")
    detail = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
    return E.BAD_BILL.error(f"the bill file is malformed ({type(exc).__name__}: {detail})",
                    "账单文件格式错误，无法读取")   # Python's English stays out of the Chinese screen


def _showable(text: str) -> bool:
    """No lone surrogates (they cannot be written to the screen) and no control characters."""
    return not any(unicodedata.category(ch) in ("Cs", "Cc") for ch in text)


def _request_id(kind: str, patient: Patient, name: str, mtime_ns: int, raw: bytes) -> str:
    """A bill is paid once per patient: the same file (same bytes, and the same time for a file in
    bills_dir) gives the same id, and a retry returns the first result instead of charging again."""
    digest = hashlib.sha256(f"{kind}|{patient.psn_no}|{name}|{mtime_ns}|".encode() + raw)
    return f"kiosk-{kind}-" + digest.hexdigest()[:24]


def _qty_text(qty: Any) -> str:
    return str(int(qty)) if qty == int(qty) else str(qty.normalize())
