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
                    "icon": item.icon,
                    "active": current_path.startswith(url) and url != "/",
                }
            )
        if items:
            result.append(
                {
                    "key": section.key,
                    "label": section.label,
                    "icon": section.icon,
                    "items": items,
                    "active": any(i["active"] for i in items),
                }
            )
    return result
