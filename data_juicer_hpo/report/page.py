"""``report.html``: one self-contained page about a run, for deciding whether to ship its recipe.

What it holds (:class:`Report`, plain data the modes fill in): a summary (the data, the mode, the recipe as
written against the chosen one, the documents each keeps, where every output is); per tuned filter the statistic's
distribution with the written and chosen bounds, the documents each bound removes alone and in the chain, and
example documents; for a sweep the trials (a table that sorts when a header is clicked), each parameter's importance
and correlation, the plots, and with several objectives the Pareto front, each front trial with its recipe and its
own example documents. The static parts read without JavaScript; the one script only sorts tables.
"""

import os
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from data_juicer_hpo.files import write_atomic
from data_juicer_hpo.report.filters import FilterSection, histogram_values
from data_juicer_hpo.report.html import (
    details,
    doc_html,
    esc,
    fmt_count,
    fmt_number,
    links,
    page,
    png_data_uri,
    table,
)
from data_juicer_hpo.report.svg import Mark, histogram_svg

__all__ = ["Summary", "TrialsTable", "ParameterTable", "FrontTrial", "Report", "render_report", "write_report"]

SORT_SCRIPT = """(function(){
document.documentElement.classList.add('js');
function val(td,num){var s=td.getAttribute('data-sort');if(s===null){s=td.textContent.trim();}
if(num){var v=parseFloat(s.replace(/,/g,''));return isNaN(v)?null:v;}return s.toLowerCase();}
function sortBy(t,i,th){var num=th.getAttribute('data-kind')==='num';
var dir=th.getAttribute('aria-sort')==='ascending'?'descending':'ascending';
Array.prototype.forEach.call(t.tHead.rows[0].cells,function(c){c.removeAttribute('aria-sort');});
th.setAttribute('aria-sort',dir);var body=t.tBodies[0];var rows=Array.prototype.slice.call(body.rows);
rows.sort(function(a,b){var x=val(a.cells[i],num),y=val(b.cells[i],num);if(x===y){return 0;}
if(x===null){return 1;}if(y===null){return -1;}var r=x<y?-1:1;return dir==='ascending'?r:-r;});
rows.forEach(function(r){body.appendChild(r);});}
document.querySelectorAll('table.sortable').forEach(function(t){
Array.prototype.forEach.call(t.tHead.rows[0].cells,function(th,i){th.classList.add('js');th.tabIndex=0;
th.title='sort by this column';var go=function(){sortBy(t,i,th);};th.addEventListener('click',go);
th.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();go();}});});});
})();"""


@dataclass
class Summary:
    facts: List[Tuple[str, str]]  # (what, value), plain text
    diff: List[Tuple[str, str, str]]  # (place, as written, chosen)
    kept: List[Tuple[str, Optional[int]]]  # (which recipe, documents it keeps)
    n: int  # documents the statistics were computed on
    outputs: List[Tuple[str, str]]  # (what, path)


@dataclass
class TrialsTable:
    columns: List[str]
    numeric: List[bool]
    rows: List[Dict[str, object]]  # column -> value; "_class": row class, "_anchor": link of the number cell


@dataclass
class ParameterTable:
    objective: str
    goal: str
    completed: int
    rows: List[Tuple[str, float, float, str]]  # (parameter, importance, correlation, "spearman" | "eta")


@dataclass
class FrontTrial:
    number: int
    scores: Dict[str, float]
    params: Dict[str, object]
    recipe: Optional[str]  # path of its recipe file
    sections: List[FilterSection]
    selected: bool = False


@dataclass
class Report:
    title: str
    mode: str
    summary: Summary
    sections: List[FilterSection]
    trials: Optional[TrialsTable] = None
    parameters: List[ParameterTable] = field(default_factory=list)
    images: List[Tuple[str, str]] = field(default_factory=list)  # (caption, PNG path)
    front: List[FrontTrial] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)


def _href(path: str, base: str) -> str:
    try:
        relative = os.path.relpath(path, base)
    except ValueError:  # another drive (Windows)
        relative = path
    return urllib.parse.quote(relative.replace(os.sep, "/"))


