"""The cashier's Textual UI (the only place besides terminal/web that imports Textual)."""
