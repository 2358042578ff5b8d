"""The bill presented at the window (DESIGN §8.3), validated before any money moves.

API:
- `parse_bill(obj: dict, limits=None, numbers_only=False) -> Bill`, `load_bill(path, limits=None) -> Bill`
  (JSON file; numbers read as Decimal), `bill_from_text(text, limits=None) -> Bill`. Problems raise
  `BadInput("bad_bill", ...)` naming the item ("item 2 (X001): qty must be > 0"). In a JSON bill qty
  and price are JSON numbers: "1.5" or "100" in quotes is refused, naming the item and the field.
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

from terminal.domain.money import round_fen
from terminal.errors import BadInput

MED_TYPES = {"11": "general outpatient", "14": "chronic/special outpatient", "21": "inpatient"}
CLASSES = ("A", "B", "C")
MAX_ITEMS = 500
MAX_QTY = Decimal(10000)


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
        """Step 1 of §6.2: round(qty × price), half-up, in fen."""
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


def _bad(message: str, message_zh: str) -> BadInput:
    return BadInput("bad_bill", message, message_zh)


def _qty(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise _bad(f"{where}: qty must be a number (got {value!r})", f"{where}: 数量必须是数字")
    try:
        qty = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise _bad(f"{where}: qty must be a number (got {value!r})", f"{where}: 数量必须是数字") from None
    if not qty.is_finite() or qty <= 0:
        raise _bad(f"{where}: qty must be > 0 (got {value})", f"{where}: 数量必须大于0")
    if qty.as_tuple().exponent < -3 and qty != qty.quantize(Decimal("0.001")):
        raise _bad(f"{where}: qty may have at most 3 decimals (got {value})", f"{where}: 数量最多3位小数")
    if qty > MAX_QTY:
        raise _bad(f"{where}: qty {value} is absurd (at most {MAX_QTY})", f"{where}: 数量{value}不合理")
    return qty


def _price(value: Any, where: str, limits: BillLimits) -> int:
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(f"{where}: price must be a whole number of fen (got {value!r})", f"{where}: 单价必须是整数(分)")
    if value < 0:
        raise _bad(f"{where}: price must not be negative (got {value})", f"{where}: 单价不能为负")
    _check_price(value, where, limits)
    return value


def _check_price(price: int, where: str, limits: BillLimits) -> None:
    if price > limits.max_item_price:
        raise _bad(f"{where}: price {price} fen is above max_item_price {limits.max_item_price} ([policy] in "
                   f"config.toml): an absurd amount, not charged", f"{where}: 单价{price}分不合理(超过上限 "
                   f"{limits.max_item_price} 分)")


def _check_total(total: int, limits: BillLimits) -> None:
    if total > limits.max_bill_total:
        raise _bad(f"the bill total {total} fen is above max_bill_total {limits.max_bill_total} ([policy] in "
                   f"config.toml): an absurd amount, not charged",
                   f"账单总额{total}分不合理(超过上限 {limits.max_bill_total} 分)")


def check_limits(bill: Bill, limits: BillLimits) -> None:
    """The absurd-amount limits of the config, checked again on a bill parsed with other limits."""
    for index, item in enumerate(bill.items, 1):
        _check_price(item.price, f"item {index} ({item.code})", limits)
    _check_total(bill.total, limits)


def _not_a_string(raw: dict[str, Any], where: str) -> None:
    """A bill written as JSON has JSON numbers for qty and price: "1.5" in quotes is a mistake."""
    for key in ("qty", "price"):
        value = raw[key]
        if isinstance(value, str):
            raise _bad(f"{where}: {key} must be a JSON number, not the string {value!r} (write {value.strip()} "
                       f"without quotes)", f"{where}: {key} 必须是数字,不能是字符串 {value!r}(去掉引号)")


def _text(item: dict[str, Any], key: str, where: str, required: bool) -> str:
    value = item.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise _bad(f"{where}: {key} must be a non-empty string" if required else f"{where}: {key} must be a string",
                   f"{where}: {key} 必须是文字")
    return value.strip()


def _item(raw: Any, index: int, limits: BillLimits, numbers_only: bool) -> BillItem:
    code = raw.get("code") if isinstance(raw, dict) else None
    where = f"item {index}" + (f" ({code})" if isinstance(code, str) and code else "")
    if not isinstance(raw, dict):
        raise _bad(f"{where}: must be an object with code, name, class, qty, price", f"{where}: 格式错误")
    for key in ("code", "class", "qty", "price"):
        if key not in raw:
            raise _bad(f"{where}: {key} is missing", f"{where}: 缺少 {key}")
    if numbers_only:
        _not_a_string(raw, where)
    cls = raw["class"]
    if cls not in CLASSES:
        raise _bad(f"{where}: class must be A, B or C (got {cls!r})", f"{where}: 类别必须是甲(A)、乙(B)或丙(C)")
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
    if isinstance(med_type, int) and not isinstance(med_type, bool):
        med_type = str(med_type)
    if med_type not in MED_TYPES:
        raise _bad(f"med_type must be 11 (general outpatient), 14 (chronic/special outpatient) or 21 (inpatient) "
                   f"(got {med_type!r})", f"医疗类别必须是 11、14 或 21(收到 {med_type!r})")
    items = obj.get("items")
    if not isinstance(items, list) or not items:
        raise _bad("the bill has no items", "账单没有明细")
    if len(items) > MAX_ITEMS:
        raise _bad(f"the bill has {len(items)} items; at most {MAX_ITEMS}", f"账单明细过多({len(items)})")
    bill = Bill(med_type, tuple(_item(raw, i, limits, numbers_only) for i, raw in enumerate(items, 1)))
    _check_total(bill.total, limits)
    return bill


def bill_from_text(text: str, limits: BillLimits | None = None) -> Bill:
    """A bill in JSON (DESIGN §8.3): numbers exactly as written (Decimal), qty and price JSON numbers."""
    try:
        obj = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise _bad(f"the bill is not valid JSON: {exc}", f"账单不是有效的 JSON: {exc}") from None
    return parse_bill(obj, limits=limits, numbers_only=True)


def load_bill(path: str | Path, limits: BillLimits | None = None) -> Bill:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _bad(f"bill file not found: {path}", f"账单文件不存在: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _bad(f"cannot read bill file {path}: {exc}", f"无法读取账单文件 {path}") from None
    return bill_from_text(text, limits)
