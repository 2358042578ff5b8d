"""The demo database: the bundled pooling areas and the cast of the emulator's card profiles.

API: ensure_demo_db(cfg) -> Path   creates cfg.db_path when missing and loads regions.jsonl, then
demo_export.jsonl, when it holds no person; a loaded file is only opened (and migrated), so a demo keeps
its history. With the embedded centre (`[centre] url` empty) its database (`[centre] db`) gets the
demo data (areas, their rules, the catalogue, the cast) and the window's cache is filled from it: the demo needs
no server. With a centre over HTTP the cache is filled from the same files, read by the centre's own checks. A file the centre has
imported before is not imported again (the centre keeps each file's sha256), so its balances stay. The load is the one `cashier db import` does
(terminal.store.importer), judged by the configured mutual-aid rules.

The cast's cross-province family tells the 2025 story: 张伟 (employee, Zhengzhou) has bound his sister 张敏
(resident, Chengdu) across provinces, a binding that pays nothing by itself; yesterday at the insurance office he
transferred ¥300.00 from his personal account (¥3,560.00 in the export, ¥3,260.00 after) into her insurance
wallet (医保钱包) and she accepted it, so her wallet holds ¥300.00 of her own money. An export carries no wallet (the wallet is the centre's, moved only by
transfers), so the embedded centre makes that transfer itself (X111, X112) when it first loads the cast, with
its clock at yesterday 10:00; under `cross_province_model = "quota"` there is no wallet and nothing is made.
"""

from __future__ import annotations

from pathlib import Path

from terminal.store.db import open_from_config
from terminal.store.importer import load
from terminal.store.people import has_persons

DATA = Path(__file__).resolve().parent.parent / "data"
DEMO_FILES = (DATA / "regions.jsonl", DATA / "demo_export.jsonl")
# (owner psn_no, relative psn_no, fen): the wallet transfers the cast made yesterday, each accepted
DEMO_TRANSFERS = (("P10000001", "P20000005", 30000),)
CENTRE_DATA = Path(__file__).resolve().parent.parent.parent / "centre" / "data"
CENTRE_DEMO_FILES = (DATA / "regions.jsonl", CENTRE_DATA / "region_rules.jsonl", CENTRE_DATA / "demo_catalogue.jsonl",
                     DATA / "demo_export.jsonl")


def ensure_demo_db(cfg) -> Path:
    path = Path(cfg.db_path)
    db = open_from_config(cfg, create=True)
    try:
        cached = has_persons(db)
    finally:
        db.close()
    if not cfg.centre.url:
        ensure_demo_centre(cfg)
    if not cached:  # new, or an earlier load failed: the cache from what the centre now holds (one fill), or
        # with a centre over HTTP from the files themselves, the areas first
        for export in DEMO_FILES if cfg.centre.url else DEMO_FILES[-1:]:
            load(cfg, export)
    return path


def ensure_demo_centre(cfg) -> Path:
    """The embedded centre's database with the demo data (each file once)."""
    from centre.api import import_export
    from terminal.error_codes import E
    where = cfg.resolve(cfg.centre.db)
    for export in CENTRE_DEMO_FILES:
        report = import_export(cfg.raw, where, export)
        if not report.imported:
            raise E.DEMO_CENTRE.error(f"the demo data could not be loaded into the centre at {where}: "
                               f"{'; '.join(str(e) for e in report.errors[:3])}", "演示数据无法导入医保中心")
        if export.name == "demo_export.jsonl" and report.kinds["person"].inserted:
            _demo_transfers(cfg)
    return Path(where)


def _demo_transfers(cfg) -> None:
    """The cast's wallet transfers, made and accepted yesterday at 10:00 (the centre's clock) through the centre's
    own transactions, so the books hold them as any transfer. None under the quota model."""
    import datetime as dt

    from centre.api import check_settings, open_centre
    from centre.interface.amounts import fen_to_yuan
    from terminal.insurance.client import CentreClient, CentreRefused
    from terminal.insurance.connect import identity
    from terminal.insurance.transport import EmbeddedTransport
    from terminal.services.wallet import TransferMade
    from terminal.store.db import open_from_config
    settings = check_settings(cfg.raw)
    if not settings.mutual_aid.wallet_model or not DEMO_TRANSFERS:
        return
    yesterday = settings.clock()().replace(hour=10, minute=0, second=0, microsecond=0) - dt.timedelta(days=1)
    centre = open_centre(cfg.raw, cfg.resolve(cfg.centre.db), clock=lambda: yesterday)
    client = CentreClient(EmbeddedTransport(centre), identity(cfg), lambda: open_from_config(cfg, create=True),
                          clock=lambda: yesterday)
    try:
        for owner, user, amount in DEMO_TRANSFERS:
            try:
                made = client.call("X111", {"data": {"owner_psn_no": owner, "user": {"psn_no": user},
                                                     "amount": fen_to_yuan(amount)}})
            except CentreRefused:   # a config whose limits refuse it (closed at 10:00, a smaller maximum ...)
                continue            # the demo runs all the same, that wallet empty
            transfer_id = TransferMade.of(made).transfer.transfer_id
            client.call("X112", {"data": {"user_psn_no": user, "transfer_id": transfer_id}})
    finally:
        client.close()          # and the centre with its transport
