"""Customer pages (C1–C3, C5): thin views over the selectors and services."""

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.core.errors import NotFound
from crm.core.fieldrights import field_rights
from crm.core.lists import REGISTRY
from crm.core.scopes import authorize, can
from crm.core.tabs import get_tab, render_tab, tab_count, tabs_for
from crm.core.web.imports import import_action
from crm.core.web.views import DetailPageView, ListPageView, RecordFormView
from crm.customers import services
from crm.customers.forms import (
    LEVELS,
    ContactForm,
    CustomerForm,
    MergeForm,
    region_picker_context,
)
from crm.customers.models import Contact, Customer
from crm.customers.selectors import (
    contact_get,
    customer_by_number,
    customer_facts,
    customer_get,
    customer_get_any,
    customers_get,
    duplicate_candidates,
    duplicate_groups,
    region_get,
)

MODEL = "customers.customer"

# Customers


class CustomerListView(ListPageView):
    spec_key = "customers.customer"
    create_url_name = "customers:customer-create"
    create_perm = "customers.add_customer"

    @property
    def extra_actions(self):
        user = self.request.user
        actions = [
            import_action("customers.customer"),
            {
                "url": reverse("customers:duplicates"),
                "label": _("Duplicates"),
                "icon": "intersect",
            },
        ]
        if can(user, "customers.restore_customer"):
            actions.append(
                {
                    "url": reverse("customers:bin"),
                    "label": _("Recycle bin"),
                    "icon": "trash",
                }
            )
        return actions


class CustomerDetailView(DetailPageView):
    """C5: the customer 360° view: key facts, then tabs (contacts, subsidiaries and
    whatever other modules register), details and history."""

    spec_key = "customers.customer"
    template_name = "customers/customer_detail.html"
    fields = [
        "number",
        "name",
        "mnemonic",
        "credit_code",
        "level",
        "type",
        "status",
        "industry",
        "credit_rating",
        "credit_limit",
        "main_phone",
        "finance_phone",
        "email",
        "homepage",
        "region",
        "address",
        "postcode",
        "parent",
        "registered_at",
        "owner",
        "department",
        "notes",
        "created_at",
        "updated_at",
    ]
    edit_url_name = "customers:customer-edit"
    edit_perm = "customers.change_customer"
    list_url_name = "customers:customer-list"

    def get(self, request, pk):
        customer = customer_get_any(actor=request.user, pk=pk)
        if customer.is_merged:
            messages.info(
                request,
                _("%(name)s was merged into this customer.") % {"name": customer},
            )
            return redirect("customers:customer-detail", pk=customer.merged_into_id)
        if customer.is_deleted and not can(request.user, "customers.restore_customer"):
            raise NotFound(_("Customer not found."))
        self._customer = customer
        return super().get(request, pk)

    def get_object(self, pk):
        return self._customer

    def extra_context(self, obj):
        user = self.request.user
        rights = field_rights(user, Customer)
        tabs = [
            {
                "tab": tab,
                "count": tab_count(tab, user, obj),
                "url": reverse("customers:customer-tab", args=[obj.pk, tab.key]),
            }
            for tab in tabs_for(MODEL, user)
        ]
        live = not obj.is_deleted
        return {
            "customer": obj,
            "hidden": rights.hidden,
            "contact_hidden": field_rights(user, Contact).hidden,
            "tabs": tabs,
            "can_copy": live and can(user, "customers.add_customer"),
            "can_delete": live
            and can(user, "customers.delete_customer")
            and can(user, "core.delete_records"),
            "can_merge": live
            and can(user, "core.merge_records")
            and can(user, "customers.change_customer"),
            "can_restore": obj.is_deleted and can(user, "customers.restore_customer"),
            "edit_url": self._edit_url(obj) if live else "",
            **customer_facts(actor=user, customer=obj),
        }

    def _edit_url(self, obj):
        if can(self.request.user, "customers.change_customer"):
            return reverse("customers:customer-edit", args=[obj.pk])
        return ""


def customer_tab(request, pk, key):
    """One tab of the 360° view, loaded when it is opened."""
    customer = customer_get(actor=request.user, pk=pk)
    tab = get_tab(MODEL, key, request.user)
    return HttpResponse(render_tab(request, tab, customer))


