"""HTML pieces every page of the report package shares: escaping, the page frame (inline CSS, a Content Security
Policy that allows nothing but the page's own inline style and script and ``data:`` images, so opening it makes no
request), tables, and documents shown as text.

A document's text is always escaped (``html.escape``) and truncated with its length, inside a ``<pre>``: it is never
interpreted as markup, whatever it holds.
"""

import base64
import html
import os
from typing import Iterable, List, Optional, Sequence

__all__ = [
    "CSP",
    "TEXT_LIMIT",
    "esc",
    "page",
    "table",
    "doc_html",
    "details",
    "links",
    "png_data_uri",
    "fmt_number",
    "fmt_count",
]

TEXT_LIMIT = 700  # characters of a document shown
CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'"
)

STYLE = """
:root{--fg:#1d1d1f;--muted:#6b6b6b;--line:#d9d9de;--bg:#fff;--soft:#f5f5f7;--red:#c0392b;--green:#2e8b57}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);
margin:0 auto;max-width:1180px;padding:0 20px 60px}
header{border-bottom:1px solid var(--line);margin-bottom:8px}
h1{font-size:24px;margin:22px 0 4px}h2{font-size:20px;margin:34px 0 10px;border-bottom:1px solid var(--line)}
h3{font-size:16px;margin:26px 0 8px}h4{font-size:14px;margin:14px 0 6px}
nav a{margin-right:14px}a{color:#0b5cad}
.muted{color:var(--muted)}.small{font-size:13px}
table{border-collapse:collapse;margin:8px 0 14px;font-size:13.5px}
th,td{border-bottom:1px solid var(--line);padding:4px 9px;text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600;white-space:nowrap}table.trials th{white-space:normal;min-width:4em}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tr.changed td{background:#fff6e0}tr.infeasible td{color:#9a9a9a}tr.best td{background:#eaf6ee;font-weight:600}
tr.front td:first-child{border-left:3px solid var(--red)}
.sortable th{cursor:default}.sortable th.js{cursor:pointer}.sortable th.js:hover{background:#e8e8ee}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
.scroll{overflow-x:auto}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:3px 16px;margin:8px 0}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--soft);padding:1px 4px;
border-radius:3px;word-break:break-all}
svg.hist{width:100%;max-width:760px;height:auto;display:block;margin:6px 0}
svg .bar{fill:#7a9cc6}svg .keptzone{fill:#2ecc71;opacity:.10}svg .axis{stroke:#444}
svg .tick{font-size:11px;fill:#444}svg .label{font-size:12px;fill:#333}svg .mark{font-size:11px}
details{margin:6px 0;border:1px solid var(--line);border-radius:6px;padding:4px 10px;background:#fcfcfd}
summary{cursor:pointer;font-weight:600;font-size:14px}
.doc{border-left:3px solid var(--line);margin:8px 0 10px;padding:2px 0 2px 10px}
.docmeta{font-size:12px;color:var(--muted)}
pre.text{white-space:pre-wrap;word-break:break-word;font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,
monospace;margin:3px 0;max-height:16em;overflow:auto;background:var(--soft);padding:6px 8px;border-radius:4px}
.trunc{font-size:12px;color:var(--muted)}
.barcell{display:inline-block;height:10px;background:#4c72b0;vertical-align:middle;margin-right:6px}
.barcell.neg{background:var(--red)}.barcell.pos{background:var(--green)}
img.plot{max-width:100%;border:1px solid var(--line);border-radius:4px;margin:6px 0 14px}
footer{margin-top:40px;color:var(--muted);font-size:12px}
"""


def esc(text) -> str:
    """``text`` as HTML text (quotes escaped too, so it is safe inside attributes)."""
    return html.escape(str(text), quote=True)


def fmt_count(value) -> str:
    return "" if value is None else f"{int(value):,}"


def fmt_number(value, digits: int = 4) -> str:
    """A score as shown in tables: 4 significant digits, integers with separators, nothing for None."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:
            return "nan"
        return f"{value:,.0f}" if value.is_integer() and abs(value) >= 1e4 else f"{value:.{digits}g}"
    return str(value)


def page(title: str, body: str, script: str = "") -> str:
    """A whole self-contained page: inline CSS and script, the CSP, a data: favicon (no request for one)."""
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<link rel="icon" href="data:,">\n'
        f"<title>{esc(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n"
        + (f"<script>\n{script}\n</script>\n" if script else "")
        + "</body>\n</html>\n"
    )


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    numeric: Sequence[bool] = (),
    row_classes: Optional[Sequence[str]] = None,
    sortable: bool = False,
    sort_keys: Optional[Sequence[Sequence[str]]] = None,
    cls: str = "",
) -> str:
    """A table; cells are HTML already (escape text with :func:`esc`). ``sort_keys``: per row, per cell, the value
    the sorting script compares (``data-sort``); ``numeric``: right-aligned columns (compared as numbers)."""
    numeric = list(numeric) + [False] * (len(headers) - len(numeric))
    classes = " ".join(c for c in (cls, "sortable" if sortable else "") if c)
    num_cls = ' class="num"'
    head = "".join(
        f'<th{num_cls if num else ""} data-kind="{"num" if num else "text"}" scope="col">{h}</th>'
        for h, num in zip(headers, numeric)
    )
    out = [f'<div class="scroll"><table class="{classes}"><thead><tr>{head}</tr></thead><tbody>']
    for i, row in enumerate(rows):
        row_cls = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        cells = []
        for j, cell in enumerate(row):
            key = sort_keys[i][j] if sort_keys is not None else None
            attr = f' data-sort="{esc(key)}"' if key is not None and key != "" else ""
            cells.append(f'<td{num_cls if numeric[j] else ""}{attr}>{cell}</td>')
        out.append(f"<tr{row_cls}>{''.join(cells)}</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def doc_html(text: str, meta: str, limit: int = TEXT_LIMIT) -> str:
    """One document: a line about it, its text escaped and truncated to ``limit`` characters, and its length."""
    text = str(text)
    shown = text[:limit]
    length = f"{len(text):,} characters"
    tail = ""
    if len(text) > limit:
        tail = f'<div class="trunc">&hellip; truncated: the first {limit:,} of {len(text):,} characters shown</div>'
    return (
        f'<div class="doc"><div class="docmeta">{meta} &middot; {length}</div>'
        f'<pre class="text">{esc(shown)}</pre>{tail}</div>'
    )


def details(summary: str, body: str, open_: bool = False) -> str:
    return f"<details{' open' if open_ else ''}><summary>{summary}</summary>{body}</details>"


def png_data_uri(path: str) -> Optional[str]:
    """The PNG file at ``path`` as a ``data:`` URI (None when it is not there)."""
    if not path or not os.path.isfile(path):
        return None
    with open(path, "rb") as f:
        return "data:image/png;base64," + base64.b64encode(f.read()).decode("ascii")


def links(items: List[tuple]) -> str:
    return " ".join(f'<a href="#{esc(anchor)}">{esc(label)}</a>' for anchor, label in items)
