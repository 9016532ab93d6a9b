"""Pinyin helpers for Chinese names: mnemonic codes (助记码) and pinyin-initials search."""

from pypinyin import Style, lazy_pinyin


def pinyin_initials(text: str, max_length: int = 64) -> str:
    """The upper-case pinyin initials of the Chinese characters, other letters and digits
    kept as they are: 北京华为技术有限公司 → BJHWJSYXGS, 3M中国 → 3MZG."""
    letters = lazy_pinyin(text or "", style=Style.FIRST_LETTER, errors="default")
    initials = "".join(
        ch for part in letters for ch in part if ch.isascii() and ch.isalnum()
    )
    return initials.upper()[:max_length]
