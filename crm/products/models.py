"""Y6 product catalogue: category tree, products (tangible and intangible), price lists."""

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from crm.core.models import BusinessRecord, TimeStamped, TreeNode

MONEY = {"max_digits": 20, "decimal_places": 6}


class Category(TreeNode, TimeStamped):
    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("code"), max_length=32, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("product category")
        verbose_name_plural = _("product categories")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name


class Product(BusinessRecord):
    class Type(models.TextChoices):
        OWN = "own", _("Own product")
        OUTSOURCED = "outsourced", _("Outsourced")
        CONSIGNMENT = "consignment", _("Consignment")
        TRAINING = "training", _("Training")
        SERVICE = "service", _("Service")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        ACTIVE = "active", _("On sale")
        INACTIVE = "inactive", _("Discontinued")
        DRAFT = "draft", _("Draft")

    code = models.CharField(_("product code"), max_length=40, unique=True)
    name = models.CharField(_("product name"), max_length=200)
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        related_name="products",
    )
    type = models.CharField(
        _("type"), max_length=16, choices=Type.choices, default=Type.OWN
    )
    specification = models.CharField(_("specification"), max_length=200, blank=True)
    unit = models.CharField(_("unit"), max_length=16, default="台")
    list_price = models.DecimalField(_("list price"), **MONEY, default=Decimal("0"))
    cost = models.DecimalField(_("cost"), **MONEY, default=Decimal("0"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    description = models.TextField(_("description"), blank=True)

    scope_domain = "products"
    # Cost is shown only to holders of products.view_cost (UI, API, exports, history).
    permission_fields = {"cost": "products.view_cost"}
    restrictable_fields = ("list_price", "cost")

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        permissions = [("view_cost", _("View product cost"))]
        indexes = [
            models.Index(fields=["category", "status"], name="product_cat_status_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(list_price__gte=0), name="product_list_price_gte_0"
            ),
            models.CheckConstraint(condition=Q(cost__gte=0), name="product_cost_gte_0"),
            # Codes are unique whatever their case (the service gives the field error).
            models.UniqueConstraint(
                Lower("code"),
                name="product_code_ci_unique",
                violation_error_message=_(
                    "This code is already used by another product."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_tangible(self) -> bool:
        return self.type in {self.Type.OWN, self.Type.OUTSOURCED, self.Type.CONSIGNMENT}


class PriceList(BusinessRecord):
    name = models.CharField(_("name"), max_length=100, unique=True)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    notes = models.CharField(_("notes"), max_length=255, blank=True)

    scope_domain = "products"

    class Meta:
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gte=models.F("valid_from")),
                name="pricelist_valid_range",
            ),
            models.UniqueConstraint(
                Lower("name"),
                name="pricelist_name_ci_unique",
                violation_error_message=_(
                    "This name is already used by another price list."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PriceListItem(TimeStamped):
    price_list = models.ForeignKey(
        PriceList,
        verbose_name=_("price list"),
        on_delete=models.CASCADE,
        related_name="items",
    )
    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        related_name="price_items",
    )
    price = models.DecimalField(_("price"), **MONEY)
    min_quantity = models.DecimalField(
        _("minimum quantity"), max_digits=14, decimal_places=3, default=Decimal("1")
    )

    class Meta:
        verbose_name = _("price list item")
        verbose_name_plural = _("price list items")
        constraints = [
            models.UniqueConstraint(
                fields=["price_list", "product", "min_quantity"],
                name="pricelist_item_unique",
            ),
            models.CheckConstraint(
                condition=Q(price__gte=0), name="pricelist_item_price_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.price_list} · {self.product}: {self.price}"
