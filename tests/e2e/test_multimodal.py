"""3sigma and sweeps on image filters, end to end: the real dj-process on PNG files the test makes, checked against
an independent numpy computation over the images' widths, heights, aspect ratios and byte sizes."""

import math
import os

import numpy as np
import pytest
import yaml

from tests.helpers.data import read_jsonl, write_yaml
from tests.helpers.media import image_samples, media_recipe, write_samples

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
pytest.importorskip("PIL")


def _k_sigma(items, k=3.0):
    arr = np.asarray(items, dtype=float)
    return float(arr.mean() - k * arr.std(ddof=1)), float(arr.mean() + k * arr.std(ddof=1))


def _keep_media(samples, key, item_ok, any_):
    """Data-Juicer's rule for list-valued filters: a sample without media is kept, else any/all of its items."""
    out = []
    for s in samples:
        oks = [item_ok(p) for p in s[key]]
        out.append(True if not oks else (any(oks) if any_ else all(oks)))
    return np.asarray(out)


def _keep(samples, item_ok, any_):
    return _keep_media(samples, "images", item_ok, any_)


IMAGE_PROCESS = [
    {"image_aspect_ratio_filter": {"min_ratio": 0.1, "max_ratio": 100.0, "any_or_all": "any"}},
    {"image_shape_filter": {"min_width": 1, "max_width": 100000, "any_or_all": "all"}},
    {"image_size_filter": {"min_size": "0", "max_size": "1TB", "any_or_all": "any"}},
]


def test_3sigma_pools_image_items_and_keeps_size_strings(tmp_path, dj_process):
    from PIL import Image

    samples = image_samples(tmp_path / "media")
    data = write_samples(tmp_path / "d.jsonl", samples)
    refined_path = tmp_path / "refined.yaml"
    recipe = media_recipe(
        tmp_path, data, IMAGE_PROCESS, project="mm", mode="3sigma", path_3sigma_recipe=str(refined_path), plot=True
    )
    res = dj_process("--config", recipe)
    assert res.returncode == 0, res.stderr[-3000:]

    paths = [p for s in samples for p in s["images"]]
    dims = {p: Image.open(p).size for p in paths}
    ratios = {p: w / h for p, (w, h) in dims.items()}
    sizes = {p: os.path.getsize(p) for p in paths}
    r_lo, r_hi = _k_sigma(list(ratios.values()))
    w_lo, w_hi = _k_sigma([w for w, _ in dims.values()])
    h_lo, h_hi = _k_sigma([h for _, h in dims.values()])
    s_lo, s_hi = _k_sigma(list(sizes.values()))
    expected = {
        ("image_aspect_ratio_filter", "min_ratio"): max(r_lo, 0.0),
        ("image_aspect_ratio_filter", "max_ratio"): r_hi,
        ("image_shape_filter", "min_width"): max(math.ceil(w_lo), 0),
        ("image_shape_filter", "max_width"): math.floor(w_hi),
        ("image_shape_filter", "min_height"): max(math.ceil(h_lo), 0),
        ("image_shape_filter", "max_height"): math.floor(h_hi),
        ("image_size_filter", "min_size"): str(max(math.ceil(s_lo), 0)),
        ("image_size_filter", "max_size"): str(math.floor(s_hi)),
    }
    refined = yaml.safe_load(refined_path.read_text())["process"]
    for (op, arg), value in expected.items():
        got = next(entry[op] for entry in refined if op in entry)[arg]
        assert type(got) is type(value), (op, arg, got)
        if isinstance(value, float):
            assert got == pytest.approx(value, rel=1e-12), (op, arg)
        else:
            assert got == value, (op, arg)
    from data_juicer.utils.mm_utils import size_to_bytes

    size_args = next(entry["image_size_filter"] for entry in refined if "image_size_filter" in entry)
    assert size_to_bytes(size_args["max_size"]) == math.floor(s_hi)  # Data-Juicer reads back the exact byte bound
    assert f"image_size_filter.max_size: '1TB' -> '{math.floor(s_hi)}'" in res.stderr

    r_min, r_max = expected[("image_aspect_ratio_filter", "min_ratio")], r_hi
    keep = _keep(samples, lambda p: r_min <= ratios[p] <= r_max, any_=True)
    w_min, h_min = expected[("image_shape_filter", "min_width")], expected[("image_shape_filter", "min_height")]
    shape_ok = lambda p: w_min <= dims[p][0] <= math.floor(w_hi) and h_min <= dims[p][1] <= math.floor(h_hi)  # noqa
    keep &= _keep(samples, shape_ok, any_=False)
    keep &= _keep(samples, lambda p: max(math.ceil(s_lo), 0) <= sizes[p] <= math.floor(s_hi), any_=True)
    kept = [row["text"] for row in read_jsonl(tmp_path / "out" / "kept.jsonl")]
    assert kept == [s["text"] for s, k in zip(samples, keep) if k]
    assert 0 < len(kept) < len(samples)  # the extreme images are cut, samples without images stay
    shape_removed = int((~_keep(samples, shape_ok, any_=False)).sum())
    assert f"image_shape_filter (#1) bounds remove [{shape_removed}] of [{len(samples)}]" in res.stderr
    assert all(s["text"] in kept for s in samples if not s["images"])
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [
        "image_aspect_ratio_filter_0_aspect_ratios.png",
        "image_shape_filter_1_image_height.png",
        "image_shape_filter_1_image_width.png",
        "image_size_filter_2_image_sizes.png",
    ]

    # the refined recipe runs with plain dj-process and keeps the same samples
    body = yaml.safe_load(refined_path.read_text())
    body["export_path"] = str(tmp_path / "plain" / "kept.jsonl")
    res = dj_process("--config", write_yaml(tmp_path / "plain.yaml", body))
    assert res.returncode == 0, res.stderr[-3000:]
    assert [row["text"] for row in read_jsonl(tmp_path / "plain" / "kept.jsonl")] == kept