class CustomerFormView(RecordFormView):
    spec_key = "customers.customer"
    form_class = CustomerForm
    template_name = "customers/customer_form.html"
    create_service = services.customer_create
    update_service = services.customer_update
    success_url_name = "customers:customer-detail"
    list_url_name = "customers:customer-list"

    def get_object(self, pk):
        return customer_get(actor=self.request.user, pk=pk)

    def get(self, request, pk=None):
        authorize(
            request.user,
            "customers.change_customer" if pk else "customers.add_customer",
        )
        return super().get(request, pk)

    def post(self, request, pk=None):
        if pk is None:
            authorize(request.user, "customers.add_customer")
            form = self.get_form(None, request.POST)
            if form.is_valid() and not form.duplicates_confirmed():
                data = form.cleaned_data
                candidates, hidden_count = duplicate_candidates(
                    actor=request.user,
                    name=data.get("name") or "",
                    credit_code=data.get("credit_code") or "",
                    phones=[data.get("main_phone"), data.get("finance_phone")],
                )
                if candidates or hidden_count:
                    form.confirm_on_next_save()
                    form.duplicates = candidates
                    form.hidden_duplicates = hidden_count
                    return self.render_form(form, None)
        return super().post(request, pk)


@require_POST
def customer_copy(request, pk):
    customer = customer_get(actor=request.user, pk=pk)
    copy = services.customer_copy(
        actor=request.user, customer=customer, name=request.POST.get("name", "")
    )
    messages.success(request, _("Customer copied under a new number."))
    return redirect("customers:customer-detail", pk=copy.pk)


@require_POST
def customer_delete(request, pk):
    customer = customer_get(actor=request.user, pk=pk)
    services.customer_delete(actor=request.user, customer=customer)
    messages.success(request, _("Customer moved to the recycle bin."))
    return redirect("customers:customer-list")


@require_POST
def customer_restore(request, pk):
    authorize(request.user, "customers.restore_customer")
    customer = customer_get_any(actor=request.user, pk=pk)
    if customer.is_merged:
        raise NotFound(_("Customer not found."))
    services.customer_restore(actor=request.user, customer=customer)
    messages.success(request, _("Customer restored."))
    return redirect("customers:customer-detail", pk=customer.pk)


class RecycleBinView(ListPageView):
    spec_key = "customers.bin"


def customer_lookup(request):
    """Customers matching a search, for pickers: [{"value": number, "text": …}]."""
    spec = REGISTRY["customers.customer"]
    authorize(request.user, spec.view_perm)
    term = (request.GET.get("q") or "").strip()
    if not term:
        return JsonResponse([], safe=False)
    qs, _filterset = spec.queryset(request.user, {"q": term})
    rows = qs.select_related(None).values_list("number", "name")[:20]
    return JsonResponse(
        [{"value": number, "text": f"{number} {name}"} for number, name in rows],
        safe=False,
    )


def region_picker(request):
    """The province/city/district selects again after one of them changed (htmx)."""
    name = request.GET.get("name") or "region"
    if not name.isidentifier():
        name = "region"
    changed = (request.headers.get("HX-Trigger-Name") or "").removeprefix(f"{name}_")
    chosen = {level: request.GET.get(f"{name}_{level}") for level in LEVELS}
    # A changed level drops the choices below it.
    upto = LEVELS.index(changed) + 1 if changed in LEVELS else len(LEVELS)
    value = None
    for level in LEVELS[:upto]:
        region = region_get(chosen[level])
        if region is None:
            break
        if value is not None and region.parent_id != value.pk:
            break
        value = region
    context = {"widget": {"name": name, **region_picker_context(name, value)}}
    return HttpResponse(
        render_to_string("customers/widgets/_region_selects.html", context, request)
    )


# Merge and duplicates (C3)


def _merge_customers(request) -> list[Customer]:
    ids = request.GET.getlist("ids") or request.POST.getlist("ids")
    customers = customers_get(actor=request.user, pks=ids) if ids else []
    numbers = request.GET.get("numbers", "")
    for number in filter(
        None, (n.strip() for n in numbers.replace("，", ",").split(","))
    ):
        found = customer_by_number(actor=request.user, number=number)
        if all(c.pk != found.pk for c in customers):
            customers.append(found)
    return customers


def _merge_rows(customers, fields, form=None):
    """Per field: the label, each customer's value, the chosen customer's id."""
    rows = []
    for name in fields:
        field = Customer._meta.get_field(name)
        values = []
        for customer in customers:
            value = getattr(customer, name)
            if field.choices:
                value = getattr(customer, f"get_{name}_display")()
            values.append((customer.pk, value))
        chosen = None
        if form is not None and form.is_bound:
            chosen = form.data.get(f"field_{name}")
        if not chosen:
            chosen = next((pk for pk, value in values if value not in (None, "")), None)
            chosen = customers[0].pk if chosen is None else chosen
        distinct = len({str(v) for _pk, v in values}) > 1
        rows.append(
            {
                "name": name,
                "label": field.verbose_name,
                "values": values,
                "chosen": str(chosen),
                "differs": distinct,
            }
        )
    return rows


