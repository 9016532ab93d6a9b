"""Derived forms of a customer's name: pinyin initials (search) and a comparison key
(duplicate detection: 北京华为技术有限公司 and 华为技术有限公司 share the key 华为技术)."""

import json
import re
from functools import cache
from pathlib import Path

from crm.core.pinyin import pinyin_initials

REGIONS_FILE = Path(__file__).resolve().parent / "data" / "regions.json"

# Longest first, so 股份有限公司 goes before 有限公司.
LEGAL_FORMS = (
    "股份有限公司",
    "有限责任公司",
    "集团有限公司",
    "有限公司",
    "集团公司",
    "总公司",
    "公司",
    "集团",
    "corporation",
    "limited",
    "company",
    "co.,ltd.",
    "co.,ltd",
    "co.ltd",
    "ltd.",
    "ltd",
    "inc.",
    "inc",
    "corp.",
    "corp",
    "llc",
    "gmbh",
)
PLACE_SUFFIXES = (
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "特别行政区",
    "自治区",
    "地区",
    "省",
    "市",
    "盟",
)
BRACKETS = re.compile(r"[（(\[【][^）)\]】]*[）)\]】]")
NOISE = re.compile(r"[\s\-_·.,，、。'\"“”‘’&/]+")
# A place is only taken off the front when enough of the name remains to be distinctive
# (北京大学 stays 北京大学; 北京华为技术 becomes 华为技术).
MIN_REMAINDER = 3


@cache
def place_names() -> tuple[str, ...]:
    """Province and city names, full and short (广东省, 广东), longest first."""
    regions = json.loads(REGIONS_FILE.read_text(encoding="utf-8"))
    names = set()
    for _code, province, cities in regions:
        names.add(province)
        for _city_code, city, _districts in cities:
            if "行政区划" not in city:
                names.add(city)
    for name in list(names):
        for suffix in PLACE_SUFFIXES:
            if name.endswith(suffix) and len(name) - len(suffix) >= 2:
                names.add(name[: -len(suffix)])
                break
    return tuple(sorted(names, key=len, reverse=True))


@cache
def place_names_by_start() -> dict[str, tuple[str, ...]]:
    """place_names() by their first character, longest first (name_key tries a few
    instead of all of them)."""
    groups: dict[str, list[str]] = {}
    for name in place_names():
        groups.setdefault(name[:1], []).append(name)
    return {start: tuple(names) for start, names in groups.items()}


def name_key(name: str) -> str:
    """The name without brackets, punctuation, legal form and leading place names."""
    key = BRACKETS.sub("", (name or "").strip().lower())
    key = NOISE.sub("", key)
    stripped = True
    while stripped:
        stripped = False
        for form in LEGAL_FORMS:
            if key.endswith(form) and len(key) > len(form):
                key, stripped = key[: -len(form)], True
                break
    stripped = True
    while stripped:
        stripped = False
        for place in place_names_by_start().get(key[:1], ()):
            if key.startswith(place) and len(key) - len(place) >= MIN_REMAINDER:
                key, stripped = key[len(place) :], True
                break
    return key[:200]


def name_initials(name: str) -> str:
    return pinyin_initials(name, max_length=64)
