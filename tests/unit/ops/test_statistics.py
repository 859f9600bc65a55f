"""The statistics pass (ops/statistics.py): a filter that needs a model computes nothing and is left to Data-Juicer."""

from tests.helpers.data import varied_texts


def test_statistics_pass_skips_a_filter_that_needs_a_model():
    from data_juicer.core.data import NestedDataset
    from data_juicer.ops import OPERATORS

    from data_juicer_hpo.ops.statistics import prepared_pipeline, run_stats_pass

    ops = [OPERATORS.modules["text_length_filter"](), OPERATORS.modules["token_num_filter"]()]
    data = NestedDataset.from_dict({"text": varied_texts(20)})
    stats = run_stats_pass(data, ops)
    assert list(stats.stat_keys) == [0]  # the model filter computed nothing, so downloaded nothing
    assert any(note.startswith("token_num_filter (#1) unchanged: needs a huggingface model") for note in stats.notes)
    pipeline = prepared_pipeline(stats, ops)
    assert pipeline[1].run.__func__ is type(ops[1]).run  # Data-Juicer computes its statistic itself later
