"""C1 customers, C2 contacts, and China's administrative divisions they are located in."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.core.models import BusinessRecord, TimeStamped, TreeNode, Versioned
from crm.core.scopes import ScopedQuerySet
from crm.core.validators import validate_cn_phone, validate_uscc

MONEY = {"max_digits": 20, "decimal_places": 6}
validate_postcode = RegexValidator(
    r"^\d{6}$", _("A postcode has 6 digits."), code="postcode"
)


class Region(TreeNode):
    """A province, city or district (GB/T 2260), loaded from a packaged data set.

    The primary key is the six-digit code, so paths (/440000/440300/440305/) read as codes.
    Municipalities (北京, 上海, 天津, 重庆) and the SARs have one city level named like
    the province (code xx0100), so every district sits under a province and a city.
    """

    class Level(models.IntegerChoices):
        PROVINCE = 1, _("Province")
        CITY = 2, _("City")
        DISTRICT = 3, _("District")

    code = models.CharField(_("code"), max_length=6, unique=True)
    name = models.CharField(_("name"), max_length=50)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        """广东省 深圳市 南山区; a municipality's city level is not repeated (北京市 朝阳区)."""
        names: list[str] = []
        node = self
        while node is not None:
            if not names or names[-1] != node.name:
                names.append(node.name)
            node = node.parent if node.parent_id else None
        return " ".join(reversed(names))


