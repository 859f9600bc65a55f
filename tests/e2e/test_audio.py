"""3sigma and sweeps on Data-Juicer's audio filters, end to end: the real dj-process on WAV files the test makes
(tests/helpers/media.py), checked against durations from the files' frame counts (the standard library's ``wave``), SNRs
recomputed from samples decoded here, numpy's k-sigma, and the filters' own keep decisions.

These filters need the ``audio`` extra (torch, torchcodec, librosa, ...) and FFmpeg's shared libraries, which the
main venv leaves out: ``make test-audio`` runs this file in ``.venv-audio`` with ``DJ_HPO_AUDIO_REQUIRED=1``, so
there a missing piece fails instead of skipping.
"""

import csv
import functools
import importlib.util
import math
import os
import wave

import numpy as np
import pytest
import yaml

from tests.helpers.data import read_jsonl, write_yaml
from tests.helpers.media import audio_samples, media_recipe, write_samples

# Data-Juicer's NMF stops at its nmf_iter_num (500) on purpose; scikit-learn warns about it for every clip
pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore:Maximum number of iterations")]

STATS = "__dj__stats__"
MODULES = ("librosa", "resampy", "samplerate", "torchcodec", "torch")


@functools.lru_cache(maxsize=None)
def _unusable():
    missing = [m for m in MODULES if importlib.util.find_spec(m) is None]
    if missing:
        return f"not installed: {', '.join(missing)} (pip install data-juicer-hpo[audio])"
    try:
        import torchcodec.decoders  # noqa: F401  (loads FFmpeg's shared libraries)
    except Exception as exc:  # noqa: BLE001  (torchcodec raises RuntimeError when no FFmpeg loads)
        return f"torchcodec cannot load FFmpeg: {str(exc).splitlines()[0]}"
    return None


@pytest.fixture(autouse=True)
def _audio_extra():
    problem = _unusable()
    if problem:
        (pytest.fail if os.environ.get("DJ_HPO_AUDIO_REQUIRED") else pytest.skip)(problem)


def _pcm(path):
    """Frames and rate read with the standard library; samples scaled as FFmpeg converts s16 to float."""
    with wave.open(path, "rb") as w:
        rate, frames = w.getframerate(), w.readframes(w.getnframes())
    return np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0, rate


def _k_sigma(items, k=3.0):
    arr = np.asarray(items, dtype=float)
    return float(arr.mean() - k * arr.std(ddof=1)), float(arr.mean() + k * arr.std(ddof=1))


def _keep_items(samples, item_ok, any_):
    """Data-Juicer's rule for list-valued filters: a sample without audio is kept, else any/all of its items."""
    out = []
    for s in samples:
        oks = [item_ok(p) for p in s["audios"]]
        out.append(True if not oks else (any(oks) if any_ else all(oks)))
    return np.asarray(out)


def _filter_keeps(name, args, samples):
    """The filter's own decision per sample: the op built with ``args`` computes its statistic and decides. Built
    under the plugin's install guard: Data-Juicer would otherwise reinstall audio_nmf_snr_filter's pinned packages
    (``torchcodec==0.7``) into this venv."""
    from data_juicer.ops import OPERATORS

    from data_juicer_hpo.hooks import install_guard

    was_installed = install_guard.is_installed()
    install_guard.install()
    try:
        op = OPERATORS.modules[name](**args)
    finally:
        if not was_installed:
            install_guard.uninstall()
    out = []
    for sample in samples:
        row = dict(sample, **{STATS: {}})
        out.append(bool(op.process_single(op.compute_stats_single(row))))
    return np.asarray(out)


