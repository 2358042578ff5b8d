"""The social security card's SSSE application protocol (DESIGN §3).

Select the application by DF name, read EF05 and EF06 by tag, authenticate
where the card needs it, verify and change the PIN. Runs over any `Reader`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from drivers import codecs
from drivers.apdu import CommandAPDU, ResponseAPDU, Trace, exchange
from drivers.card_data import CardInfo, CardRead, Holder
from drivers.certno import problem as certno_problem
from drivers.errors import (
    CHECKSUM, EXTERNAL_AUTH, INTERNAL_AUTH, MALFORMED, PIN_BLOCKED, PIN_INITIAL,
    PIN_WRONG, RECORD_NOT_FOUND, SECURITY, WRONG_CARD_TYPE, CardError, error_for_sw,
)
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


def select_aid_apdu() -> CommandAPDU:
    return CommandAPDU(0x00, 0xA4, 0x04, 0x00, SSSE_AID)


def select_ef_apdu(fid: int) -> CommandAPDU:
    return CommandAPDU(0x00, 0xA4, 0x02, 0x00, fid.to_bytes(2, "big"))


def read_record_apdu(p1: int, sfi: int = 0, by_number: bool = False) -> CommandAPDU:
    """READ RECORD: P2 = SFI<<3 | 100 (record number P1) or | 000 (first record with tag P1)."""
    return CommandAPDU(0x00, 0xB2, p1, (sfi << 3) | (0b100 if by_number else 0b000), le=256)


def verify_apdu(pin: str) -> CommandAPDU:
    return CommandAPDU(0x00, 0x20, 0x00, 0x00, codecs.pin_block(pin))


def change_pin_apdu(old: str, new: str) -> CommandAPDU:
    return CommandAPDU(0x00, 0x24, 0x00, 0x00, codecs.pin_block(old) + b"\xFF" + codecs.pin_block(new))


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
        if resp.sw in (0x9000, 0x6283):
            self.authenticated = False
            return resp.data
        if resp.sw in (0x6A82, 0x6A86, 0x6D00, 0x6E00, 0x6A81):
            raise CardError(WRONG_CARD_TYPE, sw=resp.sw)
        raise error_for_sw(resp.sw, "selecting the social security application")

    def select_ef(self, fid: int) -> bytes:
        return self._ok(select_ef_apdu(fid), f"selecting EF{fid & 0xFF:02X}")

    def read_tag(self, tag: int, optional: bool = False) -> bytes | None:
        """READ RECORD by identifier in the current EF; the record's value."""
        resp = self._x(read_record_apdu(tag))
        if resp.sw == 0x6A83 and optional:
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
            if exc.sw != 0x6982:
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
        """A 3.0 card read with no PSAM: name and ID number stay empty (DESIGN §3.3)."""

        def maybe(tag: int) -> bytes | None:
            try:
                return self.read_tag(tag, optional=True)
            except CardError as exc:
                if exc.sw == 0x6982:
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
    def get_challenge(self, n: int = 8) -> bytes:
        data = self._ok(CommandAPDU(0x00, 0x84, 0x00, 0x00, le=n), "GET CHALLENGE")
        if len(data) < 8:
            raise CardError(MALFORMED, f"challenge of {len(data)} bytes")
        return data[:8]

    def external_authenticate(self) -> bool:
        """GET CHALLENGE + EXTERNAL AUTHENTICATE with the PSAM. False if the card has no such key."""
        if self.psam is None:
            raise CardError(EXTERNAL_AUTH, "no PSAM key configured")
        resp = self._x(CommandAPDU(0x00, 0x84, 0x00, 0x00, le=8))
        if resp.sw in (0x6D00, 0x6A86, 0x6A88):
            return False
        if not resp.ok or len(resp.data) < 8:
            raise error_for_sw(resp.sw, "GET CHALLENGE")
        cryptogram = self.psam.cryptogram(resp.data[:8])
        resp = self._x(CommandAPDU(0x00, 0x82, 0x00, EXTERNAL_AUTH_KEY_ID, cryptogram))
        if resp.sw in (0x6D00, 0x6A88):
            return False  # an older card without key 0A
        if not resp.ok:
            raise CardError(EXTERNAL_AUTH, sw=resp.sw)
        self.authenticated = True
        return True

    def internal_authenticate(self, data: bytes | None = None) -> bool:
        """Ask the card to prove it holds its key; check with the PSAM."""
        data = data if data is not None else os.urandom(16)
        answer = self._ok(CommandAPDU(0x00, 0x88, 0x00, 0x00, data, le=256), "INTERNAL AUTHENTICATE")
        if self.psam is not None and not self.psam.check_internal(data, answer):
            raise CardError(INTERNAL_AUTH)
        return True

    def verify_pin(self, pin: str, refuse_initial: str | None = None) -> None:
        """VERIFY; CardError(pin_wrong, tries_left) or (pin_blocked). PIN never logged."""
        block = verify_apdu(pin)
        resp = self._x(block)
        if resp.sw == 0x9000:
            if refuse_initial is not None and pin == refuse_initial:
                raise CardError(PIN_INITIAL)
            return
        if resp.sw & 0xFFF0 == 0x63C0:
            if resp.sw & 0x0F == 0:
                raise CardError(PIN_BLOCKED, sw=resp.sw)
            raise CardError(PIN_WRONG, sw=resp.sw, tries_left=resp.sw & 0x0F)
        if resp.sw == 0x6983:
            raise CardError(PIN_BLOCKED, sw=resp.sw)
        raise error_for_sw(resp.sw, "VERIFY")

    def verify_pin_on_keypad(self, timeout: float = 30.0) -> None:
        """PIN typed on the reader's keypad (serial terminal): same outcomes as verify_pin."""
        sw = self.reader.verify_on_keypad(0x00, timeout)
        if sw == 0x9000:
            return
        if sw & 0xFFF0 == 0x63C0 and sw & 0x0F:
            raise CardError(PIN_WRONG, sw=sw, tries_left=sw & 0x0F)
        if sw in (0x6983, 0x63C0):
            raise CardError(PIN_BLOCKED, sw=sw)
        raise error_for_sw(sw, "PERFORM VERIFICATION")

    def pin_tries_left(self) -> int | None:
        """VERIFY with no data asks for the counter (63Cx); None if the card won't say."""
        resp = self._x(CommandAPDU(0x00, 0x20, 0x00, 0x00))
        if resp.sw & 0xFFF0 == 0x63C0:
            return resp.sw & 0x0F
        if resp.sw == 0x6983:
            return 0
        return None

    def change_pin(self, old: str, new: str) -> None:
        resp = self._x(change_pin_apdu(old, new))
        if resp.ok:
            return
        if resp.sw & 0xFFF0 == 0x63C0 and resp.sw & 0x0F:
            raise CardError(PIN_WRONG, sw=resp.sw, tries_left=resp.sw & 0x0F)
        if resp.sw in (0x6983, 0x63C0):
            raise CardError(PIN_BLOCKED, sw=resp.sw)
        raise error_for_sw(resp.sw, "CHANGE PIN")

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


def read_card(reader: Reader, psam: VirtualPSAM | None = None, options: ReadOptions | None = None,
              trace: Trace | None = None) -> CardRead:
    """Convenience: one full read of the card in `reader`."""
    return SocialSecurityCard(reader, psam, trace).read(options)


__all__ = ["SocialSecurityCard", "read_card", "ReadOptions", "SSSE_AID", "RECORD_NOT_FOUND"]
