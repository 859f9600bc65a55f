"""Which of the installed Data-Juicer's filters 3sigma and sweeps tune, and why the others are left alone.

Generated from Data-Juicer itself rather than listed by hand: its op registry, ``NON_STATS_FILTERS``, the threshold
arguments of each op's signature (:mod:`.thresholds`), whether its ``__init__`` prepares a model
(``prepare_model``), and the packages it imports lazily (``LazyLoader``) or reads its media with. Run
``python -m data_juicer_hpo.ops.coverage`` for the table in docs/media.md.

At run time the same facts decide: an op instance that holds a prepared model (:func:`model_need`) is not computed
by the plugin's statistics pass, so the plugin never triggers a model download; its thresholds stay as the recipe
gives them, with the reason logged. A recipe whose op needs a package that is not installed, or a system library
such a package loads (FFmpeg's, for torchcodec), fails up front with one line naming it and the extra that brings it
(:func:`missing_package_problems`).
"""

import ast
import functools
import importlib
import inspect
import re
import sys
import textwrap
import threading
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from data_juicer.ops import NON_STATS_FILTERS, OPERATORS, Filter
from data_juicer.utils.model_utils import MODEL_FUNCTION_MAPPING

from data_juicer_hpo.hooks.install_guard import spec_module
from data_juicer_hpo.imports import module_installed
from data_juicer_hpo.ops.thresholds import threshold_pairs

__all__ = [
    "EXTRAS",
    "extra_of",
    "Coverage",
    "stats_filters",
    "model_need",
    "class_model_use",
    "needed_packages",
    "missing_package_problems",
    "coverage",
    "markdown_table",
]

# the extras of setup.cfg that bring what Data-Juicer's media filters need, by import name
EXTRAS = {"multimodal": ("av",), "audio": ("torchcodec", "torch", "librosa", "resampy", "samplerate")}
EXTRA_OF = {module: extra for extra, modules in EXTRAS.items() for module in modules}
# what an extra needs beside its packages, and where its filters are tested, for the table
_EXTRA_NOTE = {"audio": " and FFmpeg's shared libraries (tested by `make test-audio`, in its own venv)"}
# a module an extra brings only as another's requirement: torch comes with torchcodec, and model filters need a torch
# of their own choosing
_COMPANION_OF = {"torch": "torchcodec"}
_LAZY = re.compile(r"LazyLoader\(\s*[\"']([\w.]+)[\"'](?:\s*,\s*(?:globals\(\)\s*,\s*)?[\"']([\w.=<>-]+)[\"'])?")
# ``LazyLoader.check_packages(["resampy", "samplerate==0.1.0"])``: pip specs Data-Juicer installs when it builds the op
_CHECKED = re.compile(r"LazyLoader\.check_packages\(\s*\[([^\]]*)\]")
_QUOTED = re.compile(r"[\"']([^\"']+)[\"']")
# how Data-Juicer reads media (``data_juicer/utils/mm_utils.py``): images with Pillow (a requirement of Data-Juicer),
# videos with PyAV, audio through ``datasets.Audio``, which decodes with torchcodec (and so torch)
# model weights an op loads itself, outside prepare_model (torchvision's RAFT, easyocr, Hugging Face)
_WEIGHTS = re.compile(r"weights=\w[\w.]*\.DEFAULT|easyocr\.Reader\(|\.from_pretrained\(|ptlflow\.get_model\(")
_READERS = (
    ("load_video", ("av",)),
    ("create_video_reader", ("av",)),
    ("load_audio", ("torchcodec", "torch")),
)


@dataclass(frozen=True)
class Coverage:
    name: str
    thresholds: Tuple[str, ...]
    status: str  # "tuned" | "needs a model" | "needs an asset download" | "no threshold"
    note: str  # packages, conditions


def stats_filters() -> Dict[str, type]:
    """Every registered filter that produces a statistic (not in ``NON_STATS_FILTERS``), by name."""

    return {
        name: cls
        for name, cls in sorted(OPERATORS.modules.items())
        if isinstance(cls, type) and issubclass(cls, Filter) and name not in NON_STATS_FILTERS.modules
    }


def model_need(op) -> Optional[str]:
    """Why ``op`` (an instance) needs a model, or None: it holds a model key made by Data-Juicer's
    ``prepare_model`` (a ``functools.partial`` of one of its model loaders)."""

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


