"""Traditional and Simplified Chinese as one: a name typed in either script matches.

Department names come from config.toml as the company writes them (Traditional here); a
reader of Simplified Chinese types 生产部 for 生產部. OpenCC's character conversion (t2s) folds
both to one spelling before they are compared.
"""

from __future__ import annotations

import functools

import opencc


@functools.cache
def _to_simplified() -> opencc.OpenCC:
    return opencc.OpenCC("t2s.json")


def same_name(typed: str, name: str) -> bool:
    """Whether `typed` is `name`, in either script and with spaces around it ignored."""
    typed, name = typed.strip(), name.strip()
    if typed == name:
        return True
    convert = _to_simplified().convert
    return bool(typed) and convert(typed) == convert(name)


def folded(text: str) -> str:
    """`text` for searching: Simplified script, case folded (a word typed in either script
    finds the other)."""
    return _to_simplified().convert(text).casefold()
