"""The rule book's own words that people see (field labels, the steps of a sign-off chain).

They are written in the domain as the rule book prints them, wrapped in `N_` so that
`make catalogs` (bot.catalogs) extracts them; the layouts show them through gettext
(`{{ _(field.label) }}`), so Simplified Chinese readers see them converted.
"""

from __future__ import annotations


def N_(words: str) -> str:  # gettext's name for "mark for translation"
    return words
