"""Partner portal pages: the overview (portal home)."""

from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _

from crm.channels.portal.access import portal_view


@portal_view
def home(request):
    return render(
        request,
        "channels/portal/home.html",
        {"title": _("Overview"), "partner": request.partner},
    )


urlpatterns = [path("", home, name="home")]
