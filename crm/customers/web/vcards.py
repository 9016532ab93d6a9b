"""X5 vCard downloads: one contact, a customer's contacts, or the contact list's selection
(its search and filters, or chosen ids). Needs customers.view_contact; the data scope and
field rights apply (hidden fields are left out of the cards)."""

from django.http import HttpResponse
from django.utils.http import content_disposition_header

from crm.core.api.serializers import is_id
from crm.core.lists import REGISTRY
from crm.core.scopes import authorize
from crm.core.vcard import CONTENT_TYPE
from crm.customers.care import contacts_vcards, vcard_version
from crm.customers.selectors import contact_get, contact_queryset, customer_get


def _response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=filename
    )
    return response


def contact_vcard(request, pk):
    authorize(request.user, "customers.view_contact")
    version = vcard_version(request.GET.get("version"))
    contact = contact_get(actor=request.user, pk=pk)
    data = contacts_vcards(
        actor=request.user,
        contacts=contact_queryset(actor=request.user).filter(pk=contact.pk),
        version=version,
        base_url=request.build_absolute_uri("/"),
    )
    return _response(data, f"{contact.name}.vcf")


def contacts_vcard(request):
    """?customer=<id>: that customer's contacts; ?ids=1&ids=2: those contacts; else the
    contact list's search and filters (q, gender, …) as on the list page."""
    authorize(request.user, "customers.view_contact")
    user, params = request.user, request.GET
    version = vcard_version(params.get("version"))
    filename = "contacts.vcf"
    if params.get("customer"):
        customer = customer_get(actor=user, pk=params["customer"])
        contacts = contact_queryset(actor=user).filter(customer=customer)
        filename = f"{customer.name}.vcf"
    elif params.getlist("ids"):
        ids = [int(v) for v in params.getlist("ids") if is_id(v)]
        contacts = contact_queryset(actor=user).filter(pk__in=ids)
    else:
        contacts, _filterset = REGISTRY["customers.contact"].queryset(user, params)
    data = contacts_vcards(
        actor=user,
        contacts=contacts,
        version=version,
        base_url=request.build_absolute_uri("/"),
    )
    return _response(data, filename)
