"""The portal's own navigation. Each area adds its pages here by URL name; names not
(yet) routed are skipped, and admin-only items show to partner admins only."""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class PortalItem:
    label: str
    url_name: str
    icon: str
    admin_only: bool = False


ITEMS = (
    PortalItem(_("Overview"), "portal:home", "house"),
    PortalItem(_("Purchase orders"), "portal:purchaseorder-list", "box-arrow-in-down"),
    PortalItem(_("Sales reports"), "portal:sellthrough-list", "receipt"),
    PortalItem(_("Stock"), "portal:stock-list", "boxes"),
    PortalItem(_("Customers"), "portal:customer-list", "people"),
    PortalItem(_("Targets & scores"), "portal:scores", "trophy"),
    PortalItem(_("Agreements"), "portal:agreement-list", "file-earmark-ruled"),
    PortalItem(_("Promotions & plans"), "portal:promotion-list", "megaphone"),
    PortalItem(_("Deal registrations"), "portal:deal-list", "person-check"),
    PortalItem(_("My company"), "portal:company", "building"),
    PortalItem(_("Users"), "portal:user-list", "people", admin_only=True),
    PortalItem(_("API keys"), "portal:apikey-list", "key", admin_only=True),
)


def portal_menu(request) -> list[dict]:
    admin = getattr(request, "partner_admin", False)
    items = []
    for item in ITEMS:
        if item.admin_only and not admin:
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        items.append({"label": item.label, "url": url, "icon": item.icon})
    # The longest URL that prefixes the current path is the active item.
    best = max(
        (i for i in items if request.path.startswith(i["url"])),
        key=lambda i: len(i["url"]),
        default=None,
    )
    for i in items:
        i["active"] = i is best
    return items
