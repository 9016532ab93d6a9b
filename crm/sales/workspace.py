"""S10: what sales adds to the places a rep works from — the customer 360° view (C5) gets
a tab per sales document type, the home page gets the rep's sales work (lead follow-ups,
instalments due, approvals, opportunities closing) and shortcuts to what a rep looks up
(products, price lists, receivables, competitors)."""

from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _


def ready() -> None:
    """Called from SalesConfig.ready(); registers tabs, home panels and shortcuts."""
    _register_tabs()
    _register_home()


def _register_tabs() -> None:
    from crm.core.tabs import register_tab
    from crm.sales.selectors.workspace import CUSTOMER_TABS

    for tab in CUSTOMER_TABS:
        register_tab(
            "customers.customer",
            tab.key,
            tab.label,
            _tab_renderer(tab),
            order=tab.order,
            perm=tab.view_perm,
            count=_tab_counter(tab),
            icon=tab.icon,
        )


def _tab_renderer(tab):
    def render(request, customer) -> str:
        from crm.sales.selectors.workspace import (
            customer_receivable,
            customer_tab_rows,
        )

        context = {
            "object": customer,
            "tab": tab,
            **customer_tab_rows(actor=request.user, tab=tab, customer=customer),
        }
        if tab.key == "payments":
            context["receivable"] = customer_receivable(
                actor=request.user, customer=customer
            )
        return render_to_string(
            "sales/workspace/_customer_tab.html", context, request=request
        )

    return render


def _tab_counter(tab):
    def count(user, customer) -> int:
        from crm.sales.selectors.workspace import customer_tab_count

        return customer_tab_count(actor=user, tab=tab, customer=customer)

    return count


def _register_home() -> None:
    from crm.core.home import register_panel, register_shortcut
    from crm.sales.selectors import workspace as panels

    register_panel(
        "sales.lead_follow_ups",
        _("Lead follow-ups"),
        panels.lead_follow_ups_panel,
        perm="sales.view_lead",
        order=15,
        icon="funnel",
    )
    register_panel(
        "sales.instalments",
        _("Instalments due"),
        panels.instalments_panel,
        perm="sales.view_instalment",
        order=20,
        icon="hourglass-split",
    )
    register_panel(
        "sales.approvals",
        _("Waiting for my approval"),
        panels.approvals_panel,
        perm=("core.approve_discount", "sales.approve_contract"),
        order=25,
        icon="check2-square",
    )
    register_panel(
        "sales.opportunities",
        _("Closing this month"),
        panels.opportunities_panel,
        perm="sales.view_opportunity",
        order=30,
        icon="bullseye",
    )
    # "One place" (S10): besides news and customers (registered by their modules), a rep
    # looks up products, prices, customer accounts and competitors.
    for key, label, url_name, perm, icon, order, searchable in (
        (
            "products.products",
            _("Products"),
            "products:product-list",
            "products.view_product",
            "box-seam",
            30,
            True,
        ),
        (
            "products.price_lists",
            _("Price lists"),
            "products:pricelist-list",
            "products.view_pricelist",
            "tags",
            40,
            True,
        ),
        (
            "sales.receivables",
            _("Receivables"),
            "sales:receivables",
            "sales.view_instalment",
            "hourglass-split",
            50,
            False,
        ),
        (
            "sales.competitors",
            _("Competitors"),
            "sales:competitor-list",
            "sales.view_competitor",
            "shield",
            60,
            True,
        ),
    ):
        register_shortcut(
            key,
            label,
            url_name,
            perm=perm,
            icon=icon,
            order=order,
            searchable=searchable,
        )
