"""Content lines, the text format shared by iCalendar (RFC 5545) and vCard (RFC 6350):
CRLF line ends, lines folded at 75 octets, TEXT values escaped."""

from collections.abc import Iterable


def escape_text(value) -> str:
    """A TEXT value: backslash, semicolon and comma escaped, line breaks as \\n."""
    value = str(value).replace("\r\n", "\n").replace("\r", "\n")
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\n", "\\n")
    )


def fold_line(line: str, limit: int = 75) -> str:
    """Fold a content line into lines of at most `limit` octets (continuations start
    with one space, which counts), never splitting a multi-byte UTF-8 character."""
    parts: list[str] = []
    current: list[str] = []
    size, room = 0, limit
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > room:
            parts.append("".join(current))
            current, size, room = [], 0, limit - 1
        current.append(char)
        size += width
    parts.append("".join(current))
    return "\r\n ".join(parts)


def content_lines(lines: Iterable[str]) -> str:
    """Folded lines, each ended by CRLF."""
    return "".join(fold_line(line) + "\r\n" for line in lines)
