"""S8 sales plans (销售计划): targets per employee or department and period."""

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.core.models import Owned, TimeStamped
from crm.sales.models.base import MONEY


class SalesTarget(TimeStamped, Owned):
    """A target for one period. An employee's target has `owner` set (and their
    department); a department's own target has no owner. Department achievement rolls
    up the department tree."""

    class PeriodType(models.TextChoices):
        MONTH = "month", _("Month")
        QUARTER = "quarter", _("Quarter")
        YEAR = "year", _("Year")

    period_type = models.CharField(
        _("period type"), max_length=8, choices=PeriodType.choices
    )
    year = models.PositiveSmallIntegerField(_("year"))
    period = models.PositiveSmallIntegerField(
        _("period"), default=1, help_text=_("Month 1–12, quarter 1–4, 1 for a year.")
    )
    order_target = models.DecimalField(_("order target"), **MONEY, default=Decimal("0"))
    collection_target = models.DecimalField(
        _("collection target"), **MONEY, default=Decimal("0")
    )
    notes = models.CharField(_("notes"), max_length=255, blank=True)

    scope_domain = "sales"

    class Meta:
        verbose_name = _("sales target")
        verbose_name_plural = _("sales targets")
        ordering = ["-year", "period_type", "period"]
        constraints = [
            models.UniqueConstraint(
                fields=["period_type", "year", "period", "owner"],
                condition=Q(owner__isnull=False),
                name="sales_target_employee_unique",
                violation_error_message=_(
                    "This employee already has a target for this period."
                ),
            ),
            models.UniqueConstraint(
                fields=["period_type", "year", "period", "department"],
                condition=Q(owner__isnull=True),
                name="sales_target_department_unique",
                violation_error_message=_(
                    "This department already has a target for this period."
                ),
            ),
            models.CheckConstraint(
                condition=Q(owner__isnull=False) | Q(department__isnull=False),
                name="sales_target_has_subject",
            ),
            models.CheckConstraint(
                condition=Q(period_type="month", period__gte=1, period__lte=12)
                | Q(period_type="quarter", period__gte=1, period__lte=4)
                | Q(period_type="year", period=1),
                name="sales_target_period_in_range",
                violation_error_message=_(
                    "The period must be a month 1–12, a quarter 1–4, or 1 for a year."
                ),
            ),
            models.CheckConstraint(
                condition=Q(order_target__gte=0) & Q(collection_target__gte=0),
                name="sales_target_amounts_gte_0",
            ),
        ]

    def __str__(self) -> str:
        subject = self.owner or self.department
        return f"{subject} {self.year} {self.get_period_type_display()} {self.period}"

    @property
    def is_department_target(self) -> bool:
        return self.owner_id is None