_PARSING = threading.Lock()


def _parse(source: str) -> ast.Module:
    """``ast.parse``, one thread at a time and tried again on a ``SystemError``: CPython 3.11's check of the AST
    constructor's recursion depth can fail spuriously while another thread parses (seen in a Ray driver:
    "AST constructor recursion depth mismatch")."""
    for attempt in range(3):
        try:
            with _PARSING:
                return ast.parse(source)
        except SystemError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


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
            tree = _parse(textwrap.dedent(source))
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
    for listed in _CHECKED.finditer(source):
        for spec in _QUOTED.findall(listed.group(1)):
            module = spec_module(spec)
            if module:
                out.setdefault(module, spec)
    for function, modules in _READERS:
        if re.search(rf"\b{function}\b", source):
            for module in modules:
                out.setdefault(module, module)
    return out


def extra_of(module: str, modules) -> Optional[str]:
    """The extra of setup.cfg that installs ``module`` for an op needing ``modules``, or None."""
    companion = _COMPANION_OF.get(module)
    if companion is not None and companion not in modules:
        return None
    return EXTRA_OF.get(module)


# modules whose import loads system libraries, by what their import needs
_LOADS = {
    "torchcodec": (
        "torchcodec.decoders",
        "cannot load FFmpeg's shared libraries: install FFmpeg 4 to 8 (Debian 12: apt-get install libavcodec59 "
        "libavformat59 libavutil57 libswresample4 libswscale6 libavdevice59 libavfilter8)",
    )
}


@functools.lru_cache(maxsize=None)
def _load_problem(module: str) -> Optional[str]:
    """Why an installed ``module`` cannot be imported for its system libraries, or None."""
    if module not in _LOADS:
        return None
    target, why = _LOADS[module]
    try:
        importlib.import_module(target)
    except Exception:  # noqa: BLE001  (torchcodec raises RuntimeError, with every FFmpeg it tried, when none loads)
        return f"{module} {why}"
    return None


def _install_hint(missing: Dict[str, str], modules) -> str:
    extras = sorted({extra_of(m, modules) for m in missing} - {None})
    others = [pip for m, pip in missing.items() if extra_of(m, modules) is None]
    hints = [f"pip install data-juicer-hpo[{extra}]" for extra in extras]
    if others:
        hints.append(f"pip install {' '.join(others)} (not part of an extra of data-juicer-hpo)")
    return " and ".join(hints)


def missing_package_problems(process) -> List[str]:
    """One line per op of ``process`` whose packages are not installed (they would be installed at run time)."""
    filters = stats_filters()
    problems = []
    for index, entry in enumerate(process or []):
        name = next(iter(entry)) if isinstance(entry, dict) and entry else None
        if name not in filters or class_model_use(filters[name]) == "always":
            continue
        needed = needed_packages(filters[name])
        missing = {module: pip for module, pip in needed.items() if not module_installed(module)}
        if missing:
            quoted = ", ".join(repr(m) for m in missing)
            what = f"the package {quoted}, which is" if len(missing) == 1 else f"the packages {quoted}, which are"
            problems.append(f"process[{index}].{name}: needs {what} not installed: {_install_hint(missing, needed)}")
            continue
        loads = [_load_problem(module) for module in needed]
        problems.extend(f"process[{index}].{name}: {problem}" for problem in loads if problem)
    return problems


def coverage() -> List[Coverage]:
    """One row per statistic-producing filter of the installed Data-Juicer."""

    rows = []
    for name, cls in stats_filters().items():
        args = tuple(t.arg for pair in threshold_pairs(cls) for t in pair.args)
        model = class_model_use(cls)
        packages = needed_packages(cls)
        in_extras = {}
        for module in packages:
            in_extras.setdefault(extra_of(module, packages), []).append(module)
        other = [m for m in in_extras.pop(None, []) if m != "torch" or not model]
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
        for extra, modules in sorted(in_extras.items()):
            notes.append(f"needs {', '.join(modules)}: the `{extra}` extra{_EXTRA_NOTE.get(extra, '')}")
        if other and status == "tuned":
            notes.append(f"needs {', '.join(other)}, not in an extra")
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
