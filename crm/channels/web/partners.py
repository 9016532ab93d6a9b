"""D1 HQ partner pages: list (search, filters, sort, export), detail (territories,
network, portal users, links to the partner's records in the other areas), create/edit,
territories, portal users and tiers. Thin views over selectors and services."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from crm.channels.selectors import partners as selectors
from crm.channels.services import partners as services
from crm.channels.web.partners_forms import (
    PartnerForm,
    PortalUserForm,
    TerritoryEndForm,
    TerritoryForm,
    TierForm,
)
from crm.core.errors import DomainError
from crm.core.scopes import authorize, can
from crm.core.web.views import DetailPageView, ListPageView, RecordFormView


def _url(name: str, *args, query: str = "") -> str:
    """A link to another area's page, or "" while that page does not exist."""
    try:
        return reverse(name, args=args) + query
    except NoReverseMatch:
        return ""


class PartnerListView(ListPageView):
    spec_key = "channels.partner"
    create_url_name = "channels:partner-create"
    create_perm = "channels.add_partner"

    @property
    def extra_actions(self):
        return [
            {
                "url": reverse("channels:tier-list"),
                "label": _("Tiers"),
                "icon": "bar-chart-steps",
                "perms": ["channels.view_tier"],
            }
        ]


# The other areas' lists of one partner's records (?partner=<id>).
RELATED = (
    ("channels:agreement-list", "file-earmark-ruled", gettext_lazy("Agreements")),
    (
        "channels:purchaseorder-list",
        "box-arrow-in-down",
        gettext_lazy("Purchase orders"),
    ),
    ("channels:sellthrough-list", "receipt", gettext_lazy("Sales reports")),
    ("channels:inventory", "boxes", gettext_lazy("Stock")),
    ("channels:target-list", "bullseye", gettext_lazy("Targets")),
    ("channels:plan-list", "megaphone", gettext_lazy("Marketing plans")),
    ("channels:deal-list", "person-check", gettext_lazy("Deal registrations")),
)


def _related_links(partner) -> list[dict]:
    links = []
    for name, icon, label in RELATED:
        url = _url(name, query=f"?partner={partner.pk}")
        if url:
            links.append({"url": url, "icon": icon, "label": label})
    return links


class PartnerDetailView(DetailPageView):
    spec_key = "channels.partner"
    template_name = "channels/partners/detail.html"
    fields = [
        "number",
        "name",
        "short_name",
        "kind",
        "tier",
        "status",
        "parent",
        "owner",
        "department",
        "region",
        "regions_served",
        "credit_limit",
        "contact_name",
        "phone",
        "email",
        "address",
        "tax_number",
        "joined_on",
        "notes",
        "created_at",
        "updated_at",
    ]
    list_url_name = "channels:partner-list"
    edit_url_name = "channels:partner-edit"
    edit_perm = "channels.change_partner"
    territory_form = None
    territory_status = 200

    def get_object(self, pk):
        return selectors.partner_get(actor=self.request.user, pk=pk)

    def extra_context(self, obj):
        user = self.request.user
        can_users = can(user, "channels.manage_partnerusers")
        return {
            "partner": obj,
            "territories": selectors.partner_territories(partner=obj),
            "territory_form": (self.territory_form or TerritoryForm())
            if can(user, "channels.add_territory")
            else None,
            "can_end_territory": can(user, "channels.change_territory"),
            "can_remove_territory": can(user, "channels.delete_territory"),
            "children": selectors.partner_children(actor=user, partner=obj),
            "parent_visible": obj.parent_id
            and selectors.partners_visible(user).filter(pk=obj.parent_id).exists(),
            "members": list(selectors.partner_members(partner=obj)),
            "can_manage_users": can_users,
            "user_create_url": reverse("channels:partner-user-create", args=[obj.pk])
            if can_users
            else "",
            "related": _related_links(obj),
        }


class PartnerFormView(RecordFormView):
    spec_key = "channels.partner"
    form_class = PartnerForm
    create_service = services.partner_create
    update_service = services.partner_update
    success_url_name = "channels:partner-detail"
    list_url_name = "channels:partner-list"

    def get_object(self, pk):
        return selectors.partner_get(actor=self.request.user, pk=pk)

    def get(self, request, pk=None):
        authorize(
            request.user, "channels.change_partner" if pk else "channels.add_partner"
        )
        return super().get(request, pk)

    def post(self, request, pk=None):
        authorize(
            request.user, "channels.change_partner" if pk else "channels.add_partner"
        )
        return super().post(request, pk)


# Territories


