"""Entry point of the ``data_juicer.ops`` group: importing this module installs data-juicer-hpo.

Data-Juicer imports it from ``data_juicer.ops.__init__`` (``load_op_plugins``). It must stay light: only the
parser hook is installed here; everything else when an ``auto_hpo`` mode actually runs.
"""

from data_juicer_hpo.hooks import install

install()