class Customer(BusinessRecord):
    """C1: a company (or person) the company sells to, with its hierarchy (上级单位)."""

    class Industry(models.TextChoices):
        AGRICULTURE = "agriculture", _("Agriculture, forestry and fishing")
        MINING = "mining", _("Mining")
        MANUFACTURING = "manufacturing", _("Manufacturing")
        UTILITIES = "utilities", _("Electricity, heat, gas and water")
        CONSTRUCTION = "construction", _("Construction")
        TRADE = "trade", _("Wholesale and retail")
        LOGISTICS = "logistics", _("Transport, storage and post")
        HOSPITALITY = "hospitality", _("Hotels and catering")
        IT = "it", _("Information technology and software")
        FINANCE = "finance", _("Finance")
        REAL_ESTATE = "real_estate", _("Real estate")
        BUSINESS_SERVICES = "business_services", _("Leasing and business services")
        RESEARCH = "research", _("Research and technical services")
        ENVIRONMENT = "environment", _("Water, environment and public facilities")
        RESIDENT_SERVICES = "resident_services", _("Resident and repair services")
        EDUCATION = "education", _("Education")
        HEALTH = "health", _("Health and social work")
        CULTURE = "culture", _("Culture, sports and entertainment")
        PUBLIC = "public", _("Public administration")
        OTHER = "other", _("Other")

    class Level(models.TextChoices):
        KEY = "a", _("A · key account")
        IMPORTANT = "b", _("B · important")
        NORMAL = "c", _("C · normal")
        MINOR = "d", _("D · minor")

    class Type(models.TextChoices):
        END_USER = "end_user", _("End customer")
        DEALER = "dealer", _("Dealer")
        AGENT = "agent", _("Agent")
        PARTNER = "partner", _("Partner")
        GOVERNMENT = "government", _("Government or institution")
        INDIVIDUAL = "individual", _("Individual")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        PROSPECT = "prospect", _("Prospect")
        INTENTION = "intention", _("Interested")
        ACTIVE = "active", _("Customer")
        DORMANT = "dormant", _("Dormant")
        LOST = "lost", _("Lost")

    class CreditRating(models.TextChoices):
        AAA = "AAA", "AAA"
        AA = "AA", "AA"
        A = "A", "A"
        BBB = "BBB", "BBB"
        BB = "BB", "BB"
        B = "B", "B"
        C = "C", "C"

    number = models.CharField(_("customer number"), max_length=32, unique=True)
    mnemonic = models.CharField(
        _("mnemonic code"),
        max_length=64,
        blank=True,
        help_text=_("Pinyin initials of the name; generated when left empty."),
    )
    name = models.CharField(_("customer name"), max_length=200)
    # Derived from the name by the services: pinyin initials (search by `bjhw`) and the
    # name without legal form and place (duplicate detection).
    name_initials = models.CharField(
        _("name initials"), max_length=64, blank=True, editable=False
    )
    name_key = models.CharField(
        _("name key"), max_length=200, blank=True, editable=False, db_index=True
    )
    credit_code = models.CharField(
        _("unified social credit code"),
        max_length=18,
        blank=True,
        validators=[validate_uscc],
    )
    address = models.CharField(_("office address"), max_length=255, blank=True)
    main_phone = models.CharField(
        _("main phone"), max_length=32, blank=True, validators=[validate_cn_phone]
    )
    postcode = models.CharField(
        _("postcode"), max_length=6, blank=True, validators=[validate_postcode]
    )
    email = models.EmailField(_("email"), blank=True)
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="customers",
    )
    industry = models.CharField(
        _("industry"), max_length=32, choices=Industry.choices, blank=True
    )
    level = models.CharField(
        _("level"), max_length=8, choices=Level.choices, default=Level.NORMAL
    )
    type = models.CharField(
        _("type"), max_length=16, choices=Type.choices, default=Type.END_USER
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PROSPECT
    )
    credit_rating = models.CharField(
        _("credit rating"), max_length=8, choices=CreditRating.choices, blank=True
    )
    credit_limit = models.DecimalField(_("credit limit"), **MONEY, default=Decimal("0"))
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent company"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    finance_phone = models.CharField(
        _("finance phone"), max_length=32, blank=True, validators=[validate_cn_phone]
    )
    homepage = models.URLField(_("homepage"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    registered_at = models.DateTimeField(_("registration time"), default=timezone.now)
    # Recycle bin (C3): a deleted customer is kept until an administrator restores it.
    deleted_at = models.DateTimeField(
        _("deleted at"), null=True, blank=True, editable=False
    )
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("deleted by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    # Merge (C3): a merged customer stays as a tombstone pointing at the survivor.
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="merged_customers",
    )
    merged_at = models.DateTimeField(
        _("merged at"), null=True, blank=True, editable=False
    )

    scope_domain = "customers"
    restrictable_fields = (
        "main_phone",
        "finance_phone",
        "email",
        "credit_code",
        "credit_rating",
        "credit_limit",
    )

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        permissions = [
            ("restore_customer", _("Restore customers from the recycle bin")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(credit_limit__gte=0), name="customer_credit_limit_gte_0"
            ),
            # A credit code belongs to one live customer; tombstones of a merge let go.
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=~Q(credit_code="") & Q(merged_into__isnull=True),
                name="customer_credit_code_unique",
                violation_error_message=_(
                    "Another customer already has this credit code."
                ),
            ),
        ]
        indexes = [
            models.Index(fields=["main_phone"], name="customer_main_phone_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_merged(self) -> bool:
        return self.merged_into_id is not None


class Contact(TimeStamped, Versioned):
    """C2: a person at a customer; one of a customer's contacts is its primary contact."""

    class Gender(models.TextChoices):
        MALE = "male", _("Male")
        FEMALE = "female", _("Female")

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="contacts",
    )
    name = models.CharField(_("name"), max_length=50)
    gender = models.CharField(
        _("gender"), max_length=8, choices=Gender.choices, blank=True
    )
    age = models.PositiveSmallIntegerField(_("age"), null=True, blank=True)
    department_name = models.CharField(_("department"), max_length=100, blank=True)
    position = models.CharField(_("position"), max_length=100, blank=True)
    supervisor = models.ForeignKey(
        "self",
        verbose_name=_("supervisor"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
    )
    office_phone = models.CharField(
        _("office phone"), max_length=32, blank=True, validators=[validate_cn_phone]
    )
    mobile = models.CharField(
        _("mobile"), max_length=32, blank=True, validators=[validate_cn_phone]
    )
    email = models.EmailField(_("email"), blank=True)
    home_phone = models.CharField(
        _("home phone"), max_length=32, blank=True, validators=[validate_cn_phone]
    )
    fax = models.CharField(
        _("fax"), max_length=32, blank=True, validators=[validate_cn_phone]
    )
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    hobbies = models.CharField(_("hobbies"), max_length=255, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible employee"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    is_primary = models.BooleanField(_("primary contact"), default=False)

    # A contact is seen by whoever sees its customer.
    scope_domain = "customers"
    scope_owner_field = "customer__owner"
    scope_department_field = "customer__department"
    restrictable_fields = ("mobile", "office_phone", "home_phone", "email", "birthday")

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-is_primary", "name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(is_primary=True),
                name="contact_one_primary_per_customer",
            ),
            models.CheckConstraint(
                condition=Q(age__isnull=True) | Q(age__lte=150),
                name="contact_age_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Activity(TimeStamped, Versioned):
    """C6: a follow-up with a customer (跟进记录): how and when it happened, what was said,
    and when to follow up next. Seen by whoever sees the customer."""

    class Kind(models.TextChoices):
        CALL = "call", _("Phone call")
        VISIT = "visit", _("Visit")
        EMAIL = "email", _("E-mail")
        MEETING = "meeting", _("Meeting")
        WECHAT = "wechat", _("WeChat")
        OTHER = "other", _("Other")

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="activities",
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="activities",
    )
    kind = models.CharField(
        _("kind"), max_length=16, choices=Kind.choices, default=Kind.CALL
    )
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

    scope_domain = "customers"
    scope_owner_field = "customer__owner"
    scope_department_field = "customer__department"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-occurred_at", "-pk"]
        indexes = [
            # The timeline, and a customer's last follow-up (the public pool's clock).
            models.Index(
                fields=["customer", "-occurred_at"], name="activity_customer_time_idx"
            ),
            models.Index(fields=["next_follow_up_on"], name="activity_next_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.customer}"


class PoolEntry(models.Model):
    """C8: one stay of a customer in the public pool (公海): when and why it came in,
    who held it, and how it left (claimed by a rep or assigned by a manager). A customer
    is in the pool while it has an entry that has not left."""

    class Reason(models.TextChoices):
        IDLE = "idle", _("Not followed up in time")
        RELEASED = "released", _("Released by its owner")

    class Outcome(models.TextChoices):
        CLAIMED = "claimed", _("Claimed")
        ASSIGNED = "assigned", _("Assigned")

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="pool_entries",
    )
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    entered_at = models.DateTimeField(_("in the pool since"), default=timezone.now)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("put there by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    former_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("former owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    left_at = models.DateTimeField(_("left the pool at"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=Outcome.choices, blank=True
    )
    left_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("taken out by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    new_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("new owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("public pool entry")
        verbose_name_plural = _("public pool entries")
        ordering = ["-entered_at", "-pk"]
        default_permissions = ()
        permissions = [
            ("view_pool", _("See the public pool")),
            ("claim_customer", _("Claim customers from the public pool")),
            ("assign_customer", _("Assign customers to owners")),
        ]
        indexes = [
            models.Index(
                fields=["customer"],
                condition=Q(left_at__isnull=True),
                name="pool_entry_open_idx",
            ),
            models.Index(
                fields=["new_owner", "outcome", "left_at"], name="pool_entry_claims_idx"
            ),
            models.Index(fields=["customer", "left_at"], name="pool_entry_left_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer} ({self.get_reason_display()})"

    @property
    def is_open(self) -> bool:
        return self.left_at is None
