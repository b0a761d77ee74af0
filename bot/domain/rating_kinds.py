"""What a household or shop rating is called when people type it (文明卫生户 / 文明卫生门店)."""

from __future__ import annotations

import unicodedata

HOUSEHOLD = "household"
SHOP = "shop"
KINDS = (HOUSEHOLD, SHOP)

# Residents write the Chinese names the campaign uses; the English words stay for the office.
_NAMES = {
    HOUSEHOLD: ("household", "文明卫生户", "卫生户", "文明户", "住户", "家庭"),
    SHOP: ("shop", "文明卫生门店", "卫生门店", "门店", "商户", "店铺"),
}
_LOOKUP = {name.casefold(): kind for kind, names in _NAMES.items() for name in names}


def parse_kind(text: str) -> str | None:
    """household or shop from a typed word (any case, full-width too); None if neither."""
    word = unicodedata.normalize("NFKC", text).strip().casefold()
    return _LOOKUP.get(word)
