"""What the organisation module puts on the home page (S10): the company news."""

from django.urls import reverse
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.core.home import PANEL_ITEMS, register_panel, register_shortcut
from crm.org.selectors import recent_announcements


def announcements_panel(user) -> dict:
    """The newest published announcements, pinned first (one query; everybody sees them)."""
    items = []
    for a in recent_announcements(limit=PANEL_ITEMS):
        items.append(
            {
                "kind": "announcement",
                "id": a.pk,
                "title": a.title,
                "subtitle": Truncator(" ".join(a.body.split())).chars(90),
                "url": reverse("org:announcement-detail", args=[a.pk]),
                "date": a.published_at,
                "status": "pinned" if a.is_pinned else "",
                "status_label": _("Pinned") if a.is_pinned else "",
            }
        )
    return {
        "count": None,  # news has no "how many to do"
        "items": items,
        "more_url": reverse("org:announcement-list"),
        "empty": _("No announcements yet."),
    }


register_panel(
    "org.announcements",
    gettext_lazy("Company news"),
    announcements_panel,
    order=5,
    icon="megaphone",
)
register_shortcut(
    "org.announcements",
    gettext_lazy("Company news"),
    "org:announcement-list",
    icon="megaphone",
    order=10,
)
