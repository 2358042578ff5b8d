"""The rules of the centre as pure functions: who may share an account, what the fund pays, in what order.

No I/O here: the transaction handlers read the store, call these, and write what they return.
"""
