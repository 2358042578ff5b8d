"""The JSON a window on the centre prints, in the platform's shape: national field names carry yuan as exact
two-decimal numbers (Decimal, never float); the project's own figures in fen end in `_fen`.

- `settlement_json(result)`: `setlinfo` and `setldetail` as the centre answered 2207/2208 (rebuilt from the
  window's record for a replay or a cash-only settlement), and beside them the project's extras: the
  per-owner mutual-aid split, the slip's path, whether it was a replay, the request id, the window.
- `family_json(view)`: 1101-style `baseinfo` / `insuinfo`, and the relatives whose accounts may pay.
"""

from __future__ import annotations

from typing import Any

from centre.interface.amounts import fen_to_yuan
from drivers.certno import mask
from terminal import clock
from terminal.store.schema_settlement import AMOUNT_COLUMNS


def settlement_json(result: Any, owner_names: dict[str, str] | None = None) -> dict[str, Any]:
    names = owner_names or {}
    platform = result.platform or {}
    setlinfo = dict(platform.get("setlinfo") or _setlinfo(result))
    if "certno" in setlinfo and isinstance(setlinfo["certno"], str):
        setlinfo["certno"] = mask(setlinfo["certno"])
    out: dict[str, Any] = {
        "setlinfo": setlinfo, "setldetail": list(platform.get("setldetail") or []),
        "mulaid": [{"owner_psn_no": m.owner_psn_no, "owner_name": names.get(m.owner_psn_no),
                    "binding_id": m.binding_id, "scope": m.scope,
                    "amount": fen_to_yuan(m.amount), "amount_fen": m.amount} for m in result.mulaid],
        "kind": result.kind, "request_id": result.request_id, "replayed": result.replayed, "slip": result.slip_path,
        "window": result.window, "operator": result.operator}
    out.update({f"{k}_fen": v for k, v in result.amounts.items()})
    out["own_acct_pay_fen"] = result.own_acct_pay
    out["balc_fen"] = result.balc
    from terminal.services.wallet import WALLET_PAY_ZH, settlement_wallet
    wallet = settlement_wallet(result)
    out["wallet_pay_fen"] = wallet.wallet_pay          # part of acct_pay: the patient's insurance wallet
    out["wallet_pay_label"] = WALLET_PAY_ZH
    out["wallet_balc_fen"] = wallet.wallet_balc
    out["explain"] = [{"en": en, "zh": zh} for en, zh in wallet.explain]
    if result.slip_warning is not None:
        out["warning"] = {"code": result.slip_warning.code, "message": result.slip_warning.message}
    return out


def recorded_setlinfo(result: Any) -> dict[str, Any]:
    """The national fields of `setlinfo` as the window recorded them (the centre ledger's replay and reprint)."""
    return _setlinfo(result)


def _setlinfo(result: Any) -> dict[str, Any]:
    """The national fields the window recorded (a replay, a cash-only settlement), in yuan."""
    info: dict[str, Any] = {"mdtrt_id": result.mdtrt_id or None, "setl_id": result.setl_id, "psn_no": result.psn_no,
                            "psn_name": result.psn_name, "certno": result.certno_masked, "insutype": result.insutype,
                            "setl_time": clock.shown(result.created_at), "med_type": result.med_type}
    info.update({c: fen_to_yuan(result.amounts[c]) for c in AMOUNT_COLUMNS})
    info["balc"] = fen_to_yuan(result.balc) if result.balc is not None else None
    info["medins_setl_id"] = result.msgid or None
    return info


def family_json(view: Any, *, cached: bool = False) -> dict[str, Any]:
    p = view.person
    return {
        "baseinfo": {"psn_no": p.psn_no, "psn_cert_type": "01", "certno": mask(p.certno), "psn_name": p.psn_name,
                     "gend": p.gend, "naty": p.naty, "brdy": p.brdy},
        "insuinfo": [{"balc": fen_to_yuan(view.own or 0), "insutype": p.insutype, "psn_insu_stas": p.psn_insu_stas,
                      "insuplc_admdvs": p.insuplc_admdvs}],
        "card_no": p.card_no,
        "own": None if view.own is None else {"balc": fen_to_yuan(view.own), "balc_fen": view.own},
        "wallet": None if view.wallet is None else {"balc": fen_to_yuan(view.wallet), "balc_fen": view.wallet},
        "relatives": [{"binding_id": r.binding_id, "owner_psn_no": r.owner_psn_no, "owner_name": r.owner_name,
                       "relation": r.relation, "relation_name": r.relation_name, "scope": r.scope,
                       "available": fen_to_yuan(r.available), "available_fen": r.available, "pays_by": r.pays_by}
                      for r in view.relatives],
        "cached": cached}
