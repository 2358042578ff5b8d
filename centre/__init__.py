"""The simulated medical-insurance centre (医保中心): the platform a hospital's system calls.

It owns persons, accounts, bindings, the catalogue, the policy, settlements, the ledger and the audit.
A window (the `terminal` package, or any hospital system) reaches it through one envelope interface:
`centre.api` in the same process, or HTTP (`cashier centre serve`). Only `centre.api` and
`centre.interface` are public; everything else here is the centre's own business.
"""
