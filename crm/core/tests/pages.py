"""Read pages as a user does: the visible text, not the markup around it."""

import html
import re


def text(response_or_html) -> str:
    """The visible text of a page: no tags, scripts or attributes; single spaces; numbers
    without thousands separators (98,765.43 reads 98765.43)."""
    content = response_or_html
    if not isinstance(content, str):
        content = content.content.decode()
    content = re.sub(r"<(script|style)\b.*?</\1>", " ", content, flags=re.S)
    content = re.sub(r"<[^>]+>", " ", content)
    content = html.unescape(content)
    content = re.sub(r"(?<=\d),(?=\d{3}\b)", "", content)
    return re.sub(r"\s+", " ", content).strip()


def section(response, marker: str) -> str:
    """The visible text from the element carrying `marker` (e.g. 'id="tab-history"') on."""
    content = response.content.decode()
    return text(content[content.index(marker) :])


def product_codes(response) -> list[str]:
    """The product codes (P-0001…) a page shows, in order, each once."""
    seen: list[str] = []
    for code in re.findall(r"\bP-\d{4}\b", text(response)):
        if code not in seen:
            seen.append(code)
    return seen


def record_count(response) -> str:
    """The list's count line: "8 records", "More than 5 records" or "About 900 records"."""
    match = re.search(
        r"(More than \d+ records|About [\d,]+ records|\b\d+ records?\b)", text(response)
    )
    assert match, "the list shows no record count"
    return match.group(1)