def customer_merge(request):
    """Pick the survivor and, field by field, the values it keeps; then merge."""
    authorize(request.user, "core.merge_records")
    authorize(request.user, "customers.change_customer")
    customers = _merge_customers(request)
    rights = field_rights(request.user, Customer)
    fields = [
        f for f in services.MERGE_FIELDS if f not in rights.hidden | rights.readonly
    ]
    form = None
    status = 200
    if request.method == "POST" and len(customers) >= 2:
        form = MergeForm(request.POST, customers=customers, fields=fields)
        if form.is_valid():
            survivor_pk = form.cleaned_data["survivor"]
            survivor = next(c for c in customers if c.pk == survivor_pk)
            survivor = services.customer_merge(
                actor=request.user,
                survivor=survivor,
                merged=[c for c in customers if c.pk != survivor_pk],
                choices=form.choices(fields),
                versions=form.versions(),
            )
            messages.success(request, _("Customers merged."))
            return redirect("customers:customer-detail", pk=survivor.pk)
        status = 400
    survivor = request.POST.get("survivor") or (customers[0].pk if customers else "")
    return render(
        request,
        "customers/customer_merge.html",
        {
            "title": _("Merge customers"),
            "customers": customers,
            "rows": _merge_rows(customers, fields, form),
            "survivor": str(survivor),
            "form": form,
            "numbers": request.GET.get("numbers", ""),
        },
        status=status,
    )


def duplicates(request):
    authorize(request.user, "customers.view_customer")
    return render(
        request,
        "customers/duplicates.html",
        {
            "title": _("Possible duplicate customers"),
            "groups": duplicate_groups(actor=request.user),
            "can_merge": can(request.user, "core.merge_records")
            and can(request.user, "customers.change_customer"),
        },
    )


# Contacts


class ContactListView(ListPageView):
    spec_key = "customers.contact"

    @property
    def extra_actions(self):
        """X5: the listed contacts (this search and these filters) as vCards."""
        query = self.request.GET.copy()
        for name in ("page", "size", "sort"):
            query.pop(name, None)
        url = reverse("customers:contacts-vcard")
        return [
            {
                "url": f"{url}?{query.urlencode()}" if query else url,
                "label": _("vCards"),
                "icon": "person-vcard",
            }
        ]


class ContactDetailView(DetailPageView):
    spec_key = "customers.contact"
    template_name = "customers/contact_detail.html"
    fields = [
        "customer",
        "name",
        "gender",
        "age",
        "department_name",
        "position",
        "supervisor",
        "mobile",
        "office_phone",
        "home_phone",
        "fax",
        "email",
        "birthday",
        "hobbies",
        "responsible",
        "is_primary",
        "notes",
        "created_at",
        "updated_at",
    ]
    edit_url_name = "customers:contact-edit"
    edit_perm = "customers.change_contact"
    list_url_name = "customers:contact-list"

    def get_object(self, pk):
        return contact_get(actor=self.request.user, pk=pk)

    def extra_context(self, obj):
        user = self.request.user
        return {
            "can_set_primary": not obj.is_primary
            and can(user, "customers.change_contact"),
            "can_delete": can(user, "customers.delete_contact"),
        }


class ContactFormView(RecordFormView):
    spec_key = "customers.contact"
    form_class = ContactForm
    create_service = services.contact_create
    update_service = services.contact_update
    success_url_name = "customers:contact-detail"
    list_url_name = "customers:contact-list"

    def get_object(self, pk):
        return contact_get(actor=self.request.user, pk=pk)

    def get(self, request, pk=None, customer_pk=None):
        authorize(
            request.user, "customers.change_contact" if pk else "customers.add_contact"
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
        return ContactForm(
            data, instance=obj, user=self.request.user, customer=self.customer
        )

    def success_url(self, obj):
        return reverse("customers:customer-detail", args=[obj.customer_id]) + (
            "#tab-contacts"
        )


@require_POST
def contact_set_primary(request, pk):
    contact = contact_get(actor=request.user, pk=pk)
    services.contact_set_primary(actor=request.user, contact=contact)
    messages.success(request, _("Primary contact changed."))
    return redirect(
        reverse("customers:customer-detail", args=[contact.customer_id])
        + "#tab-contacts"
    )


@require_POST
def contact_delete(request, pk):
    contact = contact_get(actor=request.user, pk=pk)
    services.contact_delete(actor=request.user, obj=contact)
    messages.success(request, _("Contact deleted."))
    return redirect(
        reverse("customers:customer-detail", args=[contact.customer_id])
        + "#tab-contacts"
    )
