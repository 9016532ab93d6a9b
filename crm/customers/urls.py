from django.urls import path

from crm.customers.web import views

app_name = "customers"
urlpatterns = [
    path("", views.CustomerListView.as_view(), name="customer-list"),
    path("new/", views.CustomerFormView.as_view(), name="customer-create"),
    path("lookup/", views.customer_lookup, name="customer-lookup"),
    path("regions/picker/", views.region_picker, name="region-picker"),
    path("merge/", views.customer_merge, name="customer-merge"),
    path("duplicates/", views.duplicates, name="duplicates"),
    path("recycle-bin/", views.RecycleBinView.as_view(), name="bin"),
    path("<int:pk>/", views.CustomerDetailView.as_view(), name="customer-detail"),
    path("<int:pk>/edit/", views.CustomerFormView.as_view(), name="customer-edit"),
    path("<int:pk>/copy/", views.customer_copy, name="customer-copy"),
    path("<int:pk>/delete/", views.customer_delete, name="customer-delete"),
    path("<int:pk>/restore/", views.customer_restore, name="customer-restore"),
    path("<int:pk>/tabs/<slug:key>/", views.customer_tab, name="customer-tab"),
    path(
        "<int:customer_pk>/contacts/new/",
        views.ContactFormView.as_view(),
        name="contact-create",
    ),
    path("contacts/", views.ContactListView.as_view(), name="contact-list"),
    path(
        "contacts/<int:pk>/", views.ContactDetailView.as_view(), name="contact-detail"
    ),
    path(
        "contacts/<int:pk>/edit/", views.ContactFormView.as_view(), name="contact-edit"
    ),
    path(
        "contacts/<int:pk>/primary/",
        views.contact_set_primary,
        name="contact-set-primary",
    ),
    path("contacts/<int:pk>/delete/", views.contact_delete, name="contact-delete"),
]

# Activities, public pool, analysis and vCards (crm/customers/care_urls.py).
from crm.customers.care_urls import urlpatterns as care_urlpatterns  # noqa: E402

urlpatterns += care_urlpatterns
