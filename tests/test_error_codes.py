"""One error catalogue for the window (terminal/error_codes.py), as drivers/errors.py is for cards.

Every code the window raises is an entry with its class, English and Chinese text and exit code; no code is
written as a string at a raise site or compared as a string (the window and the kiosk key on entries), and
docs/errors.md lists exactly the catalogue.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from drivers import errors as card_errors
from terminal.error_codes import ALL, BY_CODE, CARD_USAGE_KINDS, E, card_kinds, table_markdown
from terminal.errors import BadInput, CashierError, ConfigError, RuleRefused, UsageError, describe

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u4e00-\u9fff]")
# codes the insurance centre defines and sends: the window relays them as they come, and may test for them
CENTRE_CODES = {"person_unknown", "card_unknown", "bad_request", "sign_required", "sign_expired"}
CENTRE_RELAYS = ("terminal/insurance/", "terminal/services/centre_ledger.py")
# a card code the window also raises itself, meaning the same (a PIN typed on the command line, not 4-16 digits)
SHARED_WITH_CARD = {"pin_invalid"}


def _error_classes(trees: dict[str, ast.Module]) -> set[str]:
    """CashierError and every class that derives from it, anywhere in terminal/ (by name)."""
    names = {"CashierError"}
    pending = [CashierError]
    while pending:   # the ones Python knows of, then the ones only the source shows
        cls = pending.pop()
        names.add(cls.__name__)
        pending.extend(cls.__subclasses__())
    grew = True
    while grew:
        grew = False
        for tree in trees.values():
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in names and any(
                        isinstance(b, ast.Name) and b.id in names for b in node.bases):
                    names.add(node.name)
                    grew = True
    return names


def _is_text(node: ast.AST | None) -> bool:
    """A string written in the source: a literal, an f-string, or text glued to one."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _is_text(node.left) or _is_text(node.right)
    if isinstance(node, ast.IfExp):
        return _is_text(node.body) or _is_text(node.orelse)
    return False


def _literals(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [v for elt in node.elts for v in _literals(elt)]
    return []


def _names_code(node: ast.AST) -> bool:
    return (isinstance(node, ast.Name) and node.id == "code") or (
        isinstance(node, ast.Attribute) and node.attr == "code")


def problems(trees: dict[str, ast.Module]) -> list[str]:
    """Every place a code is written or compared as a string, or names an entry the catalogue lacks."""
    classes = _error_classes(trees) - {"ConfigError"}   # ConfigError's first argument is its message
    found = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            where = f"{path}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
                code = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "code"), None)
                if name in classes and _is_text(code):
                    found.append(f"{where}: {name}() with a code written as a string")
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "E" \
                    and node.attr.isupper() and not hasattr(E, node.attr):
                found.append(f"{where}: E.{node.attr} is not in the catalogue")
            if isinstance(node, ast.Compare):
                sides = [node.left, *node.comparators]
                if any(_names_code(s) for s in sides):
                    texts = [t for s in sides for t in _literals(s)]
                    relayed = path.startswith(CENTRE_RELAYS) and set(texts) <= CENTRE_CODES
                    if texts and not relayed:
                        found.append(f"{where}: a code compared with the string(s) {texts}")
    return found


def _parse(source: str) -> ast.Module:
    return ast.parse(source)


@pytest.fixture(scope="module")
def terminal_trees() -> dict[str, ast.Module]:
    return {str(p.relative_to(ROOT)): _parse(p.read_text(encoding="utf-8"))
            for p in sorted((ROOT / "terminal").rglob("*.py"))}


def test_no_code_is_written_or_compared_as_a_string_in_the_window(terminal_trees):
    assert problems(terminal_trees) == []


@pytest.mark.parametrize("source", [
    'raise RuleRefused("not_same_day", "only same-day reversal", "只能当日冲正")',
    'raise CentreUnavailable(f"centre_{x}", "down", "断开")',
    'return SettlementUncertain(code="settlement_unknown", en="?", zh="?")',
    'raise E.NOT_IN_THE_CATALOGUE.error()',
    'ok = exc.code in ("pin_wrong", "pin_blocked")',
    'ok = message.code == "accounts_short"',
])
def test_the_scan_sees_an_inline_code(source):
    classes = "class CentreUnavailable(CashierError): ...\nclass SettlementUncertain(CentreUnavailable): ...\n"
    assert len(problems({"terminal/x.py": _parse(classes + source)})) == 1


