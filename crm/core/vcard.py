"""X5 vCard export: contacts as vCard 3.0 (RFC 2426) or 4.0 (RFC 6350), one or many per file.

Generic: callers pass plain dicts, so any module (customer contacts, partner contacts,
employees) exports the same way:

    {
        "uid": "contact-12@crm",             # stable id, so a re-import updates
        "name": "欧阳娜娜",                   # full name, as shown
        "family_name": "", "given_name": "",  # optional; else split from `name`
        "org": "北京华为技术有限公司", "department": "采购部", "title": "采购经理",
        "phones": {"work": "010-12345678", "cell": "13800138000", "home": "", "fax": ""},
        "email": "nana@example.com",
        "address": {"street": "…", "city": "深圳市", "region": "广东省",
                    "postcode": "518000", "country": "中国"},
        "birthday": date(1990, 3, 5),
        "note": "喜欢羽毛球",
        "url": "https://crm.example.com/customers/contacts/12/",
    }

Written in UTF-8 with CRLF line ends, lines folded at 75 octets without splitting a
character, and text values escaped; the tests parse the output with `vobject`.
"""

import datetime
import uuid
from collections.abc import Iterable

from crm.core.contentlines import content_lines, escape_text

VERSIONS = ("3.0", "4.0")
CONTENT_TYPE = "text/vcard; charset=utf-8"

# Two-character surnames (复姓) in current use; any other Chinese name has a one-character
# surname, which is what phones sort by.
COMPOUND_SURNAMES = frozenset(
    [
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "夏侯",
        "轩辕",
        "令狐",
        "钟离",
        "端木",
        "闻人",
        "南宫",
        "百里",
        "西门",
        "独孤",
        "呼延",
        "澹台",
        "公冶",
        "太史",
        "申屠",
        "濮阳",
        "单于",
    ]
)

# Phone kinds and their TYPE parameters in each version.
PHONE_TYPES = {
    "work": {"3.0": "WORK,VOICE", "4.0": "work,voice"},
    "cell": {"3.0": "CELL,VOICE", "4.0": "cell,voice"},
    "home": {"3.0": "HOME,VOICE", "4.0": "home,voice"},
    "fax": {"3.0": "WORK,FAX", "4.0": "work,fax"},
}


def _is_cjk(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"


def split_name(name: str) -> tuple[str, str]:
    """(family, given) of a full name: 张三 -> (张, 三), 欧阳娜娜 -> (欧阳, 娜娜),
    "Anna Smith" -> (Smith, Anna); a name that cannot be split is all family name."""
    name = (name or "").strip()
    if not name:
        return "", ""
    if _is_cjk(name[0]) and " " not in name:
        if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES:
            return name[:2], name[2:]
        if len(name) >= 2:
            return name[0], name[1:]
        return name, ""
    parts = name.split()
    if len(parts) >= 2:
        return parts[-1], " ".join(parts[:-1])
    return name, ""


escape = escape_text


def _structured(*parts) -> str:
    """A structured value (N, ADR, ORG): components separated by ';', each escaped."""
    return ";".join(escape(p or "") for p in parts)


def _birthday(value, version: str) -> str:
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value.isoformat() if version == "3.0" else value.strftime("%Y%m%d")
    return escape(value)


def card_lines(contact: dict, version: str = "3.0") -> list[str]:
    """The content lines of one vCard."""
    if version not in VERSIONS:
        raise ValueError(f"vCard version must be one of {VERSIONS}")
    name = str(contact.get("name") or "").strip()
    family, given = contact.get("family_name"), contact.get("given_name")
    if not family and not given:
        family, given = split_name(name)
    full_name = name or f"{family or ''}{given or ''}".strip()
    lines = ["BEGIN:VCARD", f"VERSION:{version}"]
    if version == "4.0":
        lines.append("KIND:individual")
    lines.append(f"FN:{escape(full_name)}")
    lines.append(f"N:{_structured(family, given, '', '', '')}")
    if contact.get("org") or contact.get("department"):
        org = escape(contact.get("org") or "")
        if contact.get("department"):
            org += ";" + escape(contact["department"])
        lines.append(f"ORG:{org}")
    if contact.get("title"):
        lines.append(f"TITLE:{escape(contact['title'])}")
    for kind, number in (contact.get("phones") or {}).items():
        number = str(number or "").strip()
        if not number:
            continue
        types = PHONE_TYPES.get(kind, {"3.0": "VOICE", "4.0": "voice"})[version]
        if version == "4.0":
            lines.append(f"TEL;VALUE=text;TYPE={types}:{escape(number)}")
        else:
            lines.append(f"TEL;TYPE={types}:{escape(number)}")
    if contact.get("email"):
        email_type = "INTERNET,WORK" if version == "3.0" else "work"
        lines.append(f"EMAIL;TYPE={email_type}:{escape(contact['email'])}")
    address = contact.get("address") or {}
    if any(address.values()):
        adr_type = "WORK" if version == "3.0" else "work"
        lines.append(
            f"ADR;TYPE={adr_type}:"
            + _structured(
                "",
                "",
                address.get("street"),
                address.get("city"),
                address.get("region"),
                address.get("postcode"),
                address.get("country"),
            )
        )
    if contact.get("birthday"):
        lines.append(f"BDAY:{_birthday(contact['birthday'], version)}")
    if contact.get("url"):
        lines.append(f"URL:{contact['url']}")
    if contact.get("note"):
        lines.append(f"NOTE:{escape(contact['note'])}")
    if contact.get("uid"):
        uid = str(contact["uid"])
        if version == "4.0" and ":" not in uid:
            # 4.0 wants a URI: the same text always gives the same urn:uuid.
            uid = uuid.uuid5(uuid.NAMESPACE_URL, uid).urn
        lines.append(f"UID:{uid if version == '4.0' else escape(uid)}")
    lines.append("END:VCARD")
    return lines


def write_vcards(contacts: Iterable[dict], *, version: str = "3.0") -> bytes:
    """One or many vCards in one UTF-8 file (.vcf)."""
    lines: list[str] = []
    for contact in contacts:
        lines.extend(card_lines(contact, version))
    return content_lines(lines).encode("utf-8")


def write_vcard(contact: dict, *, version: str = "3.0") -> bytes:
    return write_vcards([contact], version=version)
