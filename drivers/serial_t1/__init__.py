"""The serial card terminal: ISO 7816-3 T=1-style blocks carrying CT-BCS-style terminal commands and card APDUs."""
