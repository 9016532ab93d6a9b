"""C6 activity pages: the list, one activity, record / edit / delete a follow-up."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.core.scopes import authorize, can
from crm.core.web.forms import RecordForm
from crm.core.web.views import DetailPageView, ListPageView, RecordFormView
from crm.customers import activities
from crm.customers.models import Activity, Customer
from crm.customers.selectors import customer_get


class ActivityForm(RecordForm):
    class Meta:
        model = Activity
        fields = ["kind", "occurred_at", "contact", "content", "next_follow_up_on"]
        widgets = {
            "content": forms.Textarea(attrs={"rows": 3}),
            "occurred_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "next_follow_up_on": forms.DateInput(
                attrs={"type": "date"}, format="%Y-%m-%d"
            ),
        }

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        if "contact" in self.fields:
            self.fields["contact"].queryset = activities.contact_choices(customer)
        if not self.instance.pk and "occurred_at" in self.fields:
            self.fields["occurred_at"].initial = timezone.localtime().replace(
                second=0, microsecond=0
            )

    def service_data(self) -> dict:
        data = super().service_data()
        if not self.instance.pk:
            data["customer"] = self.customer
        return data


class ActivityListView(ListPageView):
    spec_key = "customers.activity"


class ActivityDetailView(DetailPageView):
    spec_key = "customers.activity"
    template_name = "customers/activity_detail.html"
    fields = [
        "customer",
        "contact",
        "kind",
        "occurred_at",
        "content",
        "next_follow_up_on",
        "recorded_by",
        "created_at",
        "updated_at",
    ]
    edit_url_name = "customers:activity-edit"
    edit_perm = "customers.change_activity"
    list_url_name = "customers:activity-list"

    def get_object(self, pk):
        return activities.activity_get(actor=self.request.user, pk=pk)

    def extra_context(self, obj):
        return {"can_delete": can(self.request.user, "customers.delete_activity")}


class ActivityFormView(RecordFormView):
    """Record a follow-up on a customer (from its 360° view) or edit one."""

    spec_key = "customers.activity"
    form_class = ActivityForm
    create_service = activities.activity_create
    update_service = activities.activity_update
    list_url_name = "customers:activity-list"

    def get_object(self, pk):
        return activities.activity_get(actor=self.request.user, pk=pk)

    def get(self, request, pk=None, customer_pk=None):
        authorize(
            request.user,
            "customers.change_activity" if pk else "customers.add_activity",
        )
        self.customer = self._customer(pk, customer_pk)
        return super().get(request, pk)

    def post(self, request, pk=None, customer_pk=None):
        self.customer = self._customer(pk, customer_pk)
        return super().post(request, pk)

    def _customer(self, pk, customer_pk):
        if pk:
            return self.get_object(pk).customer
        return customer_get(actor=self.request.user, pk=customer_pk)

    def get_form(self, obj=None, data=None):
        return ActivityForm(
            data, instance=obj, user=self.request.user, customer=self.customer
        )

    def success_url(self, obj):
        return (
            reverse("customers:customer-detail", args=[obj.customer_id])
            + "#tab-activities"
        )


@require_POST
def activity_delete(request, pk):
    activity = activities.activity_get(actor=request.user, pk=pk)
    activities.activity_delete(actor=request.user, obj=activity)
    messages.success(request, _("Activity deleted."))
    return redirect(
        reverse("customers:customer-detail", args=[activity.customer_id])
        + "#tab-activities"
    )
