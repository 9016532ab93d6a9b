"""D9 marketing and promotion plans (营销推广计划): HQ's promotion calendar, partner plans
inside it, co-marketing fund requests against a budget, execution reports."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.channels.models.base import MONEY
from crm.core.models import BusinessRecord, TimeStamped
from crm.core.scopes import ScopedQuerySet


class Promotion(BusinessRecord):
    """An HQ promotion. Published to the partners of the chosen tiers and regions (none
    chosen: every partner); its categories are the products it covers (none: all)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        CANCELLED = "cancelled", _("Cancelled")

    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=Status.choices,
        default=Status.DRAFT,
        editable=False,
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    categories = models.ManyToManyField(
        "products.Category", verbose_name=_("products"), blank=True, related_name="+"
    )
    regions = models.ManyToManyField(
        "customers.Region", verbose_name=_("regions"), blank=True, related_name="+"
    )
    tiers = models.ManyToManyField(
        "channels.Tier", verbose_name=_("partner tiers"), blank=True, related_name="+"
    )
    fund_budget = models.DecimalField(
        _("co-marketing fund budget"), **MONEY, default=Decimal("0")
    )
    published_at = models.DateTimeField(
        _("published at"), null=True, blank=True, editable=False
    )

    scope_domain = "channels"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("promotion")
        verbose_name_plural = _("promotions")
        permissions = [
            ("publish_promotion", _("Can publish promotions")),
        ]
        ordering = ["-starts_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")),
                name="promotion_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(fund_budget__gte=0), name="promotion_budget_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PartnerPlan(TimeStamped):
    """A partner's marketing plan under an HQ promotion: inside its dates and scope."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        DONE = "done", _("Executed")

    partner = models.ForeignKey(
        "channels.Partner",
        verbose_name=_("partner"),
        on_delete=models.PROTECT,
        related_name="plans",
    )
    promotion = models.ForeignKey(
        Promotion,
        verbose_name=_("promotion"),
        on_delete=models.PROTECT,
        related_name="plans",
    )
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    regions = models.ManyToManyField(
        "customers.Region", verbose_name=_("regions"), blank=True, related_name="+"
    )
    categories = models.ManyToManyField(
        "products.Category", verbose_name=_("products"), blank=True, related_name="+"
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=Status.choices,
        default=Status.DRAFT,
        editable=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        verbose_name = _("partner marketing plan")
        verbose_name_plural = _("partner marketing plans")
        ordering = ["-starts_on", "-pk"]

    def __str__(self) -> str:
        return self.title


class FundRequest(TimeStamped):
    """A co-marketing fund request (市场费用申请) under a plan; approved amounts of a
    promotion never exceed its budget."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    plan = models.ForeignKey(
        PartnerPlan,
        verbose_name=_("plan"),
        on_delete=models.PROTECT,
        related_name="fund_requests",
    )
    amount = models.DecimalField(_("amount requested"), **MONEY)
    approved_amount = models.DecimalField(
        _("amount approved"), **MONEY, default=Decimal("0"), editable=False
    )
    purpose = models.CharField(_("purpose"), max_length=255)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=Status.choices,
        default=Status.PENDING,
        editable=False,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
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

    class Meta:
        verbose_name = _("co-marketing fund request")
        verbose_name_plural = _("co-marketing fund requests")
        permissions = [
            ("approve_fundrequest", _("Can approve co-marketing fund requests")),
        ]
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="fund_request_amount_gt_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan} · {self.amount}"


class ExecutionReport(TimeStamped):
    """What a plan achieved (执行报告)."""

    plan = models.ForeignKey(
        PartnerPlan,
        verbose_name=_("plan"),
        on_delete=models.CASCADE,
        related_name="executions",
    )
    reported_on = models.DateField(_("report date"))
    spent = models.DecimalField(_("spent"), **MONEY, default=Decimal("0"))
    leads = models.PositiveIntegerField(_("leads won"), default=0)
    sales_amount = models.DecimalField(
        _("sales generated"), **MONEY, default=Decimal("0")
    )
    summary = models.TextField(_("results"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("execution report")
        verbose_name_plural = _("execution reports")
        ordering = ["-reported_on", "-pk"]
