"""Connection strings for the bulk readers, built from the parsed SQLAlchemy URL; and removing secrets from text.

Every driver gets its connection string assembled from the URL's parts with that driver's escaping, never by
re-rendering the URL: libpq (ADBC PostgreSQL) a `postgresql://` URI with every part percent-encoded; SQLite
(ADBC) a read-only `file:` URI with the path percent-encoded. Messages from drivers pass through `scrub`,
which removes the URL's user name and password in every form they may take in a message (as given,
percent-encoded, form-encoded) and only as whole tokens, so that a user `u` does not damage "refused".
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote, quote_plus, unquote

import sqlalchemy as sa
from sqlalchemy.engine import make_url

MASK = "***"


def libpq_uri(url: str | sa.URL) -> str:
    """A libpq connection URI for a SQLAlchemy PostgreSQL URL, every part percent-encoded."""
    parsed = make_url(url) if isinstance(url, str) else url
    auth = ""
    if parsed.username is not None:
        auth = quote(parsed.username, safe="")
        if parsed.password is not None:
            auth += ":" + quote(str(parsed.password), safe="")
        auth += "@"
    host = parsed.host or ""
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    else:
        host = quote(host, safe="")
    port = f":{parsed.port}" if parsed.port else ""
    database = "/" + quote(parsed.database, safe="") if parsed.database else ""
    pairs = []
    for key, value in parsed.query.items():
        for item in value if isinstance(value, tuple) else (value,):
            pairs.append(f"{quote(key, safe='')}={quote(str(item), safe='')}")
    query = "?" + "&".join(pairs) if pairs else ""
    return f"postgresql://{auth}{host}{port}{database}{query}"


def sqlite_uri(path: str) -> str:
    """A read-only SQLite URI for a database file (the path percent-encoded: `?`, `#` and `%` are data)."""
    return "file:" + quote(str(Path(path).resolve()), safe="/") + "?mode=ro"


def secret_forms(secret: str) -> set[str]:
    """Every form a secret may take in a message: as given, percent-encoded, form-encoded, and decoded."""
    forms = {secret, quote(secret, safe=""), quote(secret), quote_plus(secret), unquote(secret)}
    return {f for f in forms if f}


def url_secrets(url: str | sa.URL) -> set[str]:
    """The user name and password of a URL (empty when it cannot be parsed or has none)."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except Exception:
        return set()
    return {str(s) for s in (parsed.username, parsed.password) if s}


def scrub(message: object, secrets: set[str] | str | sa.URL) -> str:
    """The text with every form of every secret replaced by *** where it stands as a whole token."""
    text = str(message)
    if not isinstance(secrets, set):
        secrets = url_secrets(secrets)
    forms = sorted({form for s in secrets for form in secret_forms(s)}, key=len, reverse=True)
    for form in forms:
        # a letter or digit (any script; not `_`) next to the form means it is part of a longer word
        before = r"(?<![^\W_])" if form[0].isalnum() else ""
        after = r"(?![^\W_])" if form[-1].isalnum() else ""
        text = re.sub(before + re.escape(form) + after, MASK, text)
    return text


def first_line(message: object) -> str:
    """The first non-empty line of a message."""
    for line in str(message).strip().splitlines():
        if line.strip():
            return line.strip()
    return ""
