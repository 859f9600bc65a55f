"""Which of the installed Data-Juicer's filters 3sigma and sweeps tune, and why the others are left alone.

Generated from Data-Juicer itself rather than listed by hand: its op registry, ``NON_STATS_FILTERS``, the threshold
arguments of each op's signature (:mod:`.thresholds`), whether its ``__init__`` prepares a model
(``prepare_model``), and the packages it imports lazily (``LazyLoader``) or reads its media with. Run
``python -m data_juicer_hpo.ops.coverage`` for the README's table.

At run time the same facts decide: an op instance that holds a prepared model (:func:`model_need`) is not computed
by the plugin's statistics pass, so the plugin never triggers a model download; its thresholds stay as the recipe
gives them, with the reason logged. A recipe whose op needs a package that is not installed fails up front with one
line naming it (:func:`missing_package_problems`).
"""

import ast
import functools
import importlib.util
import inspect
import re
import sys
import textwrap
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

__all__ = [
    "EXTRA",
    "Coverage",
    "stats_filters",
    "model_need",
    "class_model_use",
    "needed_packages",
    "missing_package_problems",
    "coverage",
    "markdown_table",
]

EXTRA = "multimodal"
# modules the ``multimodal`` extra installs (setup.cfg), by import name
EXTRA_MODULES = {"av": "av==13.1.0"}
_LAZY = re.compile(r"LazyLoader\(\s*[\"']([\w.]+)[\"'](?:\s*,\s*(?:globals\(\)\s*,\s*)?[\"']([\w.=<>-]+)[\"'])?")
# how Data-Juicer reads media (``data_juicer/utils/mm_utils.py``): images with Pillow (a requirement of Data-Juicer),
# videos with PyAV, audio through ``datasets.Audio``, which decodes with torchcodec (and so torch)
# model weights an op loads itself, outside prepare_model (torchvision's RAFT, easyocr, Hugging Face)
_WEIGHTS = re.compile(r"weights=\w[\w.]*\.DEFAULT|easyocr\.Reader\(|\.from_pretrained\(|ptlflow\.get_model\(")
_READERS = (("load_video", "av", "av"), ("create_video_reader", "av", "av"), ("load_audio", "torchcodec", "torchcodec"))


@dataclass(frozen=True)
class Coverage:
    name: str
    thresholds: Tuple[str, ...]
    status: str  # "tuned" | "needs a model" | "needs an asset download" | "no threshold"
    note: str  # packages, conditions


def stats_filters() -> Dict[str, type]:
    """Every registered filter that produces a statistic (not in ``NON_STATS_FILTERS``), by name."""
    from data_juicer.ops import NON_STATS_FILTERS, OPERATORS, Filter

    return {
        name: cls
        for name, cls in sorted(OPERATORS.modules.items())
        if isinstance(cls, type) and issubclass(cls, Filter) and name not in NON_STATS_FILTERS.modules
    }


def model_need(op) -> Optional[str]:
    """Why ``op`` (an instance) needs a model, or None: it holds a model key made by Data-Juicer's
    ``prepare_model`` (a ``functools.partial`` of one of its model loaders)."""
    from data_juicer.utils.model_utils import MODEL_FUNCTION_MAPPING

    loaders = set(MODEL_FUNCTION_MAPPING.values())
    for attr, value in sorted(vars(op).items()):
        if isinstance(value, functools.partial) and value.func in loaders:
            kind = next((k for k, f in MODEL_FUNCTION_MAPPING.items() if f is value.func), value.func.__name__)
            return f"needs a {kind} model ({attr}); the plugin computes no statistic that would download it"
    if class_model_use(type(op)) == "always":
        return "loads model weights; the plugin computes no statistic that would download them"
    return None


def _init_sources(cls) -> List[str]:
    out = []
    for klass in inspect.getmro(cls):
        if "__init__" in vars(klass) and klass.__module__.startswith("data_juicer.ops"):
            try:
                out.append(inspect.getsource(klass.__init__))
            except (OSError, TypeError):
                pass
    return out


def _calls_prepare_model(node) -> bool:
    return any(
        isinstance(n, ast.Call) and getattr(n.func, "id", getattr(n.func, "attr", None)) == "prepare_model"
        for n in ast.walk(node)
    )


