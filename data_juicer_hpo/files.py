"""Files written whole or not at all, and never with a secret: a temp file in the same directory, then
``os.replace``.

The bottom of the package: every output (recipes, ``trials.csv``, plots, reports) goes through :func:`write_atomic`,
so a crash, a full disk or a kill never leaves a half-written file behind, and every text written is masked of
secrets on the way (:func:`data_juicer_hpo.redaction.redact`: the one pass every file of ours goes through). A
temporary file is named ``.tmp-<pid>-...``: one that a killed process left is removed by the next write to the same
place (:func:`remove_stale_temporaries`).
"""

import io
import os
import re
import tempfile
from typing import Iterable, Optional, Union

from data_juicer_hpo.redaction import redact

__all__ = ["write_atomic", "write_figure", "current_umask", "remove_stale_temporaries", "TEMPORARY"]

# ``.tmp-<pid>-<rest>``: the temporary names of write_atomic and of the atomic export
TEMPORARY = re.compile(r"^\.tmp-(\d+)-(.+)$")


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
    """Write ``content`` (text as UTF-8, masked of secrets, or bytes) to ``path`` through a temp file in the same
    directory and ``os.replace``: never half-written. The file gets the mode a plain ``open`` would give it (0666
    less the umask): ``mkstemp`` makes its files 0600, which would hide the outputs from the user's group."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    remove_stale_temporaries(directory, (os.path.basename(path),))
    data = redact(content).encode("utf-8") if isinstance(content, str) else bytes(content)
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{os.getpid()}-", suffix=os.path.basename(path), dir=directory)
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


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, another user's
        return False
    return False


def remove_stale_temporaries(directory: str, names: Optional[Iterable[str]] = None) -> int:
    """Remove the ``.tmp-<pid>-...`` files in ``directory`` whose process is gone (``kill -9`` mid-write), those
    ending in one of ``names`` only when given; a live process's, another run's in progress, stay. Returns how many
    were removed; a directory that cannot be read removes nothing."""
    wanted = tuple(names) if names is not None else None
    removed = 0
    try:
        entries = os.listdir(directory)
    except OSError:
        return 0
    for name in entries:
        match = TEMPORARY.match(name)
        if not match or (wanted is not None and not match.group(2).endswith(wanted)):
            continue
        if int(match.group(1)) != os.getpid() and _process_gone(int(match.group(1))):
            try:
                os.unlink(os.path.join(directory, name))
                removed += 1
            except OSError:
                pass
    return removed
