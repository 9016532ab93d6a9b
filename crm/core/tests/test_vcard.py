"""X5 vCard export (3.0 and 4.0): one or many contacts per file, Chinese names intact,
every field back as it went in when parsed with `vobject`."""

import datetime

import pytest
import vobject

from crm.core.vcard import split_name, write_vcard, write_vcards

NANA = {
    "uid": "contact-12@crm",
    "name": "欧阳娜娜",
    "org": "北京华为技术有限公司",
    "department": "采购部",
    "title": "采购经理",
    "phones": {
        "work": "010-12345678",
        "cell": "13800138000",
        "home": "021-87654321",
        "fax": "010-12345679",
    },
    "email": "nana@example.com",
    "address": {
        "street": "科技园南区, 1号楼; A座",
        "city": "深圳市",
        "region": "广东省",
        "postcode": "518000",
        "country": "中国",
    },
    "birthday": datetime.date(1990, 2, 28),
    "note": "喜欢羽毛球，也打乒乓球; 周末不接电话\n第二行 \\ 反斜杠" + "很长" * 40,
    "url": "https://crm.example.com/customers/contacts/12/",
}


def parse(data: bytes) -> list:
    return list(vobject.readComponents(data.decode("utf-8")))


def phones(card) -> dict[str, str]:
    """{type: number}, the types lower-cased and joined as written (work,voice)."""
    result = {}
    for tel in card.contents.get("tel", []):
        types = ",".join(t.lower() for t in tel.params.get("TYPE", []))
        result[types] = tel.value
    return result


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_a_contact_round_trips_through_vobject(version):
    (card,) = parse(write_vcard(NANA, version=version))
    assert card.version.value == version
    assert card.fn.value == "欧阳娜娜"
    assert (card.n.value.family, card.n.value.given) == ("欧阳", "娜娜")
    assert card.org.value == ["北京华为技术有限公司", "采购部"]
    assert card.title.value == "采购经理"
    assert phones(card) == {
        "work,voice": "010-12345678",
        "cell,voice": "13800138000",
        "home,voice": "021-87654321",
        "work,fax": "010-12345679",
    }
    assert card.email.value == "nana@example.com"
    address = card.adr.value
    assert (address.street, address.city, address.region) == (
        "科技园南区, 1号楼; A座",
        "深圳市",
        "广东省",
    )
    assert (address.code, address.country) == ("518000", "中国")
    assert card.note.value == NANA["note"]
    assert card.url.value == NANA["url"]
    birthday = card.bday.value
    assert birthday == ("1990-02-28" if version == "3.0" else "19900228")


def test_version_4_uid_is_a_urn_and_stable():
    (first,) = parse(write_vcard(NANA, version="4.0"))
    (again,) = parse(write_vcard(NANA, version="4.0"))
    assert first.uid.value.startswith("urn:uuid:")
    assert first.uid.value == again.uid.value
    (v3,) = parse(write_vcard(NANA, version="3.0"))
    assert v3.uid.value == "contact-12@crm"


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_many_contacts_in_one_file(version):
    data = write_vcards(
        [NANA, {"name": "张三"}, {"name": "Anna Smith", "email": "anna@example.com"}],
        version=version,
    )
    cards = parse(data)
    assert [c.fn.value for c in cards] == ["欧阳娜娜", "张三", "Anna Smith"]
    assert (cards[1].n.value.family, cards[1].n.value.given) == ("张", "三")
    assert (cards[2].n.value.family, cards[2].n.value.given) == ("Smith", "Anna")


def test_the_file_is_utf8_with_crlf_and_folded_lines():
    text = write_vcard(NANA).decode("utf-8")
    assert text.startswith("BEGIN:VCARD\r\nVERSION:3.0\r\n")
    assert text.endswith("END:VCARD\r\n")
    assert "\n" not in text.replace("\r\n", "")
    assert all(len(line.encode("utf-8")) <= 75 for line in text.split("\r\n"))


def test_empty_fields_are_left_out():
    text = write_vcard(
        {"name": "李四", "phones": {"cell": "", "work": None}, "address": {}}
    ).decode()
    for name in ("TEL", "ADR", "EMAIL", "BDAY", "ORG", "NOTE"):
        assert f"\r\n{name}" not in text
    (card,) = parse(text.encode())
    assert card.fn.value == "李四"


def test_given_family_and_given_names_win_over_the_split():
    (card,) = parse(
        write_vcard({"name": "司马懿", "family_name": "司", "given_name": "马懿"})
    )
    assert (card.n.value.family, card.n.value.given) == ("司", "马懿")


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("张三", ("张", "三")),
        ("王小明", ("王", "小明")),
        ("欧阳娜娜", ("欧阳", "娜娜")),
        ("诸葛亮", ("诸葛", "亮")),
        ("欧阳", ("欧", "阳")),  # two characters: a surname and a given name
        ("李", ("李", "")),
        ("Anna Maria Smith", ("Smith", "Anna Maria")),
        ("Madonna", ("Madonna", "")),
        ("", ("", "")),
    ],
)
def test_split_name(name, parts):
    assert split_name(name) == parts


def test_unknown_version_is_refused():
    with pytest.raises(ValueError, match="version"):
        write_vcard(NANA, version="2.1")
