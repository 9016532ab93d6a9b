"""The home page's "my work" panels and shortcuts that modules contribute (S10), without
core knowing any of them — as crm.core.tabs does for a record's tabs.

A module registers a panel in its AppConfig.ready(), or in its `home` module, which is
loaded on first use (web process, API and Celery worker alike):

    register_panel("sales.instalments", _("Receivables due"), instalments_panel,
                   perm="sales.view_instalment", order=30, icon="hourglass-split")

`data(user) -> dict | None` gives the panel's content as plain values — None leaves the
panel out for this user. The home page renders every panel with one template and the API
serialises the very same dicts, so the two cannot disagree:

    {"count": int | None,          # how many items there are in all (None: no count)
     "items": [item, …],           # the first few, see Item below
     "total": Decimal | None,      # a money sum over all of them, when it means something
     "more_url": str,              # the page listing all of them ("" if none)
     "empty": str}                 # what to say when there is nothing

A panel's data must cost a constant number of queries (a count and a LIMITed list), so the
home page stays fast however much data there is. `perm` (one permission, or a tuple of
which any one will do) is checked before `data` is called.

Shortcuts are links to the places a rep looks things up in ("one place", S10); a shortcut
whose list accepts `?q=` is offered as a target of the home page's search box.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TypedDict

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.module_loading import autodiscover_modules

from crm.core.scopes import can

PANEL_ITEMS = 6  # items a panel shows; its count says how many there are in all

ITEM_DEFAULTS = {
    "kind": "",
    "subtitle": "",
    "url": "",
    "date": None,
    "amount": None,
    "money": "product",
    "status": "",
    "status_label": "",
    "overdue": False,
}


class Item(TypedDict, total=False):
    kind: str  # what the item is: "quote", "activity", …
    id: int
    title: str
    subtitle: str
    url: str
    date: date | datetime | None
    amount: Decimal | None
    money: str  # the document type whose decimal places format the amount (Y2)
    status: str  # a raw status value (badge colour) …
    status_label: str  # … and its label
    overdue: bool


@dataclass(frozen=True)
class Panel:
    key: str
    title: str | Promise
    data: Callable
    perm: str | tuple[str, ...] | None = None
    order: int = 100
    icon: str = ""
    wide: bool = False  # takes a whole row on large screens


@dataclass(frozen=True)
class Shortcut:
    key: str
    label: str | Promise
    url_name: str
    perm: str | None = None
    icon: str = ""
    order: int = 100
    searchable: bool = False  # the page filters by ?q=


PANELS: dict[str, Panel] = {}
SHORTCUTS: dict[str, Shortcut] = {}
_discovered = False


def register_panel(
    key: str,
    title: str | Promise,
    data: Callable,
    *,
    perm: str | tuple[str, ...] | None = None,
    order: int = 100,
    icon: str = "",
    wide: bool = False,
) -> Panel:
    """Add (or replace) the home panel `key`."""
    panel = Panel(key, title, data, perm, order, icon, wide)
    PANELS[key] = panel
    return panel


def unregister_panel(key: str) -> None:
    PANELS.pop(key, None)


def register_shortcut(
    key: str,
    label: str | Promise,
    url_name: str,
    *,
    perm: str | None = None,
    icon: str = "",
    order: int = 100,
    searchable: bool = False,
) -> Shortcut:
    """Add (or replace) a link on the home page to a place where things are looked up."""
    shortcut = Shortcut(key, label, url_name, perm, icon, order, searchable)
    SHORTCUTS[key] = shortcut
    return shortcut


def _discover() -> None:
    global _discovered
    if not _discovered:
        autodiscover_modules("home")
        _discovered = True


def _allowed(user, perm: str | tuple[str, ...] | None) -> bool:
    if not perm:
        return True
    perms = (perm,) if isinstance(perm, str) else perm
    return any(can(user, p) for p in perms)


def panels_for(user) -> list[Panel]:
    """The panels this user may see, in their order."""
    _discover()
    panels = [p for p in PANELS.values() if _allowed(user, p.perm)]
    return sorted(panels, key=lambda p: (p.order, p.key))


def home_panels(user) -> list[dict]:
    """Each visible panel with its data: {"key", "title", "icon", "wide", **data}."""
    result = []
    for panel in panels_for(user):
        data = panel.data(user)
        if data is None:
            continue
        result.append(
            {
                "key": panel.key,
                "title": str(panel.title),
                "icon": panel.icon,
                "wide": panel.wide,
                "count": data.get("count"),
                "items": [{**ITEM_DEFAULTS, **item} for item in data.get("items", [])],
                "total": data.get("total"),
                "more_url": data.get("more_url", ""),
                "empty": str(data.get("empty", "")),
            }
        )
    return result


def shortcuts_for(user) -> list[dict]:
    """The shortcuts whose page exists and which this user may open."""
    _discover()
    result = []
    for shortcut in sorted(SHORTCUTS.values(), key=lambda s: (s.order, s.key)):
        if not _allowed(user, shortcut.perm):
            continue
        url = url_or_blank(shortcut.url_name)
        if not url:
            continue
        result.append(
            {
                "key": shortcut.key,
                "label": str(shortcut.label),
                "url": url,
                "icon": shortcut.icon,
                "searchable": shortcut.searchable,
            }
        )
    return result


def url_or_blank(name: str, *args) -> str:
    """The URL, or "" while the page does not exist (a module not installed yet)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""
