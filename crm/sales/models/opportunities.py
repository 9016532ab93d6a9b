"""S2 opportunities (商机): deals in the pipeline, their stages, products and competitors."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.core.models import BusinessRecord, TimeStamped
from crm.core.scopes import ScopedQuerySet
from crm.sales.models.base import MONEY, QUANTITY


class Stage(models.Model):
    """A configurable pipeline stage with its win probability. Won and lost are stages
    too, so the board and the funnel read one table."""

    class Kind(models.TextChoices):
        OPEN = "open", pgettext_lazy("opportunity", "Open")
        WON = "won", _("Won")
        LOST = "lost", pgettext_lazy("opportunity", "Lost")

    name = models.CharField(_("name"), max_length=50, unique=True)
    probability = models.PositiveSmallIntegerField(
        _("probability %"), default=10, validators=[MaxValueValidator(100)]
    )
    kind = models.CharField(
        _("kind"), max_length=8, choices=Kind.choices, default=Kind.OPEN
    )
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("pipeline stage")
        verbose_name_plural = _("pipeline stages")
        ordering = ["sort_order", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(probability__lte=100), name="stage_probability_lte_100"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Competitor(TimeStamped):
    """A competing company (竞争对手), with what reps should know about it (S10)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    website = models.URLField(_("website"), blank=True)
    strengths = models.TextField(_("strengths"), blank=True)
    weaknesses = models.TextField(_("weaknesses"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("competitor")
        verbose_name_plural = _("competitors")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Opportunity(BusinessRecord):
    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("opportunity", "Open")
        WON = "won", _("Won")
        LOST = "lost", pgettext_lazy("opportunity", "Lost")

    number = models.CharField(_("opportunity number"), max_length=32, unique=True)
    name = models.CharField(_("opportunity name"), max_length=200)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="opportunities",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="opportunities",
    )
    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"),
        max_length=8,
        choices=Status.choices,
        default=Status.OPEN,
        editable=False,
    )
    amount = models.DecimalField(_("amount"), **MONEY, default=Decimal("0"))
    expected_close_on = models.DateField(_("expected close"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=16, blank=True)
    competitors = models.ManyToManyField(
        Competitor, verbose_name=_("competitors"), blank=True, related_name="+"
    )
    description = models.TextField(_("description"), blank=True)
    next_step = models.CharField(_("next step"), max_length=255, blank=True)
    closed_at = models.DateTimeField(
        _("closed at"), null=True, blank=True, editable=False
    )
    close_reason = models.CharField(
        _("win/loss reason"), max_length=255, blank=True, editable=False
    )
    lost_to = models.ForeignKey(
        Competitor,
        verbose_name=_("lost to"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    stage_changed_at = models.DateTimeField(
        _("stage changed at"), null=True, blank=True, editable=False
    )

    scope_domain = "sales"

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="opportunity_amount_gte_0"
            )
        ]
        indexes = [
            models.Index(fields=["status", "stage"], name="opportunity_status_idx"),
            models.Index(fields=["expected_close_on"], name="opportunity_close_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class OpportunityProduct(models.Model):
    """A product the customer is interested in, with the expected quantity and price."""

    opportunity = models.ForeignKey(
        Opportunity,
        verbose_name=_("opportunity"),
        on_delete=models.CASCADE,
        related_name="products",
    )
    product = models.ForeignKey(
        "products.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    quantity = models.DecimalField(_("quantity"), **QUANTITY, default=Decimal("1"))
    unit_price = models.DecimalField(_("unit price"), **MONEY, default=Decimal("0"))

    scope_domain = "sales"
    scope_owner_field = "opportunity__owner"
    scope_department_field = "opportunity__department"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("opportunity product")
        verbose_name_plural = _("opportunity products")
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.product} × {self.quantity}"


class StageChange(models.Model):
    """Each move of an opportunity between stages: the funnel and the stage durations."""

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="stage_changes"
    )
    from_stage = models.ForeignKey(
        Stage, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(_("changed at"), auto_now_add=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["changed_at", "pk"]

    def __str__(self) -> str:
        return f"{self.opportunity_id}: {self.from_stage_id} → {self.to_stage_id}"
