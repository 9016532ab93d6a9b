"""D7 targets and service levels (目标与服务水平), D8 performance evaluation (绩效考核)."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.channels.models.base import MONEY, PERCENT, QUANTITY
from crm.core.models import BusinessRecord, TimeStamped
from crm.core.scopes import ScopedQuerySet


class PeriodKind(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    YEAR = "year", _("Year")


class PartnerTarget(BusinessRecord):
    """A partner's targets for a month, quarter or year (starts_on is its first day)."""

    partner = models.ForeignKey(
        "channels.Partner",
        verbose_name=_("partner"),
        on_delete=models.CASCADE,
        related_name="targets",
    )
    period_kind = models.CharField(
        _("period"), max_length=8, choices=PeriodKind.choices
    )
    starts_on = models.DateField(_("period start"))
    ends_on = models.DateField(_("period end"))
    sales_amount = models.DecimalField(
        _("sell-through target"), **MONEY, default=Decimal("0")
    )
    new_customers = models.PositiveIntegerField(_("new end customers"), default=0)
    service_level = models.DecimalField(
        _("service level target %"), **PERCENT, default=Decimal("0")
    )
    service_level_actual = models.DecimalField(
        _("service level achieved %"),
        **PERCENT,
        null=True,
        blank=True,
        help_text=_("Entered by the channel manager (after-sales surveys, SLA)."),
    )

    scope_domain = "channels"
    scope_owner_field = "partner__owner"
    scope_department_field = "partner__department"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("partner target")
        verbose_name_plural = _("partner targets")
        ordering = ["-starts_on", "partner"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "period_kind", "starts_on"],
                name="partner_target_one_per_period",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")),
                name="partner_target_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner} · {self.starts_on:%Y-%m}"


class PartnerTargetLine(models.Model):
    """A quantity target for a product line (category, its sub-categories included)."""

    target = models.ForeignKey(
        PartnerTarget,
        verbose_name=_("target"),
        on_delete=models.CASCADE,
        related_name="lines",
    )
    category = models.ForeignKey(
        "products.Category",
        verbose_name=_("product line"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    quantity = models.DecimalField(_("quantity"), **QUANTITY)

    class Meta:
        verbose_name = _("product line target")
        verbose_name_plural = _("product line targets")
        constraints = [
            models.UniqueConstraint(
                fields=["target", "category"], name="partner_target_line_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category} · {self.quantity}"


class Kpi(models.Model):
    """A KPI of the scorecard. `measure` names a registered computation (crm.channels.
    scoring); `weight`s of the active KPIs are normalised to 100."""

    class Measure(models.TextChoices):
        TARGET_ACHIEVEMENT = "target_achievement", _("Target achievement")
        GROWTH = "growth", _("Growth on the previous period")
        INVENTORY_HEALTH = "inventory_health", _("Inventory health")
        REPORTING_TIMELINESS = "reporting_timeliness", _("Reporting timeliness")
        SERVICE_LEVEL = "service_level", _("Service level")
        NEW_CUSTOMERS = "new_customers", _("New end customers")
        PRODUCT_LINES = "product_lines", _("Product line targets")

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=50)
    measure = models.CharField(_("measure"), max_length=32, choices=Measure.choices)
    weight = models.DecimalField(
        _("weight"), **PERCENT, validators=[MinValueValidator(0)]
    )
    active = models.BooleanField(_("active"), default=True)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    description = models.CharField(_("description"), max_length=255, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("KPI")
        verbose_name_plural = _("KPIs")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


class ScorePeriod(TimeStamped):
    """A scoring period; closing it locks its scores and outcomes."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    name = models.CharField(_("name"), max_length=50)
    kind = models.CharField(_("period"), max_length=8, choices=PeriodKind.choices)
    starts_on = models.DateField(_("period start"))
    ends_on = models.DateField(_("period end"))
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
    closed_at = models.DateTimeField(
        _("closed at"), null=True, blank=True, editable=False
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    class Meta:
        verbose_name = _("score period")
        verbose_name_plural = _("score periods")
        permissions = [
            ("close_scoreperiod", _("Can close score periods")),
        ]
        ordering = ["-starts_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "starts_on"], name="score_period_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PartnerScore(models.Model):
    """A partner's score in a period: total, rank, the per-KPI breakdown that explains
    each number, and the reward/penalty outcome from its agreement."""

    period = models.ForeignKey(
        ScorePeriod,
        verbose_name=_("period"),
        on_delete=models.CASCADE,
        related_name="scores",
    )
    partner = models.ForeignKey(
        "channels.Partner",
        verbose_name=_("partner"),
        on_delete=models.PROTECT,
        related_name="scores",
    )
    total = models.DecimalField(_("score"), max_digits=7, decimal_places=2)
    rank = models.PositiveIntegerField(_("rank"), null=True, blank=True)
    breakdown = models.JSONField(_("breakdown"), default=list)
    sell_in_amount = models.DecimalField(_("sell-in"), **MONEY, default=Decimal("0"))
    sell_through_amount = models.DecimalField(
        _("sell-through"), **MONEY, default=Decimal("0")
    )
    achievement_percent = models.DecimalField(
        _("achievement %"), **PERCENT, null=True, blank=True
    )
    rebate_amount = models.DecimalField(_("rebate"), **MONEY, default=Decimal("0"))
    penalty_amount = models.DecimalField(_("penalty"), **MONEY, default=Decimal("0"))
    outcome = models.CharField(_("outcome"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("partner score")
        verbose_name_plural = _("partner scores")
        ordering = ["period", "rank", "partner"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "partner"], name="partner_score_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period} · {self.partner}: {self.total}"
