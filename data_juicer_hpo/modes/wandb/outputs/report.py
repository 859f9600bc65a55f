"""A sweep's ``report.html`` (default ``<output_dir>/report.html``, or ``auto_hpo.report``): the summary, the chosen
trial's filters with their example documents, the trials, each parameter's importance and correlation, the plots,
and with several objectives the Pareto front -- each front trial with its recipe and its own example documents.

Built from what the sweep holds when its trials are done (the records, the bundles' statistic columns and
population texts), before the trial evaluator releases them."""

import functools
import os
from dataclasses import dataclass
from typing import List, Optional

from loguru import logger

from data_juicer_hpo.modes.wandb.outputs.pareto import pareto_front
from data_juicer_hpo.modes.wandb.outputs.plots import Metric, completed, importances
from data_juicer_hpo.modes.wandb.outputs.report_filters import built_bundle, kept_count, trial_sections, written_bundle
from data_juicer_hpo.progress import Progress
from data_juicer_hpo.report import FrontTrial, ParameterTable, Report, Summary, TrialsTable, write_report

__all__ = ["SweepFacts", "write_sweep_report", "MAX_FRONT", "MAX_COUNTED"]

MAX_FRONT = 12  # Pareto trials shown with their own example documents
MAX_COUNTED = 300  # trials whose kept documents the report counts itself when their scores do not hold them
PLOTS = (("history", "metric_history.png"), ("parameter importance", "param_importance.png"),
         ("parallel coordinates", "parallel_coordinates.png"), ("Pareto front", "pareto.png"))  # fmt: skip


@dataclass(frozen=True)
class SweepFacts:
    """What the closing summary needs from the report: documents, and how many each recipe keeps."""

    n: Optional[int]
    kept_written: Optional[int]
    kept_chosen: Optional[int]
    written: bool = True  # the report was written


def _value(record, index: int, name: str):
    return record.values[index] if record.values is not None else record.scores.get(name)


def _metrics(goals) -> List[Metric]:
    if not goals.multi:
        return [Metric(goals.names[0], goals.directions[0])]
    return [Metric(n, d, functools.partial(_value, index=i, name=n)) for i, (n, d) in
            enumerate(zip(goals.names, goals.directions))]  # fmt: skip


def _scores(record, goals) -> dict:
    scores = dict(record.scores)
    if not goals.multi and record.value is not None:
        scores = {goals.names[0]: record.value, **scores}
    return scores


def _trials(records, param_names, goals, best, front, kept_of, n) -> TrialsTable:
    extra = [c for c in goals.constrained_names if c not in goals.names]
    columns = ["number", "state", *param_names, *goals.names, *extra, "kept", "retention"]
    numeric = [True, False] + [False] * len(param_names) + [True] * (len(goals.names) + len(extra) + 2)
    if goals.constraints:
        columns.append("feasible")
        numeric.append(False)
    columns.append("duration_s")
    numeric.append(True)
    on_front = {r.number for r in front}
    rows = []
    for r in sorted(records, key=lambda r: r.number):
        scores = _scores(r, goals)
        kept = scores.get("kept", kept_of(r))
        row = {"number": r.number, "state": r.state, **{p: r.params.get(p) for p in param_names}}
        row.update({name: scores.get(name) for name in [*goals.names, *extra]})
        row["kept"] = None if kept is None else int(kept)
        row["retention"] = scores.get("retention", None if kept is None or not n else kept / n)
        row["feasible"] = None if r.feasible is None else str(r.feasible).lower()
        row["duration_s"] = None if r.duration_s is None else round(r.duration_s, 2)
        classes = ["best" if best is not None and r.number == best.number else "",
                   "infeasible" if r.feasible is False else "", "front" if r.number in on_front else ""]  # fmt: skip
        row["_class"] = " ".join(c for c in classes if c)
        row["_anchor"] = f"trial-{r.number}" if r.number in on_front else None
        rows.append(row)
    return TrialsTable(columns, numeric, rows)


def _parameters(records, param_names, goals) -> List[ParameterTable]:
    tables = []
    for metric in _metrics(goals):
        n_done = len(completed(records, metric))
        if n_done < 2:
            continue
        table = importances(records, param_names, metric)
        rows = [(name, v["importance"], v["correlation"], v["kind"]) for name, v in table.items()]
        if rows:
            tables.append(ParameterTable(metric.name, metric.goal, n_done, rows))
    return tables


def _fresh_plots(out_dir: str) -> list:
    """The plots this run wrote (not older than its ``trials.csv``, written just before them)."""
    trials = os.path.join(out_dir, "trials.csv")
    since = os.path.getmtime(trials) if os.path.exists(trials) else 0.0
    found = []
    for caption, name in PLOTS:
        path = os.path.join(out_dir, name)
        if os.path.exists(path) and os.path.getmtime(path) >= since:
            found.append((caption, path))
    return found


def _chosen_text(best, goals, select) -> str:
    scores = ", ".join(f"{k} = {v:.4g}" for k, v in _scores(best, goals).items())
    if goals.multi:
        how = f"best on {select}" if select else "the sweep chose (no auto_hpo.select)"
        return f"trial #{best.number} ({scores}): the Pareto trial {how}"
    which = "the best feasible" if goals.constraints else "the best"
    return f"trial #{best.number} ({scores}): {which} by {goals.names[0]} ({goals.directions[0]})"


