"""One module per group of transactions: each handler takes the context and the validated input and returns
the output model (or raises `Refused`). The dispatcher owns the envelope, the msgid and the transaction."""
