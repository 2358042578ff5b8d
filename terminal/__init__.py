"""The cashier terminal: config, domain, store, services, UI and command line."""
