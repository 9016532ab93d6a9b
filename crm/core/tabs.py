"""Tabs of a record's page that other modules contribute (C5: the customer 360° view).

A module registers its tab in AppConfig.ready() without the page's module knowing it:

    register_tab("customers.customer", "orders", _("Orders"),
                 template="sales/_customer_orders.html", context=orders_context,
                 order=40, perm="sales.view_order", count=order_count)

`context(request, obj) -> dict` adds to the template's context (`object` and `tab` are
always there); `count(user, obj) -> int | None` gives the number shown on the tab button.
A callable `template(request, obj) -> str` renders the tab itself. The page's module
shows `tabs_for(...)` as buttons and loads each tab's content on demand.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from crm.core.errors import NotFound
from crm.core.scopes import authorize, can


@dataclass(frozen=True)
class Tab:
    model: str  # "customers.customer" (a model's label_lower)
    key: str
    label: str | Promise
    template: str | Callable
    context: Callable | None = None
    order: int = 100
    perm: str | None = None
    count: Callable | None = None
    icon: str = ""


TABS: dict[str, dict[str, Tab]] = {}


def register_tab(
    model: str,
    key: str,
    label: str | Promise,
    template: str | Callable,
    *,
    context: Callable | None = None,
    order: int = 100,
    perm: str | None = None,
    count: Callable | None = None,
    icon: str = "",
) -> Tab:
    """Add (or replace) the tab `key` on the pages of `model`."""
    tab = Tab(model, key, label, template, context, order, perm, count, icon)
    TABS.setdefault(model, {})[key] = tab
    return tab


def unregister_tab(model: str, key: str) -> None:
    TABS.get(model, {}).pop(key, None)


def tabs_for(model: str, user) -> list[Tab]:
    """The tabs of `model` this user may open, in their order."""
    tabs = [t for t in TABS.get(model, {}).values() if not t.perm or can(user, t.perm)]
    return sorted(tabs, key=lambda t: (t.order, t.key))


def get_tab(model: str, key: str, user) -> Tab:
    """A registered tab; unknown is 404, without the tab's permission 403."""
    tab = TABS.get(model, {}).get(key)
    if tab is None:
        raise NotFound(_("No such tab."))
    if tab.perm:
        authorize(user, tab.perm)
    return tab


def tab_count(tab: Tab, user, obj) -> int | None:
    return tab.count(user, obj) if tab.count else None


def render_tab(request, tab: Tab, obj) -> str:
    """The tab's HTML for `obj` (which the caller has already fetched within the scope)."""
    if callable(tab.template):
        return tab.template(request, obj)
    context = {"object": obj, "tab": tab}
    if tab.context is not None:
        context.update(tab.context(request, obj))
    return render_to_string(tab.template, context, request=request)
