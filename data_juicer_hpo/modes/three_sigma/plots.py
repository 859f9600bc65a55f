"""Pictures of what 3sigma did: one histogram per tuned statistic with the old and new bounds marked."""

import numbers
import os
from typing import Dict, List

import numpy as np

from data_juicer_hpo.files import write_figure
from data_juicer_hpo.imports import pyplot
from data_juicer_hpo.ops.thresholds import pooled

__all__ = ["plot_bounds"]


def plot_bounds(
    changes, values: Dict[int, Dict[str, np.ndarray]], out_dir: str, k: float, scale: str = "linear"
) -> List[str]:
    """Write ``<op>_<index>_<stat>.png`` for every (op, statistic) that got new bounds; return the paths.

    A list-valued statistic is drawn over all of its items (the population the bounds were estimated on); with
    log-scale bounds the x axis is logarithmic, so the bounds sit symmetric around the bulk as computed."""
    plt = pyplot()

    groups: Dict[tuple, list] = {}
    for c in changes:
        groups.setdefault((c.index, c.op_name, c.stat_key), []).append(c)
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for (index, op_name, stat_key), group in groups.items():
        data = pooled(values[index][stat_key])
        fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
        positive = data[data > 0]
        log_bounds = any(c.scale == "log" for c in group)
        use_log = positive.size == data.size and (log_bounds or data.max() / max(positive.min(), 1e-12) > 1e3)
        bins = np.logspace(np.log10(positive.min()), np.log10(data.max()), 80) if use_log else 80
        ax.hist(data, bins=bins, color="#7a9cc6", edgecolor="none")
        if use_log:
            ax.set_xscale("log")
        lo, hi = ax.get_xlim()
        new_bounds = {c.arg.split("_", 1)[0]: float(c.op_value) for c in group}
        kept_lo = max(new_bounds.get("min", lo), lo)
        kept_hi = min(new_bounds.get("max", hi), hi)
        if kept_lo < kept_hi:
            ax.axvspan(kept_lo, kept_hi, color="#2ecc71", alpha=0.08, label="kept by the new bounds")
        for c in group:
            for value, style, color, label in ((c.old, ":", "#555555", "old"), (c.op_value, "-", "#c0392b", "new")):
                if not isinstance(value, numbers.Real) or isinstance(value, bool):
                    continue
                value = float(value)
                text = f"{label} {c.arg} = {value:.6g}"
                if lo <= value <= hi:
                    ax.axvline(value, color=color, linestyle=style, lw=1.6, label=text)
                else:  # e.g. the default max_len=sys.maxsize, or 0 on a log axis
                    ax.plot([], [], color=color, linestyle=style, label=text + " (off scale)")
        ax.set_xlim(lo, hi)
        ax.legend(fontsize=8, loc="upper right", framealpha=0.9)
        unit = "items" if any(isinstance(v, (list, tuple, np.ndarray)) for v in values[index][stat_key]) else "n"
        rule = f"mean ± {k:g}·std of ln x" if group[0].scale == "log" else f"mean ± {k:g}·std"
        ax.set_title(f"{op_name} (#{index}): {stat_key}, {unit}={data.size}, bounds {rule}")
        ax.set_xlabel(f"{stat_key} ({'log' if use_log else 'linear'} axis)")
        ax.set_ylabel("items" if unit == "items" else "samples")
        fig.tight_layout()
        path = os.path.join(out_dir, f"{op_name}_{index}_{stat_key}.png")
        write_figure(fig, path)
        plt.close(fig)
        paths.append(path)
    return paths
