"""3201 对总账: does the hospital's count and totals for a period agree with the centre's?"""

from __future__ import annotations

from centre.handlers.context import Ctx
from centre.interface.amounts import fen_to_yuan, yuan_to_fen
from centre.interface.codes import StmtRslt
from centre.interface.transactions import query as tx
from centre.store import money

_NAMES = {"medfee_sumamt": "医疗费总额", "fund_pay_sumamt": "基金支付总额", "acct_pay": "个人账户支出"}


def reconcile(ctx: Ctx, inp: tx.In3201) -> tx.Out3201:
    d = inp.data
    mine = money.totals(ctx.db, fixmedins_code=ctx.env.fixmedins_code, insutype=d.insutype, clr_type=d.clr_type,
                        begin=d.stmt_begndate, end=d.stmt_enddate, setl_optins=d.setl_optins)
    differ = []
    if mine.count != d.fixmedins_setl_cnt:
        differ.append(f"结算笔数: 医药机构{d.fixmedins_setl_cnt}笔, 医保中心{mine.count}笔")
    for field, name in _NAMES.items():
        theirs = yuan_to_fen(getattr(d, field), field)
        if theirs != mine.sums[field]:
            differ.append(f"{name}({field}): 医药机构{fen_to_yuan(theirs)}, 医保中心{fen_to_yuan(mine.sums[field])}")
    rslt = StmtRslt.DISAGREE if differ else StmtRslt.AGREE
    return tx.Out3201(stmtinfo=tx.StmtInfo(
        setl_optins=d.setl_optins, stmt_rslt=rslt.value, stmt_rslt_dscr="; ".join(differ) or rslt.zh,
        ext_centre={f: fen_to_yuan(v) for f, v in mine.sums.items()}, ext_centre_setl_cnt=mine.count))
