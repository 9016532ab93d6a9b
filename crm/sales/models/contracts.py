"""S4 contracts (合同): lines, payment plan (instalments), status, attachments."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.core.models import BusinessRecord, TimeStamped
from crm.core.scopes import ScopedQuerySet
from crm.sales.models.base import MONEY, PricedDocument, PricedLine


class Contract(BusinessRecord, PricedDocument):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PENDING_APPROVAL = "pending_approval", _("Pending approval")
        ACTIVE = "active", _("Active")
        COMPLETED = "completed", _("Completed")
        TERMINATED = "terminated", _("Terminated")

    number = models.CharField(_("contract number"), max_length=40, unique=True)
    title = models.CharField(_("title"), max_length=200)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="contracts",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("signatory"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contracts",
    )
    quote = models.ForeignKey(
        "sales.Quote",
        verbose_name=_("quote"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contracts",
    )
    opportunity = models.ForeignKey(
        "sales.Opportunity",
        verbose_name=_("opportunity"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contracts",
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=Status.choices,
        default=Status.DRAFT,
        editable=False,
    )
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    start_on = models.DateField(_("start date"), null=True, blank=True)
    end_on = models.DateField(_("end date"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    terms = models.TextField(_("terms"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    submitted_at = models.DateTimeField(
        _("submitted at"), null=True, blank=True, editable=False
    )
    # Who asked for the approval: an approver may not decide on their own request.
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    # Why the last approval request was rejected (shown on the draft until resubmitted).
    decision_note = models.CharField(
        _("decision note"), max_length=255, blank=True, editable=False
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    approved_at = models.DateTimeField(
        _("approved at"), null=True, blank=True, editable=False
    )
    ended_at = models.DateTimeField(
        _("completed or terminated at"), null=True, blank=True, editable=False
    )
    termination_reason = models.CharField(
        _("termination reason"), max_length=255, blank=True, editable=False
    )

    scope_domain = "sales"

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        permissions = [("approve_contract", _("Approve contracts"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(total__gte=0), name="contract_total_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(end_on__isnull=True)
                | Q(start_on__isnull=True)
                | Q(end_on__gte=models.F("start_on")),
                name="contract_end_after_start",
                violation_error_message=_("The end date is before the start date."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT


class ContractLine(PricedLine):
    contract = models.ForeignKey(
        Contract,
        verbose_name=_("contract"),
        on_delete=models.CASCADE,
        related_name="lines",
    )

    scope_domain = "sales"
    scope_owner_field = "contract__owner"
    scope_department_field = "contract__department"

    objects = ScopedQuerySet.as_manager()

    class Meta(PricedLine.Meta):
        verbose_name = _("contract line")
        verbose_name_plural = _("contract lines")

    def __str__(self) -> str:
        return f"{self.product} × {self.quantity}"


class Instalment(TimeStamped):
    """One due amount of a payment plan (回款计划): of a contract, or of a direct order.
    It is a receivable (应收账款) until `received` reaches `amount`; `received` is kept by
    the payment services under a row lock. Customer, owner and department are copied from
    the document so receivables and aging are one indexed query in the sales scope."""

    contract = models.ForeignKey(
        Contract,
        verbose_name=_("contract"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="instalments",
    )
    order = models.ForeignKey(
        "sales.SalesOrder",
        verbose_name=_("sales order"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="instalments",
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="instalments",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
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
    sequence = models.PositiveSmallIntegerField(_("instalment no."), default=1)
    due_on = models.DateField(_("due date"))
    amount = models.DecimalField(_("amount due"), **MONEY)
    received = models.DecimalField(
        _("received"), **MONEY, default=Decimal("0"), editable=False
    )
    # False until the document is active/confirmed: only then is it a receivable.
    is_open = models.BooleanField(_("receivable"), default=False, editable=False)
    note = models.CharField(_("note"), max_length=255, blank=True)

    scope_domain = "sales"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("instalment")
        verbose_name_plural = _("instalments")
        ordering = ["due_on", "sequence", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="instalment_amount_gt_0"
            ),
            models.CheckConstraint(
                condition=Q(received__gte=0) & Q(received__lte=models.F("amount")),
                name="instalment_received_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(contract__isnull=False, order__isnull=True)
                | Q(contract__isnull=True, order__isnull=False),
                name="instalment_one_document",
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_on"],
                condition=Q(is_open=True),
                name="instalment_open_due_idx",
            ),
            models.Index(
                fields=["customer", "is_open"], name="instalment_customer_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document_number} #{self.sequence}"

    @property
    def document_number(self) -> str:
        document = self.contract if self.contract_id else self.order
        return document.number if document is not None else ""

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.received


class ContractAttachment(TimeStamped):
    """A file of a contract (scan, annex), stored through Django's storage API."""

    contract = models.ForeignKey(
        Contract,
        verbose_name=_("contract"),
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    file = models.FileField(_("file"), upload_to="contracts/%Y/%m/")
    name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    scope_domain = "sales"
    scope_owner_field = "contract__owner"
    scope_department_field = "contract__department"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("contract attachment")
        verbose_name_plural = _("contract attachments")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name
