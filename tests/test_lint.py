"""Lint and types as habits: ruff (the rule set in pyproject.toml) and mypy run clean over the product's
packages on every test run, so a finding fails the suite where it is made instead of piling up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["drivers", "emulator", "terminal", "centre"]
BIN = Path(sys.executable).parent


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing():
    out = _run(str(BIN / "ruff"), "check", "--no-cache", *PACKAGES)
    assert out.returncode == 0, out.stdout + out.stderr


def test_mypy_finds_nothing(tmp_path):
    out = _run(sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "mypy"), *PACKAGES)
    assert out.returncode == 0, out.stdout + out.stderr