def _summary(report: Report, base: str) -> str:
    s = report.summary
    facts = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in s.facts)
    out = [f'<section id="summary"><h2>Summary</h2><dl class="facts">{facts}</dl>']
    if report.notes:
        out.append("".join(f'<p class="muted small">{esc(note)}</p>' for note in report.notes))
    out.append("<h3>The recipe as written and the chosen one</h3>")
    if s.diff:
        rows = [[esc(place), f"<code>{esc(a)}</code>", f"<code>{esc(b)}</code>"] for place, a, b in s.diff]
        classes = ["changed" if a != b else "" for _, a, b in s.diff]
        out.append(table(["where", "as written", "chosen"], rows, row_classes=classes))
    else:
        out.append('<p class="muted">No bound was tuned.</p>')
    rows = []
    for label, kept in s.kept:
        share = "" if kept is None or not s.n else f"{kept / s.n:.1%}"
        rows.append([esc(label), fmt_count(kept), share])
    out.append(f"<h3>Documents kept (of {s.n:,})</h3>")
    out.append(table(["recipe", "documents kept", "share"], rows, numeric=[False, True, True]))
    if s.outputs:
        out.append("<h3>Where the outputs are</h3>")
        rows = [[esc(what), f'<a href="{_href(path, base)}"><code>{esc(path)}</code></a>'] for what, path in s.outputs]
        out.append(table(["output", "path"], rows))
    out.append("</section>")
    return "".join(out)


def _bounds_table(section: FilterSection) -> str:
    rows, classes = [], []
    for r in section.rows:
        rows.append([f"<code>{esc(r.arg)}</code>", f"<code>{esc(r.written)}</code>", fmt_count(r.written_alone),
                     fmt_count(r.written_chain), f"<code>{esc(r.chosen)}</code>", fmt_count(r.chosen_alone),
                     fmt_count(r.chosen_chain)])  # fmt: skip
        classes.append("changed" if r.changed else "")
    headers = ["bound", "as written", "removes alone", "in the chain", "chosen", "removes alone", "in the chain"]
    return table(headers, rows, numeric=[False, False, True, True, False, True, True], row_classes=classes)


def _examples(section: FilterSection, open_first: int = 2) -> str:
    """The example groups, the first ``open_first`` that hold documents open."""
    out, opened = [], 0
    for group in section.groups:
        head = f'{esc(group.title)} <span class="muted">({group.total:,} documents; {esc(group.how)})</span>'
        if not group.docs:
            body = '<p class="muted small">none</p>'
        else:
            meta = lambda d: f"document {d.index:,} &middot; {esc(section.stat.stat_key)} = {esc(d.value)}"  # noqa
            body = "".join(doc_html(d.text, meta(d)) for d in group.docs)
        out.append(details(head, body, open_=bool(group.docs) and opened < open_first))
        opened += bool(group.docs)
    return "".join(out)


def _filter_article(section: FilterSection, anchor_prefix: str = "", histogram: bool = True) -> str:
    stat = section.stat
    out = [f'<article id="{esc(anchor_prefix + stat.anchor)}"><h3>{esc(section.title)}</h3>']
    out.append(
        f'<p class="muted small">{section.n:,} documents. On its own this filter keeps {section.kept_written:,} as '
        f"written and {section.kept_chosen:,} with the chosen bounds. &ldquo;In the chain&rdquo; counts only the "
        f"documents that the filters before it in the recipe keep.</p>"
    )
    if histogram:
        marks = [Mark(stat.written.get(side), f"{arg} = {stat.written_text.get(side, '')}", "written")
                 for side, arg in stat.args.items()]  # fmt: skip
        marks += [Mark(stat.chosen.get(side), f"{arg} = {stat.chosen_text.get(side, '')}", "chosen")
                  for side, arg in stat.args.items()]  # fmt: skip
        kept = (stat.chosen.get("min"), stat.chosen.get("max"))
        out.append(histogram_svg(histogram_values(stat), marks, section.title, kept=kept))
    out.append(_bounds_table(section))
    out.append(_examples(section, open_first=2 if histogram else 0))
    out.append("</article>")
    return "".join(out)


def _trials(trials: TrialsTable) -> str:
    rows, keys, classes = [], [], []
    for row in trials.rows:
        cells, sort_keys = [], []
        for column, numeric in zip(trials.columns, trials.numeric):
            value = row.get(column)
            text = esc(fmt_number(value)) if numeric else esc("" if value is None else value)
            if column == "number" and row.get("_anchor"):
                text = f'<a href="#{esc(row["_anchor"])}">{text}</a>'
            cells.append(text)
            sort_keys.append("" if value is None else repr(value) if isinstance(value, (int, float)) else None)
        rows.append(cells)
        keys.append(sort_keys)
        classes.append(str(row.get("_class") or ""))
    legend = ('<p class="muted small">Click a column header to sort. Green: the chosen trial; grey: infeasible '
              "(breaks a constraint); a red edge: on the Pareto front.</p>")  # fmt: skip
    headers = [esc(c).replace(".", ".<wbr>") for c in trials.columns]  # long parameter names wrap at their dots
    body = table(headers, rows, trials.numeric, classes, sortable=True, sort_keys=keys, cls="trials")
    return f'<section id="trials"><h2>Trials</h2>{legend}{body}</section>'


