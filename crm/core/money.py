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
