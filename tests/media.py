"""Small media the multimodal tests make themselves: PNG images (PIL) and WAV files (the standard library)."""

import wave
from pathlib import Path

import numpy as np


def write_png(path: Path, width: int, height: int, seed: int) -> Path:
    """A PNG of random noise (so its byte size varies with its area)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)).save(path, format="PNG")
    return path


def write_wav(path: Path, seconds: float, rate: int = 8000, seed: int = 0) -> Path:
    """A mono 16-bit WAV of noise lasting ``seconds``."""
    rng = np.random.default_rng(seed)
    frames = (rng.standard_normal(int(seconds * rate)) * 3000).astype("<i2")
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames.tobytes())
    return path


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
