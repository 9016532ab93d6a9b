"""D5 sell-through (销售上报): what partners sold to end customers."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.channels.models.base import MONEY, QUANTITY
from crm.core.models import TimeStamped


class SellThroughReport(TimeStamped):
    """One submission: a portal form, an uploaded file or an API call. `reference` is the
    partner's own report id; the same partner and reference is never counted twice."""

    class Source(models.TextChoices):
        PORTAL = "portal", _("Portal form")
        UPLOAD = "upload", _("File upload")
        API = "api", _("API")
        HQ = "hq", _("Entered by HQ")

    partner = models.ForeignKey(
        "channels.Partner",
        verbose_name=_("partner"),
        on_delete=models.PROTECT,
        related_name="sell_through_reports",
    )
    reference = models.CharField(_("report id"), max_length=64)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    period_start = models.DateField(_("from"), null=True, blank=True)
    period_end = models.DateField(_("until"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    api_key = models.ForeignKey(
        "channels.ApiKey",
        verbose_name=_("API key"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    line_count = models.PositiveIntegerField(_("lines"), default=0)
    total_quantity = models.DecimalField(
        _("quantity"), **QUANTITY, default=Decimal("0")
    )
    total_amount = models.DecimalField(_("amount"), **MONEY, default=Decimal("0"))
    # sha256 of the lines as submitted (canonical form): a resubmission under the same
    # reference with the same fingerprint is a replay, with another one a conflict.
    fingerprint = models.CharField(
        _("content fingerprint"), max_length=64, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("sell-through report")
        verbose_name_plural = _("sell-through reports")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "reference"], name="sell_through_report_unique_ref"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner} · {self.reference}"


class SellThroughLine(models.Model):
    """A sale to an end customer. Partner is copied from the report so reports, scores
    and inventory sum one indexed table."""

    report = models.ForeignKey(
        SellThroughReport,
        verbose_name=_("report"),
        on_delete=models.CASCADE,
        related_name="lines",
    )
    partner = models.ForeignKey(
        "channels.Partner", on_delete=models.PROTECT, related_name="+"
    )
    sold_on = models.DateField(_("sale date"))
    product = models.ForeignKey(
        "products.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    amount = models.DecimalField(_("amount"), **MONEY)
    end_customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("end customer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    end_customer_name = models.CharField(
        _("end customer name"), max_length=100, blank=True
    )
    region = models.ForeignKey(
        "customers.Region",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("sell-through line")
        verbose_name_plural = _("sell-through lines")
        ordering = ["-sold_on", "-pk"]
        indexes = [
            # X6: the dashboard sums a partner set's lines of a period from this index
            # alone (amount, quantity and region included).
            models.Index(
                fields=["partner", "sold_on"],
                include=["amount", "quantity", "region"],
                name="sell_through_sums_idx",
            ),
            models.Index(fields=["partner", "product", "sold_on"]),
            models.Index(fields=["sold_on"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="sell_through_quantity_gt_0"
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="sell_through_amount_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sold_on} · {self.product} × {self.quantity}"


class SellThroughUpload(TimeStamped):
    """A sell-through file going through core's import machinery (one upload = one
    report): the partner, the reference typed in the upload form (a `report_id` column
    wins; neither: derived from the file's content) and, once imported, the report."""

    job = models.OneToOneField(
        "core.ImportJob",
        verbose_name=_("import job"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    partner = models.ForeignKey(
        "channels.Partner", on_delete=models.CASCADE, related_name="+"
    )
    reference = models.CharField(_("report id"), max_length=64, blank=True)
    report = models.ForeignKey(
        SellThroughReport,
        verbose_name=_("report"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    replayed = models.BooleanField(_("already submitted"), default=False)

    class Meta:
        verbose_name = _("sell-through upload")
        verbose_name_plural = _("sell-through uploads")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.partner} · {self.job_id}"
