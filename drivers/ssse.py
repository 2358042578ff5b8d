"""The social security card's SSSE application protocol.

Select the application by DF name, read EF05 (card identification) and EF06 (cardholder)
record by record, each record found by its tag; on a 3.0 card, EXTERNAL AUTHENTICATE with
the PSAM's key first, else EF06 keeps the ID number and name back; verify and change the
PIN. Runs over any `Reader`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from drivers import codecs
from drivers.apdu import CommandAPDU, ResponseAPDU, Trace, exchange
from drivers.card_data import CardInfo, CardRead, Holder
from drivers.certno import problem as certno_problem
from drivers.errors import (
    CHECKSUM,
    EXTERNAL_AUTH,
    INTERNAL_AUTH,
    MALFORMED,
    PIN_BLOCKED,
    PIN_INITIAL,
    PIN_WRONG,
    RECORD_NOT_FOUND,
    SECURITY,
    WRONG_CARD_TYPE,
    CardError,
    error_for_sw,
)
from drivers.iso7816 import CLA, INS, SW, RecordMode, SelectBy, tries_left
from drivers.psam import VirtualPSAM
from drivers.reader import Reader
from drivers.summary_line import build_line
from drivers.tlv import parse_record

#: "sx1.sh.社会保障" in GBK: the SSSE application's DF name
SSSE_AID = bytes.fromhex("7378312E73682EC9E7BBE1B1A3D5CF")
EF05 = 0xEF05
EF06 = 0xEF06
EXTERNAL_AUTH_KEY_ID = 0x0A

# EF05 tags
T_CARD_SN, T_CARD_TYPE, T_VERSION, T_ISSUER, T_ISSUE_DATE, T_EXPIRY, T_CARD_NO = range(1, 8)
# EF06 tags
T_CERTNO, T_NAME, T_NAME_EXT, T_GEND, T_NATY, T_BIRTHPLACE, T_BRDY = 0x08, 0x09, 0x4E, 0x0A, 0x0B, 0x0C, 0x0D


#: P2 of VERIFY and CHANGE PIN: the card's one (global) PIN
PIN_REF = 0x00
#: what SELECT of the application answers on a card without it (or one that is no ISO card at all)
NOT_THIS_APPLICATION = frozenset({SW.FILE_NOT_FOUND, SW.WRONG_P1P2, SW.INS_NOT_SUPPORTED, SW.CLA_NOT_SUPPORTED,
                                  SW.FUNC_NOT_SUPPORTED})
#: what an older card without key 0A answers to GET CHALLENGE or EXTERNAL AUTHENTICATE
NO_EXTERNAL_KEY = frozenset({SW.INS_NOT_SUPPORTED, SW.WRONG_P1P2, SW.REF_NOT_FOUND})


def select_aid_apdu() -> CommandAPDU:
    return CommandAPDU(CLA, INS.SELECT, SelectBy.DF_NAME, 0x00, SSSE_AID)


def select_ef_apdu(fid: int) -> CommandAPDU:
    return CommandAPDU(CLA, INS.SELECT, SelectBy.EF, 0x00, fid.to_bytes(2, "big"))


def read_record_apdu(p1: int, sfi: int = 0, by_number: bool = False) -> CommandAPDU:
    """READ RECORD: P2 = SFI<<3 | 100 (record number P1) or | 000 (first record with tag P1)."""
    mode = RecordMode.NUMBER if by_number else RecordMode.FIRST_WITH_ID
    return CommandAPDU(CLA, INS.READ_RECORD, p1, (sfi << 3) | mode, le=256)


def verify_apdu(pin: str) -> CommandAPDU:
    return CommandAPDU(CLA, INS.VERIFY, 0x00, PIN_REF, codecs.pin_block(pin))


def tries_left_apdu() -> CommandAPDU:
    """VERIFY with no data: the card answers 63 Cx with the tries left, and counts none."""
    return CommandAPDU(CLA, INS.VERIFY, 0x00, PIN_REF)


def change_pin_apdu(old: str, new: str) -> CommandAPDU:
    """CHANGE REFERENCE DATA: old PIN block, FF, new PIN block."""
    return CommandAPDU(CLA, INS.CHANGE_REFERENCE_DATA, 0x00, PIN_REF,
                       codecs.pin_block(old) + b"\xFF" + codecs.pin_block(new))


def get_challenge_apdu() -> CommandAPDU:
    """GET CHALLENGE of the 8 bytes EXTERNAL AUTHENTICATE enciphers."""
    return CommandAPDU(CLA, INS.GET_CHALLENGE, 0x00, 0x00, le=8)


def external_authenticate_apdu(cryptogram: bytes) -> CommandAPDU:
    return CommandAPDU(CLA, INS.EXTERNAL_AUTHENTICATE, 0x00, EXTERNAL_AUTH_KEY_ID, cryptogram)


def internal_authenticate_apdu(data: bytes) -> CommandAPDU:
    return CommandAPDU(CLA, INS.INTERNAL_AUTHENTICATE, 0x00, 0x00, data, le=256)


@dataclass
class ReadOptions:
    terminal_no: str = ""
    device_no: str = ""
    validate_certno: bool = True


class SocialSecurityCard:
    """The SSSE application on a card in `reader`."""

    def __init__(self, reader: Reader, psam: VirtualPSAM | None = None, trace: Trace | None = None) -> None:
        self.reader = reader
        self.psam = psam
        self.trace = trace
        self.authenticated = False

    # plumbing ------------------------------------------------------------
    def _x(self, cmd: CommandAPDU) -> ResponseAPDU:
        return exchange(self.reader, cmd, self.trace)

    def _ok(self, cmd: CommandAPDU, what: str) -> bytes:
        resp = self._x(cmd)
        if not resp.ok:
            raise error_for_sw(resp.sw, what)
        return resp.data

    # selection -------------------------------------------------------------
    def select_application(self) -> bytes:
        """SELECT by DF name; returns FCI data if the card sends any."""
        resp = self._x(select_aid_apdu())
        if resp.sw in (SW.OK, SW.FILE_INVALIDATED):
            self.authenticated = False
            return resp.data
        if resp.sw in NOT_THIS_APPLICATION:
            raise CardError(WRONG_CARD_TYPE, sw=resp.sw)
        raise error_for_sw(resp.sw, "selecting the social security application")

    def select_ef(self, fid: int) -> bytes:
        return self._ok(select_ef_apdu(fid), f"selecting EF{fid & 0xFF:02X}")

    def read_tag(self, tag: int, optional: bool = False) -> bytes | None:
        """READ RECORD by identifier in the current EF; the record's value."""
        resp = self._x(read_record_apdu(tag))
        if resp.sw == SW.RECORD_NOT_FOUND and optional:
            return None
        if not resp.ok:
            raise error_for_sw(resp.sw, f"reading tag {tag:02X}")
        rec = parse_record(resp.data)
        if rec.tag != tag:
            raise CardError(MALFORMED, f"asked for tag {tag:02X}, card gave {rec.tag:02X}")
        return rec.value

    # files ---------------------------------------------------------------
    def read_card_info(self) -> CardInfo:
        self.select_ef(EF05)

        def v(tag: int) -> bytes:
            value = self.read_tag(tag)
            assert value is not None
            return value

        return CardInfo(
            card_sn=v(T_CARD_SN).hex().upper(),
            card_type=v(T_CARD_TYPE).hex().upper(),
            version=codecs.ascii_text(v(T_VERSION)),
            issuer=v(T_ISSUER).hex().upper(),
            issue_date=codecs.bcd_date(v(T_ISSUE_DATE)),
            expiry_date=codecs.bcd_date(v(T_EXPIRY)),
            card_no=codecs.ascii_text(v(T_CARD_NO)),
        )

    def read_holder(self, validate_certno: bool = True) -> Holder:
        self.select_ef(EF06)
        try:
            certno_raw = self.read_tag(T_CERTNO)
        except CardError as exc:
            if exc.sw != SW.SECURITY:
                raise
            if self.psam is None or self.authenticated:
                if self.authenticated:
                    raise CardError(SECURITY, "EF06 still locked after external authentication") from None
                return self._read_holder_unauthenticated()
            self.external_authenticate()
            self.select_ef(EF06)
            certno_raw = self.read_tag(T_CERTNO)
        assert certno_raw is not None
        certno = codecs.ascii_text(certno_raw).upper()
        if validate_certno and certno:
            why = certno_problem(certno)
            if why:
                raise CardError(CHECKSUM, f"ID number on the card: {why}")
        name = codecs.text(self.read_tag(T_NAME) or b"")
        return Holder(certno=certno, name=name, **self._rest_of_holder())

    def _rest_of_holder(self) -> dict[str, str]:
        ext = self.read_tag(T_NAME_EXT, optional=True)
        gend = codecs.ascii_text(self.read_tag(T_GEND) or b"")
        naty = codecs.bcd_digits(self.read_tag(T_NATY) or b"", pad_f=True)
        birthplace = codecs.bcd_digits(self.read_tag(T_BIRTHPLACE) or b"", pad_f=True)
        brdy = codecs.bcd_date(self.read_tag(T_BRDY) or b"\x00" * 4)
        return {"name_ext": codecs.text(ext) if ext else "", "gend": gend, "naty": naty,
                "birthplace": birthplace, "brdy": brdy}

    def _read_holder_unauthenticated(self) -> Holder:
        """A 3.0 card read with no PSAM: it keeps the ID number and name back, so they stay empty here."""

        def maybe(tag: int) -> bytes | None:
            try:
                return self.read_tag(tag, optional=True)
            except CardError as exc:
                if exc.sw == SW.SECURITY:
                    return None
                raise

        rest: dict[str, str] = {"name_ext": "", "gend": "", "naty": "", "birthplace": "", "brdy": ""}
        ext, gend, naty, bp, brdy = (maybe(t) for t in (T_NAME_EXT, T_GEND, T_NATY, T_BIRTHPLACE, T_BRDY))
        if ext:
            rest["name_ext"] = codecs.text(ext)
        if gend:
            rest["gend"] = codecs.ascii_text(gend)
        if naty:
            rest["naty"] = codecs.bcd_digits(naty, pad_f=True)
        if bp:
            rest["birthplace"] = codecs.bcd_digits(bp, pad_f=True)
        if brdy:
            rest["brdy"] = codecs.bcd_date(brdy)
        return Holder(certno="", name="", **rest)

    # security ------------------------------------------------------------
    def external_authenticate(self) -> bool:
        """GET CHALLENGE + EXTERNAL AUTHENTICATE with the PSAM. False if the card has no such key."""
        if self.psam is None:
            raise CardError(EXTERNAL_AUTH, "no PSAM key configured")
        resp = self._x(get_challenge_apdu())
        if resp.sw in NO_EXTERNAL_KEY:
            return False
        if not resp.ok or len(resp.data) < 8:
            raise error_for_sw(resp.sw, "GET CHALLENGE")
        cryptogram = self.psam.cryptogram(resp.data[:8])
        resp = self._x(external_authenticate_apdu(cryptogram))
        if resp.sw in (SW.INS_NOT_SUPPORTED, SW.REF_NOT_FOUND):
            return False  # an older card without key 0A
        if not resp.ok:
            raise CardError(EXTERNAL_AUTH, sw=resp.sw)
        self.authenticated = True
        return True

    def internal_authenticate(self, data: bytes | None = None) -> bool:
        """Ask the card to prove it holds its key; check with the PSAM."""
        data = data if data is not None else os.urandom(16)
        answer = self._ok(internal_authenticate_apdu(data), "INTERNAL AUTHENTICATE")
        if self.psam is not None and not self.psam.check_internal(data, answer):
            raise CardError(INTERNAL_AUTH)
        return True

    def verify_pin(self, pin: str, refuse_initial: str | None = None) -> None:
        """VERIFY; CardError(pin_wrong, tries_left) or (pin_blocked). PIN never logged."""
        resp = self._x(verify_apdu(pin))
        if resp.ok:
            if refuse_initial is not None and pin == refuse_initial:
                raise CardError(PIN_INITIAL)
            return
        raise _pin_error(resp.sw, "VERIFY")

    def verify_pin_on_keypad(self, timeout: float = 30.0) -> None:
        """PIN typed on the reader's keypad (serial terminal): same outcomes as verify_pin."""
        sw = self.reader.verify_on_keypad(PIN_REF, timeout)
        if sw == SW.OK:
            return
        raise _pin_error(sw, "PERFORM VERIFICATION")

    def pin_tries_left(self) -> int | None:
        """VERIFY with no data asks for the counter (63Cx); None if the card won't say."""
        resp = self._x(tries_left_apdu())
        if resp.sw == SW.PIN_BLOCKED:
            return 0
        return tries_left(resp.sw)

    def change_pin(self, old: str, new: str) -> None:
        resp = self._x(change_pin_apdu(old, new))
        if resp.ok:
            return
        raise _pin_error(resp.sw, "CHANGE PIN")

    # the whole read ------------------------------------------------------
    def read(self, options: ReadOptions | None = None) -> CardRead:
        """Connect (if needed), select, EF05, authenticate where needed, EF06."""
        options = options or ReadOptions()
        atr = self.reader.atr or self.reader.connect()
        self.select_application()
        card = self.read_card_info()
        if self.psam is not None and card.version_number >= 3.0:
            self.external_authenticate()
        holder = self.read_holder(options.validate_certno)
        line = build_line(atr, card, holder, options.terminal_no, options.device_no)
        return CardRead(atr=atr.hex().upper(), card=card, holder=holder, line=line,
                        authenticated=self.authenticated,
                        trace=list(self.trace.lines) if self.trace else [])


def _pin_error(sw: int, doing: str) -> CardError:
    """A PIN check that failed: wrong (x tries left), blocked (63 C0 or 69 83), or what the SW says."""
    tries = tries_left(sw)
    if tries:
        return CardError(PIN_WRONG, sw=sw, tries_left=tries)
    if tries == 0 or sw == SW.PIN_BLOCKED:
        return CardError(PIN_BLOCKED, sw=sw)
    return error_for_sw(sw, doing)


def read_card(reader: Reader, psam: VirtualPSAM | None = None, options: ReadOptions | None = None,
              trace: Trace | None = None) -> CardRead:
    """Convenience: one full read of the card in `reader`."""
    return SocialSecurityCard(reader, psam, trace).read(options)


__all__ = ["SocialSecurityCard", "read_card", "ReadOptions", "SSSE_AID", "RECORD_NOT_FOUND"]
