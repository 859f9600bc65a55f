"""The resume fingerprint (engine/fingerprint.py): what counts, and the differences it names."""

from data_juicer_hpo.engine.fingerprint import differences, fingerprint


class _Cfg(dict):
    pass


def test_fingerprint_names_what_changed(tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_text('{"text": "a"}\n')
    process = [{"text_length_filter": {"min_len": 5, "max_len": 100, "work_dir": "/job/1", "num_proc": 4}}]
    cfg = _Cfg(dataset_path=str(data), process=process)
    section = {"objective": "retention", "reference": None, "synergy": None}
    first = fingerprint(cfg, section, "maximize", [(0, "min_len")], 1)
    # the swept argument and the run-time ones do not count
    moved = _Cfg(
        dataset_path=str(data),
        process=[{"text_length_filter": {"min_len": 9, "max_len": 100, "work_dir": "/job/2", "num_proc": 1}}],
    )
    assert fingerprint(moved, section, "maximize", [(0, "min_len")], 1) == first
    data.write_text('{"text": "a"}\n{"text": "b"}\n')
    changed = _Cfg(dataset_path=str(data), process=[{"text_length_filter": {"min_len": 5, "max_len": 50}}])
    second = fingerprint(changed, {**section, "objective": "quality_score"}, "maximize", [(0, "min_len")], 2)
    found = differences(first, second)
    assert [line.split(":")[0] for line in found] == ["dataset", "objective", "ops", "samples"]
    assert "samples: 1 -> 2" in found
