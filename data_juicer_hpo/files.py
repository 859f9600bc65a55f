"""Files written whole or not at all: a temp file in the same directory, then ``os.replace``.

The bottom of the package: every output (recipes, ``trials.csv``, plots, reports) goes through :func:`write_atomic`,
so a crash, a full disk or a kill never leaves a half-written file behind.
"""

import io
import os
import tempfile
from typing import Union

__all__ = ["write_atomic", "write_figure", "current_umask"]


def current_umask() -> int:
    """The process's umask, read without changing it where Linux shows it (``os.umask`` can only swap it, which
    would briefly give another thread's new files the wrong mode)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: str, content: Union[str, bytes]) -> None:
    """Write ``content`` (text as UTF-8, or bytes) to ``path`` through a temp file in the same directory and
    ``os.replace``: never half-written. The file gets the mode a plain ``open`` would give it (0666 less the umask):
    ``mkstemp`` makes its files 0600, which would hide the outputs from the user's group."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.basename(path), dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o666 & ~current_umask())
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_figure(fig, path: str) -> None:
    """Save a matplotlib figure as PNG through :func:`write_atomic`."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    write_atomic(path, buf.getvalue())
