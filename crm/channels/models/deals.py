"""D10 deal registration (报备) and channel conflicts."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.channels.models.base import MONEY
from crm.core.models import TimeStamped


class DealRegistration(TimeStamped):
    """A partner registers an end customer or a deal. A registration of a customer
    already registered by another partner, or inside another partner's exclusive
    territory, is a conflict the channel manager decides."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting review")
        CONFLICT = "conflict", _("In conflict")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        EXPIRED = "expired", _("Expired")

    number = models.CharField(_("registration number"), max_length=40, unique=True)
    partner = models.ForeignKey(
        "channels.Partner",
        verbose_name=_("partner"),
        on_delete=models.PROTECT,
        related_name="deal_registrations",
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("end customer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    customer_name = models.CharField(_("end customer name"), max_length=100)
    # The customers app's comparison key of the name (crm.customers.naming.name_key):
    # 北京华为技术有限公司 and 华为技术有限公司 are the same end customer.
    customer_key = models.CharField(
        _("name key"), max_length=200, blank=True, db_index=True, editable=False
    )
    region = models.ForeignKey(
        "customers.Region",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    project = models.CharField(_("project"), max_length=100, blank=True)
    expected_amount = models.DecimalField(
        _("expected amount"), **MONEY, default=Decimal("0")
    )
    expected_close_on = models.DateField(_("expected close"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=Status.choices,
        default=Status.PENDING,
        editable=False,
    )
    conflict_reason = models.CharField(
        _("conflict"), max_length=255, blank=True, editable=False
    )
    conflicts_with = models.ManyToManyField(
        "self", verbose_name=_("conflicts with"), blank=True, symmetrical=False
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        related_name="+",
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
    valid_until = models.DateField(_("protected until"), null=True, blank=True)

    class Meta:
        verbose_name = _("deal registration")
        verbose_name_plural = _("deal registrations")
        permissions = [
            (
                "decide_dealregistration",
                _("Can decide deal registrations and conflicts"),
            ),
        ]
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["customer", "status"])]

    def __str__(self) -> str:
        return f"{self.number} {self.customer_name}"