@require_POST
def territory_add(request, pk):
    partner = selectors.partner_get(actor=request.user, pk=pk)
    authorize(request.user, "channels.add_territory")
    form = TerritoryForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            services.territory_add(
                actor=request.user, partner=partner, data=form.cleaned_data
            )
        except DomainError as exc:
            if exc.status in (403, 404):
                raise
            status = exc.status
            for name, errors in exc.fields.items():
                for error in errors:
                    form.add_error(name if name in form.fields else None, error)
            if not exc.fields:
                form.add_error(None, exc.message)
        else:
            messages.success(request, _("Territory added."))
            return redirect(
                reverse("channels:partner-detail", args=[pk]) + "#tab-territories"
            )
    view = PartnerDetailView()
    view.setup(request, pk=pk)
    view.territory_form = form
    response = view.get(request, pk)
    response.status_code = status
    return response


def _territory_action(request, pk, action):
    territory = selectors.territory_get(actor=request.user, pk=pk)
    url = (
        reverse("channels:partner-detail", args=[territory.partner_id])
        + "#tab-territories"
    )
    try:
        action(territory)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.message)
    return redirect(url)


@require_POST
def territory_end(request, pk):
    form = TerritoryEndForm(request.POST)

    def end(territory):
        if not form.is_valid():
            raise DomainError(_("Enter a valid date."))
        services.territory_end(
            actor=request.user,
            territory=territory,
            ends_on=form.cleaned_data["ends_on"],
        )
        messages.success(request, _("Territory end date saved."))

    return _territory_action(request, pk, end)


@require_POST
def territory_remove(request, pk):
    def remove(territory):
        services.territory_remove(actor=request.user, territory=territory)
        messages.success(request, _("Territory removed."))

    return _territory_action(request, pk, remove)


# Portal users (HQ side)


def partner_user_create(request, pk):
    partner = selectors.partner_get(actor=request.user, pk=pk)
    authorize(request.user, "channels.manage_partnerusers")
    form = PortalUserForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.partner_user_create(
                    actor=request.user, partner=partner, data=form.cleaned_data
                )
            except DomainError as exc:
                if exc.status in (403, 404):
                    raise
                status = exc.status
                for name, errors in exc.fields.items():
                    for error in errors:
                        form.add_error(name if name in form.fields else None, error)
                if not exc.fields:
                    form.add_error(None, exc.message)
            else:
                messages.success(request, _("Portal user created."))
                return redirect(
                    reverse("channels:partner-detail", args=[pk]) + "#tab-users"
                )
    detail_url = reverse("channels:partner-detail", args=[pk])
    return render(
        request,
        "core/form.html",
        {
            "form": form,
            "title": _("New portal user of %(partner)s") % {"partner": partner},
            "list_url": reverse("channels:partner-list"),
            "cancel_url": detail_url,
        },
        status=status,
    )


@require_POST
def partner_user_deactivate(request, pk):
    member = selectors.hq_member_get(actor=request.user, pk=pk)
    try:
        services.partner_user_deactivate(actor=request.user, member=member)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, _("User deactivated."))
    return redirect(
        reverse("channels:partner-detail", args=[member.partner_id]) + "#tab-users"
    )


# Tiers


def tier_list(request):
    authorize(request.user, "channels.view_tier")
    return render(
        request,
        "channels/partners/tiers.html",
        {
            "title": _("Partner tiers"),
            "tiers": selectors.tiers_with_counts(),
            "can_add": can(request.user, "channels.add_tier"),
            "can_change": can(request.user, "channels.change_tier"),
        },
    )


class TierFormView(RecordFormView):
    spec_key = "channels.tier"
    form_class = TierForm
    create_service = services.tier_create
    update_service = services.tier_update
    list_url_name = "channels:tier-list"

    def success_url(self, obj):
        return reverse("channels:tier-list")

    def get_object(self, pk):
        return selectors.tier_get(pk)

    def get(self, request, pk=None):
        authorize(request.user, "channels.change_tier" if pk else "channels.add_tier")
        return super().get(request, pk)

    def post(self, request, pk=None):
        authorize(request.user, "channels.change_tier" if pk else "channels.add_tier")
        return super().post(request, pk)


urlpatterns = [
    path("partners/", PartnerListView.as_view(), name="partner-list"),
    path("partners/new/", PartnerFormView.as_view(), name="partner-create"),
    path("partners/<int:pk>/", PartnerDetailView.as_view(), name="partner-detail"),
    path("partners/<int:pk>/edit/", PartnerFormView.as_view(), name="partner-edit"),
    path("partners/<int:pk>/territories/add/", territory_add, name="territory-add"),
    path("territories/<int:pk>/end/", territory_end, name="territory-end"),
    path("territories/<int:pk>/remove/", territory_remove, name="territory-remove"),
    path(
        "partners/<int:pk>/users/new/",
        partner_user_create,
        name="partner-user-create",
    ),
    path(
        "partner-users/<int:pk>/deactivate/",
        partner_user_deactivate,
        name="partner-user-deactivate",
    ),
    path("tiers/", tier_list, name="tier-list"),
    path("tiers/new/", TierFormView.as_view(), name="tier-create"),
    path("tiers/<int:pk>/edit/", TierFormView.as_view(), name="tier-edit"),
]
