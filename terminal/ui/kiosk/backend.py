"""The kiosk's calls into the services, run on worker threads (one sqlite connection per call).

No rule lives here: the card is read by `CardSession` (through the cashier UI's `window_ops`), the
family by `terminal.services.family`, amounts by `terminal.services.settlement` (pre-settlement
for each way to pay, then `settle`, which verifies the PIN on the card and commits). This module
only picks the pending bill and turns the services' answers into what the patient sees.
"""

from __future__ import annotations

import hashlib
import shutil
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from drivers.certno import mask
from drivers.reader import Reader
from terminal.config import Config
from terminal.ui.kiosk.models import BillLine, FamilyPayer, PayOption, PendingBill, Patient, Receipt
from terminal.web.settings import WebSettings

DEMO_BILLS = Path(__file__).resolve().parent.parent.parent / "web" / "demo_bills"


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
                                   relation_name=self._relation_name(r.relation), available=int(r.available))
                       for r in family.relatives)
        expired = card.card.expired(self._now().date().isoformat())
        return Patient(name=person.psn_name, expired=expired, certno_masked=mask(person.certno), card_no=card.card.card_no,
                       psn_no=person.psn_no, own_balc=family.own, family=payers, pin_blocked=tries_left == 0)

    def _relation_name(self, code: str) -> str:
        from terminal.domain.relations import name
        return name(code, self.lang)

    # -- the bill --------------------------------------------------------------------------
    def bill_path(self, patient: Patient) -> Path | None:
        """`<bills_dir>/<card_no>.json` or `<psn_no>.json`; else the bundled demo bill if allowed."""
        folder = self.settings.bills_dir
        for stem in (patient.card_no, patient.psn_no):
            if stem and (folder / f"{stem}.json").is_file():
                return folder / f"{stem}.json"
        if self.settings.demo_bill:
            demo = sorted(DEMO_BILLS.glob("*.json"))
            return demo[0] if demo else None
        return None

    def pending_bill(self, patient: Patient) -> PendingBill | None:
        """The bill with the fund's share for this patient (a refusal, e.g. insurance suspended, raises here)."""
        from terminal.domain.bill import load_bill
        from terminal.services.settlement import presettle_for
        from terminal.ui.window_ops import database
        path = self.bill_path(patient)
        if path is None:
            return None
        bill = load_bill(path)
        with database(self.cfg) as db:
            pre = presettle_for(db, self.cfg, patient.psn_no, bill, relatives="none", acct_used_flag=False,
                                now=self._now())
        lines = tuple(BillLine(i.name, _qty_text(i.qty), amount) for i, amount in zip(bill.items, pre.item_amounts))
        in_folder = path.parent != DEMO_BILLS
        return PendingBill(lines=lines, total=pre.medfee_sumamt, fund_pay=pre.fund_pay_sumamt,
                           bill=bill, path=path if in_folder else None)

    # -- ways to pay -----------------------------------------------------------------------
    def pay_options(self, patient: Patient, bill: PendingBill) -> list[PayOption]:
        """Own account alone (when there is one), then own + each relative: the services' split for each."""
        from terminal.services.settlement import presettle_for
        from terminal.ui.window_ops import database
        choices: list[tuple[str, Any, str, str]] = []
        if patient.own_balc is not None:
            choices.append(("own", "none", patient.name, ""))
        for f in patient.family:
            choices.append((f.owner_psn_no, [f.owner_psn_no], f.owner_name, f.relation_name))
        options = []
        with database(self.cfg) as db:
            for key, relatives, who, relation in choices:
                pre = presettle_for(db, self.cfg, patient.psn_no, bill.bill, relatives=relatives, now=self._now())
                if pre.acct_pay <= 0 and options:
                    continue  # an account with nothing to give is not worth a button
                options.append(PayOption(key=key, relatives=tuple(relatives) if relatives != "none" else (),
                                         payer_name=who, relation_name=relation,
                                         fund_pay=pre.fund_pay_sumamt, own_pay=pre.own_acct_pay,
                                         mulaid_pay=pre.acct_mulaid_pay, cash_pay=pre.psn_cash_pay))
        return options

    # -- pay -------------------------------------------------------------------------------
    def request_id(self, patient: Patient, bill: PendingBill) -> str:
        """A bill file is paid once (a retry returns the first result); the demo bill every time."""
        if bill.path is None:
            return "kiosk-" + uuid.uuid4().hex
        p = Path(bill.path)
        digest = hashlib.sha256(f"{patient.psn_no}|{p.name}|{p.stat().st_mtime_ns}|".encode() + p.read_bytes())
        return "kiosk-" + digest.hexdigest()[:24]

    def pay(self, patient: Patient, bill: PendingBill, option: PayOption, pin: str) -> Receipt:
        """settle(): the card is read again, its PIN verified on the card, then one transaction."""
        from terminal.card_session import CardIdentity, CardSession
        from terminal.services.settlement import settle
        from terminal.ui.window_ops import database
        if self.reader is None:
            from drivers.errors import NO_READER, CardError
            raise CardError(NO_READER)
        session = CardSession(self.reader, self.cfg)
        relatives: Any = list(option.relatives) if option.relatives else "none"
        with database(self.cfg) as db:
            result = settle(db, self.cfg, session, bill.bill, pin=pin, relatives=relatives,
                            request_id=self.request_id(patient, bill), now=self._now(),
                            expected_card=CardIdentity(patient.card_no))   # the card shown, or card_swapped
        if bill.path is not None:
            self._file_paid(Path(bill.path))
        names = {f.owner_psn_no: f.owner_name for f in patient.family}
        return Receipt(
            setl_id=result.setl_id, total=result.medfee_sumamt, fund_pay=result.fund_pay_sumamt,
            own_pay=result.own_acct_pay,
            mulaid=tuple((names.get(m["owner_psn_no"], m["owner_psn_no"]), int(m["amount"])) for m in result.mulaid),
            cash_pay=result.psn_cash_pay, own_balc_after=result.balc)

    @staticmethod
    def _file_paid(path: Path) -> None:
        """A paid bill moves to `<bills_dir>/paid/`, so it is not offered again."""
        done = path.parent / "paid"
        done.mkdir(exist_ok=True)
        shutil.move(str(path), done / path.name)


def _qty_text(qty: Any) -> str:
    return str(int(qty)) if qty == int(qty) else str(qty.normalize())
