"""GB/T 4761-2008 family relationship codes (家庭关系代码): the window reads the one table the centre's
interface carries (`centre/interface/relations.json`), so a code means the same on both sides of the wire.

A code says what the user (使用人) is to the owner (授权人): 30 = the user is the owner's daughter.
Which codes are 近亲属 (Civil Code art. 1045) is marked in the data; in-laws are not.
"""

from __future__ import annotations

from centre.interface.relations import DATA, Relation, get, is_known, name, table

__all__ = ["DATA", "Relation", "get", "is_known", "name", "table"]
