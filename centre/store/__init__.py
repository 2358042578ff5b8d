"""The centre's store: one schema on SQLite (the embedded default) or PostgreSQL (many windows).

Handlers see a `Database` (one connection, one thread) with `?` placeholders and two transactions:
`write()` (the money's: serialised per database) and plain autocommit reads. SQL that differs between
the two engines is chosen by `db.dialect`.
"""
