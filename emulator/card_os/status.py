"""ISO 7816-4 status words the card OS answers with."""

OK = 0x9000
END_OF_FILE = 0x6282           # fewer bytes than Le: end of file reached
AUTH_FAILED = 0x6300           # external authentication: wrong cryptogram
WRONG_LENGTH = 0x6700
CHANNEL_NOT_SUPPORTED = 0x6881
SM_NOT_SUPPORTED = 0x6882
INCOMPATIBLE_FILE = 0x6981     # command incompatible with the file structure
SECURITY = 0x6982              # security status not satisfied
PIN_BLOCKED = 0x6983
CONDITIONS = 0x6985            # conditions of use not satisfied (no challenge, nothing to GET RESPONSE)
NO_CURRENT_EF = 0x6986
WRONG_DATA = 0x6A80
FUNC_NOT_SUPPORTED = 0x6A81
FILE_NOT_FOUND = 0x6A82
RECORD_NOT_FOUND = 0x6A83
WRONG_P1P2 = 0x6A86
REF_NOT_FOUND = 0x6A88         # referenced key / PIN not on this card
OFFSET_OUTSIDE = 0x6B00
INS_NOT_SUPPORTED = 0x6D00
CLA_NOT_SUPPORTED = 0x6E00
NO_DIAGNOSIS = 0x6F00


def pin_wrong(tries_left: int) -> int:
    """63 Cx: x tries left."""
    return 0x63C0 | (tries_left & 0x0F)
