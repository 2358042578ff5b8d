"""The demo cast under the earmarked-quota reading (共济额度), for the training ledger's tests.

The bundled demo export tells the 2025 story: 张伟's cross-province binding of his sister 张敏 carries no quota
(the aid goes through her insurance wallet, which only the centre keeps). The offline training ledger has no
wallet: there a cross-province binding pays from a quota, so its tests load the same cast with the quota the
demo had before (¥500.00 set aside for 张敏). A window on the centre loads the bundled file as it is.
"""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "terminal" / "data"
QUOTA = 50000       # fen: what 张伟 set aside for 张敏 under the quota reading
_LINE = '"user_psn_no": "P20000005", "relation": "70", "scope": "cross_province", "quota": 0,'


def quota_export(where: Path) -> Path:
    """The bundled demo export with 张伟 -> 张敏's quota set to QUOTA, written into the directory `where`."""
    text = (DATA / "demo_export.jsonl").read_text(encoding="utf-8")
    assert _LINE in text, "the demo's cross-province binding line changed"
    path = where / "demo_export_quota.jsonl"
    path.write_text(text.replace(_LINE, _LINE.replace('"quota": 0', f'"quota": {QUOTA}')), encoding="utf-8")
    return path


def load_quota_demo(cfg) -> None:
    """On the training ledger ([centre] enabled = false) with an empty database: the cast with the quota, so
    that ensure_demo_db finds it loaded. A window on the centre is left to ensure_demo_db."""
    from terminal.services.bindings import policy_of
    from terminal.store.db import open_from_config
    from terminal.store.importer import import_file, refusal
    if cfg.centre.enabled:
        return
    db = open_from_config(cfg, create=True)
    try:
        if db.execute("SELECT count(*) FROM persons").fetchone()[0]:
            return
        for export in (DATA / "regions.jsonl", quota_export(Path(cfg.db_path).parent)):
            report = import_file(db, export, policy=policy_of(cfg), operator=cfg.terminal.operator,
                                 window=cfg.terminal.window)
            if not report.imported:
                raise refusal(report)
    finally:
        db.close()