def _always(statements) -> bool:
    """Whether running ``statements`` always prepares a model (every branch of an ``if`` does)."""
    for statement in statements:
        if isinstance(statement, ast.If):
            if _always(statement.body) and _always(statement.orelse):
                return True
        elif isinstance(statement, (ast.Expr, ast.Assign, ast.AnnAssign, ast.AugAssign)):
            if _calls_prepare_model(statement):
                return True
    return False


def class_model_use(cls) -> Optional[str]:
    """``"always"`` when the op's ``__init__`` (or a base's) prepares a model on every path, or the op loads
    pretrained weights or an OCR reader itself; ``"optional"`` when only under some arguments; None when never."""
    try:
        if _WEIGHTS.search(inspect.getsource(cls)):
            return "always"
    except (OSError, TypeError):
        pass
    found = None
    for source in _init_sources(cls):
        try:
            tree = ast.parse(textwrap.dedent(source))
        except SyntaxError:
            continue
        body = getattr(tree.body[0], "body", [])
        if _always(body):
            return "always"
        if any(_calls_prepare_model(statement) for statement in body):
            found = "optional"
    return found


def needed_packages(cls) -> Dict[str, str]:
    """``{import name: pip name}`` of what the op imports lazily or reads its media with."""
    try:
        source = inspect.getsource(sys.modules[cls.__module__])
    except (OSError, TypeError, KeyError):
        return {}
    out = {m.group(1).split(".")[0]: (m.group(2) or m.group(1).split(".")[0]) for m in _LAZY.finditer(source)}
    for function, module, pip in _READERS:
        if re.search(rf"\b{function}\b", source):
            out.setdefault(module, pip)
    return out


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _install_hint(module: str, pip: str) -> str:
    if module in EXTRA_MODULES:
        return f"pip install data-juicer-hpo[{EXTRA}]"
    return f"pip install {pip} (not part of data-juicer-hpo[{EXTRA}])"


def missing_package_problems(process) -> List[str]:
    """One line per op of ``process`` whose packages are not installed (they would be installed at run time)."""
    filters = stats_filters()
    problems = []
    for index, entry in enumerate(process or []):
        name = next(iter(entry)) if isinstance(entry, dict) and entry else None
        if name not in filters or class_model_use(filters[name]) == "always":
            continue
        for module, pip in needed_packages(filters[name]).items():
            if not _installed(module):
                problems.append(
                    f"process[{index}].{name}: needs the package {module!r}, which is not installed: "
                    f"{_install_hint(module, pip)}"
                )
    return problems


def coverage() -> List[Coverage]:
    """One row per statistic-producing filter of the installed Data-Juicer."""
    from .thresholds import threshold_pairs

    rows = []
    for name, cls in stats_filters().items():
        args = tuple(t.arg for pair in threshold_pairs(cls) for t in pair.args)
        model = class_model_use(cls)
        packages = needed_packages(cls)
        extra = [m for m in packages if m in EXTRA_MODULES]
        other = [m for m in packages if m not in EXTRA_MODULES and m != "torch" or (m == "torch" and not model)]
        notes = []
        if not args:
            status = "no threshold"
        elif model == "always":
            status = "needs a model"
            notes.append("left unchanged, reason logged")
        else:
            status = "tuned"
            if model == "optional":
                notes.append("left unchanged when its arguments select a model")
        if "load_words_asset" in inspect.getsource(sys.modules[cls.__module__]) and status == "tuned":
            status = "needs an asset download"
            notes.append(
                "Data-Juicer fetches its word list when it builds the op, before the plugin runs; once present, tuned"
            )
        if extra:
            notes.append(f"needs {', '.join(extra)}: the `{EXTRA}` extra")
        if other and status == "tuned":
            notes.append(f"needs {', '.join(other)}, not in the `{EXTRA}` extra")
        rows.append(Coverage(name, args, status, "; ".join(notes)))
    return rows


def markdown_table(rows: Optional[List[Coverage]] = None) -> str:
    rows = coverage() if rows is None else rows
    lines = ["| filter | thresholds | 3sigma and sweeps | notes |", "|---|---|---|---|"]
    for row in rows:
        args = ", ".join(f"`{a}`" for a in row.thresholds) or "—"
        lines.append(f"| `{row.name}` | {args} | {row.status} | {row.note} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
