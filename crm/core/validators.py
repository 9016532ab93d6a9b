"""Validators for Chinese identifiers that many modules store: the unified social credit
code (统一社会信用代码, GB 32100-2015) and mainland phone numbers."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# GB 32100-2015: 31 characters, without I, O, Z, S and V.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_SHAPE = re.compile(rf"^[{USCC_ALPHABET}]{{2}}\d{{6}}[{USCC_ALPHABET}]{{10}}$")

MOBILE = re.compile(r"^1[3-9]\d{9}$")
# Area code 0xx or 0xxx, a local number of 7-8 digits, an optional extension.
LANDLINE = re.compile(r"^0\d{2,3}-[1-9]\d{6,7}(-\d{1,6})?$")


def uscc_check_character(first17: str) -> str:
    """The 18th character of a credit code, computed from the first 17 (GB 32100-2015)."""
    total = sum(
        USCC_ALPHABET.index(char) * weight
        for char, weight in zip(first17, USCC_WEIGHTS, strict=True)
    )
    return USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(value: str) -> bool:
    value = (value or "").strip().upper()
    if not _USCC_SHAPE.match(value):
        return False
    return uscc_check_character(value[:17]) == value[17]


def validate_uscc(value: str) -> None:
    """18 characters from the GB 32100-2015 alphabet ending with the right check character."""
    code = (value or "").strip().upper()
    if len(code) != 18:
        raise ValidationError(
            _("A unified social credit code has 18 characters."), code="uscc_length"
        )
    if not _USCC_SHAPE.match(code):
        raise ValidationError(
            _(
                "A unified social credit code uses digits and the letters "
                "A–Y except I, O, S, V (characters 3–8 are digits)."
            ),
            code="uscc_characters",
        )
    if uscc_check_character(code[:17]) != code[17]:
        raise ValidationError(
            _("The check character of this credit code is wrong: please check it."),
            code="uscc_check",
        )


def is_cn_mobile(value: str) -> bool:
    return bool(MOBILE.match((value or "").strip()))


def validate_cn_phone(value: str) -> None:
    """A mainland mobile (13800138000) or landline (010-12345678, 0755-1234567-801)."""
    text = (value or "").strip()
    if MOBILE.match(text) or LANDLINE.match(text):
        return
    raise ValidationError(
        _(
            "Enter a mobile number (11 digits starting with 13–19) or a landline "
            "with its area code, such as 010-12345678 or 0755-1234567-801."
        ),
        code="phone",
    )


def validate_cn_mobile(value: str) -> None:
    """A mainland mobile number: 11 digits starting with 13 to 19."""
    if not is_cn_mobile(value):
        raise ValidationError(
            _("Enter a mobile number: 11 digits starting with 13 to 19."),
            code="mobile",
        )


# Before 1900 the time zone database gives local mean time (+08:05:43 in Shanghai), which
# no ISO 8601 client can read back; no CRM event happened then anyway.
EARLIEST_YEAR = 1900


def is_too_early(moment) -> bool:
    """A date or time before EARLIEST_YEAR: refused by every service that stores one."""
    return moment is not None and moment.year < EARLIEST_YEAR
