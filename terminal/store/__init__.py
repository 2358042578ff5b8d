"""The local SQLite cache (sqlite-utils): connection, migrations, import, queries. Never imports Textual."""
