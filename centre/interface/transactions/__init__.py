"""Each transaction's input and output fields (the national interface, docs/centre.md), one module per group.

`registry.TRANSACTIONS` maps an `infno` to its models, its Chinese name and whether it is national.
"""