def test_sweep_addresses_image_thresholds_and_honours_any_or_all(tmp_path, dj_process):
    from PIL import Image

    samples = image_samples(tmp_path / "media")
    data = write_samples(tmp_path / "d.jsonl", samples)
    sweep = {
        "method": "grid",
        "metric": {"name": "retention", "goal": "maximize"},
        "parameters": {
            "image_shape_filter.min_width": {"values": [25, 40]},
            "image_size_filter.max_size": {"values": ["5KB", 8000, "1MB"]},
        },
    }
    sweep_path = write_yaml(tmp_path / "sweep.yaml", sweep)
    process = [
        {"image_shape_filter": {"min_width": 1, "any_or_all": "all"}},
        {"image_size_filter": {"max_size": "1TB", "any_or_all": "any"}},
    ]
    recipe = media_recipe(
        tmp_path,
        data,
        process,
        project="mm",
        mode="wandb",
        hpo_config=str(sweep_path),
        output_dir=str(tmp_path / "hpo"),
    )
    res = dj_process("--config", recipe, env={"WANDB_MODE": "disabled"})
    assert res.returncode == 0, res.stderr[-3000:]
    assert "each trial runs Data-Juicer's full pipeline" not in res.stderr  # the fast path: statistics reused

    import csv

    with open(tmp_path / "hpo" / "trials.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 6
    widths = {p: Image.open(p).size[0] for s in samples for p in s["images"]}
    sizes = {p: os.path.getsize(p) for p in widths}
    bytes_of = {"5KB": 5 * 1024, "8000": 8000, "1MB": 1 << 20}
    for row in rows:
        min_width, max_size = int(row["image_shape_filter.min_width"]), bytes_of[row["image_size_filter.max_size"]]
        keep = _keep(samples, lambda p: widths[p] >= min_width, any_=False)
        keep &= _keep(samples, lambda p: sizes[p] <= max_size, any_=True)
        assert float(row["retention"]) == pytest.approx(keep.mean()), row

    best = yaml.safe_load((tmp_path / "hpo" / "best_recipe.yaml").read_text())["process"]
    assert isinstance(best[1]["image_size_filter"]["max_size"], str)  # a byte count is written as a size string
    body = yaml.safe_load((tmp_path / "hpo" / "best_recipe.yaml").read_text())
    body["export_path"] = str(tmp_path / "plain" / "kept.jsonl")
    res = dj_process("--config", write_yaml(tmp_path / "plain.yaml", body))
    assert res.returncode == 0, res.stderr[-3000:]
    assert read_jsonl(tmp_path / "plain" / "kept.jsonl") == read_jsonl(tmp_path / "out" / "kept.jsonl")


def test_3sigma_on_videos_durations_resolutions_and_fraction_ratios(tmp_path, dj_process):
    pytest.importorskip("av")
    from fractions import Fraction

    import av

    from tests.helpers.media import video_samples

    samples = video_samples(tmp_path / "media")
    data = write_samples(tmp_path / "d.jsonl", samples)
    process = [
        {"video_duration_filter": {"video_backend": "av", "any_or_all": "any"}},
        {"video_aspect_ratio_filter": {"min_ratio": "1/100", "max_ratio": "100:1", "any_or_all": "all"}},
        {"video_resolution_filter": {"any_or_all": "any"}},
    ]
    refined_path = tmp_path / "refined.yaml"
    recipe = media_recipe(tmp_path, data, process, project="mm", mode="3sigma", path_3sigma_recipe=str(refined_path))
    res = dj_process("--config", recipe)
    assert res.returncode == 0, res.stderr[-3000:]

    info = {}
    for p in (p for s in samples for p in s["videos"]):
        with av.open(p) as container:
            stream = container.streams.video[0]
            info[p] = (stream.frames / float(stream.average_rate), stream.width, stream.height)
    d_lo, d_hi = _k_sigma([d for d, _, _ in info.values()])
    a_lo, a_hi = _k_sigma([w / h for _, w, h in info.values()])
    w_lo, w_hi = _k_sigma([w for _, w, _ in info.values()])
    h_lo, h_hi = _k_sigma([h for _, _, h in info.values()])
    refined = yaml.safe_load(refined_path.read_text())["process"]
    dur, ratio, res_args = (next(iter(entry.values())) for entry in refined)
    assert dur["min_duration"] == pytest.approx(max(d_lo, 0.0)) and dur["max_duration"] == pytest.approx(d_hi)
    assert isinstance(ratio["min_ratio"], str) and isinstance(ratio["max_ratio"], str)  # the argument's type
    assert float(Fraction(ratio["min_ratio"])) == pytest.approx(max(a_lo, 0.0), rel=1e-9)
    assert float(Fraction(ratio["max_ratio"])) == pytest.approx(a_hi, rel=1e-9)
    assert (res_args["min_width"], res_args["max_width"]) == (max(math.ceil(w_lo), 0), math.floor(w_hi))
    assert (res_args["min_height"], res_args["max_height"]) == (max(math.ceil(h_lo), 0), math.floor(h_hi))

    keep = _keep_media(samples, "videos", lambda p: dur["min_duration"] <= info[p][0] <= dur["max_duration"], True)
    r_min, r_max = Fraction(ratio["min_ratio"]), Fraction(ratio["max_ratio"])
    keep &= _keep_media(samples, "videos", lambda p: r_min <= info[p][1] / info[p][2] <= r_max, False)
    keep &= _keep_media(
        samples,
        "videos",
        lambda p: res_args["min_width"] <= info[p][1] <= res_args["max_width"]
        and res_args["min_height"] <= info[p][2] <= res_args["max_height"],
        True,
    )
    kept = [row["text"] for row in read_jsonl(tmp_path / "out" / "kept.jsonl")]
    assert kept == [s["text"] for s, k in zip(samples, keep) if k]
    assert 0 < len(kept) < len(samples)
