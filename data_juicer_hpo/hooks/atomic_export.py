"""Hook: the export of a run with an ``auto_hpo`` mode is never half-written at ``export_path``.

Data-Juicer's ``Exporter.export`` writes ``export_path`` (and its ``<name>_stats.jsonl``) in place: a run that
fails in the middle (a full disk, a signal) leaves a truncated file that looks like a result. While a mode runs,
a local single-file export goes to a temporary name in the same directory (``.tmp-<pid>-<name>``, so the rename
is atomic and the export's suffix and stats name are derived as usual) and is renamed into place when complete;
on failure the temporary files are removed and the final path is untouched; the ones a killed run (``kill -9``)
left behind are removed by the next export to the same place. Sharded and remote (``s3://``, ``hdfs://``) exports,
and the Ray executor's exporter, are left as Data-Juicer writes them.

:func:`export_formats` and :func:`stats_path` tell, from Data-Juicer's own exporters, what it can write and where it
puts an export's statistics, for the checks before any work.
"""

import os
from typing import Optional, Set
from urllib.parse import urlparse

from data_juicer_hpo.files import remove_stale_temporaries
from data_juicer_hpo.hooks._base import expect

__all__ = ["check", "install", "uninstall", "temporary_name", "export_formats", "stats_path"]

NAME = "atomic export"
_saved: dict = {}


def temporary_name(path: str) -> str:
    directory, base = os.path.split(os.path.abspath(path))
    return os.path.join(directory, f".tmp-{os.getpid()}-{base}")


def stats_path(path: str, suffix: str) -> str:
    """Where Data-Juicer writes the statistics of an export to ``path`` (as ``Exporter._export_impl`` derives it)."""
    return path.replace("." + suffix, "_stats.jsonl")


def _stats_of(exporter, path: str) -> str:
    return stats_path(path, exporter.suffix)


def export_formats(executor_type: str = "default") -> Set[str]:
    """The formats Data-Juicer's exporter of ``executor_type`` writes (``Exporter._router``,
    ``RayExporter._SUPPORTED_FORMATS``)."""
    if executor_type == "default":
        from data_juicer.core.exporter import Exporter

        return set(Exporter._router())
    from data_juicer.core.ray_exporter import RayExporter

    return set(RayExporter._SUPPORTED_FORMATS)


def _local_single_file(exporter) -> bool:
    path = exporter.export_path
    return bool(path) and not urlparse(str(path)).scheme and getattr(exporter, "export_shard_size", 0) <= 0


def _atomic_export(self, dataset):
    original = _saved["export"]
    if not _local_single_file(self):
        return original(self, dataset)
    final = self.export_path
    final_stats = _stats_of(self, os.path.abspath(final))
    remove_stale_temporaries(os.path.dirname(final_stats), (os.path.basename(final), os.path.basename(final_stats)))
    temporary = temporary_name(final)
    moves = [(_stats_of(self, temporary), _stats_of(self, final)), (temporary, os.path.abspath(final))]
    self.export_path = temporary
    try:
        original(self, dataset)
        for source, target in moves:  # the data file last: when it is there, so are its statistics
            if os.path.exists(source):
                os.replace(source, target)
    except BaseException as e:
        for source, _ in moves:
            try:
                os.unlink(source)
            except OSError:
                pass
        if isinstance(e, OSError) and e.errno is not None and not e.filename:  # a failed write names no file
            raise OSError(e.errno, e.strerror, final) from e
        raise
    finally:
        self.export_path = final


def check() -> Optional[str]:
    from data_juicer.core import exporter

    return (
        expect(exporter.Exporter, "export", "Exporter.export", ["self", "dataset"])
        or expect(
            exporter.Exporter, "_export_impl", "Exporter._export_impl", ["self", "dataset", "export_path", "suffix"]
        )
        or expect(exporter.Exporter, "_router", "Exporter._router")
    )


def install() -> None:
    from data_juicer.core.exporter import Exporter

    if "export" in _saved:
        return
    _saved["export"] = Exporter.export
    Exporter.export = _atomic_export


def uninstall() -> None:
    if "export" in _saved:
        from data_juicer.core.exporter import Exporter

        Exporter.export = _saved.pop("export")
