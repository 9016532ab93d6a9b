"""Partner portal API: home (who am I) and the partner's own users."""

from django.urls import path

from crm.channels.api import portal_partners

urlpatterns = [
    path("me/", portal_partners.PortalMe.as_view(), name="portal-me"),
    *portal_partners.urlpatterns,
]
