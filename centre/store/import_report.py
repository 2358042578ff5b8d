"""What an import of a centre export did: lines read, refused (by number), and per kind what changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# flush order: what a row refers to goes first
KINDS = ("region", "person", "account", "binding", "catalogue", "medins", "region_rule")
MAX_ERRORS_KEPT = 1000


@dataclass
class LineError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class KindCounts:
    lines: int = 0      # good lines of this kind (bad ones are in ImportReport.bad)
    inserted: int = 0
    updated: int = 0
    kept: int = 0       # lines that would have changed a row the centre moved since the last import

    @property
    def unchanged(self) -> int:
        return self.lines - self.inserted - self.updated - self.kept


@dataclass
class ImportReport:
    path: str
    lines: int = 0                  # non-blank lines read
    bad: int = 0                    # lines refused
    errors: list[LineError] = field(default_factory=list)  # the first MAX_ERRORS_KEPT, by line number
    kinds: dict[str, KindCounts] = field(default_factory=lambda: {k: KindCounts() for k in KINDS})
    changes: int = 0                # rows the database changed (0 on a re-import)
    imported: bool = False          # committed
    skip_bad: bool = False
    seconds: float = 0.0
    sha256: str = ""
    already: bool = False           # this very file was imported before: nothing read, nothing changed
    kept_accounts: list[str] = field(default_factory=list)  # psn_no whose centre balance was kept

    def refuse_line(self, line: int, message: str) -> None:
        self.bad += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(LineError(line, message))

    def summary(self) -> dict[str, Any]:
        return {
            "file": self.path, "lines": self.lines, "bad": self.bad, "imported": self.imported,
            "changes": self.changes, "seconds": round(self.seconds, 3), "sha256": self.sha256,
            "already_imported": self.already, "kept_accounts": len(self.kept_accounts),
            "kinds": {k: {"lines": c.lines, "inserted": c.inserted, "updated": c.updated, "kept": c.kept,
                          "unchanged": c.unchanged} for k, c in self.kinds.items()},
            "errors": [{"line": e.line, "message": e.message} for e in self.errors],
        }

    def text(self) -> str:
        """What `cashier centre import` prints."""
        if self.already:
            return f"{self.path} was already imported (sha256 {self.sha256[:16]}...): nothing changed"
        lines = [f"imported {self.path}: {self.lines} lines, {self.changes} rows changed, {self.seconds:.2f} s"]
        for kind, c in self.kinds.items():
            if c.lines:
                lines.append(f"  {kind:9} {c.lines:>9} lines  {c.inserted:>9} new  {c.updated:>9} updated  "
                             f"{c.unchanged:>9} unchanged" + (f"  {c.kept:>9} kept" if c.kept else ""))
        if self.kept_accounts:
            lines.append(f"centre balance kept for {len(self.kept_accounts)} accounts with activity at the centre "
                         f"since the last import: {', '.join(self.kept_accounts[:20])}")
        if self.bad:
            lines.append(f"skipped {self.bad} bad line(s):")
            lines += [f"  {e}" for e in self.errors[:20]]
        return "\n".join(lines)

    def refusal_text(self, shown: int = 20) -> tuple[str, str]:
        """(English, Chinese) for an import refused because of bad lines: every shown line with its number."""
        lines = [str(e) for e in self.errors[:shown]]
        more = self.bad - len(lines)
        if more > 0:
            lines.append(f"... and {more} more")
        if self.skip_bad:  # every line was bad: there is no rest to import
            head = f"every line of {self.path} is bad ({self.bad}); nothing imported"
            head_zh = f"{self.path} 的 {self.bad} 行全部有错误,未导入任何数据"
        else:
            head = f"{self.bad} bad line(s) in {self.path}; nothing imported (use --skip-bad to import the rest)"
            head_zh = f"{self.path} 有 {self.bad} 行错误,未导入任何数据(可用 --skip-bad 跳过错误行)"
        return "\n".join([head, *lines]), "\n".join([head_zh, *lines])
