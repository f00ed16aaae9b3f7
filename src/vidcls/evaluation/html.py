"""Building blocks of vidcls's self-contained HTML pages: one file that opens from disk, anywhere.

Images are embedded as ``data:`` URIs and a Content-Security-Policy forbids every other source,
so a page never reaches the network (and shows the same thing offline, in a mail attachment or
years later). The only script is the few lines that sort a table.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from matplotlib.figure import Figure

STRIP_HEIGHT = 96  # pixels of a frame strip: big enough to see the action, small enough for hundreds of them

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; }
.muted { color: #666; } .error { color: #b00020; } code { font-size: 90%; }
table { border-collapse: collapse; } td, th { padding: 2px 10px; text-align: left; }
td.number, th.number { text-align: right; font-variant-numeric: tabular-nums; }
table.summary th { font-weight: normal; color: #555; white-space: nowrap; } table.summary td { font-weight: 600; }
table.sortable th { cursor: pointer; user-select: none; border-bottom: 1px solid #aaa; }
table.sortable th[aria-sort=ascending]::after { content: " \\25B2"; }
table.sortable th[aria-sort=descending]::after { content: " \\25BC"; }
table.sortable tbody tr:nth-child(odd) { background: #f6f6f6; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 12px; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 10px 12px; margin: 12px 0; }
.cards .card { margin: 0; } .card p { margin: 4px 0; }
.scroll { max-height: 520px; overflow-y: auto; display: inline-block; border: 1px solid #eee; }
.scroll thead th { position: sticky; top: 0; background: #fff; }
.card .path { font-family: monospace; word-break: break-all; }
img.confusion { max-width: 100%; height: auto; }
img.strip { display: block; max-width: 100%; height: auto; margin: 6px 0; image-rendering: auto; }
.bars { display: grid; grid-template-columns: minmax(8em, max-content) 1fr 4.5em; gap: 2px 8px; align-items: center; max-width: 640px; }
.bar { height: 12px; background: #4a7fc1; border-radius: 2px; } .bars .true { font-weight: 700; }
.bars .true + .bar-track .bar { background: #2e9b4f; }
.bar-track { background: #eee; border-radius: 2px; }
.timeline { display: flex; height: 26px; border-radius: 3px; overflow: hidden; margin-top: 4px; }
.segment { color: #fff; font-size: 12px; line-height: 26px; padding-left: 4px; white-space: nowrap; overflow: hidden;
           box-sizing: border-box; border-right: 1px solid #fff; }
.axis { position: relative; height: 18px; font-size: 11px; color: #555; }
.axis span { position: absolute; transform: translateX(-50%); white-space: nowrap; }
.axis span:first-child { transform: none; } .axis span.end { right: 0; transform: none; }
img.strip.span { width: 100%; }
.legend span { display: inline-block; margin-right: 12px; } .legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }
"""

# Sorts a table.sortable by the clicked column: numbers by their data-value, text by its letters.
SORT_SCRIPT = """
document.querySelectorAll("table.sortable th").forEach((header, column) => header.addEventListener("click", () => {
  const table = header.closest("table");
  const ascending = header.getAttribute("aria-sort") !== "ascending";
  table.querySelectorAll("th").forEach(other => other.removeAttribute("aria-sort"));
  header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  const key = row => row.cells[column].dataset.value ?? row.cells[column].textContent;
  const numeric = header.classList.contains("number");
  const rows = [...table.tBodies[0].rows].sort((a, b) => {
    const order = numeric ? key(a) - key(b) : key(a).localeCompare(key(b));
    return ascending ? order : -order;
  });
  table.tBodies[0].append(...rows);
}));
"""

# Nothing but this file itself: images from data: URIs, inline style and script, no requests.
CONTENT_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"


def escape(text: object) -> str:
    return html.escape(str(text), quote=True)


def render_page(title: str, body: str, script: str = "") -> str:
    """A whole HTML document: ``body`` (trusted markup) under vidcls's style, with an optional inline script."""
    scripts = f"<script>{script}</script>" if script else ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_POLICY}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>\n<body>\n{body}\n{scripts}</body></html>\n"
    )


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def figure_png(figure: Figure, dpi: int = 100) -> bytes:
    """A figure as PNG bytes, to embed or to save."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


def frame_strip(frames: torch.Tensor, height: int = STRIP_HEIGHT, quality: int = 80) -> str:
    """Frames ``T×H×W×C`` uint8 side by side, scaled to ``height`` pixels, as a JPEG ``data:`` URI."""
    from PIL import Image

    strip = Image.fromarray(torch.cat(list(frames), dim=1).numpy())
    width = max(1, round(strip.width * height / strip.height))
    buffer = io.BytesIO()
    strip.resize((width, height), Image.Resampling.BILINEAR).save(buffer, format="JPEG", quality=quality)
    return data_uri(buffer.getvalue(), "image/jpeg")


def image(src: str, alt: str, css_class: str = "") -> str:
    return f'<img class="{css_class}" src="{src}" alt="{escape(alt)}">'


def percent(fraction: float, digits: int = 1) -> str:
    return f"{100 * fraction:.{digits}f} %"


def ranked_bars(ranked: Sequence[tuple[str, float]], true_class: str | Collection[str] | None = None) -> str:
    """Top-k classes as horizontal bars of their probability; the true class (or classes), when known, in bold green."""
    true = {true_class} if isinstance(true_class, str) else set(true_class or ())
    rows = []
    for name, probability in ranked:
        mark = " true" if name in true else ""
        rows.append(
            f'<span class="name{mark}">{escape(name)}</span>'
            f'<span class="bar-track"><span class="bar" style="display:block;width:{100 * probability:.1f}%"></span></span>'
            f'<span class="number" data-probability="{probability:.6f}">{percent(probability)}</span>'
        )
    return f'<div class="bars">{"".join(rows)}</div>'


def sortable_table(columns: Sequence[tuple[str, bool]], rows: Sequence[Sequence[tuple[str, float | None]]]) -> str:
    """A table sorted by clicking a header. ``columns``: (title, numeric); cells: (text shown, value sorted by)."""
    head = "".join(f'<th class="number">{escape(t)}</th>' if numeric else f"<th>{escape(t)}</th>" for t, numeric in columns)
    body = "".join(
        "<tr>" + "".join(
            f'<td class="number" data-value="{value}">{escape(text)}</td>' if value is not None else f"<td>{escape(text)}</td>"
            for text, value in row
        ) + "</tr>"
        for row in rows
    )
    return f'<table class="sortable"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
