"""Persons, accounts, bindings, regions: what the centre knows about who may pay for whom."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from centre.rules.mutual_aid import Party
from centre.rules.regions import Region
from centre.store.engine import Database


@dataclass(frozen=True)
class Person:
    psn_no: str
    certno: str
    psn_name: str
    gend: str | None
    naty: str | None
    brdy: str | None
    card_no: str | None
    card_sn: str | None
    insuplc_admdvs: str
    insutype: str
    psn_insu_stas: str
    psn_type: str | None
    cvlserv_flag: str | None
    emp_name: str | None
    psn_insu_date: str | None
    paus_insu_date: str | None

    def party(self, balc: int | None) -> Party:
        """This person as the mutual-aid rules see them."""
        return Party(self.psn_no, self.psn_name, self.insutype, self.psn_insu_stas, self.insuplc_admdvs,
                     self.gend, balc)


@dataclass(frozen=True)
class Binding:
    id: int
    owner_psn_no: str
    user_psn_no: str
    relation: str
    scope: str
    quota: int
    begin_date: str
    end_date: str | None
    status: str
    created_by: str | None
    created_at: str | None
    created_window: str | None
    ended_by: str | None
    ended_at: str | None
    ended_window: str | None
    end_reason: str | None


PERSON_COLS = ", ".join(f.name for f in fields(Person))
BINDING_COLS = ", ".join(f.name for f in fields(Binding))


def person(db: Database, *, psn_no: str | None = None, card_no: str | None = None,
           certno: str | None = None) -> Person | None:
    """By exactly one of psn_no, card number or ID number (an ID number's x is upper-cased)."""
    if psn_no is not None:
        where, value = "psn_no", psn_no
    elif card_no is not None:
        where, value = "card_no", card_no.strip().upper()
    elif certno is not None:
        where, value = "certno", certno.strip().upper()
    else:
        raise ValueError("person() needs psn_no, card_no or certno")
    row = db.one(f"SELECT {PERSON_COLS} FROM persons WHERE {where} = ?", [value])
    return Person(*row) if row else None


def balance(db: Database, psn_no: str) -> int | None:
    """The personal account's balance in fen, None without an account."""
    row = db.one("SELECT balc FROM accounts WHERE psn_no = ?", [psn_no])
    return None if row is None else int(row[0])


def names(db: Database, psn_nos: list[str]) -> dict[str, str]:
    if not psn_nos:
        return {}
    marks = ", ".join("?" * len(psn_nos))
    return {r[0]: r[1] for r in db.all(f"SELECT psn_no, psn_name FROM persons WHERE psn_no IN ({marks})", psn_nos)}


def region(db: Database, admdvs: str | None) -> Region | None:
    if not admdvs:
        return None
    row = db.one("SELECT admdvs, name, province, cross_province FROM regions WHERE admdvs = ?", [admdvs])
    return Region(row[0], row[1], row[2] or "", bool(row[3])) if row else None


def pooling_area(db: Database, admdvs: str | None) -> Region | None:
    """The person's pooling area: the area itself, else its city (the first four digits + 00)."""
    found = region(db, admdvs)
    if found is None and admdvs and len(admdvs) == 6 and not admdvs.endswith("00"):
        found = region(db, admdvs[:4] + "00")
    return found


def binding(db: Database, binding_id: int) -> Binding | None:
    row = db.one(f"SELECT {BINDING_COLS} FROM bindings WHERE id = ?", [binding_id])
    return Binding(*row) if row else None


def active_binding(db: Database, owner: str, user: str) -> Binding | None:
    row = db.one(f"SELECT {BINDING_COLS} FROM bindings WHERE owner_psn_no = ? AND user_psn_no = ? "
                 "AND status = 'active'", [owner, user])
    return Binding(*row) if row else None


def bindings_of_owner(db: Database, owner: str) -> list[Binding]:
    return [Binding(*r) for r in db.all(f"SELECT {BINDING_COLS} FROM bindings WHERE owner_psn_no = ? "
                                        "AND status = 'active' ORDER BY id", [owner])]


def owners_of_user(db: Database, user: str) -> list[str]:
    return [r[0] for r in db.all("SELECT owner_psn_no FROM bindings WHERE user_psn_no = ? AND status = 'active' "
                                 "ORDER BY id", [user])]


# the bindings of a user with what each owner can give: one query for the family lookup
RELATIVES_SQL = (
    "SELECT b.id, b.owner_psn_no, o.psn_name, b.relation, b.scope, b.quota, b.begin_date, b.end_date, "
    "a.balc, o.insutype, o.psn_insu_stas, o.insuplc_admdvs, o.gend "
    "FROM bindings b JOIN persons o ON o.psn_no = b.owner_psn_no "
    "LEFT JOIN accounts a ON a.psn_no = b.owner_psn_no "
    "WHERE b.user_psn_no = ? AND b.status = 'active' ORDER BY b.id")


def binding_rows_of_user(db: Database, user: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in db.all(RELATIVES_SQL, [user])]


def take_balance(db: Database, psn_no: str, amount: int) -> int | None:
    """balc -= amount if it holds that much: the new balance, or None (nothing changed)."""
    row = db.one("UPDATE accounts SET balc = balc - ?, version = version + 1 WHERE psn_no = ? AND balc >= ? "
                 "RETURNING balc", [amount, psn_no, amount])
    return None if row is None else int(row[0])


def give_balance(db: Database, psn_no: str, amount: int) -> int | None:
    """balc += amount: the new balance, or None when the person has no account."""
    row = db.one("UPDATE accounts SET balc = balc + ?, version = version + 1 WHERE psn_no = ? RETURNING balc",
                 [amount, psn_no])
    return None if row is None else int(row[0])


def take_quota(db: Database, binding_id: int, amount: int) -> int | None:
    row = db.one("UPDATE bindings SET quota = quota - ? WHERE id = ? AND status = 'active' AND quota >= ? "
                 "RETURNING quota", [amount, binding_id, amount])
    return None if row is None else int(row[0])


def give_quota(db: Database, binding_id: int, amount: int) -> int | None:
    """quota += amount on an active binding: the new quota, or None (the binding has ended)."""
    row = db.one("UPDATE bindings SET quota = quota + ? WHERE id = ? AND status = 'active' RETURNING quota",
                 [amount, binding_id])
    return None if row is None else int(row[0])


def add_binding(db: Database, *, owner: str, user: str, relation: str, scope: str, quota: int, begin_date: str,
                by: str, at: str, window: str) -> int:
    row = db.one("INSERT INTO bindings (owner_psn_no, user_psn_no, relation, scope, quota, begin_date, status, "
                 "created_by, created_at, created_window) VALUES (?, ?, ?, ?, ?, ?, 'active', ?, ?, ?) RETURNING id",
                 [owner, user, relation, scope, quota, begin_date, by, at, window])
    return int(row[0])


def end_binding_row(db: Database, binding_id: int, *, on_date: str, by: str | None, at: str, window: str | None,
                    reason: str) -> bool:
    cur = db.execute("UPDATE bindings SET status = 'ended', end_date = ?, quota = 0, ended_by = ?, ended_at = ?, "
                     "ended_window = ?, end_reason = ? WHERE id = ? AND status = 'active'",
                     [on_date, by, at, window, reason, binding_id])
    return cur.rowcount == 1


def add_movement(db: Database, *, kind: str, psn_no: str | None, binding_id: int | None, balc_delta: int,
                 quota_delta: int, at: str, ref: str | None = None) -> None:
    db.execute("INSERT INTO movements (kind, psn_no, binding_id, balc_delta, quota_delta, at, ref) "
               "VALUES (?, ?, ?, ?, ?, ?, ?)", [kind, psn_no, binding_id, balc_delta, quota_delta, at, ref])


def lapsed_owner_bindings(db: Database) -> list[tuple[int, str, str, str, str, str]]:
    """Active bindings whose owner's insurance ended or is no longer employee insurance."""
    return [tuple(r) for r in db.all(
        "SELECT b.id, o.psn_no, o.psn_name, o.insutype, o.psn_insu_stas, o.insuplc_admdvs FROM bindings b "
        "JOIN persons o ON o.psn_no = b.owner_psn_no WHERE b.status = 'active' "
        "AND (o.psn_insu_stas = '4' OR o.insutype <> '310') ORDER BY b.id")]
