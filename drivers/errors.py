"""One error catalogue for every card and reader failure.

Status words (ISO 7816-4) and transport failures map to a stable code, the
MOHRSS reader-interface number where one exists, and a clear message in
English and Chinese. Every layer raises `CardError`; nothing above the
drivers needs to know which transport failed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from drivers.iso7816 import SW, tries_left

_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


@dataclass(frozen=True)
class ErrorKind:
    code: str
    reader_code: int | None  # MOHRSS iReadCardBas-style error number
    en: str
    zh: str


def _kind(code: str, reader_code: int | None, en: str, zh: str) -> ErrorKind:
    return ErrorKind(code, reader_code, en, zh)


WRONG_CARD_TYPE = _kind("wrong_card_type", -1, "This is not a social security card (SSSE application not found).", "非社会保障卡(未找到社保应用)")
NO_CARD = _kind("no_card", -2, "No card in the reader.", "读卡器中无卡")
READER_ERROR = _kind("reader_error", -11, "Cannot talk to the card reader.", "读卡器连接错误")
NO_READER = _kind("no_reader", -11, "No card reader found.", "未找到读卡器")
NO_SERVICE = _kind("no_service", -11, "The PC/SC service (pcscd) is not running.", "智能卡服务(pcscd)未运行")
READER_BUSY = _kind("reader_busy", -11, "The reader is in use by another program.", "读卡器正被其他程序占用")
CHECKSUM = _kind("checksum", -15, "Data from the card failed its check.", "卡数据校验错误")
INTERNAL_AUTH = _kind("internal_auth_failed", -21, "The card failed internal authentication (not a genuine card).", "内部认证失败(卡片不合法)")
EXTERNAL_AUTH = _kind("external_auth_failed", -22, "External authentication with the PSAM failed.", "外部认证失败")
PIN_WRONG = _kind("pin_wrong", -51, "Wrong PIN.", "密码错误")
PIN_BLOCKED = _kind("pin_blocked", -52, "The card's PIN is blocked.", "密码已锁定")
PIN_INVALID = _kind("pin_invalid", -53, "A PIN is 4 to 16 digits.", "密码应为4至16位数字")
PIN_INITIAL = _kind("pin_initial", -35, "The initial PIN cannot be used to pay; change it first.", "初始密码不能交易,请先修改密码")
CARD_REMOVED = _kind("card_removed", -2, "The card was removed during the operation.", "操作过程中卡被拔出")
CARD_EXPIRED = _kind("card_expired", None, "The card has expired.", "卡已过有效期")
CARD_SWAPPED = _kind("card_swapped", -2, "The card was changed: read the card again.", "卡已更换，请重新读卡")
TIMEOUT = _kind("timeout", -11, "The reader did not answer in time.", "读卡器响应超时")
SECURITY = _kind("security_not_satisfied", None, "The card refused: security status not satisfied.", "安全状态不满足")
FILE_NOT_FOUND = _kind("file_not_found", None, "The card has no such file.", "文件未找到")
RECORD_NOT_FOUND = _kind("record_not_found", None, "The card has no such record.", "记录未找到")
WRONG_P1P2 = _kind("wrong_p1p2", None, "The card refused the command's parameters (P1/P2).", "参数P1P2错误")
INS_NOT_SUPPORTED = _kind("ins_not_supported", None, "The card does not support this command.", "不支持的指令")
CLA_NOT_SUPPORTED = _kind("cla_not_supported", None, "The card does not support this command class.", "不支持的指令类别")
WRONG_LENGTH = _kind("wrong_length", None, "The card refused the command's length.", "长度错误")
FILE_INVALIDATED = _kind("file_invalidated", None, "The selected file is invalidated.", "所选文件已失效")
MALFORMED = _kind("malformed", -15, "Malformed data from the card or reader.", "卡或读卡器数据格式错误")
BAD_APDU = _kind("bad_apdu", None, "Malformed command APDU.", "指令格式错误")
CARD_STATUS = _kind("card_status", None, "The card refused the command.", "卡片拒绝执行指令")
LINE_ERROR = _kind("line_error", -11, "The serial line to the card terminal keeps failing.", "串口通讯持续出错")
UNKNOWN_PROFILE = _kind("unknown_profile", None, "No such card profile.", "无此卡片模板")
BAD_PROFILE = _kind("bad_profile", None, "The card profile is not valid.", "卡片模板内容无效")
BAD_READER_SPEC = _kind("bad_reader_spec", None, "Unknown reader; use emulator:PROFILE, pcsc, pcsc:NAME or serial:URL.", "读卡器参数错误")
PIN_FAILURES = frozenset({PIN_WRONG, PIN_BLOCKED})


class CardError(Exception):
    """A card or reader failure with a catalogue code and a clear message."""

    def __init__(self, kind: ErrorKind, detail: str = "", sw: int | None = None,
                 tries_left: int | None = None, detail_zh: str | None = None) -> None:
        self.kind = kind
        self.detail = detail
        #: the detail in Chinese; without one, the Chinese message leaves out an English detail (one language)
        self.detail_zh = detail_zh
        self.sw = sw
        self.tries_left = tries_left
        super().__init__(self.message)

    @property
    def code(self) -> str:
        return self.kind.code

    @property
    def pin_failed(self) -> bool:
        """A wrong PIN or a blocked one: the one test for a PIN failure (audited, shown with the tries left)."""
        return self.kind in PIN_FAILURES

    @property
    def reader_code(self) -> int | None:
        return self.kind.reader_code

    def _compose(self, base: str, zh: bool) -> str:
        parts = [base]
        if self.tries_left is not None:
            parts.append(f"剩余{self.tries_left}次" if zh else
                         f"{self.tries_left} {'try' if self.tries_left == 1 else 'tries'} left.")
        detail = self._detail(zh)
        if detail:
            parts.append(f"({detail})")
        if self.sw is not None and self.kind in (CARD_STATUS,):
            parts.append(f"SW={self.sw:04X}")
        return " ".join(parts)

    def _detail(self, zh: bool) -> str:
        if not zh:
            return self.detail
        if self.detail_zh is not None:
            return self.detail_zh
        return "" if _LATIN_WORD.search(self.detail) else self.detail   # a date or a number stays; English words do not

    @property
    def message(self) -> str:
        return self._compose(self.kind.en, zh=False)

    @property
    def message_zh(self) -> str:
        return self._compose(self.kind.zh, zh=True)

    def localized(self, lang: str) -> str:
        return self.message_zh if lang.startswith("zh") else self.message


_SW_KINDS: dict[int, ErrorKind] = {
    SW.FILE_INVALIDATED: FILE_INVALIDATED,
    SW.SECURITY: SECURITY,
    SW.PIN_BLOCKED: PIN_BLOCKED,
    SW.FILE_NOT_FOUND: FILE_NOT_FOUND,
    SW.RECORD_NOT_FOUND: RECORD_NOT_FOUND,
    SW.WRONG_P1P2: WRONG_P1P2,
    SW.OFFSET_OUTSIDE: WRONG_P1P2,
    SW.INS_NOT_SUPPORTED: INS_NOT_SUPPORTED,
    SW.CLA_NOT_SUPPORTED: CLA_NOT_SUPPORTED,
    SW.WRONG_LENGTH: WRONG_LENGTH,
}


def error_for_sw(sw: int, detail: str = "") -> CardError:
    """Map a non-success status word to the catalogue."""
    tries = tries_left(sw)
    if tries is not None:
        return CardError(PIN_WRONG, detail, sw=sw, tries_left=tries)
    kind = _SW_KINDS.get(sw, CARD_STATUS)
    return CardError(kind, detail, sw=sw)
