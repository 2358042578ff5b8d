"""The bill presented at the window (docs/interfaces.md), validated before any money moves.

API:
- `parse_bill(obj: dict, limits=None, numbers_only=False) -> Bill`, `load_bill(path, limits=None) -> Bill`
  (JSON file; numbers read as Decimal), `bill_from_text(text, limits=None) -> Bill`. Problems raise
  `E.BAD_BILL.error(message_en, message_zh, **details)` naming the item in the cashier's language
  ("item 2 (X001): qty must be > 0" / "第2项(X001):数量必须大于0"), amounts in yuan ("¥2,000,000.00"); the
  config key behind an absurd-amount refusal is in `details` (`limit`, `config`), not in the text. In a
  JSON bill qty and price are JSON numbers: "1.5" or "100" in quotes is refused, naming the item and the field.
- Hostile input is a BadInput too, never a traceback: a file over MAX_BILL_BYTES, nesting deeper than Python
  parses, numbers of more than MAX_NUMBER_CHARS characters, NaN and Infinity. Codes (and categories) are at
  most MAX_CODE characters, names MAX_NAME, with no control or invisible characters (terminal.domain.text).
- `BillLimits(max_item_price, max_bill_total)`: the absurd-amount limits (config `[policy]`),
  `check_limits(bill, limits)`.
- `Bill.med_type`, `Bill.items` (tuple of `BillItem`: code, name, category, cls "A"|"B"|"C",
  qty Decimal, price int fen, `amount` = round half-up of qty × price), `Bill.to_json()`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from centre.interface.amounts import round_fen, yuan_text
from centre.interface.codes import ChrgitmLv, MedType
from terminal.domain.text import MAX_CODE, MAX_NAME, printable, shown, text_problem
from terminal.error_codes import E
from terminal.errors import BadInput

MAX_ITEMS = 500
MAX_QTY = Decimal(10000)
MAX_BILL_BYTES = 2 << 20      # 500 items of a few hundred bytes each fit many times over
MAX_NUMBER_CHARS = 40         # a qty or a price in fen is written in far fewer
TEXT_LIMITS = {"code": MAX_CODE, "category": MAX_CODE, "name": MAX_NAME}


@dataclass(frozen=True)
class BillLimits:
    """Above these a bill is taken for a typo ("absurd amount"), not charged. Config: `[policy]`
    `max_item_price`, `max_bill_total` (fen). The defaults are generous: real inpatient items
    (implants, cell therapies) cost hundreds of thousands of yuan a unit."""

    max_item_price: int = 100_000_000       # 1,000,000.00 yuan a unit
    max_bill_total: int = 1_000_000_000     # 10,000,000.00 yuan a bill


@dataclass(frozen=True)
class BillItem:
    code: str
    name: str
    category: str
    cls: str
    qty: Decimal
    price: int

    @property
    def amount(self) -> int:
        """Step 1 of the settlement formula: round(qty × price), half-up, in fen."""
        return round_fen(self.qty * self.price)

    def to_json(self) -> dict[str, Any]:
        qty: Any = int(self.qty) if self.qty == self.qty.to_integral_value() else str(self.qty)
        return {"code": self.code, "name": self.name, "category": self.category, "class": self.cls,
                "qty": qty, "price": self.price}


@dataclass(frozen=True)
class Bill:
    med_type: str
    items: tuple[BillItem, ...]

    @property
    def total(self) -> int:
        """medfee_sumamt: the sum of the item amounts, in fen."""
        return sum(i.amount for i in self.items)

    def to_json(self) -> dict[str, Any]:
        return {"med_type": self.med_type, "items": [i.to_json() for i in self.items]}


# What a cashier reads: every message in English and Chinese, the item named in the cashier's language,
# money in yuan; the config key behind a limit goes into the error's details, never into the text.
FIELD_ZH = {"code": "项目编码", "name": "项目名称", "category": "费用类别", "class": "甲乙丙类别",
            "qty": "数量", "price": "单价"}


@dataclass(frozen=True)
class _Where:
    """Which item a message is about: "item 4 (Y1)" / "第4项(Y1)"."""

    index: int
    code: str | None

    @property
    def en(self) -> str:
        return f"item {self.index}" + (f" ({self.code})" if self.code else "")

    @property
    def zh(self) -> str:
        return f"第{self.index}项" + (f"({self.code})" if self.code else "")


def _bad(message: str, message_zh: str, **details: object) -> BadInput:
    return E.BAD_BILL.error(message, message_zh, **details)


def _bad_item(where: _Where, message: str, message_zh: str, **details: object) -> BadInput:
    """A problem with one item, named in both languages ("item 4 (Y1): ..." / "第4项(Y1):...")."""
    return _bad(f"{where.en}: {message}", f"{where.zh}:{message_zh}", item=where.index, item_code=where.code,
                **details)


def _qty(value: Any, where: _Where) -> Decimal:
    not_a_number = (f"qty must be a number (got {shown(value)})", f"数量必须是数字(收到 {shown(value)})")
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise _bad_item(where, *not_a_number)
    if (isinstance(value, str) and len(value) > MAX_NUMBER_CHARS) or (
            isinstance(value, int) and abs(value) >= 10**MAX_NUMBER_CHARS):
        raise _bad_item(where, f"qty is not a sensible number (got {shown(value)})", "数量不合理")
    try:
        qty = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise _bad_item(where, *not_a_number) from None
    if not qty.is_finite() or qty <= 0:
        raise _bad_item(where, f"qty must be > 0 (got {value})", "数量必须大于0")
    exponent = qty.as_tuple().exponent  # an int: qty is finite here
    if isinstance(exponent, int) and exponent < -3 and qty != qty.quantize(Decimal("0.001")):
        raise _bad_item(where, f"qty may have at most 3 decimals (got {value})", f"数量最多3位小数(收到 {value})")
    if qty > MAX_QTY:
        raise _bad_item(where, f"qty {value} is too large: at most {MAX_QTY} on one line",
                        f"数量{value}不合理,一行最多{MAX_QTY}")
    return qty


def _price(value: Any, where: _Where, limits: BillLimits) -> int:
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        if abs(value.adjusted()) > MAX_NUMBER_CHARS:   # 1E+999999999 is integral: int() of it would take minutes
            raise _bad_item(where, f"the unit price {shown(value)} is not a sensible amount", "单价金额不合理")
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad_item(where, f"price must be a whole number of fen (got {shown(value)})",
                        f"单价必须是整数,以分为单位(收到 {shown(value)})")
    if abs(value) >= 10**MAX_NUMBER_CHARS:
        raise _bad_item(where, f"the unit price {shown(value)} is not a sensible amount", "单价金额不合理")
    if value < 0:
        raise _bad_item(where, f"price must not be negative (got {yuan_text(value)})",
                        f"单价不能为负(收到 {yuan_text(value)})")
    _check_price(value, where, limits)
    return value


def _check_price(price: int, where: _Where, limits: BillLimits) -> None:
    if price > limits.max_item_price:
        limit = limits.max_item_price
        raise _bad_item(where, f"the unit price {yuan_text(price)} is above the limit of {yuan_text(limit)}: "
                        "an absurd amount, not charged (check the price)",
                        f"单价{yuan_text(price)}超过上限{yuan_text(limit)},金额不合理,未收费(请核对单价)",
                        limit="max_item_price", config="[policy] max_item_price in config.toml",
                        price_fen=price, limit_fen=limit)


def _check_total(total: int, limits: BillLimits) -> None:
    if total > limits.max_bill_total:
        limit = limits.max_bill_total
        raise _bad(f"the bill total {yuan_text(total)} is above the limit of {yuan_text(limit)}: an absurd amount, "
                   "not charged (check the quantities and prices)",
                   f"账单总额{yuan_text(total)}超过上限{yuan_text(limit)},金额不合理,未收费(请核对数量和单价)",
                   limit="max_bill_total", config="[policy] max_bill_total in config.toml",
                   total_fen=total, limit_fen=limit)


def check_limits(bill: Bill, limits: BillLimits) -> None:
    """The absurd-amount limits of the config, checked again on a bill parsed with other limits."""
    for index, item in enumerate(bill.items, 1):
        _check_price(item.price, _Where(index, item.code), limits)
    _check_total(bill.total, limits)


def _not_a_string(raw: dict[str, Any], where: _Where) -> None:
    """A bill written as JSON has JSON numbers for qty and price: "1.5" in quotes is a mistake."""
    for key in ("qty", "price"):
        value = raw[key]
        if isinstance(value, str):
            raise _bad_item(where, f"{key} must be a JSON number, not the string {shown(value)} (write "
                            f"{shown(value.strip())[1:-1]} without quotes)",
                            f"{FIELD_ZH[key]}必须是数字,不能是字符串 {shown(value)}(去掉引号)")


def _text(item: dict[str, Any], key: str, where: _Where, required: bool) -> str:
    value = item.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise _bad_item(where, f"{key} must be a non-empty string" if required else f"{key} must be a string",
                        f"{FIELD_ZH[key]}不能为空" if required else f"{FIELD_ZH[key]}必须是文字")
    problem = text_problem(value, TEXT_LIMITS[key], required=required)
    if problem is not None:
        raise _bad_item(where, f"{key} {problem[0]}", f"{FIELD_ZH[key]}{problem[1]}")
    return value.strip()


def _item(raw: Any, index: int, limits: BillLimits, numbers_only: bool) -> BillItem:
    code = raw.get("code") if isinstance(raw, dict) else None
    clean = isinstance(code, str) and code and text_problem(code, MAX_CODE) is None
    where = _Where(index, code.strip() if clean and isinstance(code, str) else None)  # a code a message can quote
    if not isinstance(raw, dict):
        raise _bad_item(where, "must be an object with code, name, class, qty, price",
                        "格式错误,应包含项目编码、名称、类别、数量和单价")
    for key in ("code", "class", "qty", "price"):
        if key not in raw:
            raise _bad_item(where, f"{key} is missing", f"缺少{FIELD_ZH[key]}")
    if numbers_only:
        _not_a_string(raw, where)
    cls = raw["class"]
    if not isinstance(cls, str) or cls not in ChrgitmLv.letters():
        raise _bad_item(where, f"class must be A, B or C (got {shown(cls)})",
                        f"类别必须是甲(A)、乙(B)或丙(C)(收到 {shown(cls)})")
    item = BillItem(code=_text(raw, "code", where, True), name=_text(raw, "name", where, False),
                    category=_text(raw, "category", where, False), cls=cls,
                    qty=_qty(raw["qty"], where), price=_price(raw["price"], where, limits))
    return item


def parse_bill(obj: Any, *, limits: BillLimits | None = None, numbers_only: bool = False) -> Bill:
    """A bill object -> Bill, or BadInput naming what is wrong (and which item).

    `limits`: the absurd-amount limits (default `BillLimits()`; the settlement service checks the
    config's again). `numbers_only`: qty and price must be numbers, never strings (a bill read
    from JSON; a qty typed at the window may arrive as its text).
    """
    limits = limits or BillLimits()
    if not isinstance(obj, dict):
        raise _bad("the bill must be a JSON object with med_type and items", "账单必须是含 med_type 和 items 的 JSON 对象")
    med_type = obj.get("med_type")
    if isinstance(med_type, int) and not isinstance(med_type, bool) and str(med_type) in MedType.values():
        med_type = str(med_type)
    if not isinstance(med_type, str) or med_type not in MedType.values():
        *first, last = MedType
        raise _bad(f"med_type must be {', '.join(f'{m} ({m.en})' for m in first)} or {last} ({last.en}) "
                   f"(got {shown(med_type)})",
                   f"医疗类别必须是 {'、'.join(f'{m}({m.zh})' for m in first)}或 {last}({last.zh})(收到 {shown(med_type)})")
    items = obj.get("items")
    if not isinstance(items, list) or not items:
        raise _bad("the bill has no items", "账单没有明细")
    if len(items) > MAX_ITEMS:
        raise _bad(f"the bill has {len(items)} items; at most {MAX_ITEMS}",
                   f"账单明细过多({len(items)}项,最多{MAX_ITEMS}项)")
    bill = Bill(med_type, tuple(_item(raw, i, limits, numbers_only) for i, raw in enumerate(items, 1)))
    _check_total(bill.total, limits)
    return bill


class _Unreadable(ValueError):
    """A number or constant the bill may not hold, met while parsing."""


def _number(text: str) -> Decimal | int:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Unreadable(f"a number of {len(text)} characters")
    return Decimal(text) if any(c in text for c in ".eE") else int(text)


def _constant(name: str) -> Any:
    raise _Unreadable(f"{name} is not a number a bill can hold")


def bill_from_text(text: str, limits: BillLimits | None = None) -> Bill:
    """A bill in JSON (docs/interfaces.md): numbers exactly as written (Decimal), qty and price JSON numbers."""
    try:
        obj = json.loads(text, parse_float=_number, parse_int=_number, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise _bad(f"the bill is not valid JSON: {exc}", f"账单不是有效的 JSON: {exc}") from None
    except _Unreadable as exc:
        raise _bad(f"the bill is not valid: {exc}", f"账单内容无效: {exc}") from None
    except RecursionError:
        raise _bad("the bill is not valid: arrays or objects nested too deeply", "账单内容无效:嵌套层数过多") from None
    return parse_bill(obj, limits=limits, numbers_only=True)


def load_bill(path: str | Path, limits: BillLimits | None = None) -> Bill:
    path = Path(path)
    name = printable(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BILL_BYTES + 1)
    except FileNotFoundError:
        raise _bad(f"bill file not found: {name}", f"账单文件不存在: {name}") from None
    except OSError as exc:
        raise _bad(f"cannot read bill file {name}: {exc.strerror or exc}", f"无法读取账单文件 {name}") from None
    if len(raw) > MAX_BILL_BYTES:
        raise _bad(f"the bill file {name} is larger than {MAX_BILL_BYTES >> 20} MiB", f"账单文件过大: {name}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _bad(f"the bill file {name} is not UTF-8 text (byte {exc.start})",
                   f"账单文件不是 UTF-8 文本: {name}") from None
    return bill_from_text(text, limits)
