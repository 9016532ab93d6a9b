"""Money is Decimal end to end, rounded ROUND_HALF_UP to the decimal places of its document type (Y2)."""

from decimal import ROUND_HALF_UP, Decimal

from crm.core.params import get_param

KINDS = ("contract", "order", "quote", "product")


def decimals_for(kind: str) -> int:
    if kind not in KINDS:
        raise ValueError(f"unknown money kind {kind!r}; expected one of {KINDS}")
    return int(get_param(f"decimals_{kind}"))


def quantum(places: int) -> Decimal:
    return Decimal(1).scaleb(-places)


def round_money(amount, kind: str) -> Decimal:
    """Round `amount` (Decimal, int or str, never float) to the places set for `kind`."""
    if isinstance(amount, float):
        raise TypeError("money must not be a float")
    return Decimal(amount).quantize(quantum(decimals_for(kind)), rounding=ROUND_HALF_UP)
