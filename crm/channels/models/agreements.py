"""D2 cooperation agreements (合作协议): term, territory, product scope, discount,
targets, rebate tiers and reward/penalty terms (奖惩制度)."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.channels.models.base import MONEY, PERCENT
from crm.core.models import BusinessRecord
from crm.core.scopes import ScopedQuerySet


class Agreement(BusinessRecord):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("In force")
        EXPIRED = "expired", _("Expired")
        RENEWED = "renewed", _("Renewed")
        TERMINATED = "terminated", _("Terminated")

    number = models.CharField(_("agreement number"), max_length=40, unique=True)
    partner = models.ForeignKey(
        "channels.Partner",
        verbose_name=_("partner"),
        on_delete=models.PROTECT,
        related_name="agreements",
    )
    title = models.CharField(_("title"), max_length=100)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=Status.choices,
        default=Status.DRAFT,
        editable=False,
    )
    starts_on = models.DateField(_("valid from"))
    ends_on = models.DateField(_("valid until"))
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    territory = models.ManyToManyField(
        "customers.Region", verbose_name=_("territory"), blank=True, related_name="+"
    )
    categories = models.ManyToManyField(
        "products.Category",
        verbose_name=_("product scope"),
        blank=True,
        related_name="+",
        help_text=_("Product categories the partner may sell; none means all."),
    )
    price_list = models.ForeignKey(
        "products.PriceList",
        verbose_name=_("price list"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    discount_percent = models.DecimalField(
        _("discount off the price list %"),
        **PERCENT,
        default=Decimal("0"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    annual_target = models.DecimalField(
        _("annual sales target"), **MONEY, default=Decimal("0")
    )
    terms = models.TextField(_("reward and penalty terms"), blank=True)
    previous = models.OneToOneField(
        "self",
        verbose_name=_("renews"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="renewal",
        editable=False,
    )
    termination_reason = models.CharField(
        _("reason for termination"), max_length=255, blank=True, editable=False
    )
    expiry_notified_on = models.DateField(
        _("expiry warning sent"), null=True, blank=True, editable=False
    )

    scope_domain = "channels"
    scope_owner_field = "partner__owner"
    scope_department_field = "partner__department"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("cooperation agreement")
        verbose_name_plural = _("cooperation agreements")
        ordering = ["-starts_on", "-pk"]
        indexes = [models.Index(fields=["partner", "status", "ends_on"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")),
                name="agreement_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class AgreementTerm(models.Model):
    """A rebate tier or a penalty of an agreement, by achievement of the period's target.

    Rebate: achievement ≥ threshold earns `percent` of the period's received sell-in
    (the highest tier reached applies). Penalty: achievement < threshold costs `amount`
    (the lowest threshold breached applies, i.e. the largest fine)."""

    class Kind(models.TextChoices):
        REBATE = "rebate", _("Rebate")
        PENALTY = "penalty", _("Penalty")

    agreement = models.ForeignKey(
        Agreement,
        verbose_name=_("agreement"),
        on_delete=models.CASCADE,
        related_name="rules",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    threshold_percent = models.DecimalField(
        _("achievement threshold %"), **PERCENT, validators=[MinValueValidator(0)]
    )
    percent = models.DecimalField(
        _("rebate on sell-in %"),
        **PERCENT,
        default=Decimal("0"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    amount = models.DecimalField(_("fine"), **MONEY, default=Decimal("0"))
    description = models.CharField(_("description"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("reward or penalty rule")
        verbose_name_plural = _("reward and penalty rules")
        ordering = ["agreement", "kind", "threshold_percent"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "kind", "threshold_percent"],
                name="agreement_term_unique_threshold",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.threshold_percent}%"
