"""Decide a file's type from its bytes (never from the client), against an allowlist."""

import puremagic

# extension puremagic reports -> the type we serve it as
ALLOWED = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".pdf": "application/pdf",
    ".zip": "application/zip",
}
INLINE_SAFE = {"image/png", "image/jpeg", "image/gif", "image/webp"}


def sniff(head: bytes) -> str | None:
    """The allowed content type of a file starting with `head`, or None."""
    if not head:
        return None
    try:
        matches = puremagic.magic_string(head)
    except puremagic.PureError:
        matches = []
    for match in matches:
        kind = ALLOWED.get(match.extension.lower())
        if kind:
            return kind
    if matches and any(m.confidence >= 0.8 for m in matches):
        return None  # something recognisable but not allowed (svg, html, exe, ...)
    return "text/plain" if _plain_text(head) else None


def _plain_text(head: bytes) -> bool:
    """UTF-8 without NULs, and not a markup document (HTML, SVG, XML)."""
    if b"\x00" in head or head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        # the head may end inside a multi-byte character
        try:
            head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True
