"""S1 leads (线索): people and companies that might buy, before they are customers."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.core.models import BusinessRecord, TimeStamped
from crm.core.scopes import ScopedQuerySet
from crm.core.validators import validate_cn_phone


class Lead(BusinessRecord):
    class Source(models.TextChoices):
        CAMPAIGN = "campaign", _("Campaign")
        WEB_FORM = "web_form", _("Web form")
        IMPORT = "import", _("Import")
        PARTNER = "partner", _("Partner")
        REFERRAL = "referral", _("Referral")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        CONTACTED = "contacted", _("Contacted")
        QUALIFIED = "qualified", _("Qualified")
        CONVERTED = "converted", _("Converted")
        DISQUALIFIED = "disqualified", _("Disqualified")

    number = models.CharField(_("lead number"), max_length=32, unique=True)
    name = models.CharField(_("contact name"), max_length=100)
    company = models.CharField(_("company"), max_length=200, blank=True)
    job_title = models.CharField(_("job title"), max_length=100, blank=True)
    mobile = models.CharField(
        _("mobile"), max_length=32, blank=True, validators=[validate_cn_phone]
    )
    phone = models.CharField(
        _("phone"), max_length=32, blank=True, validators=[validate_cn_phone]
    )
    email = models.EmailField(_("email"), blank=True)
    region = models.ForeignKey(
        "customers.Region",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    address = models.CharField(_("address"), max_length=255, blank=True)
    industry = models.CharField(_("industry"), max_length=32, blank=True)
    source = models.CharField(
        _("source"), max_length=16, choices=Source.choices, default=Source.OTHER
    )
    source_detail = models.CharField(
        _("source detail"),
        max_length=200,
        blank=True,
        help_text=_("Campaign name, referring partner, web page…"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.NEW
    )
    requirement = models.TextField(_("requirement"), blank=True)
    disqualify_reason = models.CharField(
        _("disqualification reason"), max_length=255, blank=True
    )
    next_follow_up_on = models.DateField(_("next follow-up"), null=True, blank=True)
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    # Conversion (S1): the customer, contact and opportunity the lead became.
    converted_at = models.DateTimeField(
        _("converted at"), null=True, blank=True, editable=False
    )
    converted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("converted by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="leads",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="leads",
    )
    opportunity = models.ForeignKey(
        "sales.Opportunity",
        verbose_name=_("opportunity"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="leads",
    )
    # Web form submissions (spam checks keep the address they came from).
    submitted_ip = models.GenericIPAddressField(
        _("submitted from"), null=True, blank=True, editable=False
    )

    scope_domain = "sales"
    restrictable_fields = ("mobile", "phone", "email")

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        permissions = [("assign_lead", _("Assign leads to employees"))]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="lead_status_idx"),
            models.Index(fields=["mobile"], name="lead_mobile_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.company}".strip()

    @property
    def is_open(self) -> bool:
        return self.status not in (self.Status.CONVERTED, self.Status.DISQUALIFIED)


class LeadFollowUp(TimeStamped):
    """A follow-up with a lead (线索跟进), seen by whoever sees the lead."""

    lead = models.ForeignKey(
        Lead,
        verbose_name=_("lead"),
        on_delete=models.CASCADE,
        related_name="follow_ups",
    )
    kind = models.CharField(_("kind"), max_length=16, default="call")
    occurred_at = models.DateTimeField(_("time"), default=timezone.now)
    content = models.TextField(_("content"))
    next_follow_up_on = models.DateField(_("next follow-up"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    scope_domain = "sales"
    scope_owner_field = "lead__owner"
    scope_department_field = "lead__department"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("lead follow-up")
        verbose_name_plural = _("lead follow-ups")
        ordering = ["-occurred_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.lead} {self.occurred_at:%Y-%m-%d}"


class AssignmentRule(TimeStamped):
    """Round robin (轮流分配): new leads of a source go in turn to the active employees
    of a department; `last_assigned` remembers whose turn it was."""

    name = models.CharField(_("name"), max_length=100)
    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    source = models.CharField(
        _("lead source"),
        max_length=16,
        choices=Lead.Source.choices,
        blank=True,
        help_text=_("Empty: leads of every source."),
    )
    include_subdepartments = models.BooleanField(
        _("include sub-departments"), default=False
    )
    is_active = models.BooleanField(_("active"), default=True)
    priority = models.PositiveIntegerField(_("priority"), default=100)
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("last assigned to"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    class Meta:
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")
        ordering = ["priority", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["source"],
                condition=Q(is_active=True),
                name="assignment_rule_one_active_per_source",
                violation_error_message=_(
                    "Another active rule already assigns leads of this source."
                ),
            )
        ]

    def __str__(self) -> str:
        return self.name