def test_the_scan_lets_the_centres_codes_through_where_they_are_relayed():
    tree = _parse('if exc.code not in ("person_unknown", "card_unknown", "bad_request"): raise')
    assert problems({"terminal/services/centre_ledger.py": tree}) == []
    assert len(problems({"terminal/ui/kiosk/screen.py": tree})) == 1


def test_every_entry_has_english_chinese_a_class_and_an_exit_code():
    for entry in ALL:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", entry.code), entry
        assert entry.en.strip() and not CJK.fullmatch(entry.en[:1]), entry
        assert CJK.search(entry.zh), f"{entry.code}: no Chinese text"
        assert issubclass(entry.kind, CashierError), entry
        assert entry.exit_code in (1, 2), entry


def test_each_code_is_defined_once_under_its_own_name():
    codes = [entry.code for entry in ALL]
    assert len(codes) == len(set(codes)) == len(BY_CODE)
    by_name = {name: value for name, value in vars(E).items() if name.isupper()}
    assert sorted(by_name) == sorted(code.upper() for code in codes)
    assert all(value.code.upper() == name for name, value in by_name.items())
    card_codes = [kind.code for kind in card_kinds()]
    assert len(card_codes) == len(set(card_codes))
    assert set(codes) & set(card_codes) == SHARED_WITH_CARD


def test_one_code_for_a_person_not_in_the_local_database():
    assert {"unknown_person", "unknown_card", "owner_unknown"}.isdisjoint(BY_CODE)
    assert E.PERSON_UNKNOWN.kind is RuleRefused


def test_an_entry_raises_its_class_with_its_code_and_exit_code():
    exc = E.NOT_SAME_DAY.error("S1 was settled on 2025-01-01; only same-day reversal is allowed",
                               "只能当日冲正(S1 结算于 2025-01-01)")
    assert isinstance(exc, RuleRefused) and exc.code == "not_same_day" and exc.entry is E.NOT_SAME_DAY
    assert exc.localized("zh") == "只能当日冲正(S1 结算于 2025-01-01)" and exc.exit_code == 1
    plain = E.VOUCHER_NEEDED.error()
    assert (plain.message, plain.message_zh) == ("scan the patient's e-voucher code first", "请先扫描患者的医保电子凭证二维码")
    usage = E.AMOUNT_INVALID.usage("--quota is fen", "--quota 以分为单位")
    assert isinstance(usage, UsageError) and usage.code == "amount_invalid" and usage.exit_code == 2
    assert isinstance(E.AMOUNT_INVALID.error("x", "金额"), BadInput)
    with pytest.raises(TypeError):
        E.NOT_SAME_DAY.usage("x", "y")


def test_config_error_is_a_cashier_error_with_the_catalogues_code():
    exc = ConfigError("[policy] is missing")
    assert isinstance(exc, CashierError) and exc.entry is E.CONFIG and exc.code == "config" and exc.exit_code == 2
    assert E.CONFIG.kind is ConfigError


def test_an_unexpected_error_has_the_catalogues_code():
    code, message = describe(ValueError("boom"))
    assert code == E.INTERNAL.code == "internal" and "ValueError: boom" in message


def test_a_pin_failure_is_a_wrong_or_blocked_pin_and_nothing_else():
    failed = {kind.code for kind in card_kinds() if card_errors.CardError(kind).pin_failed}
    assert failed == {"pin_wrong", "pin_blocked"}
    assert card_errors.error_for_sw(0x63C2).pin_failed
    assert not card_errors.CardError(card_errors.PIN_INVALID).pin_failed


def test_usage_card_codes_are_card_codes():
    assert set(card_kinds()) >= CARD_USAGE_KINDS


def test_docs_list_exactly_the_catalogue():
    text = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    listed = re.search(r"<!-- codes: begin -->\n(.*)<!-- codes: end -->", text, re.S)
    assert listed is not None and listed.group(1) == table_markdown()
    for entry in ALL:
        assert f"| `{entry.code}` | {entry.exit_code}" in listed.group(1)
