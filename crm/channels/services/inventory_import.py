"""D6 stock count upload (xlsx/csv) through core's import machinery: headers, cell
parsing, dry run, row errors and all-or-nothing commit are core's; each row is one
count written by `stock_count_submit`, exactly as the portal form writes it (a product
already counted that day gets the new quantity). Only partner users import counts, for
their own partner; a product and date twice in one file is an error on the later row."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.channels.models import StockCount
from crm.channels.portal.access import is_partner_user, user_partner
from crm.channels.services.inventory import stock_count_submit
from crm.core.errors import Invalid
from crm.core.imports import (
    ImportField,
    ImportSpec,
    RecordLookup,
    as_date,
    as_decimal,
    register_import,
)
from crm.products.models import Product

KEY = "channels.stockcount"

product_lookup = RecordLookup(
    lambda actor: Product.objects.exclude(status=Product.Status.DRAFT),
    ("code", "name"),
    gettext_lazy("product"),
)


@register_import
class StockCountImport(ImportSpec):
    key = KEY
    model = StockCount
    title = gettext_lazy("Stock counts")
    fields = (
        ImportField(
            "counted_on",
            gettext_lazy("count date"),
            ("盘点日期", "日期", "库存日期", "count date", "date", "counted on"),
            required=True,
            parse=as_date,
        ),
        ImportField(
            "product",
            gettext_lazy("product"),
            (
                "产品编码",
                "产品",
                "产品名称",
                "物料编码",
                "product code",
                "product",
                "sku",
            ),
            required=True,
            parse=product_lookup,
            help=gettext_lazy("Product code or name."),
        ),
        ImportField(
            "quantity",
            gettext_lazy("quantity"),
            ("数量", "库存", "库存数量", "盘点数量", "quantity", "stock", "qty"),
            required=True,
            parse=as_decimal,
        ),
    )
    list_url_name = "portal:stock-list"

    def may_import(self, user) -> bool:
        return is_partner_user(user)

    def queryset(self, actor):
        partner = user_partner(actor)
        return (
            StockCount.objects.filter(partner=partner)
            if partner
            else StockCount.objects.none()
        )

    def prepare_row(self, *, actor, data: dict, existing, ctx) -> None:
        product, counted_on = data.get("product"), data.get("counted_on")
        if product is None or counted_on is None:
            return
        seen = ctx.cache.setdefault("stockcount:seen", set())
        key = (product.pk, counted_on)
        if key in seen:
            message = _("This product is already counted on this date above.")
            raise Invalid(message, fields={"product": [message]})
        seen.add(key)

    def row_service(self, *, actor, data: dict, existing):
        try:
            (count,) = stock_count_submit(
                actor=actor,
                partner=user_partner(actor),
                counted_on=data["counted_on"],
                lines=[{"product": data["product"], "quantity": data["quantity"]}],
            )
        except Invalid as exc:  # "lines.0.quantity" is the file's "quantity"
            raise Invalid(
                exc.message,
                fields={
                    name.rsplit(".", 1)[-1]: messages
                    for name, messages in exc.fields.items()
                },
            ) from None
        return count