def write_sweep_report(path, out_dir, cfg, section, sweep, scoring, targets, records, best, evaluator) -> SweepFacts:
    """Write the sweep's report to ``path``; returns what the closing summary needs."""
    with Progress("writing the report"):
        goals, param_names = scoring.goals, list(sweep.parameters)
        chosen_bundle = evaluator.bundle(best.params)
        population = getattr(chosen_bundle, "population", None)
        n = None if population is None else len(population)
        base = written_bundle(evaluator, targets)
        kept_written, kept_chosen = kept_count(evaluator, base, {}), kept_count(evaluator, chosen_bundle, best.params)
        done = [r for r in records if r.state == "COMPLETE"]
        counted = len(done) <= MAX_COUNTED

        def kept_of(record):
            if not counted or record.state != "COMPLETE":
                return None
            return kept_count(evaluator, built_bundle(evaluator, record.params), record.params)

        front = pareto_front(records, goals) if goals.multi else []
        states = {s: sum(1 for r in records if r.state == s) for s in ("COMPLETE", "PRUNED", "FAIL")}
        facts = [
            ("data", f"{cfg.get('dataset_path') or 'the dataset block'} ({n:,} documents as the filters see them)"
             if n is not None else str(cfg.get("dataset_path") or "the dataset block")),
            ("mode", f"wandb sweep ({section['backend']} backend), {sweep.method}, {len(records)} trials: "
             + ", ".join(f"{v} {k.lower()}" for k, v in states.items() if v)),
            ("objectives", ", ".join(f"{name} ({d})" for name, d in zip(goals.names, goals.directions))),
        ]  # fmt: skip
        if section.get("constraints"):
            n_ok = sum(1 for r in done if r.feasible is not False)
            facts.append(("constraints", f"{', '.join(section['constraints'])}: {n_ok} of {len(done)} completed "
                                         f"trials feasible"))  # fmt: skip
        facts.append(("chosen", _chosen_text(best, goals, scoring.select)))
        diff = [(name, str(_written(evaluator, t)), str(best.params.get(name))) for name, t in targets.items()]
        kept = [("the recipe as written", kept_written), (f"the chosen recipe (trial #{best.number})", kept_chosen)]
        outputs = [("this report", os.path.abspath(path)), ("trials", os.path.join(out_dir, "trials.csv")),
                   ("best recipe", os.path.join(out_dir, "best_recipe.yaml"))]  # fmt: skip
        if goals.multi:
            outputs += [("Pareto trials", os.path.join(out_dir, "pareto.csv")),
                        ("Pareto recipes", os.path.join(out_dir, "pareto"))]  # fmt: skip
        if section["process_best"] and cfg.get("export_path"):
            outputs.append(("processed data (export_path)", str(cfg.get("export_path"))))
        sections = trial_sections(evaluator, targets, best.params, build=True)  # processed next: built anyway
        notes = []
        if getattr(evaluator, "sample_note", None):
            notes.append(evaluator.sample_note)
        if evaluator.mixture is not None:
            notes.append("A mixture sweep: the filters' counts and examples are on the concatenated sources, before "
                         "the chosen weights sample them.")  # fmt: skip
        if not sections:
            notes.append("No filter statistics to show: this recipe runs Data-Juicer's whole pipeline per trial.")
        shaped = [f"{place}: {a} -> {b}" for place, a, b in diff if place not in evaluator.bundles.keep_only and a != b]
        if shaped and sections:
            notes.append(f"The chosen trial changes arguments that shape a statistic ({'; '.join(shaped)}): each "
                         f"filter's section counts the written and the chosen bounds on the chosen trial's statistic; "
                         f"'documents kept' counts each recipe on its own.")  # fmt: skip
        recipes = os.path.join(out_dir, "pareto")
        fronts = [
            FrontTrial(r.number, _scores(r, goals), dict(r.params), os.path.join(recipes, f"trial-{r.number}.yaml"),
                       trial_sections(evaluator, targets, r.params, n_examples=2), r.number == best.number)
            for r in front[:MAX_FRONT]
        ]  # fmt: skip
        report = Report(
            f"Sweep report: {cfg.get('project_name') or 'data-juicer'}",
            "wandb",
            Summary(facts, diff, kept, n or 0, [(w, p) for w, p in outputs if p]),
            sections,
            trials=_trials(records, param_names, goals, best, front, kept_of, n),
            parameters=_parameters(records, param_names, goals),
            images=_fresh_plots(out_dir),
            front=fronts,
            notes=notes,
        )
        write_report(path, report)
    logger.info(f"auto_hpo[sweep]: report written to [{os.path.abspath(path)}]")
    return SweepFacts(n, kept_written, kept_chosen)


def _written(evaluator, target):
    """A swept value as the recipe states it (an op argument missing from the recipe: the op's default)."""
    if target.position is None:
        return evaluator.bundles.base_top.get(target.arg)
    ((_, args),) = evaluator.bundles.base_process[target.position].items()
    if args and target.arg in args:
        return args[target.arg]
    op = evaluator.bundles.load_ops([evaluator.bundles.base_process[target.position]])[0]
    return getattr(op, target.arg, None)
