"""Masking of personal data in the report: IDs as `001*******45`, names as initials plus given name."""

from __future__ import annotations

import unicodedata


def _missing(value: object) -> bool:
    """None, NaN or pandas' NA: a missing value (a text such as "None" is a value, as it is to the SQL masks)."""
    return value is None or (isinstance(value, float) and value != value) or type(value).__name__ == "NAType"


def mask_id(value: object) -> str:
    """Keep the first three and last two characters of an ID, star the rest (short values: all stars)."""
    if _missing(value):
        return ""
    text = str(value).strip()
    if not text:
        return ""
    if len(text) <= 5:
        return "*" * len(text)
    return text[:3] + "*" * (len(text) - 5) + text[-2:]


def mask_name(value: object) -> str:
    """`Nguyễn Văn An` → `N. V. An`: initials of the family and middle names, then the given name."""
    if _missing(value):
        return ""
    words = unicodedata.normalize("NFC", str(value)).split()
    if not words:
        return ""
    given = words[-1]
    if given.isupper() or given.islower():  # UPPER CASE or lower-case sources: write the given name properly
        given = given.capitalize()
    initials = [unicodedata.normalize("NFC", w)[0].upper() + "." for w in words[:-1]]
    return " ".join([*initials, given])


# The same masks as DuckDB SQL expressions, so that in a masked report full names and IDs never leave the
# warehouse: the report's query returns them masked (tests hold SQL and Python together).


def id_value_sql(column: str) -> str:
    """An ID as the mask sees it (text, trimmed, NULL when empty): computed once, used by `mask_id_value_sql`."""
    return f"nullif(trim(cast({column} as varchar)), '')"


def mask_id_value_sql(value: str) -> str:
    """`mask_id_sql` given the ID's value already trimmed (`value`: a column or `id_value_sql`). DuckDB does not
    factor an expression repeated inside a CASE: given `id_value_sql` inline, it trims the ID five times."""
    return (
        f"case when {value} is null then null"
        f" when length({value}) <= 5 then repeat('*', length({value}))"
        f" else left({value}, 3) || repeat('*', length({value}) - 5) || right({value}, 2) end"
    )


def mask_id_sql(column: str) -> str:
    return mask_id_value_sql(id_value_sql(column))


def name_words_sql(column: str) -> str:
    """The words of a name (NFC, single spaces) as a DuckDB list: computed once, used by `mask_words_sql`."""
    return f"string_split(regexp_replace(trim(nfc_normalize({column})), '\\s+', ' ', 'g'), ' ')"


def mask_words_sql(column: str, words: str) -> str:
    """`mask_name_sql` given the name's words already split (`words`: a column or `name_words_sql`)."""
    given = f"({words})[-1]"
    proper_given = (
        f"case when {given} = upper({given}) or {given} = lower({given})"
        f" then upper({given}[1]) || lower({given}[2:]) else {given} end"
    )
    initials = f"list_transform(({words})[1:len({words}) - 1], lambda w: upper(w[1]) || '.')"
    return (
        f"case when nullif(trim({column}), '') is null then null"
        f" when len({words}) = 1 then {proper_given}"
        f" else array_to_string({initials}, ' ') || ' ' || {proper_given} end"
    )


def mask_name_sql(column: str) -> str:
    return mask_words_sql(column, name_words_sql(column))
