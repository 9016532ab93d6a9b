from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProductsConfig(AppConfig):
    name = "crm.products"
    label = "products"
    verbose_name = _("Products")

    def ready(self):
        from crm.core.menu import MenuItem, MenuSection, register_section

        register_section(
            MenuSection(
                "products",
                _("Products"),
                "box-seam",
                order=500,
                items=[
                    MenuItem(
                        _("Products"),
                        "products:product-list",
                        "products.view_product",
                        "box",
                    ),
                    MenuItem(
                        _("Categories"),
                        "products:category-tree",
                        "products.view_category",
                        "diagram-2",
                    ),
                    MenuItem(
                        _("Price lists"),
                        "products:pricelist-list",
                        "products.view_pricelist",
                        "tags",
                    ),
                ],
            )
        )
