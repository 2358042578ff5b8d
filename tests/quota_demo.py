"""The demo cast under the earmarked-quota reading (共济额度), for the tests of the quota model.

The bundled demo export tells the 2025 story: 张伟's cross-province binding of his sister 张敏 carries no quota
(the aid goes through her insurance wallet). Under `cross_province_model = "quota"` a cross-province binding pays
from a quota set aside, so those tests load the same cast with the quota the demo had before (¥500.00 set aside
for 张敏).
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



def quota_model(config: Path) -> Path:
    """Rewrite a window's config so cross-province mutual aid is an earmarked quota (the shipped one is the wallet)."""
    text = config.read_text(encoding="utf-8")
    assert 'cross_province_model = "wallet"' in text, "config.toml lost its cross_province_model key"
    config.write_text(text.replace('cross_province_model = "wallet"', 'cross_province_model = "quota"', 1),
                      encoding="utf-8")
    return config
