"""The sidebar: each app registers its section in AppConfig.ready(); core knows none of them."""

from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse


@dataclass
class MenuItem:
    label: str
    url_name: str
    perm: str | None = None
    icon: str = ""


@dataclass
class MenuSection:
    key: str
    label: str
    icon: str
    order: int = 100
    items: list[MenuItem] = field(default_factory=list)


SECTIONS: dict[str, MenuSection] = {}


def register_section(section: MenuSection) -> None:
    SECTIONS[section.key] = section


def menu_for(user, current_path: str) -> list[dict]:
    """The sections and items this user may open; the item whose URL is the longest prefix
    of the current path is the active one (so /products/categories/ is not also /products/)."""
    result = []
    for section in sorted(SECTIONS.values(), key=lambda s: s.order):
        items = []
        for item in section.items:
            if item.perm and not user.has_perm(item.perm):
                continue
            try:
                url = reverse(item.url_name)
            except NoReverseMatch:
                continue
            items.append(
                {
                    "label": item.label,
                    "url": url,
                    "url_name": item.url_name,
                    "perm": item.perm,
                    "icon": item.icon,
                    "active": False,
                }
            )
        if items:
            result.append(
                {
                    "key": section.key,
                    "label": section.label,
                    "icon": section.icon,
                    "items": items,
                    "active": False,
                }
            )
    _mark_active(result, current_path)
    return result


def _mark_active(sections: list[dict], current_path: str) -> None:
    best_section, best_item = None, None
    for section in sections:
        for item in section["items"]:
            url = item["url"]
            if url == "/" or not current_path.startswith(url):
                continue
            if best_item is None or len(url) > len(best_item["url"]):
                best_section, best_item = section, item
    if best_item is not None:
        best_item["active"] = best_section["active"] = True
