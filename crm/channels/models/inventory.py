"""D6 channel inventory (渠道库存): stock counts partners report, and the bounds alerts use."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.channels.models.base import QUANTITY
from crm.core.models import TimeStamped


class StockCount(TimeStamped):
    """A partner's counted stock of a product at the end of a day; one per day."""

    partner = models.ForeignKey(
        "channels.Partner",
        verbose_name=_("partner"),
        on_delete=models.PROTECT,
        related_name="stock_counts",
    )
    product = models.ForeignKey(
        "products.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    counted_on = models.DateField(_("count date"))
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("stock count")
        verbose_name_plural = _("stock counts")
        ordering = ["-counted_on", "partner", "product"]
        indexes = [models.Index(fields=["counted_on"])]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "product", "counted_on"],
                name="stock_count_one_per_day",
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=0), name="stock_count_quantity_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner} · {self.product} · {self.counted_on}"


class StockBound(models.Model):
    """Low/over-stock bounds in days of inventory, for a product (or all products) and a
    partner (or all partners); the most specific bound applies. (Rows with empty
    partner/product are kept unique by the service: NULLs are distinct in a unique
    constraint on SQLite.)"""

    partner = models.ForeignKey(
        "channels.Partner",
        verbose_name=_("partner"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    product = models.ForeignKey(
        "products.Product",
        verbose_name=_("product"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    low_days = models.PositiveIntegerField(_("low stock below (days)"), default=7)
    high_days = models.PositiveIntegerField(_("over-stock above (days)"), default=90)

    class Meta:
        verbose_name = _("stock bound")
        verbose_name_plural = _("stock bounds")
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "product"],
                name="stock_bound_unique",
            ),
            models.CheckConstraint(
                condition=Q(high_days__gt=models.F("low_days")),
                name="stock_bound_high_above_low",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner or '*'} · {self.product or '*'}"
