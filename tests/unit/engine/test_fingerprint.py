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


def test_a_labels_file_and_a_budget_count_only_when_set(tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_text('{"text": "a"}\n')
    cfg = _Cfg(dataset_path=str(data), process=[{"text_length_filter": {"min_len": 5}}])
    before = {"objective": "retention", "reference": None, "synergy": None}  # a section of an earlier version
    unset = {**before, "labels": None, "budget": None, "repeats": 1}
    assert fingerprint(cfg, unset, "maximize", [], 1) == fingerprint(cfg, before, "maximize", [], 1)  # still resumes
    labels = tmp_path / "labels.jsonl"
    labels.write_text('{"text": "a", "keep": true}\n')
    with_labels = {**unset, "objective": "labels", "labels": {"path": str(labels)}}
    first = fingerprint(cfg, with_labels, "maximize", [], 1)
    labels.write_text('{"text": "a", "keep": false}\n')  # relabelled: the scores are not comparable
    changed = differences(first, fingerprint(cfg, with_labels, "maximize", [], 1))
    assert [line.split(":")[0] for line in changed] == ["objective"]
    budget = {**unset, "budget": {"samples": 10}, "repeats": 3}
    with_budget, without = (fingerprint(cfg, s, "maximize", [], 1)["objective"] for s in (budget, unset))
    assert with_budget != without
