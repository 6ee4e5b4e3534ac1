"""The monthly analysis report's charts, as PNG bytes (matplotlib, Agg backend: no display).

Each chart is drawn from a `Series` (its labels and values), built from the same
`MonthReport` as the workbook's rows, so a chart cannot show another figure than the
workbook; the tests compare the two. Chinese labels need a CJK font: Noto Sans CJK SC comes
with the `mpl-font` package (a dependency), registered here by its file, so a fresh machine
draws them without any system font. Every word comes from the caller (templates).
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display, and no GUI toolkit imported

from matplotlib import font_manager
from matplotlib.figure import Figure

FONT_FILE = ("mpl_font", "fonts/noto/NotoSansCJKsc-Regular.otf")  # (package, file in it)
COLOURS = ("#3b6ea5", "#e0a030", "#5a9e5a", "#c0504d", "#8064a2")


@dataclass(frozen=True)
class Series:
    """One chart's data: a bar per label, one value per bar in each named group."""

    title: str
    labels: list[str]
    groups: dict[str, list[float]]  # legend name → a value per label
    unit: str = ""  # the value axis' label
    horizontal: bool = False
    stacked: bool = False


@functools.cache
def cjk_font() -> str:
    """Register the bundled CJK font with matplotlib; its family name. (The package is
    found, not imported: its own code would import pyplot and change matplotlib's defaults.)"""
    spec = find_spec(FONT_FILE[0])
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the {FONT_FILE[0]} package (the charts' CJK font) is not installed")
    file = Path(next(iter(spec.submodule_search_locations))) / FONT_FILE[1]
    font_manager.fontManager.addfont(str(file))
    return str(font_manager.FontProperties(fname=str(file)).get_name())


def png(series: Series) -> bytes:
    """The chart as PNG bytes (the same bytes for the same series)."""
    family = cjk_font()
    figure = Figure(figsize=(8, 4.5), dpi=100)
    axes = figure.add_subplot()
    positions = list(range(len(series.labels)))
    width = 0.8 if series.stacked or len(series.groups) <= 1 else 0.8 / len(series.groups)
    bottom = [0.0] * len(series.labels)
    for i, (name, values) in enumerate(series.groups.items()):
        offset = 0.0 if series.stacked or len(series.groups) <= 1 else \
            (i - (len(series.groups) - 1) / 2) * width
        where = [p + offset for p in positions]
        colour = COLOURS[i % len(COLOURS)]
        if series.horizontal:
            axes.barh(where, values, height=width, left=bottom if series.stacked else None,
                      label=name, color=colour)
        else:
            axes.bar(where, values, width=width, bottom=bottom if series.stacked else None,
                     label=name, color=colour)
        if series.stacked:
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    font = {"family": family}
    if series.horizontal:
        axes.set_yticks(positions, series.labels, fontdict=font)
        axes.set_xlabel(series.unit, fontdict=font)
        axes.invert_yaxis()
    else:
        axes.set_xticks(positions, series.labels, fontdict=font)
        axes.set_ylabel(series.unit, fontdict=font)
    axes.set_title(series.title, fontdict={**font, "fontsize": 13})
    if len(series.groups) > 1:
        axes.legend(prop={"family": family})
    if not series.labels:
        axes.text(0.5, 0.5, "—", ha="center", va="center", transform=axes.transAxes)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()
