"""Product catalogue pages (Y6): thin views over the selectors and services."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.core.errors import Invalid
from crm.core.fieldrights import field_rights
from crm.core.scopes import authorize, can
from crm.core.web.imports import import_action
from crm.core.web.views import DetailPageView, ListPageView, RecordFormView, build_tree
from crm.products import services
from crm.products.forms import CategoryForm, PriceItemForm, PriceListForm, ProductForm
from crm.products.models import Product
from crm.products.selectors import (
    CATEGORY_SPEC,
    category_get,
    category_tree_with_counts,
    pricelist_get,
    pricelist_item_get,
    pricelist_items,
    product_get,
    product_price_items,
)

# Products


class ProductListView(ListPageView):
    extra_actions = [import_action("products.product")]
    spec_key = "products.product"
    create_url_name = "products:product-create"
    create_perm = "products.add_product"


class ProductDetailView(DetailPageView):
    spec_key = "products.product"
    fields = [
        "code",
        "name",
        "category",
        "type",
        "specification",
        "unit",
        "list_price",
        "cost",
        "status",
        "description",
        "owner",
        "created_at",
        "updated_at",
    ]
    edit_url_name = "products:product-edit"
    edit_perm = "products.change_product"
    list_url_name = "products:product-list"
    template_name = "products/product_detail.html"

    def get_object(self, pk):
        return product_get(actor=self.request.user, pk=pk)

    def extra_context(self, obj):
        return {
            "prices": product_price_items(actor=self.request.user, product=obj),
            "can_copy": can(self.request.user, "products.add_product"),
        }


class ProductFormView(RecordFormView):
    spec_key = "products.product"
    form_class = ProductForm
    create_service = services.product_create
    update_service = services.product_update
    success_url_name = "products:product-detail"
    list_url_name = "products:product-list"

    def get_object(self, pk):
        return product_get(actor=self.request.user, pk=pk)

    def get(self, request, pk=None):
        authorize(
            request.user, "products.change_product" if pk else "products.add_product"
        )
        return super().get(request, pk)


@require_POST
def product_copy(request, pk):
    product = product_get(actor=request.user, pk=pk)
    code = request.POST.get("code", "").strip() or f"{product.code}-COPY"
    copy = services.product_copy(actor=request.user, product=product, code=code)
    messages.success(request, _("Product copied; the copy is a draft."))
    return redirect("products:product-detail", pk=copy.pk)


# Categories


def category_tree(request):
    nodes = category_tree_with_counts(actor=request.user)
    for node in nodes:
        node.employee_count = node.product_count  # the count core/_tree.html shows
    return render(
        request,
        "products/category_tree.html",
        {
            "tree": build_tree(nodes),
            "title": _("Product categories"),
            "can_edit": can(request.user, "products.change_category"),
            "can_add": can(request.user, "products.add_category"),
            # POST-only actions for the tree rows (see core/_tree.html).
            "deactivate_url_name": "products:category-deactivate",
            "activate_url_name": "products:category-activate",
            "detail_url_name": "products:category-detail",
        },
    )


class CategoryDetailView(DetailPageView):
    """A category's page: its fields and its history tab (Y7)."""

    spec_key = "products.category"
    fields = ["name", "parent", "code", "is_active", "sort_order", "created_at"]
    edit_url_name = "products:category-edit"
    edit_perm = "products.change_category"
    list_url_name = "products:category-tree"


class CategoryFormView(RecordFormView):
    form_class = CategoryForm
    create_service = services.category_create
    update_service = services.category_update
    list_url_name = "products:category-tree"

    @property
    def spec(self):
        return CATEGORY_SPEC

    def get_object(self, pk):
        return category_get(actor=self.request.user, pk=pk)

    def success_url(self, obj):
        return reverse("products:category-tree")

    def get(self, request, pk=None):
        authorize(
            request.user, "products.change_category" if pk else "products.add_category"
        )
        obj = self.get_object(pk) if pk else None
        form = self.get_form(obj)
        if not pk and request.GET.get("parent"):
            form.initial["parent"] = request.GET["parent"]
        return self.render_form(form, obj)


@require_POST
def category_deactivate(request, pk):
    category = category_get(actor=request.user, pk=pk)
    services.category_deactivate(actor=request.user, category=category)
    messages.success(request, _("Category deactivated."))
    return redirect("products:category-tree")


@require_POST
def category_activate(request, pk):
    category = category_get(actor=request.user, pk=pk)
    services.category_activate(actor=request.user, category=category)
    messages.success(request, _("Category activated."))
    return redirect("products:category-tree")


# Price lists


class PriceListListView(ListPageView):
    spec_key = "products.pricelist"
    create_url_name = "products:pricelist-create"
    create_perm = "products.add_pricelist"


class PriceListDetailView(DetailPageView):
    spec_key = "products.pricelist"
    fields = [
        "name",
        "currency",
        "valid_from",
        "valid_to",
        "is_active",
        "notes",
        "owner",
    ]
    edit_url_name = "products:pricelist-edit"
    edit_perm = "products.change_pricelist"
    list_url_name = "products:pricelist-list"
    template_name = "products/pricelist_detail.html"

    def get_object(self, pk):
        return pricelist_get(actor=self.request.user, pk=pk)

    def extra_context(self, obj):
        user = self.request.user
        return {
            "items": pricelist_items(actor=user, price_list=obj),
            "item_form": PriceItemForm(user=user),
            "can_edit_prices": can(user, "products.change_pricelist"),
            "show_list_price": "list_price" not in field_rights(user, Product).hidden,
        }


class PriceListFormView(RecordFormView):
    spec_key = "products.pricelist"
    form_class = PriceListForm
    create_service = services.pricelist_create
    update_service = services.pricelist_update
    success_url_name = "products:pricelist-detail"
    list_url_name = "products:pricelist-list"

    def get_object(self, pk):
        return pricelist_get(actor=self.request.user, pk=pk)

    def get(self, request, pk=None):
        authorize(
            request.user,
            "products.change_pricelist" if pk else "products.add_pricelist",
        )
        return super().get(request, pk)


@require_POST
def pricelist_set_price(request, pk):
    price_list = pricelist_get(actor=request.user, pk=pk)
    authorize(request.user, "products.change_pricelist")
    form = PriceItemForm(request.POST, user=request.user)
    if not form.is_valid():
        for name, errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else ""
            messages.error(request, f"{label}: {errors[0]}" if label else errors[0])
        return redirect("products:pricelist-detail", pk=pk)
    try:
        services.pricelist_set_price(
            actor=request.user, price_list=price_list, **form.cleaned_data
        )
    except Invalid as exc:
        for name, errors in exc.fields.items():
            label = form.fields[name].label if name in form.fields else ""
            messages.error(request, f"{label}: {errors[0]}" if label else errors[0])
        if not exc.fields:
            messages.error(request, exc.message)
    else:
        messages.success(request, _("Price saved."))
    return redirect("products:pricelist-detail", pk=pk)


@require_POST
def pricelist_remove_price(request, pk, item_pk):
    price_list = pricelist_get(actor=request.user, pk=pk)
    item = pricelist_item_get(actor=request.user, price_list=price_list, pk=item_pk)
    services.pricelist_remove_price(actor=request.user, item=item)
    messages.success(request, _("Price removed."))
    return redirect("products:pricelist-detail", pk=pk)
