"""The one user-error type of data-juicer-hpo."""

import contextlib
import sys
from typing import Iterable

__all__ = ["AutoHpoError", "raise_if_any", "reported"]


class AutoHpoError(SystemExit):
    """Bad user input: one line per problem, each naming the key and what is wrong.

    It derives from :class:`SystemExit` so that, raised anywhere inside ``dj-process`` (whose ``main`` is wrapped
    in loguru's ``logger.catch``, which only catches :class:`Exception`), the interpreter prints the lines and
    exits with status 1 -- no traceback. Library callers can still catch it by this name.
    """

    def __init__(self, problems):
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(f"error: {p}" for p in self.problems))

    def __str__(self):
        return "; ".join(self.problems)


@contextlib.contextmanager
def reported():
    """Print an escaping :class:`AutoHpoError` to the process's real stderr, then let it end the process.

    Data-Juicer redirects ``sys.stderr`` into its logger once the run has started, and the interpreter would
    print the exit message there (buffered, possibly lost). We write the lines ourselves and leave exit status 1.
    """
    try:
        yield
    except AutoHpoError as err:
        if not getattr(err, "_reported", False):
            try:  # Data-Juicer's log handlers write from a queue: let them finish, so lines do not interleave
                from loguru import logger

                logger.complete()
            except Exception:  # noqa: BLE001
                pass
            stream = sys.__stderr__ or sys.stderr
            stream.flush()
            stream.write("\n".join(f"error: {p}" for p in err.problems) + "\n")
            stream.flush()
            err._reported = True
            err.code = 1
        raise


def raise_if_any(problems: Iterable[str]) -> None:
    """Raise one :class:`AutoHpoError` carrying every collected problem, if there is any."""
    problems = list(problems)
    if problems:
        raise AutoHpoError(problems)
