"""Small media the multimodal tests make themselves: PNG images (PIL), WAV files (the standard library) and MPEG-4
videos (PyAV)."""

import json
import wave
from pathlib import Path

import numpy as np

from tests.helpers.data import write_yaml


def write_samples(path: Path, samples) -> Path:
    """The samples as a JSON Lines dataset."""
    path.write_text("".join(json.dumps(s) + "\n" for s in samples), encoding="utf-8")
    return path


def media_recipe(tmp_path: Path, data: Path, process, *, project: str, **auto_hpo) -> Path:
    """``tmp_path/recipe.yaml``: ``process`` over ``data`` with one process (``np: 1``), exporting to
    ``tmp_path/out/kept.jsonl``, with ``auto_hpo`` as given."""
    return write_yaml(
        tmp_path / "recipe.yaml",
        {
            "project_name": project,
            "dataset_path": str(data),
            "export_path": str(tmp_path / "out" / "kept.jsonl"),
            "np": 1,
            "process": process,
            "auto_hpo": auto_hpo,
        },
    )


def write_png(path: Path, width: int, height: int, seed: int) -> Path:
    """A PNG of random noise (so its byte size varies with its area)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)).save(path, format="PNG")
    return path


def _write_mono16(path: Path, frames: np.ndarray, rate: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames.tobytes())
    return path


def write_wav(path: Path, seconds: float, rate: int = 8000, seed: int = 0) -> Path:
    """A mono 16-bit WAV of noise lasting ``seconds``."""
    rng = np.random.default_rng(seed)
    frames = (rng.standard_normal(int(seconds * rate)) * 3000).astype("<i2")
    return _write_mono16(path, frames, rate)


def write_tone(path: Path, seconds: float, snr_db: float, freq: float = 440.0, rate: int = 8000, seed: int = 0) -> Path:
    """A mono 16-bit WAV of ``round(seconds * rate)`` frames: a sine tone plus white noise whose power ratio is
    ``snr_db`` (decibels), scaled to a peak of 0.8 of full scale."""
    rng = np.random.default_rng(seed)
    n = int(round(seconds * rate))
    tone = np.sin(2 * np.pi * freq * np.arange(n) / rate)
    noise = rng.standard_normal(n)
    noise *= np.sqrt(np.mean(tone**2) / np.mean(noise**2) / 10 ** (snr_db / 10))
    signal = tone + noise
    frames = np.round(signal / np.abs(signal).max() * 0.8 * 32767).astype("<i2")
    return _write_mono16(path, frames, rate)


def audio_samples(folder: Path, n: int = 30, seed: int = 17):
    """``n`` samples with 0, 1 or 2 WAV files each (0.5 to 4.5 s, tone-to-noise -5 to 20 dB, one 30 s clip); each
    sample's ``snr_db`` lists the ratios its files were made with."""
    rng = np.random.default_rng(seed)
    samples = []
    for i in range(n):
        paths, snrs = [], []
        for j in range(i % 3):
            seconds, snr, freq = float(rng.uniform(0.5, 4.5)), float(rng.uniform(-5, 20)), float(rng.uniform(200, 1000))
            if i == 13 and j == 0:
                seconds = 30.0  # one long clip: beyond mean + 3 std of the durations
            paths.append(
                str(write_tone(folder / f"aud_{i}_{j}.wav", seconds, snr, freq, seed=seed * 1000 + i * 10 + j))
            )
            snrs.append(snr)
        samples.append({"text": f"sample {i}", "audios": paths, "snr_db": snrs})
    return samples


def image_samples(folder: Path, n: int = 60, seed: int = 3):
    """``n`` samples with 0, 1 or 2 images each, of varied (and a few extreme) shapes."""
    rng = np.random.default_rng(seed)
    samples = []
    for i in range(n):
        count = 0 if i % 10 == 0 else (2 if i % 3 == 0 else 1)
        paths = []
        for j in range(count):
            w, h = int(rng.integers(20, 60)), int(rng.integers(20, 60))
            if i == 9 and j == 0:
                w, h = 240, 24  # one extreme image: its sample goes under 'all', stays under 'any' if its twin is fine
            if i == 21 and j == 1:
                w, h = 150, 150  # one large file
            paths.append(str(write_png(folder / f"img_{i}_{j}.png", w, h, seed * 1000 + i * 10 + j)))
        samples.append({"text": f"sample {i}", "images": paths})
    return samples


def write_video(path: Path, width: int, height: int, frames: int, fps: int = 10, seed: int = 0) -> Path:
    """A short MPEG-4 video of noise (PyAV, the package Data-Juicer reads videos with)."""
    import av

    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for _ in range(frames):
            image = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def video_samples(folder: Path, n: int = 24, seed: int = 5):
    """``n`` samples with 0, 1 or 2 short videos each, of varied shapes and lengths (even sizes, as MPEG-4 needs)."""
    rng = np.random.default_rng(seed)
    samples = []
    for i in range(n):
        count = 0 if i % 8 == 0 else (2 if i % 3 == 0 else 1)
        paths = []
        for j in range(count):
            w, h = 2 * int(rng.integers(8, 20)), 2 * int(rng.integers(8, 20))
            frames = int(rng.integers(5, 15))
            if i == 9 and j == 0:
                w, h, frames = 96, 16, 40  # one extreme video
            paths.append(str(write_video(folder / f"vid_{i}_{j}.mp4", w, h, frames, seed=i * 10 + j)))
        samples.append({"text": f"sample {i}", "videos": paths})
    return samples
