"""S7 commissions (佣金): rules, periods computed from collected payments, statements."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.core.models import TimeStamped
from crm.core.scopes import ScopedQuerySet
from crm.sales.models.base import MONEY, PERCENT


class CommissionRule(TimeStamped):
    """A commission rate on collected amounts, for an employee, a role or a product
    category (any combination; empty means any). The most specific matching rule wins:
    employee before role before category alone."""

    name = models.CharField(_("name"), max_length=100)
    employee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("employee"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    role = models.ForeignKey(
        "org.Role",
        verbose_name=_("role"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    category = models.ForeignKey(
        "products.Category",
        verbose_name=_("product category"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    rate = models.DecimalField(
        _("rate %"),
        **PERCENT,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("commission rule")
        verbose_name_plural = _("commission rules")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rate__gte=0) & Q(rate__lte=100),
                name="commission_rule_rate_range",
            )
        ]

    def __str__(self) -> str:
        return self.name


class CommissionPeriod(TimeStamped):
    """A settlement period (usually a month). Closing it locks its lines."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    name = models.CharField(_("name"), max_length=50)
    start_on = models.DateField(_("start date"))
    end_on = models.DateField(_("end date"))
    status = models.CharField(
        _("status"),
        max_length=8,
        choices=Status.choices,
        default=Status.OPEN,
        editable=False,
    )
    computed_at = models.DateTimeField(
        _("computed at"), null=True, blank=True, editable=False
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    closed_at = models.DateTimeField(
        _("closed at"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("commission period")
        verbose_name_plural = _("commission periods")
        ordering = ["-start_on"]
        permissions = [("close_commissionperiod", _("Close commission periods"))]
        constraints = [
            models.UniqueConstraint(
                fields=["start_on", "end_on"], name="commission_period_unique"
            ),
            models.CheckConstraint(
                condition=Q(end_on__gte=models.F("start_on")),
                name="commission_period_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED


class CommissionLine(models.Model):
    """One employee's commission on (part of) one payment in a period."""

    period = models.ForeignKey(
        CommissionPeriod,
        verbose_name=_("period"),
        on_delete=models.CASCADE,
        related_name="lines",
    )
    employee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("employee"),
        on_delete=models.PROTECT,
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
    payment = models.ForeignKey(
        "sales.Payment",
        verbose_name=_("payment"),
        on_delete=models.PROTECT,
        related_name="commission_lines",
    )
    rule = models.ForeignKey(
        CommissionRule,
        verbose_name=_("rule"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    category = models.ForeignKey(
        "products.Category",
        verbose_name=_("product category"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    base_amount = models.DecimalField(_("collected amount"), **MONEY)
    rate = models.DecimalField(_("rate %"), **PERCENT)
    amount = models.DecimalField(_("commission"), **MONEY, default=Decimal("0"))

    scope_domain = "sales"
    scope_owner_field = "employee"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("commission line")
        verbose_name_plural = _("commission lines")
        ordering = ["employee", "pk"]
        indexes = [
            models.Index(fields=["period", "employee"], name="commission_line_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.employee} {self.amount}"
