"""Pinyin helpers for Chinese names: mnemonic codes (助记码) and pinyin-initials search."""

from functools import lru_cache

from pypinyin import Style
from pypinyin.converter import DefaultConverter
from pypinyin.seg.simpleseg import seg

_converter = DefaultConverter()


@lru_cache(maxsize=50_000)
def _word_initials(word: str) -> str:
    """The initials of one word as lazy_pinyin cuts a text into words. lazy_pinyin
    converts each word on its own, so remembering words (公司, 有限, 科技…) gives the
    same initials several times faster when many names are derived (imports)."""
    parts = _converter.convert(word, Style.FIRST_LETTER, False, "default", strict=True)
    return "".join(
        ch
        for readings in parts
        for reading in readings
        for ch in reading
        if ch.isascii() and ch.isalnum()
    )


def pinyin_initials(text: str, max_length: int = 64) -> str:
    """The upper-case pinyin initials of the Chinese characters, other letters and digits
    kept as they are: 北京华为技术有限公司 → BJHWJSYXGS, 3M中国 → 3MZG."""
    initials = "".join(_word_initials(word) for word in seg(text or ""))
    return initials.upper()[:max_length]
