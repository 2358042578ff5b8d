"""Visits (就诊: 2201/2203) and their fee details (2204), and the catalogue that classes each item."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from centre.interface.codes import ChrgitmLv
from centre.rules.charges import CatalogueEntry, ChargedItem
from centre.store.engine import Database


@dataclass(frozen=True)
class Visit:
    mdtrt_id: str
    psn_no: str
    insutype: str
    fixmedins_code: str
    ipt_otp_no: str
    med_type: str | None
    begntime: str | None
    mdtrt_cert_type: str
    mdtrt_cert_no: str
    status: str


def catalogue_entry(db: Database, code: str) -> CatalogueEntry | None:
    row = db.one("SELECT med_list_codg, name, chrgitm_lv, med_chrgitm_type, selfpay_prop, pric_uplmt_amt, "
                 "lmt_used_flag FROM catalogue WHERE med_list_codg = ?", [code])
    if row is None:
        return None
    return CatalogueEntry(row[0], row[1], ChrgitmLv(row[2]), row[3] or "",
                          Decimal(row[4]) if row[4] is not None else None,
                          Decimal(row[5]) if row[5] is not None else None, row[6] or "0")


def catalogue_size(db: Database) -> int:
    return int(db.one("SELECT count(*) FROM catalogue")[0])


def hosp_lv(db: Database, fixmedins_code: str) -> str | None:
    row = db.one("SELECT hosp_lv FROM medins WHERE fixmedins_code = ?", [fixmedins_code])
    return row[0] if row else None


def add_visit(db: Database, *, mdtrt_id: str, psn_no: str, insutype: str, fixmedins_code: str, ipt_otp_no: str,
              begntime: str, mdtrt_cert_type: str, mdtrt_cert_no: str, at: str, msgid: str) -> None:
    db.execute("INSERT INTO visits (mdtrt_id, psn_no, insutype, fixmedins_code, ipt_otp_no, begntime, "
               "mdtrt_cert_type, mdtrt_cert_no, status, created_at, msgid) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'registered', ?, ?)",
               [mdtrt_id, psn_no, insutype, fixmedins_code, ipt_otp_no, begntime, mdtrt_cert_type, mdtrt_cert_no,
                at, msgid])


def visit(db: Database, mdtrt_id: str) -> Visit | None:
    row = db.one("SELECT mdtrt_id, psn_no, insutype, fixmedins_code, ipt_otp_no, med_type, begntime, "
                 "mdtrt_cert_type, mdtrt_cert_no, status FROM visits WHERE mdtrt_id = ?", [mdtrt_id])
    return Visit(*row) if row else None


def set_visit_info(db: Database, mdtrt_id: str, med_type: str, dise_codg: str, dise_name: str) -> None:
    db.execute("UPDATE visits SET med_type = ?, dise_codg = ?, dise_name = ? WHERE mdtrt_id = ?",
               [med_type, dise_codg, dise_name, mdtrt_id])


def cancel_visit(db: Database, mdtrt_id: str) -> bool:
    return db.execute("UPDATE visits SET status = 'cancelled' WHERE mdtrt_id = ? AND status = 'registered'",
                      [mdtrt_id]).rowcount == 1


def add_fee(db: Database, row: dict[str, Any]) -> None:
    cols = list(row)
    db.execute(f"INSERT INTO fee_details ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
               [row[c] for c in cols])


def fee_sns(db: Database, mdtrt_id: str) -> set[str]:
    return {r[0] for r in db.all("SELECT feedetl_sn FROM fee_details WHERE mdtrt_id = ? AND status <> 'cancelled'",
                                 [mdtrt_id])}


def uploaded(db: Database, mdtrt_id: str, chrg_bchno: str) -> list[ChargedItem]:
    """The visit's fee items not yet settled (one batch, or every batch with 0000), in upload order."""
    batch = "" if chrg_bchno == "0000" else " AND chrg_bchno = ?"
    args = [mdtrt_id] + ([] if chrg_bchno == "0000" else [chrg_bchno])
    return [ChargedItem(int(r[0]), ChrgitmLv(r[1]), Decimal(r[2]), int(r[3]), int(r[4]), int(r[5]), int(r[6]))
            for r in db.all("SELECT det_item_fee_sumamt, chrgitm_lv, selfpay_prop, fulamt_ownpay_amt, overlmt_amt, "
                            "preselfpay_amt, inscp_scp_amt FROM fee_details WHERE mdtrt_id = ? "
                            f"AND status = 'uploaded'{batch} ORDER BY id", args)]


def mark_fees(db: Database, mdtrt_id: str, chrg_bchno: str, *, setl_id: str | None, status: str,
              from_status: str) -> int:
    """Move a visit's fee items (one batch, or 0000 = every batch) from one state to another."""
    batch = "" if chrg_bchno == "0000" else " AND chrg_bchno = ?"
    args: list[Any] = [status, setl_id, mdtrt_id, from_status] + ([] if chrg_bchno == "0000" else [chrg_bchno])
    return db.execute(f"UPDATE fee_details SET status = ?, setl_id = ? WHERE mdtrt_id = ? AND status = ?{batch}",
                      args).rowcount


def release_fees(db: Database, setl_id: str) -> int:
    """A reversed settlement's items go back to 'uploaded' (the visit can be settled again)."""
    return db.execute("UPDATE fee_details SET status = 'uploaded', setl_id = NULL WHERE setl_id = ?",
                      [setl_id]).rowcount


def visit_settled(db: Database, mdtrt_id: str) -> bool:
    return db.one("SELECT 1 FROM settlements WHERE mdtrt_id = ? AND status = 'settled'", [mdtrt_id]) is not None
