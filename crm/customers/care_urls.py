"""Pages of activities (C6), the public pool (C8), analysis (C7) and vCards (X5), added to
the customers URLs (crm/customers/urls.py) in the same "customers" namespace."""

from django.urls import path

from crm.customers.web import activities, analysis, pool, vcards

urlpatterns = [
    path("activities/", activities.ActivityListView.as_view(), name="activity-list"),
    path(
        "activities/<int:pk>/",
        activities.ActivityDetailView.as_view(),
        name="activity-detail",
    ),
    path(
        "activities/<int:pk>/edit/",
        activities.ActivityFormView.as_view(),
        name="activity-edit",
    ),
    path(
        "activities/<int:pk>/delete/",
        activities.activity_delete,
        name="activity-delete",
    ),
    path(
        "<int:customer_pk>/activities/new/",
        activities.ActivityFormView.as_view(),
        name="activity-create",
    ),
    path("pool/", pool.pool_page, name="pool"),
    path("pool/act/", pool.pool_act, name="pool-act"),
    path("<int:pk>/release/", pool.customer_release, name="customer-release"),
    path("analysis/", analysis.analysis_page, name="analysis"),
    path("contacts/vcard/", vcards.contacts_vcard, name="contacts-vcard"),
    path("contacts/<int:pk>/vcard/", vcards.contact_vcard, name="contact-vcard"),
]
