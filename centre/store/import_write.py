"""Writing checked export rows into the centre's SQLite database: bulk upserts that compare, inside the
import's transaction, with every figure tied to its history.

- An account's `opening` is set so that balc = opening + Σ movements − Σ ledger paid from balc holds with
  the export's balance (`centre.store.money.drifts`): a new account opens at its balance; an updated one
  gets the opening its history implies.
- A binding's quota moves only through `movements`: an imported quota is a movement of kind `import`
  (balc_delta 0: the export's balance is already net of it), a re-import that changes it writes the delta.
  New bindings get theirs in one statement at the end (every row above the import's first id with a quota);
  a re-import reads the stored quotas of each chunk's pairs first and writes the changes it made.
- What the centre itself moved since the last import is not undone: an account with ledger entries against
  its balance or other movements keeps its balance, a binding whose quota was drawn on or moved keeps its
  row, a binding ended at the centre is not brought back (the same pair and begin_date); they count as `kept`.

One SQL statement per kind (`SQL`), run with executemany in chunks; a chunk that hits a constraint is redone
row by row to name the line. The PostgreSQL writer (`centre.store.import_pg`) has the same methods (`rows`
and `ended`, the `import_lines.Sink` protocol; `start`, `finish`, `stop`, `counts` around them) and the same
statements spelled for PostgreSQL; the checks in `import_lines` and the reading in `import_read` are shared.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from centre.store.import_lines import Row
from centre.store.import_report import KINDS, ImportReport
from drivers import certno as idcard

SQL = {
    "region": (
        "INSERT INTO regions (admdvs, name, province, cross_province) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(admdvs) DO UPDATE SET name = excluded.name, province = excluded.province, "
        "cross_province = excluded.cross_province WHERE name IS NOT excluded.name "
        "OR province IS NOT excluded.province OR cross_province IS NOT excluded.cross_province"),
    "person": (
        "INSERT INTO persons (psn_no, certno, psn_name, gend, naty, brdy, card_no, card_sn, insuplc_admdvs, "
        "insutype, psn_insu_stas, psn_type, cvlserv_flag, emp_name, psn_insu_date, paus_insu_date) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(psn_no) DO UPDATE SET certno = excluded.certno, psn_name = excluded.psn_name, "
        "gend = excluded.gend, naty = excluded.naty, brdy = excluded.brdy, card_no = excluded.card_no, "
        "card_sn = excluded.card_sn, insuplc_admdvs = excluded.insuplc_admdvs, insutype = excluded.insutype, "
        "psn_insu_stas = excluded.psn_insu_stas, psn_type = excluded.psn_type, "
        "cvlserv_flag = excluded.cvlserv_flag, emp_name = excluded.emp_name, "
        "psn_insu_date = excluded.psn_insu_date, paus_insu_date = excluded.paus_insu_date "
        "WHERE certno IS NOT excluded.certno OR psn_name IS NOT excluded.psn_name OR gend IS NOT excluded.gend "
        "OR naty IS NOT excluded.naty OR brdy IS NOT excluded.brdy OR card_no IS NOT excluded.card_no "
        "OR card_sn IS NOT excluded.card_sn OR insuplc_admdvs IS NOT excluded.insuplc_admdvs "
        "OR insutype IS NOT excluded.insutype OR psn_insu_stas IS NOT excluded.psn_insu_stas "
        "OR psn_type IS NOT excluded.psn_type OR cvlserv_flag IS NOT excluded.cvlserv_flag "
        "OR emp_name IS NOT excluded.emp_name OR psn_insu_date IS NOT excluded.psn_insu_date "
        "OR paus_insu_date IS NOT excluded.paus_insu_date"),
    # a new account opens at its balance; a changed one gets the opening its history implies
    # prior_balc (?4): the export's prior-year part, or (not given) what is stored, within the new balance
    "account": (
        "INSERT INTO accounts (psn_no, balc, opening, year, version, prior_balc) VALUES (?1, ?2, ?2, ?3, 0, "
        "coalesce(?4, 0)) "
        "ON CONFLICT(psn_no) DO UPDATE SET balc = excluded.balc, year = excluded.year, version = version + 1, "
        "prior_balc = CASE WHEN ?4 IS NULL THEN min(accounts.prior_balc, excluded.balc) ELSE ?4 END, "
        "opening = excluded.balc "
        "- coalesce((SELECT sum(m.balc_delta) FROM movements m WHERE m.psn_no = excluded.psn_no), 0) "
        "+ coalesce((SELECT sum(l.amount) FROM ledger l WHERE l.psn_no = excluded.psn_no "
        "AND l.source = 'balc'), 0) "
        "WHERE balc IS NOT excluded.balc OR year IS NOT excluded.year OR (?4 IS NOT NULL AND prior_balc IS NOT ?4)"),
    "binding": (
        "INSERT INTO bindings (owner_psn_no, user_psn_no, relation, scope, quota, begin_date, end_date, status, "
        "created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'active', 'centre', ?) "
        "ON CONFLICT(owner_psn_no, user_psn_no) WHERE status = 'active' DO UPDATE SET "
        "relation = excluded.relation, scope = excluded.scope, quota = excluded.quota, "
        "begin_date = excluded.begin_date, end_date = excluded.end_date "
        "WHERE relation IS NOT excluded.relation OR scope IS NOT excluded.scope OR quota IS NOT excluded.quota "
        "OR begin_date IS NOT excluded.begin_date OR end_date IS NOT excluded.end_date"),
    "catalogue": (
        "INSERT INTO catalogue (med_list_codg, name, chrgitm_lv, med_chrgitm_type, selfpay_prop, pric_uplmt_amt, "
        "lmt_used_flag) VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(med_list_codg) DO UPDATE SET name = excluded.name, chrgitm_lv = excluded.chrgitm_lv, "
        "med_chrgitm_type = excluded.med_chrgitm_type, selfpay_prop = excluded.selfpay_prop, "
        "pric_uplmt_amt = excluded.pric_uplmt_amt, lmt_used_flag = excluded.lmt_used_flag "
        "WHERE name IS NOT excluded.name OR chrgitm_lv IS NOT excluded.chrgitm_lv "
        "OR med_chrgitm_type IS NOT excluded.med_chrgitm_type OR selfpay_prop IS NOT excluded.selfpay_prop "
        "OR pric_uplmt_amt IS NOT excluded.pric_uplmt_amt OR lmt_used_flag IS NOT excluded.lmt_used_flag"),
    "medins": (
        "INSERT INTO medins (fixmedins_code, fixmedins_name, hosp_lv, admdvs) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(fixmedins_code) DO UPDATE SET fixmedins_name = excluded.fixmedins_name, "
        "hosp_lv = excluded.hosp_lv, admdvs = excluded.admdvs "
        "WHERE fixmedins_name IS NOT excluded.fixmedins_name OR hosp_lv IS NOT excluded.hosp_lv "
        "OR admdvs IS NOT excluded.admdvs"),
    "region_rule": (
        "INSERT INTO region_rules (admdvs, name, max_users_per_owner, one_owner_per_user, share_prior_year_only, "
        "account_pays_class_c, cross_province_since, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(admdvs) DO UPDATE SET name = excluded.name, max_users_per_owner = excluded.max_users_per_owner, "
        "one_owner_per_user = excluded.one_owner_per_user, share_prior_year_only = excluded.share_prior_year_only, "
        "account_pays_class_c = excluded.account_pays_class_c, cross_province_since = excluded.cross_province_since, "
        "note = excluded.note "
        "WHERE name IS NOT excluded.name OR max_users_per_owner IS NOT excluded.max_users_per_owner "
        "OR one_owner_per_user IS NOT excluded.one_owner_per_user "
        "OR share_prior_year_only IS NOT excluded.share_prior_year_only "
        "OR account_pays_class_c IS NOT excluded.account_pays_class_c "
        "OR cross_province_since IS NOT excluded.cross_province_since OR note IS NOT excluded.note"),
}
TABLE = {"region": "regions", "person": "persons", "account": "accounts", "binding": "bindings",
         "catalogue": "catalogue", "medins": "medins", "region_rule": "region_rules"}
_ENDED = ("INSERT INTO bindings (owner_psn_no, user_psn_no, relation, scope, quota, begin_date, end_date, status, "
          "created_by, created_at, end_reason) VALUES (?, ?, ?, ?, ?, ?, ?, 'ended', 'centre', ?, 'centre')")
_MOVEMENT = ("INSERT INTO movements (kind, psn_no, binding_id, balc_delta, quota_delta, at, ref) "
             "VALUES ('import', ?, ?, 0, ?, ?, ?)")


def marks(conn: Any) -> tuple[int, int]:
    """(ledger id, movements id) high-water marks of the last import; (0, 0) when there was none."""
    row = conn.execute("SELECT ledger_mark, movements_mark FROM imports ORDER BY id DESC LIMIT 1").fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def centre_activity(conn: Any) -> tuple[set[str], set[tuple[str, str]]]:
    """Accounts and binding pairs the centre moved since the last import: ledger entries against a balance
    or a quota (settlements, reversals), and every movement that is not an import's (quota set aside at
    binding, returned at unbinding)."""
    ledger_mark, movements_mark = marks(conn)
    accounts: set[str] = set()
    binding_ids: set[int] = set()
    for psn_no, source, binding_id in conn.execute(
            "SELECT DISTINCT psn_no, source, binding_id FROM ledger WHERE id > ? AND source IS NOT NULL",
            [ledger_mark]).fetchall():
        if source == "quota":
            binding_ids.add(binding_id)
        else:
            accounts.add(psn_no)
    for psn_no, binding_id, balc_delta, quota_delta in conn.execute(
            "SELECT psn_no, binding_id, balc_delta, quota_delta FROM movements WHERE id > ? AND kind <> 'import'",
            [movements_mark]).fetchall():
        if balc_delta and psn_no:
            accounts.add(psn_no)
        if quota_delta and binding_id is not None:
            binding_ids.add(binding_id)
    pairs: set[tuple[str, str]] = set()
    for bid in binding_ids:
        row = conn.execute("SELECT owner_psn_no, user_psn_no FROM bindings WHERE id = ?", [bid]).fetchone()
        if row:
            pairs.add((row[0], row[1]))
    return accounts, pairs


class KeepLocal:
    """What the centre did since the last import is kept (the engines' writers share this; `conn` reads)."""

    conn: Any
    report: ImportReport
    kept_accounts: set[str]
    kept_pairs: set[tuple[str, str]]
    ended_keys: set[tuple[str, str, str]]

    def keep_local(self, kind: str, rows: list[Row], linenos: list[int]) -> tuple[list[Row], list[int]]:
        """Drop the lines that would overwrite what the centre did since the last import; those that differ
        from the stored row are counted as kept."""
        out_rows, out_lines = [], []
        for n, row in zip(linenos, rows):
            if kind == "account":
                local_activity = row[0] in self.kept_accounts
                ended_here = False
            else:  # a binding ended here is not brought back; one whose quota moved here keeps its row
                ended_here = (row[0], row[1], row[5]) in self.ended_keys
                local_activity = ended_here or (row[0], row[1]) in self.kept_pairs
            if not local_activity:
                out_rows.append(row)
                out_lines.append(n)
                continue
            if kind == "account":
                local = self.conn.execute("SELECT balc FROM accounts WHERE psn_no = ?", (row[0],)).fetchone()
                differs = local is None or local[0] != row[1]
                if differs and row[0] not in self.report.kept_accounts:
                    self.report.kept_accounts.append(row[0])
            elif ended_here:
                differs = True
            else:
                local = self.conn.execute("SELECT relation, scope, quota, begin_date FROM bindings WHERE "
                                          "owner_psn_no = ? AND user_psn_no = ? AND status = 'active'",
                                          (row[0], row[1])).fetchone()
                differs = local is None or tuple(local) != tuple(row[2:6])
            self.report.kinds[kind].lines += 1
            if differs:
                self.report.kinds[kind].kept += 1
        return out_rows, out_lines


class SqliteWriter(KeepLocal):
    """The import's sink on SQLite: upserts in chunks inside the caller's transaction (see the module docstring)."""

    def __init__(self, conn: sqlite3.Connection, report: ImportReport) -> None:
        self.conn = conn
        self.report = report
        self.kept_accounts: set[str] = set()
        self.kept_pairs: set[tuple[str, str]] = set()
        self.ended_keys: set[tuple[str, str, str]] = set()  # (owner, user, begin_date) of ended bindings
        self.first_new = 1          # the id of the first binding this import adds
        self.at = self.ref = ""     # the movements' time and reference (the import's sha256)

    def start(self, at: str, ref: str) -> None:
        """In the transaction, before the first row: what the centre did since the last import, and where the
        bindings this import adds will begin."""
        self.at, self.ref = at, ref
        self.kept_accounts, self.kept_pairs = centre_activity(self.conn)
        self.ended_keys = {tuple(r) for r in self.conn.execute(
            "SELECT owner_psn_no, user_psn_no, begin_date FROM bindings WHERE status = 'ended'").fetchall()}
        self.first_new = int(self.conn.execute("SELECT coalesce(max(id), 0) FROM bindings").fetchone()[0]) + 1
        if self.first_new > 1:  # a re-import: quotas of stored bindings may change
            self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS import_pairs (owner TEXT, user TEXT, quota INTEGER)")

    def finish(self) -> None:
        """After the last row: the quota of every binding this import added is a movement of its own."""
        self.conn.execute(
            "INSERT INTO movements (kind, psn_no, binding_id, balc_delta, quota_delta, at, ref) "
            "SELECT 'import', owner_psn_no, id, 0, quota, ?, ? FROM bindings WHERE id >= ? AND quota <> 0 "
            "ORDER BY id", [self.at, self.ref, self.first_new])

    def stop(self) -> None:
        """Drop the scratch table (also after a failed import: the connection may be used again)."""
        self.conn.execute("DROP TABLE IF EXISTS temp.import_pairs")

    def _stored_quotas(self, rows: list[Row]) -> dict[int, tuple[str, int]]:
        """binding id -> (owner, quota) of the stored active bindings whose quota a chunk's lines change."""
        conn = self.conn
        conn.execute("DELETE FROM temp.import_pairs")
        conn.executemany("INSERT INTO temp.import_pairs (owner, user, quota) VALUES (?, ?, ?)",
                         [(r[0], r[1], r[4]) for r in rows])
        return {r[0]: (r[1], r[2]) for r in conn.execute(
            "SELECT b.id, b.owner_psn_no, b.quota FROM temp.import_pairs p JOIN bindings b "
            "ON b.owner_psn_no = p.owner AND b.user_psn_no = p.user AND b.status = 'active' "
            "WHERE b.quota IS NOT p.quota").fetchall()}

    def _quota_moves(self, stored: dict[int, tuple[str, int]]) -> None:
        """A movement for each stored quota the chunk changed (new - old)."""
        ids = list(stored)
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            now = self.conn.execute(f"SELECT id, quota FROM bindings WHERE id IN ({', '.join('?' * len(part))})",
                                    part).fetchall()
            self.conn.executemany(_MOVEMENT, [(stored[bid][0], bid, quota - stored[bid][1], self.at, self.ref)
                                              for bid, quota in now if quota != stored[bid][1]])

    def counts(self) -> dict[str, int]:
        return {k: self.conn.execute(f"SELECT count(*) FROM {TABLE[k]}").fetchone()[0] for k in KINDS}

    def rows(self, kind: str, rows: list[Row], linenos: list[int]) -> None:
        if (kind == "account" and self.kept_accounts) or (kind == "binding" and (self.kept_pairs or self.ended_keys)):
            rows, linenos = self.keep_local(kind, rows, linenos)
            if not rows:
                return
        conn, sql = self.conn, SQL[kind]
        stored = self._stored_quotas(rows) if kind == "binding" and self.first_new > 1 else None
        before = conn.total_changes
        failed = 0
        conn.execute("SAVEPOINT import_chunk")
        try:
            conn.executemany(sql, rows)
        except sqlite3.IntegrityError:
            conn.execute("ROLLBACK TO SAVEPOINT import_chunk")
            before = conn.total_changes
            for n, row in zip(linenos, rows):
                try:
                    conn.execute(sql, row)
                except sqlite3.IntegrityError as exc:
                    failed += 1
                    self.report.refuse_line(n, self.explain(kind, row, exc))
        conn.execute("RELEASE SAVEPOINT import_chunk")
        self.report.kinds[kind].lines += len(rows) - failed
        self.report.kinds[kind].updated += conn.total_changes - before  # inserted split out at the end
        if stored:
            self._quota_moves(stored)

    def ended(self, items: list[tuple[int, Row]]) -> None:
        """Ended bindings (history): inserted once, matched by (owner, user, begin_date)."""
        for n, row in items:
            exists = self.conn.execute(
                "SELECT 1 FROM bindings WHERE owner_psn_no = ? AND user_psn_no = ? AND begin_date = ? "
                "AND status = 'ended'", (row[0], row[1], row[5])).fetchone()
            if exists is None:
                try:
                    self.conn.execute(_ENDED, row[:8])
                    self.report.kinds["binding"].updated += 1
                except sqlite3.IntegrityError as exc:
                    self.report.refuse_line(n, self.explain("binding", row, exc))
                    continue
            self.report.kinds["binding"].lines += 1

    def explain(self, kind: str, row: Row, exc: sqlite3.IntegrityError) -> str:
        text = str(exc)
        if kind == "person":
            for col, idx in (("certno", 1), ("card_no", 6)):
                if f"persons.{col}" in text:
                    holder = self.conn.execute(f"SELECT psn_no FROM persons WHERE {col} = ?",
                                               (row[idx],)).fetchone()
                    value = idcard.mask(row[idx]) if col == "certno" else row[idx]
                    return (f"person {row[0]}: duplicate {col} {value}, already held by "
                            f"{holder[0] if holder else 'another person'}")
        if "FOREIGN KEY" in text:
            return f"{kind}: refers to a person that was not imported"
        return f"{kind}: {text}"