def _parameters(tables: List[ParameterTable]) -> str:
    out = ['<section id="parameters"><h2>Parameters: importance and correlation</h2>',
           '<p class="muted small">Importance: Optuna\'s PED-ANOVA (sums to 1 over the parameters). Correlation: '
           "Spearman's rho for numbers (signed), the correlation ratio eta for categories (0 to 1).</p>"]  # fmt: skip
    for t in tables:
        rows = []
        for name, importance, correlation, kind in sorted(t.rows, key=lambda r: -r[1]):
            bar = f'<span class="barcell" style="width:{max(importance, 0) * 160:.0f}px"></span>'
            if correlation != correlation:
                corr = '<span class="muted">n/a</span>'
            else:
                sign = "neg" if correlation < 0 else "pos"
                corr = (f'<span class="barcell {sign}" style="width:{abs(correlation) * 80:.0f}px"></span>'
                        f"{'eta' if kind == 'eta' else 'rho'} {correlation:+.2f}")  # fmt: skip
            rows.append([f"<code>{esc(name)}</code>", f"{bar}{importance:.2f}", corr])
        out.append(f"<h3>{esc(t.objective)} ({esc(t.goal)}), {t.completed} completed trials</h3>")
        out.append(table(["parameter", "importance", "correlation"], rows))
    out.append("</section>")
    return "".join(out)


def _images(images: List[Tuple[str, str]]) -> str:
    out = ['<section id="plots"><h2>Plots</h2>']
    for caption, path in images:
        uri = png_data_uri(path)
        if uri:
            out.append(f'<h3>{esc(caption)}</h3><img class="plot" alt="{esc(caption)}" src="{uri}">')
    out.append("</section>")
    return "".join(out)


def _front(front: List[FrontTrial], base: str) -> str:
    out = ['<section id="pareto"><h2>The Pareto front</h2>',
           '<p class="muted small">Each trial no other feasible trial beats on every objective; its recipe and the '
           "documents its bounds remove.</p>"]  # fmt: skip
    for trial in front:
        scores = ", ".join(f"{k} = {fmt_number(v)}" for k, v in trial.scores.items())
        chosen = " (the chosen trial)" if trial.selected else ""
        out.append(f'<article id="trial-{trial.number}"><h3>Trial #{trial.number}{esc(chosen)}</h3>')
        out.append(f"<p>{esc(scores)}</p>")
        if trial.recipe:
            out.append(f'<p>Recipe: <a href="{_href(trial.recipe, base)}"><code>{esc(trial.recipe)}</code></a></p>')
        params = [[f"<code>{esc(k)}</code>", f"<code>{esc(v)}</code>"] for k, v in trial.params.items()]
        out.append(table(["parameter", "value"], params))
        for section in trial.sections:
            out.append(_filter_article(section, anchor_prefix=f"trial-{trial.number}-", histogram=False))
        out.append("</article>")
    out.append("</section>")
    return "".join(out)


def render_report(report: Report, base_dir: str = ".") -> str:
    """The page's HTML (links to output files relative to ``base_dir``, where the page is written)."""
    nav = [("summary", "Summary"), ("filters", "Filters")]
    if report.trials is not None:
        nav.append(("trials", "Trials"))
    if report.parameters:
        nav.append(("parameters", "Parameters"))
    if report.images:
        nav.append(("plots", "Plots"))
    if report.front:
        nav.append(("pareto", "Pareto front"))
    stamp = time.strftime("%Y-%m-%d %H:%M")
    body = [f"<header><h1>{esc(report.title)}</h1><p class=\"muted\">mode {esc(report.mode)} &middot; written "
            f"{stamp} by data-juicer-hpo</p><nav>{links(nav)}</nav></header>", _summary(report, base_dir)]  # fmt: skip
    filters = "".join(_filter_article(s) for s in report.sections)
    if not report.sections:
        filters = '<p class="muted">No tuned filter with statistics.</p>'
    index = links([(s.stat.anchor, s.title) for s in report.sections])
    body.append(f'<section id="filters"><h2>Filters</h2><p class="small">{index}</p>{filters}</section>')
    if report.trials is not None:
        body.append(_trials(report.trials))
    if report.parameters:
        body.append(_parameters(report.parameters))
    if report.images:
        body.append(_images(report.images))
    if report.front:
        body.append(_front(report.front, base_dir))
    body.append("<footer>A self-contained file: it loads nothing, from the network or from disk.</footer>")
    return page(report.title, "\n".join(body), SORT_SCRIPT)


def write_report(path: str, report: Report) -> str:
    """Write the page to ``path`` (atomically; text that cannot be encoded as UTF-8 is replaced); returns it."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    text = render_report(report, directory)
    write_atomic(path, text.encode("utf-8", "replace").decode("utf-8"))
    return path
