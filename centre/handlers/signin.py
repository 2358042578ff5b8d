"""9001 sign-in, 9002 sign-out: a sign_no valid for the rest of the day, for the window that asked."""

from __future__ import annotations

import datetime as dt
import secrets

from centre.errors import Refused
from centre.handlers.context import Ctx
from centre.interface.envelope import time_text
from centre.interface.transactions import signin as tx
from centre.store import traffic


def sign_in(ctx: Ctx, inp: tx.In9001) -> tx.Out9001:
    sign_no = f"{ctx.now.strftime('%Y%m%d%H%M%S')}{secrets.token_hex(6).upper()}"
    until = dt.datetime.combine(ctx.now.date(), dt.time(23, 59, 59))
    traffic.add_signin(ctx.db, sign_no=sign_no, fixmedins_code=ctx.env.fixmedins_code,
                       opter_no=inp.signIn.opter_no, sign_time=ctx.at, valid_until=time_text(until))
    return tx.Out9001(signinoutb=tx.SignInOut(sign_time=ctx.at, sign_no=sign_no))


def sign_out(ctx: Ctx, inp: tx.In9002) -> tx.Out9002:
    found = traffic.signin(ctx.db, inp.signOut.sign_no)
    if found is None or found[0] != ctx.env.fixmedins_code:
        raise Refused("sign_unknown", f"no sign-in {inp.signOut.sign_no} for this hospital",
                      f"签到编号{inp.signOut.sign_no}不存在")
    traffic.sign_out(ctx.db, inp.signOut.sign_no, ctx.at)
    return tx.Out9002(signoutoutb=tx.SignOutOut(sign_time=ctx.at))


def check_signed_in(ctx: Ctx) -> None:
    """Business transactions need a current sign-in of the same hospital."""
    sign_no = ctx.env.sign_no
    found = traffic.signin(ctx.db, sign_no) if sign_no else None
    if found is None or found[0] != ctx.env.fixmedins_code:
        raise Refused("sign_required", "no valid sign_no: sign in first (9001)", "未签到或签到编号无效,请先签到(9001)")
    if found[2] is not None or found[3] < ctx.at:
        raise Refused("sign_expired", "the sign-in has ended or expired: sign in again (9001)",
                      "签到已失效,请重新签到(9001)")
