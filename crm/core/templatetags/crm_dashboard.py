"""Home dashboard: one card per list in the user's menu, counted inside the user's data scope.

Core knows no domain app: the cards come from the menu (already filtered by permission). A menu
item that opens a list page is counted with that page's ListSpec, so the card shows exactly the
rows the list shows; other items (trees) count the model named by their `app.view_model`
permission through its `visible_to`. Counts are capped like list pages, so a large table costs
no full COUNT(*).
"""

from django import template
from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Count
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

from crm.core.lists import REGISTRY
from crm.core.models import AuditEvent
from crm.core.templatetags.crm_ui import status_tone

register = template.Library()


def _model_for(perm: str | None):
    if not perm or "." not in perm:
        return None
    app_label, codename = perm.split(".", 1)
    if not codename.startswith("view_"):
        return None
    try:
        return apps.get_model(app_label, codename.removeprefix("view_"))
    except LookupError:
        return None


def _list_spec(url: str):
    """The ListSpec behind a list page's URL, if the page is a generic list."""
    try:
        match = resolve(url)
    except Resolver404:
        return None
    view_class = getattr(match.func, "view_class", None)
    return REGISTRY.get(getattr(view_class, "spec_key", "") or "")


def _rows_for(user, item):
    """(model, rows this user may see) for a menu item, or (None, None) if it lists nothing."""
    spec = _list_spec(item["url"])
    if spec is not None:
        return spec.model, spec.base_queryset(user)
    model = _model_for(item.get("perm"))
    if model is None:
        return None, None
    if hasattr(model.objects, "visible_to"):
        return model, model.objects.visible_to(user)
    return model, model.objects.all()


def _has_field(model, name: str):
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _breakdown(model, qs, total: int) -> list[dict]:
    """Rows per status (or active / inactive), for the bar under the count."""
    if not total:
        return []
    status = _has_field(model, "status")
    if status is not None and status.choices:
        labels = dict(status.flatchoices)
        counts = dict(
            qs.order_by()
            .values_list("status")
            .annotate(n=Count("pk"))
            .values_list("status", "n")
        )
        parts = [
            {"label": labels[key], "value": key, "n": counts[key]}
            for key in labels
            if counts.get(key)
        ]
    elif _has_field(model, "is_active") is not None:
        active = qs.filter(is_active=True).count()
        parts = [
            {"label": _("Active"), "value": "active", "n": active},
            {"label": _("Inactive"), "value": "inactive", "n": total - active},
        ]
        parts = [p for p in parts if p["n"]]
    else:
        return []
    for part in parts:
        part["tone"] = status_tone(part["value"])
        part["percent"] = round(100 * part["n"] / total, 1)
    return parts


@register.simple_tag(takes_context=True)
def dashboard_cards(context) -> list[dict]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    cap = settings.CRM_COUNT_CAP
    cards, seen = [], set()
    for section in context.get("menu") or []:
        for item in section["items"]:
            model, qs = _rows_for(user, item)
            if model is None or model in seen:
                continue
            seen.add(model)
            count = qs[: cap + 1].count()
            capped = count > cap
            cards.append(
                {
                    "label": item["label"],
                    "icon": item["icon"],
                    "url": item["url"],
                    "section": section["label"],
                    "count": cap if capped else count,
                    "capped": capped,
                    "breakdown": [] if capped else _breakdown(model, qs, count),
                }
            )
    return cards


@register.simple_tag(takes_context=True)
def my_recent_changes(context, limit: int = 8):
    """The user's own latest recorded changes (Y7): what they did, nothing more."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    return list(
        AuditEvent.objects.filter(actor=user).select_related("content_type")[:limit]
    )
