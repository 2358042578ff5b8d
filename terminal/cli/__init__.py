"""The `cashier` command line (docs/interfaces.md). One module per command group; main.py wires them."""
