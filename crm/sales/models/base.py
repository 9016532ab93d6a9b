"""What every sales document shares: money columns and priced product lines."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 20, "decimal_places": 6}
QUANTITY = {"max_digits": 16, "decimal_places": 4}
PERCENT = {"max_digits": 7, "decimal_places": 4}


class PricedLine(models.Model):
    """A product line of a quote, contract or order. `amount` (net of discount, before
    tax), `tax_amount` and `total` are computed by crm.sales.pricing and written only by
    the document's services, together with the document's totals."""

    product = models.ForeignKey(
        "products.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    description = models.CharField(_("description"), max_length=255, blank=True)
    quantity = models.DecimalField(_("quantity"), **QUANTITY, default=Decimal("1"))
    unit_price = models.DecimalField(_("unit price"), **MONEY, default=Decimal("0"))
    discount_percent = models.DecimalField(
        _("discount %"),
        **PERCENT,
        default=Decimal("0"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    tax_rate = models.DecimalField(
        _("tax rate %"),
        **PERCENT,
        default=Decimal("13"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    amount = models.DecimalField(
        _("amount excl. tax"), **MONEY, default=Decimal("0"), editable=False
    )
    tax_amount = models.DecimalField(
        _("tax"), **MONEY, default=Decimal("0"), editable=False
    )
    total = models.DecimalField(
        _("total"), **MONEY, default=Decimal("0"), editable=False
    )
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    class Meta:
        abstract = True
        ordering = ["sort_order", "pk"]


class PricedDocument(models.Model):
    """Totals of a document's lines, recomputed by its services whenever a line changes."""

    amount = models.DecimalField(
        _("amount excl. tax"), **MONEY, default=Decimal("0"), editable=False
    )
    tax_amount = models.DecimalField(
        _("tax"), **MONEY, default=Decimal("0"), editable=False
    )
    total = models.DecimalField(
        _("total"), **MONEY, default=Decimal("0"), editable=False
    )

    class Meta:
        abstract = True
