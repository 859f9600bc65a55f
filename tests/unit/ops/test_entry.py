"""The plugin's entry point (ops/entry.py), declared once in Data-Juicer's op-plugin group."""

from tests.helpers.runs import ROOT


def test_entry_point_is_declared():
    from importlib.metadata import entry_points

    names = {ep.name: ep.value for ep in entry_points(group="data_juicer.ops")}
    assert names.get("auto_hpo") == "data_juicer_hpo.ops.entry"
    assert (ROOT / "setup.cfg").read_text().count("data_juicer.ops") == 1
