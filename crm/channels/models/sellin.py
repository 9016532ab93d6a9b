"""D4 sell-in (进货): a partner's purchase orders to HQ, approval, and goods received."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.channels.models.base import MONEY, QUANTITY
from crm.core.models import BusinessRecord, TimeStamped
from crm.core.scopes import ScopedQuerySet


class PurchaseOrder(BusinessRecord):
    """Owner/department: the partner's channel manager, copied at creation for scopes."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Awaiting approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        RECEIVED = "received", _("Received")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(_("purchase order number"), max_length=40, unique=True)
    partner = models.ForeignKey(
        "channels.Partner",
        verbose_name=_("partner"),
        on_delete=models.PROTECT,
        related_name="purchase_orders",
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=Status.choices,
        default=Status.DRAFT,
        editable=False,
    )
    ordered_on = models.DateField(_("order date"))
    wanted_on = models.DateField(_("wanted by"), null=True, blank=True)
    shipping_address = models.CharField(
        _("shipping address"), max_length=255, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)
    total = models.DecimalField(
        _("total"), **MONEY, default=Decimal("0"), editable=False
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    decided_at = models.DateTimeField(
        _("decided at"), null=True, blank=True, editable=False
    )
    decision_note = models.CharField(_("decision note"), max_length=255, blank=True)

    scope_domain = "channels"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("purchase order")
        verbose_name_plural = _("purchase orders")
        permissions = [
            ("approve_purchaseorder", _("Can approve partner purchase orders")),
            (
                "override_credit_purchaseorder",
                _("Can approve a purchase order over the credit limit"),
            ),
        ]
        ordering = ["-ordered_on", "-pk"]
        indexes = [models.Index(fields=["partner", "status"])]

    def __str__(self) -> str:
        return self.number


class PurchaseOrderLine(models.Model):
    order = models.ForeignKey(
        PurchaseOrder,
        verbose_name=_("purchase order"),
        on_delete=models.CASCADE,
        related_name="lines",
    )
    product = models.ForeignKey(
        "products.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    amount = models.DecimalField(
        _("amount"), **MONEY, default=Decimal("0"), editable=False
    )
    received_quantity = models.DecimalField(
        _("received"), **QUANTITY, default=Decimal("0"), editable=False
    )

    class Meta:
        verbose_name = _("purchase order line")
        verbose_name_plural = _("purchase order lines")
        ordering = ["order", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="po_line_quantity_gt_0"
            ),
            models.CheckConstraint(
                condition=Q(received_quantity__gte=0)
                & Q(received_quantity__lte=models.F("quantity")),
                name="po_line_received_within_quantity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order} · {self.product}"


class Receipt(TimeStamped):
    """Goods of an approved purchase order received by the partner on a day; the
    received quantities are the sell-in that feeds the partner's inventory (D6)."""

    order = models.ForeignKey(
        PurchaseOrder,
        verbose_name=_("purchase order"),
        on_delete=models.PROTECT,
        related_name="receipts",
    )
    partner = models.ForeignKey(
        "channels.Partner",
        verbose_name=_("partner"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    received_on = models.DateField(_("received on"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("goods receipt")
        verbose_name_plural = _("goods receipts")
        ordering = ["-received_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.order} · {self.received_on}"


class ReceiptLine(models.Model):
    """Denormalised partner/product/date so inventory sums are one indexed query."""

    receipt = models.ForeignKey(
        Receipt,
        verbose_name=_("goods receipt"),
        on_delete=models.CASCADE,
        related_name="lines",
    )
    order_line = models.ForeignKey(
        PurchaseOrderLine,
        verbose_name=_("purchase order line"),
        on_delete=models.PROTECT,
        related_name="receipt_lines",
    )
    partner = models.ForeignKey(
        "channels.Partner", on_delete=models.PROTECT, related_name="+"
    )
    product = models.ForeignKey(
        "products.Product", on_delete=models.PROTECT, related_name="+"
    )
    received_on = models.DateField(_("received on"))
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    amount = models.DecimalField(_("amount"), **MONEY, default=Decimal("0"))

    class Meta:
        verbose_name = _("goods receipt line")
        verbose_name_plural = _("goods receipt lines")
        indexes = [models.Index(fields=["partner", "product", "received_on"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="receipt_line_quantity_gt_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} × {self.quantity}"
