"""What a 3sigma run shows a person: ``report.html`` (at ``auto_hpo.report``) from the statistics pass and the
tuned bounds -- the recipe as written against the tuned one, per tuned statistic its distribution, what each bound
removes and example documents -- and the closing summary of the run."""

import os
from dataclasses import replace
from functools import partial
from typing import List, Optional


from data_juicer_hpo.modes.three_sigma.tune import Tuned, written_value
from data_juicer_hpo.report import (
    Report,
    Summary,
    TunedStatistic,
    fetch_texts,
    filter_sections,
    section_counts,
    with_counts,
    write_report,
)
from data_juicer_hpo.report.closing import kept_text

__all__ = ["statistics_of", "build_report", "write_three_sigma_report", "summary_items", "predicted_kept"]


def _fmt(value) -> str:
    if type(value).__name__ == "Fraction":
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value) if value < 10**15 else f"{value:.3g}"
    return str(value)


def statistics_of(cfg, ops, values, tuned: Tuned) -> List[TunedStatistic]:
    """One :class:`TunedStatistic` per (op, statistic) whose bounds 3sigma set."""
    groups = {}
    for c in tuned.changes:
        groups.setdefault((c.index, c.stat_key), []).append(c)
    out = []
    for (index, stat_key), changes in sorted(groups.items()):
        op = ops[index]
        sides = {c.arg.split("_", 1)[0]: c for c in changes}
        out.append(
            TunedStatistic(
                index=index,
                op_name=op._name,
                stat_key=stat_key,
                values=values[index][stat_key],
                args={side: c.arg for side, c in sides.items()},
                written={side: c.old for side, c in sides.items()},
                chosen={side: c.op_value for side, c in sides.items()},
                written_text={side: _fmt(written_value(cfg, ops, c)) for side, c in sides.items()},
                chosen_text={side: _fmt(c.new) for side, c in sides.items()},
                low_closed=bool(getattr(op, "min_closed_interval", True)),
                high_closed=bool(getattr(op, "max_closed_interval", True)),
                any_=bool(getattr(op, "any", True)),
            )
        )
    return out


def predicted_kept(tuned: Optional[Tuned], version: str) -> Optional[int]:
    """Samples every tuned filter keeps together with its bounds of ``version`` ("written" or "tuned")."""
    if tuned is None:
        return None
    return tuned.kept.all_written if version == "written" else tuned.kept.all_tuned


def _data_text(cfg, n: int) -> str:
    where = cfg.get("dataset_path") or "the recipe's dataset block"
    return f"{where} ({n:,} documents as the filters see them)"


def build_report(cfg, section, ops, stats, tuned: Tuned, texts, report_path: str, reduce=None) -> Report:
    """The report of one 3sigma run (``texts``: the texts of the documents of ``stats.values``, read only for the
    example documents). When ``stats.values`` is a sample (``stats.sampled``: a Ray dataset), the examples and
    histograms are drawn from it and every count is summed over the parts of all documents by ``reduce(fn)``."""
    n = stats.count
    stats_list = statistics_of(cfg, ops, stats.values, tuned)
    sections = filter_sections(stats_list, (lambda rows: fetch_texts(texts, rows)) if texts is not None else None)
    if stats.sampled and stats_list:
        bare = [replace(s, values=None) for s in stats_list]
        parts = reduce(partial(section_counts, bare))
        sections = with_counts(sections, {key: sum((p[key] for p in parts[1:]), parts[0][key]) for key in parts[0]})
    diff = []
    for c in tuned.changes:
        chosen = f"{_fmt(c.new)} (written kept: 3sigma's {_fmt(c.sigma)} is looser)" if c.written_kept else _fmt(c.new)
        diff.append((f"{c.op_name}.{c.arg} (#{c.index})", _fmt(written_value(cfg, ops, c)), chosen))
    rule = f"mean ± {float(section['k']):g}·std ({section.get('scale') or 'linear'} scale)"
    facts = [
        ("data", _data_text(cfg, n)),
        ("mode", f"3sigma: bounds = {rule}" + (", tighten_only" if section.get("tighten_only") else "")),
        ("tuned", f"{len(tuned.changes)} bounds of {len({c.index for c in tuned.changes})} filters"),
    ]
    outputs = [("this report", report_path), ("processed data (export_path)", cfg.get("export_path") or "")]
    if tuned.recipe:
        outputs.append(("refined recipe", os.path.abspath(tuned.recipe)))
    outputs += [("histogram", path) for path in tuned.plots]
    notes = [f"{note}." for note in stats.notes]
    if stats.sampled:
        notes.append(
            f"Histograms and example documents come from a uniform sample of {stats.sample_size:,} of the {n:,} "
            "documents (Ray executor); every count is over all of them."
        )
    if not stats.aligned:
        notes.append("A mapper changed the number of documents: counts are on the documents the filters saw.")
    kept = [
        ("the recipe as written", predicted_kept(tuned, "written")),
        ("the tuned recipe", predicted_kept(tuned, "tuned")),
    ]
    summary = Summary(facts, diff, kept, n, [(w, p) for w, p in outputs if p])
    return Report(f"3sigma report: {os.path.basename(str(cfg.get('dataset_path') or 'dataset'))}", "3sigma", summary,
                  sections, notes=notes)  # fmt: skip


def write_three_sigma_report(cfg, section, ops, stats, tuned: Tuned, texts, path: str, reduce=None) -> str:
    return write_report(path, build_report(cfg, section, ops, stats, tuned, texts, os.path.abspath(path), reduce))


def summary_items(section, tuned: Optional[Tuned], n: int, exported: Optional[int], sampled: bool = False) -> list:
    """The closing summary's lines of a 3sigma run (``sampled``: the counts are on ``auto_hpo.sample``)."""
    on = " (on the sample)" if sampled else ""
    if tuned is None or not tuned.changes:
        return [("chosen", "no bound tuned"), ("exported", kept_text(exported, None) if exported is not None else "-")]
    changed = sum(1 for c in tuned.changes if not c.written_kept)
    kept_written = sum(1 for c in tuned.changes if c.written_kept)
    chosen = f"{changed} bounds set to mean ± {float(section['k']):g}·std ({section.get('scale') or 'linear'})"
    if kept_written:
        chosen += f", {kept_written} written ones kept (tighten_only)"
    return [
        ("chosen", chosen),
        (f"kept by the written bounds{on}", kept_text(predicted_kept(tuned, "written"), n)),
        (f"kept by the tuned bounds{on}", kept_text(predicted_kept(tuned, "tuned"), n)),
        ("exported", kept_text(exported, None) if exported is not None else "nothing (skip_export or no count)"),
    ]
