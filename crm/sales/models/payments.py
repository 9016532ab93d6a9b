"""S6 payment collection (收款): receipts against instalments."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.core.models import TimeStamped
from crm.core.scopes import ScopedQuerySet
from crm.sales.models.base import MONEY


class Payment(TimeStamped):
    """A receipt (收款单). Never deleted: a mistaken receipt is voided, which gives its
    amount back to the instalment. `idempotency_key` makes a resubmitted receipt (a
    double click, a client retry) land once."""

    class Method(models.TextChoices):
        BANK = "bank", _("Bank transfer")
        CASH = "cash", _("Cash")
        CHEQUE = "cheque", _("Cheque")
        ACCEPTANCE = "acceptance", _("Bank acceptance bill")
        ONLINE = "online", _("Online payment")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        POSTED = "posted", _("Posted")
        VOIDED = "voided", _("Voided")

    number = models.CharField(_("receipt number"), max_length=40, unique=True)
    instalment = models.ForeignKey(
        "sales.Instalment",
        verbose_name=_("instalment"),
        on_delete=models.PROTECT,
        related_name="payments",
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="payments",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    received_on = models.DateField(_("received on"), default=timezone.localdate)
    method = models.CharField(
        _("method"), max_length=16, choices=Method.choices, default=Method.BANK
    )
    reference = models.CharField(_("bank reference"), max_length=100, blank=True)
    status = models.CharField(
        _("status"),
        max_length=8,
        choices=Status.choices,
        default=Status.POSTED,
        editable=False,
    )
    idempotency_key = models.CharField(
        _("idempotency key"), max_length=64, blank=True, editable=False
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    notes = models.CharField(_("notes"), max_length=255, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("voided by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    voided_at = models.DateTimeField(
        _("voided at"), null=True, blank=True, editable=False
    )
    void_reason = models.CharField(
        _("void reason"), max_length=255, blank=True, editable=False
    )

    scope_domain = "sales"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        permissions = [("void_payment", _("Void payments"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="payment_amount_gt_0"
            ),
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="payment_idempotency_key_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["received_on"], name="payment_received_on_idx"),
            # X6: the sales analysis sums a department tree's payments of a period.
            models.Index(
                fields=["department", "received_on"],
                include=["status", "amount", "owner", "id"],
                name="payment_dept_period_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.number
