"""One module per screen of the cashier UI, each with its .tcss beside it."""
