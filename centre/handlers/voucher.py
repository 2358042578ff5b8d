"""The e-voucher (医保电子凭证) token of 1101 with mdtrt_cert_type 01: not issued by this centre yet."""

from __future__ import annotations

from centre.errors import Refused
from centre.handlers.context import Ctx
from centre.store.people import Person


def person_of_token(ctx: Ctx, token: str) -> Person:
    raise Refused("voucher_unsupported", "this centre does not accept e-voucher tokens yet",
                  "本中心暂不支持医保电子凭证")
