"""Money is Decimal end to end, rounded ROUND_HALF_UP to the decimal places of its document type (Y2)."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _

from crm.core.errors import Invalid
from crm.core.params import get_param

KINDS = ("contract", "order", "quote", "product")
# Money columns are DecimalField(max_digits=20, decimal_places=6): 14 digits before the point.
MAX_AMOUNT = Decimal(10) ** 14


def decimals_for(kind: str) -> int:
    if kind not in KINDS:
        raise ValueError(f"unknown money kind {kind!r}; expected one of {KINDS}")
    return int(get_param(f"decimals_{kind}"))


def quantum(places: int) -> Decimal:
    return Decimal(1).scaleb(-places)


def round_money(amount, kind: str, *, field: str | None = None) -> Decimal:
    """Round `amount` (Decimal, int or str, never float) to the places set for `kind`.

    An amount that is no number or too large for a money column is refused (Invalid,
    naming `field` when given)."""
    if isinstance(amount, float):
        raise TypeError("money must not be a float")
    places = decimals_for(kind)  # an unknown kind is a programming error: ValueError
    try:
        value = Decimal(amount)
        if not value.is_finite() or abs(value) >= MAX_AMOUNT:
            raise InvalidOperation
        return value.quantize(quantum(places), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError, TypeError):
        message = (
            _("Enter an amount below 100,000,000,000,000.")
            if _is_number(amount)
            else _("Enter a number.")
        )
        raise Invalid(message, fields={field: [message]} if field else None) from None


def _is_number(amount) -> bool:
    try:
        return Decimal(amount).is_finite()
    except (InvalidOperation, ValueError, TypeError):
        return False


# Chinese capitals (人民币大写), as written on cheques, invoices and contracts.
DIGITS = "零壹贰叁肆伍陆柒捌玖"
PLACES = ("", "拾", "佰", "仟")  # inside a group of four digits
GROUPS = ("", "万", "亿", "万")  # one per group of four digits, from the lowest
CENT = Decimal("0.01")


def rmb_capitals(amount) -> str:
    """An amount in Chinese capitals: 12345.67 -> 人民币壹万贰仟叁佰肆拾伍元陆角柒分.

    Written by the rules of the PBOC 《支付结算办法》 (附一《正确填写票据和结算凭证的基本规定》):
    - rounded to the cent first (ROUND_HALF_UP);
    - 整 after 元 when there are no 角 and 分; none after 角 or 分 (12.30 -> 壹拾贰元叁角);
    - one 零 for a run of zeros inside the number (6007.14 -> 陆仟零柒元壹角肆分), also
      for a whole group of zeros or the leading zeros of a group (10001 -> 壹万零壹元,
      100010000 -> 壹亿零壹万元);
    - where the rules allow one 零 or none (a zero 万 or 元 digit followed by a non-zero
      千 or 角 digit), none is written, as the amount is read aloud
      (107000.53 -> 壹拾万柒仟元伍角叁分, 1680.32 -> 壹仟陆佰捌拾元叁角贰分);
    - 零 between 元 and 分 when 角 is zero (16409.02 -> 壹万陆仟肆佰零玖元零贰分);
    - no 元 for amounts under one yuan (0.50 -> 人民币伍角); zero is 人民币零元整;
    - a negative amount reads 人民币负… .
    Amounts below 1亿亿 (10**16); floats are refused like everywhere else in money.
    """
    if isinstance(amount, float):
        raise TypeError("money must not be a float")
    try:
        value = Decimal(amount)
    except (InvalidOperation, ValueError, TypeError):
        raise ValueError(f"not an amount: {amount!r}") from None
    if not value.is_finite():
        raise ValueError(f"not an amount: {amount!r}")
    value = value.quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "负" if value < 0 else ""
    cents = int(abs(value) * 100)
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    if yuan >= 10 ** (4 * len(GROUPS)):
        raise ValueError(f"amount too large for Chinese capitals: {amount!r}")
    if cents == 0:
        return "人民币零元整"
    words = _capitals_integer(yuan)
    if yuan:
        words += "元"
    if jiao:
        words += DIGITS[jiao] + "角"
    if fen:
        words += ("零" if yuan and not jiao else "") + DIGITS[fen] + "分"
    if not jiao and not fen:
        words += "整"
    return f"人民币{sign}{words}"


def _capitals_integer(number: int) -> str:
    """The yuan part without its unit: 100010000 -> 壹亿零壹万; 0 -> ''."""
    groups = []
    while number:
        number, group = divmod(number, 10000)
        groups.append(group)
    words, zero = "", False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            if index == 2 and words:  # 壹万亿: the 亿 is said even when its group is 0
                words += "亿"
            zero = bool(words)  # a whole group of zeros inside the number: one 零
            continue
        for place in range(3, -1, -1):
            digit = group // 10**place % 10
            if digit == 0:
                zero = zero or bool(words)
                continue
            if zero:
                words += "零"
                zero = False
            words += DIGITS[digit] + PLACES[place]
        words += GROUPS[index]
        zero = False  # trailing zeros of a group are not read (壹拾万柒仟)
    return words
