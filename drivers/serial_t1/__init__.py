"""The serial card terminal (DESIGN §4.2): T=1-style blocks carrying CT-BCS-style terminal commands."""
