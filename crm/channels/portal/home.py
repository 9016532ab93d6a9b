"""Partner portal pages: the overview (portal home) and, from portal/partners.py, the
company profile and the partner's own users."""

from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.channels.portal import partners
from crm.channels.portal.access import portal_view
from crm.channels.selectors.partners import portal_overview

QUICK_LINKS = (
    ("portal:purchaseorder-create", "cart-plus", gettext_lazy("New purchase order")),
    ("portal:sellthrough-create", "receipt", gettext_lazy("Report sales")),
    ("portal:stock-create", "boxes", gettext_lazy("Report a stock count")),
    ("portal:deal-create", "person-check", gettext_lazy("Register a deal")),
    ("portal:scores", "trophy", gettext_lazy("Targets & scores")),
    ("portal:promotion-list", "megaphone", gettext_lazy("Promotions & plans")),
    ("portal:company", "building", gettext_lazy("My company")),
)


def _url(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


@portal_view
def home(request):
    links = [
        {"url": url, "icon": icon, "label": label}
        for name, icon, label in QUICK_LINKS
        if (url := _url(name))
    ]
    return render(
        request,
        "channels/portal/home.html",
        {
            "title": _("Overview"),
            "partner": request.partner,
            "overview": portal_overview(partner=request.partner),
            "quick_links": links,
            "orders_url": _url("portal:purchaseorder-list"),
            "stock_url": _url("portal:stock-list"),
            "agreements_url": _url("portal:agreement-list"),
            "scores_url": _url("portal:scores"),
            "sellthrough_url": _url("portal:sellthrough-list"),
        },
    )


urlpatterns = [path("", home, name="home"), *partners.urlpatterns]
