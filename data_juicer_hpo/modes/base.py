"""What a mode is: the contract between the executor hook and each value of ``auto_hpo.mode``."""

import abc
from typing import ClassVar, List, Mapping, Tuple

__all__ = ["Mode"]


class Mode(abc.ABC):
    """A value of ``auto_hpo.mode``: what runs in place of a Data-Juicer executor's ``run``.

    Life cycle: the registry (:mod:`data_juicer_hpo.modes`) builds the mode when a parsed config names it;
    :meth:`check` is called once, before Data-Juicer writes anything (its work directory, logs, config table);
    :meth:`run` is called by the executor hook in place of the executor's ``run``. An executor type not in
    :attr:`executors` is refused in one line before either, with the reason in :attr:`refused` when there is one.
    """

    name: ClassVar[str] = ""
    executors: ClassVar[Tuple[str, ...]] = ()
    refused: ClassVar[Mapping[str, str]] = {}  # executor type -> why this mode does not run there

    @abc.abstractmethod
    def check(self, cfg) -> List[str]:
        """Called once before Data-Juicer writes anything: every problem of this mode's input, one line each naming
        its key. Cheap: no data is loaded."""

    @abc.abstractmethod
    def run(self, executor, original_run, *args, **kwargs):
        """Called in place of ``executor.run`` (with ``run``'s own arguments); calls ``original_run`` back to let
        Data-Juicer process, inside :func:`data_juicer_hpo.hooks.executors.inner_run`. Returns what ``run`` returns."""