@pytest.mark.parametrize("k", [3.0, 2.0])  # at k=2 the SNR bounds cut too (two NMF estimates near -20 dB)
def test_ksigma_bounds_audio_durations_and_nmf_snr(tmp_path, dj_process, k):
    from data_juicer.ops.filter.audio_nmf_snr_filter import compute_nmf_snr

    samples = audio_samples(tmp_path / "media")
    data = write_samples(tmp_path / "d.jsonl", samples)
    refined_path = tmp_path / "refined.yaml"
    process = [
        {"audio_duration_filter": {"any_or_all": "any"}},
        {"audio_nmf_snr_filter": {"any_or_all": "all"}},
    ]
    recipe = media_recipe(
        tmp_path, data, process, project="audio", mode="3sigma", k=k, path_3sigma_recipe=str(refined_path)
    )
    res = dj_process("--config", recipe)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "[samplerate==0.1.0] asked for" in res.stderr  # Data-Juicer's pins: nothing installed at run time

    paths = [p for s in samples for p in s["audios"]]
    pcm = {p: _pcm(p) for p in paths}
    durations = {p: len(x) / rate for p, (x, rate) in pcm.items()}
    # the filter's statistic on samples decoded here: Data-Juicer's own NMF formula, our decoding and pooling
    snrs = {p: float(compute_nmf_snr(x)) for p, (x, _) in pcm.items()}
    true_db = {p: db for s in samples for p, db in zip(s["audios"], s["snr_db"])}
    low_true = [snrs[p] for p in paths if true_db[p] < 5]
    high_true = [snrs[p] for p in paths if true_db[p] > 10]
    assert np.median(high_true) > np.median(low_true) + 5  # the statistic measures what the files were made with

    d_lo, d_hi = _k_sigma(list(durations.values()), k)
    s_lo, s_hi = _k_sigma(list(snrs.values()), k)
    dur, snr = (next(iter(entry.values())) for entry in yaml.safe_load(refined_path.read_text())["process"])
    # int arguments over a fractional statistic: rounded outward, the low side clamped at 0
    assert (dur["min_duration"], dur["max_duration"]) == (math.floor(max(d_lo, 0.0)), math.ceil(d_hi))
    assert type(dur["min_duration"]) is int and type(dur["max_duration"]) is int
    assert snr["min_snr"] == pytest.approx(s_lo, rel=1e-6) and snr["max_snr"] == pytest.approx(s_hi, rel=1e-6)
    assert f"audio_duration_filter.max_duration: 9.22e+18 -> {math.ceil(d_hi)}" in res.stderr

    keep = _keep_items(samples, lambda p: dur["min_duration"] <= durations[p] <= dur["max_duration"], any_=True)
    keep &= _keep_items(samples, lambda p: snr["min_snr"] <= snrs[p] <= snr["max_snr"], any_=False)
    own_snr = _filter_keeps("audio_nmf_snr_filter", snr, samples)
    own = _filter_keeps("audio_duration_filter", dur, samples) & own_snr
    assert keep.tolist() == own.tolist()
    removed = int((~own_snr).sum())
    assert f"audio_nmf_snr_filter (#1) bounds remove [{removed}] of [{len(samples)}]" in res.stderr
    assert removed > 0 if k == 2.0 else removed == 0
    kept = read_jsonl(tmp_path / "out" / "kept.jsonl")
    kept_samples = [s for s, kept_it in zip(samples, keep) if kept_it]
    assert [row["text"] for row in kept] == [s["text"] for s in kept_samples]
    assert 0 < len(kept) < len(samples) and not keep[13]  # the 30 s clip is cut
    exported = read_jsonl(tmp_path / "out" / "kept_stats.jsonl")
    assert len(exported) == len(kept_samples)
    for row, sample in zip(exported, kept_samples):
        assert row[STATS]["audio_duration"] == pytest.approx([durations[p] for p in sample["audios"]], rel=1e-12)
        assert row[STATS]["audio_nmf_snr"] == pytest.approx([snrs[p] for p in sample["audios"]], rel=1e-6)

    if k != 3.0:
        return
    # the refined recipe runs with plain dj-process (the guard on, as in every test) and keeps the same samples
    body = yaml.safe_load(refined_path.read_text())
    body["export_path"] = str(tmp_path / "plain" / "kept.jsonl")
    res = dj_process("--config", write_yaml(tmp_path / "plain.yaml", body))
    assert res.returncode == 0, res.stderr[-3000:]
    assert read_jsonl(tmp_path / "plain" / "kept.jsonl") == kept


