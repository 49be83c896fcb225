"""The resources live in `assets/resources.py` (assets never import `orchestration/`); re-exported here."""

from assets.resources import (
    DEFAULT_WAREHOUSE,
    PROJECT_ROOT,
    SOURCE_URL_VARIABLES,
    TIMEZONE,
    NightResource,
    SourcesResource,
    WarehouseResource,
    parse_as_of,
    source_url,
    today_in_vietnam,
)

__all__ = [
    "DEFAULT_WAREHOUSE",
    "PROJECT_ROOT",
    "SOURCE_URL_VARIABLES",
    "TIMEZONE",
    "NightResource",
    "SourcesResource",
    "WarehouseResource",
    "parse_as_of",
    "source_url",
    "today_in_vietnam",
]
