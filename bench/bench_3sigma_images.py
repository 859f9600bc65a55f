"""3sigma overhead on images: dj-process with ``auto_hpo: {mode: 3sigma}`` against plain dj-process, with the three
image filters (aspect ratio, shape, size) over generated PNG files.

    python bench/bench_3sigma_images.py [--images 2000] [--repeats 3]

The samples hold one or two images each (about ``--images`` in all; every tenth sample none). Runs are interleaved
(plain, 3sigma, plain, ...); the figure is the ratio of the median wall times (target <= 1.2) and of the median
peak memory (RSS summed over the process tree).
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BIN, interleave, save, summarize, write_recipe  # noqa: E402

PROCESS = [
    {"image_aspect_ratio_filter": {"min_ratio": 0.1, "max_ratio": 10.0, "any_or_all": "any"}},
    {"image_shape_filter": {"min_width": 1, "max_width": 100000, "any_or_all": "all"}},
    {"image_size_filter": {"min_size": "0", "max_size": "1TB", "any_or_all": "any"}},
]


def make_images(folder: Path, count: int, seed: int = 0) -> Path:
    """JSON Lines of samples with ~``count`` noise PNGs of varied shapes (and a few outliers)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    rows, made, i = [], 0, 0
    while made < count:
        n = 0 if i % 10 == 0 else min(count - made, 1 + int(i % 3 == 0))
        paths = []
        for j in range(n):
            w, h = int(rng.integers(16, 64)), int(rng.integers(16, 64))
            if rng.random() < 0.01:
                w *= 6
            path = folder / f"{i}_{j}.png"
            Image.fromarray(rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)).save(path)
            paths.append(str(path))
        made += n
        rows.append({"text": f"sample {i}", "images": paths})
        i += 1
    data = folder.parent / "images.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return data


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJ_HPO_BLOCK_RUNTIME_INSTALLS", "1")  # plain Data-Juicer would install torch at run time
    work = Path(tempfile.mkdtemp(prefix="dj-hpo-bench-img-"))
    try:
        data = make_images(work / "media", args.images)
        variants, exports = {}, {}
        for name, extra in (("plain", {}), ("3sigma", {"auto_hpo": {"mode": "3sigma"}})):
            exports[name] = work / name / "out.jsonl"
            recipe = write_recipe(work / f"{name}.yaml", data, exports[name], process=PROCESS, **extra)
            variants[name] = [str(BIN / "dj-process"), "--config", str(recipe)]

        def clean(name):
            shutil.rmtree(exports[name].parent, ignore_errors=True)

        samples_n = sum(1 for _ in open(data))
        print(f"{args.images} images in {samples_n} samples, {args.repeats} interleaved runs")
        result = summarize(interleave(variants, args.repeats, work, prepare=clean))
        result["images"], result["samples"] = args.images, samples_n
        result["ratio_3sigma_to_plain"] = result["3sigma"]["median_s"] / result["plain"]["median_s"]
        result["memory_ratio_3sigma_to_plain"] = result["3sigma"]["peak_mib"] / result["plain"]["peak_mib"]
        print(f"plain  median {result['plain']['median_s']:.2f} s, peak {result['plain']['peak_mib']:.0f} MiB")
        print(f"3sigma median {result['3sigma']['median_s']:.2f} s, peak {result['3sigma']['peak_mib']:.0f} MiB")
        print(
            f"ratio 3sigma/plain: time {result['ratio_3sigma_to_plain']:.3f} (target <= 1.20), "
            f"memory {result['memory_ratio_3sigma_to_plain']:.3f}"
        )
        print(f"saved {save(f'3sigma-images-{args.images}', result)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