def test_sweep_over_min_duration_matches_the_filters_own_decisions(tmp_path, dj_process):
    samples = audio_samples(tmp_path / "media", n=24, seed=5)
    data = write_samples(tmp_path / "d.jsonl", samples)
    values = [0, 1, 2, 3, 4]
    sweep = {
        "method": "grid",
        "metric": {"name": "retention", "goal": "minimize"},
        "parameters": {"audio_duration_filter.min_duration": {"values": values}},
    }
    process = [{"audio_duration_filter": {"any_or_all": "all"}}]
    recipe = media_recipe(
        tmp_path,
        data,
        process,
        project="audio",
        mode="wandb",
        hpo_config=str(write_yaml(tmp_path / "sweep.yaml", sweep)),
        output_dir=str(tmp_path / "hpo"),
    )
    res = dj_process("--config", recipe, env={"WANDB_MODE": "disabled"})
    assert res.returncode == 0, res.stderr[-3000:]

    durations = {p: len(x) / rate for s in samples for p in s["audios"] for x, rate in [_pcm(p)]}
    with open(tmp_path / "hpo" / "trials.csv") as f:
        rows = list(csv.DictReader(f))
    assert sorted(int(row["audio_duration_filter.min_duration"]) for row in rows) == values
    retention = {}
    for row in rows:
        v = int(row["audio_duration_filter.min_duration"])
        keep = _keep_items(samples, lambda p: durations[p] >= v, any_=False)
        own = _filter_keeps("audio_duration_filter", {"min_duration": v, "any_or_all": "all"}, samples)
        assert keep.tolist() == own.tolist(), v
        assert float(row["retention"]) == pytest.approx(keep.mean()), row
        retention[v] = keep.mean()
    assert len(set(retention.values())) >= 3  # the sweep moves the kept set

    best = yaml.safe_load((tmp_path / "hpo" / "best_recipe.yaml").read_text())
    v_best = best["process"][0]["audio_duration_filter"]["min_duration"]
    assert retention[v_best] == min(retention.values())
    keep = _keep_items(samples, lambda p: durations[p] >= v_best, any_=False)
    assert [r["text"] for r in read_jsonl(tmp_path / "out" / "kept.jsonl")] == [
        s["text"] for s, k in zip(samples, keep) if k
    ]


def _ffmpeg_files():
    """The real files of the FFmpeg libraries the dynamic loader finds (``ldconfig -p``)."""
    import subprocess

    listing = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    names = ("libavutil.so.", "libavcodec.so.", "libavformat.so.", "libavdevice.so.", "libavfilter.so.")
    return sorted(
        {
            os.path.realpath(line.split("=>")[-1].strip())
            for line in listing.splitlines()
            if any(n in line for n in names)
        }
    )


def test_a_machine_without_ffmpeg_fails_with_one_line(tmp_path):
    """FFmpeg's libraries hidden in a private mount namespace (each bound over by /dev/null): torchcodec is
    installed but cannot load, and the run stops before any work with one line saying what to install."""
    import shutil

    from tests.helpers.runs import BIN, run

    if os.geteuid() != 0 or not shutil.which("unshare") or not _ffmpeg_files():
        pytest.skip("needs root, unshare and FFmpeg's libraries to hide")
    samples = audio_samples(tmp_path / "media", n=6)
    data = write_samples(tmp_path / "d.jsonl", samples)
    recipe = media_recipe(tmp_path, data, [{"audio_duration_filter": {}}], project="audio", mode="3sigma")
    hide = " && ".join(f"mount --bind /dev/null {path}" for path in _ffmpeg_files())
    cmd = ["unshare", "--mount", "--propagation", "private", "sh", "-c", f'{hide} && exec "$@"', "sh"]
    res = run([*cmd, str(BIN / "dj-process"), "--config", str(recipe)], cwd=tmp_path)
    assert res.returncode == 1, res.stderr[-3000:]
    errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: process[0].audio_duration_filter: torchcodec cannot load FFmpeg's shared libraries: install FFmpeg 4 "
        "to 8 (Debian 12: apt-get install libavcodec59 libavformat59 libavutil57 libswresample4 libswscale6 "
        "libavdevice59 libavfilter8)"
    ], res.stderr[-3000:]
    assert "Traceback" not in res.stderr and not (tmp_path / "out").exists()
