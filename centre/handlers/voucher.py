"""The e-voucher (医保电子凭证) and the ID card as credentials: 1101 with mdtrt_cert_type 01, and what 2201–2207
check of the credential they carry.

1101 resolves a code: genuine (sealed with the [voucher] key the app shares with the centre), not expired, of an
insured person, that person's when the HIS names one (`certno`), and used once — the first 1101 spends it. The
visit that follows carries the same code as `mdtrt_cert_no`: 2201, 2206 and 2207 take it when it is genuine, names
their `psn_no` and was resolved at this hospital (its lifetime is the time to show it, not the visit's). No PIN is
asked for an e-voucher (the patient confirmed in the app); the personal account pays as with the card. On the ID
card (02) the personal account pays only where `[centre] id_card_account` allows it.
"""

from __future__ import annotations

import datetime as dt

from centre.errors import Refused
from centre.handlers.context import Ctx
from centre.interface.codes import MdtrtCertType
from centre.settings import zone
from centre.store import people, vouchers
from centre.store.people import Person
from drivers import voucher as code_format
from drivers.voucher import Voucher, VoucherError

_REFRESH_EN = "ask the patient to refresh the code in the app and scan it again"
_REFRESH_ZH = "请患者在医保App中刷新后重新出示"


def person_of_token(ctx: Ctx, token: str, certno: str = "") -> Person:
    """1101: the insured person an e-voucher code names; the code is spent (a second 1101 with it is refused)."""
    v = _genuine(ctx, token)
    now = _epoch(ctx)
    if code_format.from_the_future(v, now):
        raise Refused("voucher_clock", f"the e-voucher code was issued at {_local(ctx, v.issued)}, later than the "
                      f"centre's time {ctx.at}: the phone's or the centre's clock is wrong",
                      f"医保电子凭证的生成时间({_local(ctx, v.issued)})晚于中心当前时间({ctx.at}),请核对手机时间")
    if code_format.expired(v, now):
        raise Refused("voucher_expired", f"the e-voucher code expired at {_local(ctx, v.expires)}: {_REFRESH_EN}",
                      f"医保电子凭证二维码已过期(有效期至{_local(ctx, v.expires)}),{_REFRESH_ZH}")
    found = people.person(ctx.db, certno=v.certno)
    if found is None:
        raise Refused("voucher_person_unknown", "no insured person holds this e-voucher",
                      "未查询到该医保电子凭证持有人的参保信息")
    if certno and certno.strip().upper() != found.certno:
        raise Refused("voucher_not_theirs", "this e-voucher code belongs to another person than the ID number given "
                      "(certno)", "该医保电子凭证不属于所填证件号码对应的人员")
    with ctx.db.write() as db:
        spent = vouchers.use(db, nonce=v.nonce_hex, psn_no=found.psn_no, fixmedins_code=ctx.env.fixmedins_code,
                             used_at=ctx.at, expires_at=_local(ctx, v.expires), msgid=ctx.env.msgid)
    if not spent:
        before = vouchers.used(ctx.db, v.nonce_hex)
        when = before.used_at if before else "before"
        raise Refused("voucher_used", f"this e-voucher code was already used ({when}): {_REFRESH_EN}",
                      f"该医保电子凭证二维码已使用过({when}),每个二维码只能使用一次,{_REFRESH_ZH}")
    return found


def check_credential(ctx: Ctx, person: Person, cert_type: str, cert_no: str, *, acct_used: bool = False) -> None:
    """What 2201, 2206 and 2207 check of the credential they carry: it is `person`'s (a card's `card_sn` is checked
    at 1101 only, where the card is read)."""
    if cert_type == MdtrtCertType.SSCARD and (not person.card_no or person.card_no.upper() != cert_no.strip().upper()):
        raise Refused("card_not_theirs", f"card {cert_no} is not {person.psn_no}'s card",
                      f"社会保障卡{cert_no}不属于人员{person.psn_no}")
    if cert_type == MdtrtCertType.ID_CARD and person.certno.upper() != cert_no.strip().upper():
        raise Refused("certno_not_theirs", f"the ID number given is not {person.psn_no}'s",
                      f"证件号码与人员{person.psn_no}不符")
    if cert_type == MdtrtCertType.EVOUCHER:
        v = _genuine(ctx, cert_no)
        if v.certno != person.certno:
            raise Refused("voucher_not_theirs", f"the e-voucher code is not {person.psn_no}'s",
                          f"该医保电子凭证不属于人员{person.psn_no}")
        use = vouchers.used(ctx.db, v.nonce_hex)
        if use is None or use.psn_no != person.psn_no or use.fixmedins_code != ctx.env.fixmedins_code:
            raise Refused("voucher_not_resolved", "resolve the e-voucher code with 1101 at this hospital first",
                          "请先以该医保电子凭证在本机构获取人员信息(1101)")
    elif cert_type == MdtrtCertType.ID_CARD and acct_used and not ctx.settings.id_card_account:
        raise Refused("id_card_no_account", "with the ID card the personal account cannot pay (acct_used_flag must be "
                      "0): present the social security card or the e-voucher to pay from the account",
                      "使用居民身份证就医不能使用个人账户支付(个人账户使用标志应为0),如需使用个人账户请出示社保卡或医保电子凭证")


def _genuine(ctx: Ctx, token: str) -> Voucher:
    key = ctx.settings.voucher_key
    if key is None:
        raise Refused("voucher_unsupported", "this centre has no e-voucher key ([voucher] key): it accepts no "
                      "e-voucher codes", "本中心未配置医保电子凭证密钥,暂不支持医保电子凭证")
    try:
        return code_format.decode(key, token)
    except VoucherError as exc:
        if exc.code == code_format.VOUCHER_FORGED.code:
            raise Refused("voucher_forged", f"the e-voucher code failed its check (altered, or not issued for this "
                          f"platform): {_REFRESH_EN}", f"医保电子凭证校验失败(二维码被篡改或非本平台签发),{_REFRESH_ZH}"
                          ) from None
        raise Refused("voucher_malformed", f"not an e-voucher code ({exc.detail}): scan the code again",
                      f"医保电子凭证二维码格式不正确({exc.detail}),请重新扫码") from None


def _epoch(ctx: Ctx) -> float:
    """The centre's now (naive, in its time zone) as Unix seconds, the code's time scale."""
    return ctx.now.replace(tzinfo=zone(ctx.settings.timezone)).timestamp()


def _local(ctx: Ctx, epoch: int) -> str:
    return dt.datetime.fromtimestamp(epoch, zone(ctx.settings.timezone)).strftime("%Y-%m-%d %H:%M:%S")
