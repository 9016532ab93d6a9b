"""D1 channel partners (渠道商), their territories, their portal users and API keys."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.channels.models.base import MONEY
from crm.core.models import BusinessRecord, TimeStamped, TreeNode
from crm.core.scopes import ScopedQuerySet


class Tier(models.Model):
    """A partner level (一级经销商, 二级经销商, 核心代理…); rank 1 is the highest."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    rank = models.PositiveSmallIntegerField(_("rank"), default=1)
    description = models.CharField(_("description"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("partner tier")
        verbose_name_plural = _("partner tiers")
        ordering = ["rank", "name"]

    def __str__(self) -> str:
        return self.name


class Partner(TreeNode, BusinessRecord):
    """A dealer (经销商) or agent (代理商). `owner` is the channel manager, an HQ employee;
    `parent` the partner it buys from (multi-tier distribution)."""

    class Kind(models.TextChoices):
        DEALER = "dealer", _("Dealer")
        AGENT = "agent", _("Agent")

    class Status(models.TextChoices):
        PROSPECT = "prospect", _("Prospect")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        TERMINATED = "terminated", _("Terminated")

    number = models.CharField(_("partner number"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    short_name = models.CharField(_("short name"), max_length=50, blank=True)
    kind = models.CharField(
        _("kind"), max_length=16, choices=Kind.choices, default=Kind.DEALER
    )
    tier = models.ForeignKey(
        Tier,
        verbose_name=_("tier"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="partners",
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    region = models.ForeignKey(
        "customers.Region",
        verbose_name=_("location"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Where the partner is based."),
    )
    regions_served = models.ManyToManyField(
        "customers.Region",
        verbose_name=_("regions served"),
        blank=True,
        related_name="+",
    )
    credit_limit = models.DecimalField(
        _("credit limit"),
        **MONEY,
        default=Decimal("0"),
        help_text=_("0 means no limit set."),
    )
    contact_name = models.CharField(_("contact person"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("email"), blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    tax_number = models.CharField(_("tax number"), max_length=32, blank=True)
    joined_on = models.DateField(_("joined on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    scope_domain = "channels"
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("channel partner")
        verbose_name_plural = _("channel partners")
        ordering = ["number"]
        indexes = [models.Index(fields=["owner", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(credit_limit__gte=0), name="partner_credit_limit_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Territory(TimeStamped):
    """A region a partner covers for a period; an exclusive one may not overlap another
    partner's exclusive territory (same region, a region inside or around it) in time."""

    partner = models.ForeignKey(
        Partner,
        verbose_name=_("partner"),
        on_delete=models.CASCADE,
        related_name="territories",
    )
    region = models.ForeignKey(
        "customers.Region",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    exclusive = models.BooleanField(_("exclusive"), default=True)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("territory")
        verbose_name_plural = _("territories")
        ordering = ["partner", "region"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True)
                | Q(ends_on__gte=models.F("starts_on")),
                name="territory_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner} · {self.region}"


class PartnerUser(TimeStamped):
    """D3: a portal login belongs to exactly one partner; its data scope is that partner.
    A partner admin manages the partner's own users."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="partner_membership",
    )
    partner = models.ForeignKey(
        Partner,
        verbose_name=_("partner"),
        on_delete=models.CASCADE,
        related_name="members",
    )
    is_admin = models.BooleanField(_("partner administrator"), default=False)

    class Meta:
        verbose_name = _("partner user")
        verbose_name_plural = _("partner users")
        permissions = [
            ("manage_partnerusers", _("Can manage any partner's portal users")),
        ]
        ordering = ["partner", "user__username"]

    def __str__(self) -> str:
        return f"{self.partner} · {self.user}"


class ApiKey(TimeStamped):
    """D5: a per-partner key for the sell-through API. Only a hash is stored; the key is
    shown once when created. A revoked key is refused."""

    partner = models.ForeignKey(
        Partner,
        verbose_name=_("partner"),
        on_delete=models.CASCADE,
        related_name="api_keys",
    )
    name = models.CharField(_("name"), max_length=50)
    prefix = models.CharField(_("key prefix"), max_length=12, unique=True)
    hashed_key = models.CharField(_("hashed key"), max_length=128, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
