"""S3 quotes (报价): priced product lines for a customer, approval, revisions."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.core.models import BusinessRecord
from crm.core.scopes import ScopedQuerySet
from crm.sales.models.base import PricedDocument, PricedLine


class Quote(BusinessRecord, PricedDocument):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PENDING_APPROVAL = "pending_approval", _("Pending approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        SENT = "sent", _("Sent")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        SUPERSEDED = "superseded", _("Superseded by a revision")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(_("quote number"), max_length=40, unique=True)
    title = models.CharField(_("title"), max_length=200)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="quotes",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="quotes",
    )
    opportunity = models.ForeignKey(
        "sales.Opportunity",
        verbose_name=_("opportunity"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="quotes",
    )
    price_list = models.ForeignKey(
        "products.PriceList",
        verbose_name=_("price list"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=Status.choices,
        default=Status.DRAFT,
        editable=False,
    )
    quoted_on = models.DateField(_("quote date"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    terms = models.TextField(_("terms"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # Revisions (S3): a revision copies its predecessor, which becomes superseded.
    revision = models.PositiveIntegerField(_("revision"), default=1, editable=False)
    previous = models.OneToOneField(
        "self",
        verbose_name=_("previous revision"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="next_revision",
    )
    # Approval when a line's discount exceeds the threshold (S3).
    submitted_at = models.DateTimeField(
        _("submitted at"), null=True, blank=True, editable=False
    )
    # Who asked for the approval: they are notified of the decision, and may not decide
    # on their own request.
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved or rejected by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    decided_at = models.DateTimeField(
        _("decided at"), null=True, blank=True, editable=False
    )
    decision_note = models.CharField(
        _("decision note"), max_length=255, blank=True, editable=False
    )

    scope_domain = "sales"

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="quote_total_gte_0")
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_editable(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.REJECTED)


class QuoteLine(PricedLine):
    quote = models.ForeignKey(
        Quote, verbose_name=_("quote"), on_delete=models.CASCADE, related_name="lines"
    )

    scope_domain = "sales"
    scope_owner_field = "quote__owner"
    scope_department_field = "quote__department"

    objects = ScopedQuerySet.as_manager()

    class Meta(PricedLine.Meta):
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")

    def __str__(self) -> str:
        return f"{self.product} × {self.quantity}"
