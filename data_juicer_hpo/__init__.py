"""data-juicer-hpo: automatic hyper-parameter optimisation of Data-Juicer recipes."""

from data_juicer_hpo.errors import AutoHpoError
from data_juicer_hpo.hooks import install, is_installed, uninstall

__all__ = ["AutoHpoError", "install", "uninstall", "is_installed"]
__version__ = "0.1.0"
