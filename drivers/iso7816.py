"""ISO/IEC 7816-4 names: the status words, instruction bytes and parameters the card and the terminal exchange.

Named once here so that the driver (drivers/) and the emulator's card OS (emulator/card_os/), which may
import drivers/ but never the reverse, call the same byte by the same name.
"""

from __future__ import annotations

from enum import IntEnum

#: interindustry class byte: no secure messaging, logical channel 0
CLA = 0x00


class INS(IntEnum):
    """Instruction bytes (the second byte of a command APDU)."""

    VERIFY = 0x20                   # compare a PIN with the card's; no data: ask for the tries left
    CHANGE_REFERENCE_DATA = 0x24    # CHANGE PIN: old PIN, then the new one
    EXTERNAL_AUTHENTICATE = 0x82    # the terminal proves it holds the key: a cryptogram of the card's challenge
    GET_CHALLENGE = 0x84            # the card answers a random challenge (for EXTERNAL AUTHENTICATE)
    INTERNAL_AUTHENTICATE = 0x88    # the card proves it holds its key: it enciphers the terminal's data
    SELECT = 0xA4                   # make a DF or EF current (by name, file id or path)
    READ_BINARY = 0xB0              # bytes of a transparent EF from an offset
    READ_RECORD = 0xB2              # one record of a record EF (by number or by its first byte)
    GET_RESPONSE = 0xC0             # fetch the data a 61 xx answer announced


#: the commands whose data is a PIN: never traced, logged or sent twice
SECRET_INS = frozenset({INS.VERIFY, INS.CHANGE_REFERENCE_DATA})


class SW(IntEnum):
    """Status words (SW1 SW2) that end a response APDU; families with a count in SW2 are below."""

    OK = 0x9000                     # normal processing
    END_OF_FILE = 0x6282            # fewer bytes than Le: the end of the file came first
    FILE_INVALIDATED = 0x6283       # the selected file is invalidated (still selected)
    AUTH_FAILED = 0x6300            # warning, no information given: this card answers it to a wrong cryptogram
    WRONG_LENGTH = 0x6700           # Lc or Le wrong, or the command is cut short
    CHANNEL_NOT_SUPPORTED = 0x6881  # logical channel not supported
    SM_NOT_SUPPORTED = 0x6882       # secure messaging not supported
    INCOMPATIBLE_FILE = 0x6981      # command incompatible with the file structure
    SECURITY = 0x6982               # security status not satisfied (authenticate first)
    PIN_BLOCKED = 0x6983            # authentication method blocked: no tries left
    CONDITIONS = 0x6985             # conditions of use not satisfied (no challenge, nothing to GET RESPONSE)
    NO_CURRENT_EF = 0x6986          # command not allowed: no current EF
    WRONG_DATA = 0x6A80             # incorrect parameters in the data field
    FUNC_NOT_SUPPORTED = 0x6A81     # function not supported
    FILE_NOT_FOUND = 0x6A82         # file or application not found
    RECORD_NOT_FOUND = 0x6A83       # record not found
    WRONG_P1P2 = 0x6A86             # incorrect parameters P1-P2
    REF_NOT_FOUND = 0x6A88          # referenced data (key, PIN) not found
    OFFSET_OUTSIDE = 0x6B00         # wrong parameters P1-P2: offset outside the EF
    INS_NOT_SUPPORTED = 0x6D00      # instruction not supported
    CLA_NOT_SUPPORTED = 0x6E00      # class not supported
    NO_DIAGNOSIS = 0x6F00           # no precise diagnosis (the card failed)


class SW1(IntEnum):
    """First status bytes whose SW2 is a number, not a reason."""

    MORE_DATA = 0x61                # SW2 bytes wait: GET RESPONSE with Le = SW2 (00 = 256)
    WRONG_LE = 0x6C                 # wrong Le: send the command again with Le = SW2 (00 = 256)


#: 63 Cx: verification failed, x tries left (x = 0: now blocked)
TRIES_LEFT = 0x63C0


def more_data(n: int) -> int:
    """61 xx: n bytes wait for GET RESPONSE (256 is 00)."""
    return (SW1.MORE_DATA << 8) | (n & 0xFF)


def wrong_le(n: int) -> int:
    """6C xx: the answer is n bytes; send again with that Le (256 is 00)."""
    return (SW1.WRONG_LE << 8) | (n & 0xFF)


def tries_left_sw(tries: int) -> int:
    """63 Cx: a wrong PIN, x tries left."""
    return TRIES_LEFT | (tries & 0x0F)


def tries_left(sw: int) -> int | None:
    """x of a 63 Cx status word; None for any other."""
    return sw & 0x0F if sw & 0xFFF0 == TRIES_LEFT else None


class SelectBy(IntEnum):
    """P1 of SELECT: how the data names the file."""

    FILE_ID = 0x00                  # MF, DF or EF by file id (no data: the MF)
    CHILD_DF = 0x01                 # a DF under the current DF
    EF = 0x02                       # an EF under the current DF
    PARENT = 0x03                   # the parent of the current DF (no data)
    DF_NAME = 0x04                  # a DF by its name (AID), possibly right-truncated
    PATH_FROM_MF = 0x08             # a path of file ids from the MF
    PATH_FROM_DF = 0x09             # a path of file ids from the current DF


#: P2 of SELECT: answer no FCI/FCP data
SELECT_NO_DATA = 0x0C


class RecordMode(IntEnum):
    """The low three bits of READ RECORD's P2 (the high five are the SFI, 0 = the current EF)."""

    FIRST_WITH_ID = 0b000           # the first record whose first byte is P1
    LAST_WITH_ID = 0b001            # the last one
    NEXT_WITH_ID = 0b010            # the next one after the current record
    PREVIOUS_WITH_ID = 0b011        # the one before the current record
    NUMBER = 0b100                  # record number P1 (0: the current record)
    NUMBER_TO_LAST = 0b101          # every record from number P1 to the last (not on this card)
    LAST_TO_NUMBER = 0b110          # every record from the last back to number P1 (not on this card)
