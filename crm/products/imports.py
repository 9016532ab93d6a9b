"""C4/Y6 product import: products by code, created or updated through the product services
(code rules, price rounding, inactive categories, field rights and audit all apply)."""

from django.utils.translation import gettext_lazy as _

from crm.core.imports import (
    ImportField,
    ImportSpec,
    MatchKey,
    RecordLookup,
    as_choice,
    as_decimal,
    as_text,
    register_import,
)
from crm.products.models import Category, Product
from crm.products.services import product_create, product_update

category_lookup = RecordLookup(
    lambda actor: Category.objects.all(), ("code", "name"), noun=_("category")
)


@register_import
class ProductImport(ImportSpec):
    key = "products.product"
    model = Product
    title = _("Products")
    fields = (
        ImportField(
            "code",
            _("product code"),
            (
                "产品编码",
                "产品编号",
                "产品代码",
                "编码",
                "物料编码",
                "物料号",
                "code",
                "SKU",
            ),
            required=True,
            parse=as_text(40),
        ),
        ImportField(
            "name",
            _("product name"),
            ("产品名称", "名称", "品名", "物料名称", "name", "product"),
            required=True,
            parse=as_text(200),
        ),
        ImportField(
            "category",
            _("category"),
            ("产品类别", "类别", "分类", "产品分类", "category"),
            required=True,
            parse=category_lookup,
            help=_("The category's code or name."),
        ),
        ImportField(
            "type",
            _("type"),
            ("产品类型", "类型", "type"),
            parse=as_choice(Product.Type),
        ),
        ImportField(
            "specification",
            _("specification"),
            ("规格", "规格型号", "型号", "spec", "model"),
            parse=as_text(200),
        ),
        ImportField("unit", _("unit"), ("单位", "计量单位", "unit"), parse=as_text(16)),
        ImportField(
            "list_price",
            _("list price"),
            ("标准价格", "价格", "单价", "售价", "销售价", "标准售价", "price"),
            parse=as_decimal,
        ),
        ImportField(
            "cost", _("cost"), ("成本", "成本价", "cost price"), parse=as_decimal
        ),
        ImportField(
            "status",
            _("status"),
            ("状态", "产品状态", "status"),
            parse=as_choice(Product.Status),
        ),
        ImportField(
            "description",
            _("description"),
            ("描述", "说明", "产品描述", "备注", "description", "notes"),
            parse=as_text(),
        ),
    )
    match_keys = (MatchKey("code", _("product code"), "code"),)
    add_perm = "products.add_product"
    change_perm = "products.change_product"
    list_url_name = "products:product-list"
    detail_url_name = "products:product-detail"

    def row_service(self, *, actor, data: dict, existing):
        if existing is None:
            return product_create(actor=actor, data=data)
        return product_update(
            actor=actor, obj=existing, data=data, version=existing.version
        )
