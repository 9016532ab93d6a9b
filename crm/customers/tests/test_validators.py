"""C1: unified social credit code (GB 32100-2015), mainland phones, pinyin mnemonic codes."""

import pytest
from django.core.exceptions import ValidationError

from crm.core.pinyin import pinyin_initials
from crm.core.validators import (
    is_valid_uscc,
    uscc_check_character,
    validate_cn_mobile,
    validate_cn_phone,
    validate_uscc,
)
from crm.customers.naming import name_key

VALID_USCC = [
    "91350100M000100Y43",  # the standard's example
    "91110108551385082Q",
    "91440300708461136T",
    "91350100m000100y43",  # lower case is read as upper case
]


@pytest.mark.parametrize("code", VALID_USCC)
def test_valid_credit_codes_pass(code):
    validate_uscc(code)
    assert is_valid_uscc(code)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("91350100M000100Y44", "uscc_check"),  # wrong check character
        ("91350100M000100Y4", "uscc_length"),  # 17 characters
        ("91350100M000100Y433", "uscc_length"),  # 19 characters
        ("91350100M0001O0Y43", "uscc_characters"),  # letter O is not in the alphabet
        ("91350100I000100Y43", "uscc_characters"),  # letter I neither
        ("9135A100M000100Y43", "uscc_characters"),  # division code must be digits
        ("", "uscc_length"),
    ],
)
def test_invalid_credit_codes_are_refused_with_a_reason(code, reason):
    with pytest.raises(ValidationError) as info:
        validate_uscc(code)
    assert info.value.code == reason
    assert not is_valid_uscc(code)


def test_check_character_of_the_standard_example():
    assert uscc_check_character("91350100M000100Y4") == "3"


@pytest.mark.parametrize(
    "phone",
    [
        "13800138000",
        "19912345678",
        "010-12345678",
        "021-6888888",
        "0755-86001234",
        "0571-8765432",
        "0755-86001234-801",
    ],
)
def test_mainland_phones_pass(phone):
    validate_cn_phone(phone)


@pytest.mark.parametrize(
    "phone",
    [
        "12800138000",  # no mobile starts with 12
        "1380013800",  # 10 digits
        "138001380001",  # 12 digits
        "01012345678",  # landline without the dash
        "10-12345678",  # area code without 0
        "010-1234567890",  # local number too long
        "010-02345678",  # local numbers do not start with 0
        "+86 138 0013 8000",
        "电话号码",
    ],
)
def test_malformed_phones_are_refused(phone):
    with pytest.raises(ValidationError):
        validate_cn_phone(phone)


def test_mobile_only_validator_refuses_a_landline():
    validate_cn_mobile("13800138000")
    with pytest.raises(ValidationError):
        validate_cn_mobile("010-12345678")


@pytest.mark.parametrize(
    ("name", "initials"),
    [
        ("北京华为技术有限公司", "BJHWJSYXGS"),
        ("中国银行重庆分行", "ZGYHCQFH"),  # polyphones: 行 hang, 重 chong
        ("3M中国有限公司", "3MZGYXGS"),
        ("ABC-科技（深圳）", "ABCKJSZ"),
    ],
)
def test_mnemonic_is_the_pinyin_initials(name, initials):
    assert pinyin_initials(name) == initials


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ("北京华为技术有限公司", "华为技术有限公司", True),
        ("西门子（中国）有限公司", "西门子有限公司", True),
        ("上海电气集团股份有限公司", "上海电气有限公司", True),
        ("北京大学", "南京大学", False),  # too little is left without the place
        ("华为技术有限公司", "华为科技有限公司", False),
    ],
)
def test_name_key_groups_the_same_company(first, second, same):
    assert (name_key(first) == name_key(second)) is same
