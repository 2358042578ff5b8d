"""Persons, accounts, bindings, regions: what the centre knows about who may pay for whom."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from centre.interface.codes import BindingStatus, Insutype, PsnInsuStas
from centre.rules.mutual_aid import Party
from centre.rules.regional import RegionRule, chain
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


# the prior-year part of a balance as of a year: all of it once the year the split was written in is past
_PRIOR = "(CASE WHEN year IS NOT NULL AND year < ? THEN balc ELSE prior_balc END)"


def split(db: Database, psn_no: str, year: int) -> tuple[int, int] | None:
    """(balance, its prior-year part 历年结余) in `year`, None without an account. From a later year than the
    one the split was written in, the whole balance is prior-year (this year's part rolls over on 1 January)."""
    row = db.one("SELECT balc, prior_balc, year FROM accounts WHERE psn_no = ?", [psn_no])
    if row is None:
        return None
    balc, prior, written = int(row[0]), int(row[1]), row[2]
    return balc, (balc if written is not None and int(written) < year else prior)


def shareable(db: Database, psn_no: str, year: int, prior_only: bool) -> int | None:
    """What an owner may share: the balance, or only its prior-year part where the owner's area says so."""
    found = split(db, psn_no, year)
    if found is None:
        return None
    return found[1] if prior_only else found[0]


def take_balance(db: Database, psn_no: str, amount: int, *, year: int, prior_only: bool = False
                 ) -> tuple[int, int] | None:
    """balc -= amount if it holds that much: (the new balance, the part taken from the prior-year balance), or
    None (nothing changed). This year's part pays first; `prior_only`: only the prior-year part may pay (a
    relative's share where the owner's area shares only 历年结余)."""
    found = split(db, psn_no, year)
    if found is None:
        return None
    balc, prior = found
    prior_part = amount if prior_only else max(0, amount - (balc - prior))
    row = db.one(f"UPDATE accounts SET prior_balc = {_PRIOR} - ?, balc = balc - ?, year = ?, version = version + 1 "
                 f"WHERE psn_no = ? AND balc >= ? AND {_PRIOR} >= ? AND balc - {_PRIOR} >= ? RETURNING balc",
                 [year, prior_part, amount, year, psn_no, amount, year, prior_part, year, amount - prior_part])
    return None if row is None else (int(row[0]), prior_part)


def give_balance(db: Database, psn_no: str, amount: int, *, year: int, prior_part: int = 0) -> int | None:
    """balc += amount, `prior_part` of it to the prior-year balance: the new balance, or None without an account."""
    row = db.one(f"UPDATE accounts SET prior_balc = {_PRIOR} + ?, balc = balc + ?, year = ?, version = version + 1 "
                 "WHERE psn_no = ? RETURNING balc", [year, prior_part, amount, year, psn_no])
    return None if row is None else int(row[0])


# --- the insurance wallet --------------------------------------------------------------------------

def wallet_balance(db: Database, psn_no: str) -> int:
    row = db.one("SELECT balc FROM wallets WHERE psn_no = ?", [psn_no])
    return 0 if row is None else int(row[0])


def give_wallet(db: Database, psn_no: str, amount: int) -> int:
    """wallet += amount (a wallet opens with its first money): the new balance."""
    row = db.one("INSERT INTO wallets (psn_no, balc) VALUES (?, ?) ON CONFLICT (psn_no) DO UPDATE SET "
                 "balc = wallets.balc + excluded.balc, version = wallets.version + 1 RETURNING balc", [psn_no, amount])
    return int(row[0])


def take_wallet(db: Database, psn_no: str, amount: int) -> int | None:
    """wallet -= amount if it holds that much: the new balance, or None."""
    row = db.one("UPDATE wallets SET balc = balc - ?, version = version + 1 WHERE psn_no = ? AND balc >= ? "
                 "RETURNING balc", [amount, psn_no, amount])
    return None if row is None else int(row[0])


@dataclass(frozen=True)
class Transfer:
    id: int
    owner_psn_no: str
    user_psn_no: str
    binding_id: int | None
    amount: int
    prior_part: int
    state: str
    made_at: str
    made_date: str
    due_at: str
    closed_at: str | None


TRANSFER_COLS = ", ".join(f.name for f in fields(Transfer))


def add_transfer(db: Database, *, owner: str, user: str, binding_id: int | None, amount: int, prior_part: int,
                 made_at: str, due_at: str, msgid: str, fixmedins_code: str, opter: str) -> int:
    row = db.one("INSERT INTO wallet_transfers (owner_psn_no, user_psn_no, binding_id, amount, prior_part, state, "
                 "made_at, made_date, due_at, msgid, fixmedins_code, opter) "
                 "VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?) RETURNING id",
                 [owner, user, binding_id, amount, prior_part, made_at, made_at[:10], due_at, msgid, fixmedins_code,
                  opter])
    return int(row[0])


def transfer(db: Database, transfer_id: int) -> Transfer | None:
    row = db.one(f"SELECT {TRANSFER_COLS} FROM wallet_transfers WHERE id = ?", [transfer_id])
    return Transfer(*row) if row else None


def transfers_made_on(db: Database, owner: str, day: str) -> int:
    return int(db.one("SELECT count(*) FROM wallet_transfers WHERE owner_psn_no = ? AND made_date = ?",
                      [owner, day])[0])


def transfers_of(db: Database, psn_no: str, since_day: str) -> list[Transfer]:
    """A person's transfers, made or received: every pending one, and the others made since `since_day`."""
    return [Transfer(*r) for r in db.all(
        f"SELECT {TRANSFER_COLS} FROM wallet_transfers WHERE (owner_psn_no = ? OR user_psn_no = ?) "
        "AND (state = 'pending' OR made_date >= ?) ORDER BY id", [psn_no, psn_no, since_day])]


def due_transfers(db: Database, now: str, psn_nos: list[str] | None = None) -> list[Transfer]:
    """Pending transfers whose return time has come (of these persons, as owner or user; None: everyone's)."""
    where, args = "state = 'pending' AND due_at <= ?", [now]
    if psn_nos is not None:
        if not psn_nos:
            return []
        marks = ", ".join("?" * len(psn_nos))
        where += f" AND (owner_psn_no IN ({marks}) OR user_psn_no IN ({marks}))"
        args += psn_nos + psn_nos
    return [Transfer(*r) for r in db.all(f"SELECT {TRANSFER_COLS} FROM wallet_transfers WHERE {where} ORDER BY id",
                                         args)]


def close_transfer(db: Database, transfer_id: int, state: str, at: str) -> bool:
    """A pending transfer accepted or returned (once: False when it was no longer pending)."""
    return db.execute("UPDATE wallet_transfers SET state = ?, closed_at = ? WHERE id = ? AND state = 'pending'",
                      [state, at, transfer_id]).rowcount == 1


# --- regional rules --------------------------------------------------------------------------------

REGION_RULE_COLS = ("admdvs", "name", "max_users_per_owner", "one_owner_per_user", "share_prior_year_only",
                    "account_pays_class_c", "cross_province_since")


def region_rules(db: Database, admdvs: str) -> dict[str, RegionRule]:
    """The region_rule lines for an area, its city and its province, by code."""
    codes = chain(admdvs or "")
    if not codes:
        return {}
    rows = db.all(f"SELECT {', '.join(REGION_RULE_COLS)} FROM region_rules WHERE admdvs IN "
                  f"({', '.join('?' * len(codes))})", codes)
    out = {}
    for r in rows:
        one, prior, class_c = (None if v is None else bool(v) for v in r[3:6])
        out[r[0]] = RegionRule(r[0], r[1], None if r[2] is None else int(r[2]), one, prior, class_c, r[6])
    return out


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
                 quota_delta: int, at: str, ref: str | None = None, wallet_delta: int = 0,
                 prior_delta: int = 0) -> None:
    db.execute("INSERT INTO movements (kind, psn_no, binding_id, balc_delta, quota_delta, at, ref, wallet_delta, "
               "prior_delta) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
               [kind, psn_no, binding_id, balc_delta, quota_delta, at, ref, wallet_delta, prior_delta])


def quota_prior(db: Database, binding_id: int) -> int:
    """How much of a binding's quota came out of the owner's prior-year balance when it was set aside."""
    row = db.one("SELECT coalesce(sum(prior_delta), 0) FROM movements WHERE binding_id = ? AND kind = 'quota_set'",
                 [binding_id])
    return -int(row[0])


def lapsed_owner_bindings(db: Database) -> list[tuple[int, str, str, str, str, str]]:
    """Active bindings whose owner's insurance ended or is no longer employee insurance."""
    return [tuple(r) for r in db.all(
        "SELECT b.id, o.psn_no, o.psn_name, o.insutype, o.psn_insu_stas, o.insuplc_admdvs FROM bindings b "
        "JOIN persons o ON o.psn_no = b.owner_psn_no WHERE b.status = ? "
        "AND (o.psn_insu_stas = ? OR o.insutype <> ?) ORDER BY b.id",
        [BindingStatus.ACTIVE.value, PsnInsuStas.ENDED.value, Insutype.EMPLOYEE.value])]
