"""Pictures of what 3sigma did: one histogram per tuned statistic with the old and new bounds marked."""

import os
from typing import Dict, List

import numpy as np

__all__ = ["plot_bounds"]


def plot_bounds(changes, values: Dict[int, Dict[str, np.ndarray]], out_dir: str, k: float) -> List[str]:
    """Write ``<op>_<index>_<stat>.png`` for every (op, statistic) that got new bounds; return the paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .ops.recipe import write_figure

    groups: Dict[tuple, list] = {}
    for c in changes:
        groups.setdefault((c.index, c.op_name, c.stat_key), []).append(c)
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for (index, op_name, stat_key), group in groups.items():
        data = np.asarray(values[index][stat_key], dtype=np.float64)
        fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
        positive = data[data > 0]
        use_log = positive.size == data.size and data.max() / max(positive.min(), 1e-12) > 1e3
        bins = np.logspace(np.log10(positive.min()), np.log10(data.max()), 80) if use_log else 80
        ax.hist(data, bins=bins, color="#7a9cc6", edgecolor="none")
        if use_log:
            ax.set_xscale("log")
        lo, hi = ax.get_xlim()
        new_bounds = {c.arg.split("_", 1)[0]: c.new for c in group}
        kept_lo = max(new_bounds.get("min", lo), lo)
        kept_hi = min(new_bounds.get("max", hi), hi)
        if kept_lo < kept_hi:
            ax.axvspan(kept_lo, kept_hi, color="#2ecc71", alpha=0.08, label="kept by the new bounds")
        for c in group:
            for value, style, color, label in ((c.old, ":", "#555555", "old"), (c.new, "-", "#c0392b", "new")):
                if not isinstance(value, (int, float)):
                    continue
                text = f"{label} {c.arg} = {value:.6g}"
                if lo <= value <= hi:
                    ax.axvline(value, color=color, linestyle=style, lw=1.6, label=text)
                else:  # e.g. the default max_len=sys.maxsize, or 0 on a log axis
                    ax.plot([], [], color=color, linestyle=style, label=text + " (off scale)")
        ax.set_xlim(lo, hi)
        ax.legend(fontsize=8, loc="upper right", framealpha=0.9)
        ax.set_title(f"{op_name} (#{index}): {stat_key}, n={data.size}, k={k:g}")
        ax.set_xlabel(stat_key)
        ax.set_ylabel("samples")
        fig.tight_layout()
        path = os.path.join(out_dir, f"{op_name}_{index}_{stat_key}.png")
        write_figure(fig, path)
        plt.close(fig)
        paths.append(path)
    return paths
