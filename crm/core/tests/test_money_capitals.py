"""S3: amounts in Chinese capitals (人民币大写) by the PBOC writing rules."""

from decimal import Decimal

import pytest

from crm.core.money import rmb_capitals


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        # The example of the issue, and the plain cases.
        ("12345.67", "人民币壹万贰仟叁佰肆拾伍元陆角柒分"),
        ("0", "人民币零元整"),
        ("0.00", "人民币零元整"),
        ("1", "人民币壹元整"),
        ("10", "人民币壹拾元整"),
        ("15", "人民币壹拾伍元整"),
        ("100", "人民币壹佰元整"),
        ("1000000.00", "人民币壹佰万元整"),
        ("100000000", "人民币壹亿元整"),
        # 零 for a run of zeros inside the number (one 零 for several zeros).
        ("1409.50", "人民币壹仟肆佰零玖元伍角"),
        ("6007.14", "人民币陆仟零柒元壹角肆分"),
        ("10001", "人民币壹万零壹元整"),
        ("100700", "人民币壹拾万零柒佰元整"),
        ("100010000", "人民币壹亿零壹万元整"),
        ("100000001", "人民币壹亿零壹元整"),
        ("100001000", "人民币壹亿零壹仟元整"),
        (
            "123456789012.34",
            "人民币壹仟贰佰叁拾肆亿伍仟陆佰柒拾捌万玖仟零壹拾贰元叁角肆分",
        ),
        # Zeros at the end of a group are not read; the 元 → 角 zero is not written.
        ("107000.53", "人民币壹拾万柒仟元伍角叁分"),
        ("1680.32", "人民币壹仟陆佰捌拾元叁角贰分"),
        ("20000", "人民币贰万元整"),
        # 角 zero, 分 not: 零 after 元.
        ("10.05", "人民币壹拾元零伍分"),
        ("16409.02", "人民币壹万陆仟肆佰零玖元零贰分"),
        ("325.04", "人民币叁佰贰拾伍元零肆分"),
        # 整 only when there are neither 角 nor 分.
        ("12.30", "人民币壹拾贰元叁角"),
        ("12.3", "人民币壹拾贰元叁角"),
        ("12.00", "人民币壹拾贰元整"),
        # Under one yuan: no 元.
        ("0.50", "人民币伍角"),
        ("0.05", "人民币伍分"),
        ("0.56", "人民币伍角陆分"),
        # Above 亿.
        ("1000000000000", "人民币壹万亿元整"),
        ("1000100000000", "人民币壹万零壹亿元整"),
        ("1000000000001", "人民币壹万亿零壹元整"),
        (
            "99999999999999.99",
            "人民币玖拾玖万玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分",
        ),
        # Negative amounts.
        ("-100", "人民币负壹佰元整"),
        ("-0.05", "人民币负伍分"),
        ("-12345.67", "人民币负壹万贰仟叁佰肆拾伍元陆角柒分"),
        # More than two decimals: rounded half up to the cent first.
        ("0.005", "人民币壹分"),
        ("0.004", "人民币零元整"),
        ("-0.004", "人民币零元整"),
        ("12.345", "人民币壹拾贰元叁角伍分"),
        ("12.344999", "人民币壹拾贰元叁角肆分"),
        ("9.995", "人民币壹拾元整"),
        ("99999.999", "人民币壹拾万元整"),
    ],
)
def test_rmb_capitals(amount, expected):
    assert rmb_capitals(Decimal(amount)) == expected


def test_rmb_capitals_takes_ints_and_strings():
    assert rmb_capitals(1000) == "人民币壹仟元整"
    assert rmb_capitals("12345.67") == "人民币壹万贰仟叁佰肆拾伍元陆角柒分"


@pytest.mark.parametrize("amount", ["abc", "NaN", "Infinity", None, "1e16"])
def test_rmb_capitals_refuses_what_is_no_amount(amount):
    with pytest.raises(ValueError, match="amount"):
        rmb_capitals(amount)


def test_rmb_capitals_refuses_floats():
    with pytest.raises(TypeError):
        rmb_capitals(0.1)
