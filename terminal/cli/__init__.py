"""The `cashier` command line (DESIGN §8.1). One module per command group; main.py wires them."""
