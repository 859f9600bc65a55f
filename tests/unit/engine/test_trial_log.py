"""The trial line (engine/trial_log.py): Optuna's number, the slot, the run's pace, the scores with kept= as a count,
feasibility and the best feasible trial."""

import re

from data_juicer_hpo.engine.goals import Goals, parse_constraint
from data_juicer_hpo.engine.trial import TrialRecord
from data_juicer_hpo.engine.trial_log import TrialLog, scores_text


def _goals(constraint=None):
    return Goals((("quality_score", "maximize"),), (parse_constraint(constraint)[0],) if constraint else ())


def test_scores_show_the_objective_first_and_kept_as_a_count():
    record = TrialRecord(3, "COMPLETE", {}, 0.61234, None, 1.0, scores={"kept": 4216.0, "retention": 0.8432})
    assert scores_text(record, _goals()) == "quality_score=0.6123 kept=4,216 retention=0.8432"
    multi = Goals((("quality_score", "maximize"), ("retention", "maximize")))
    two = TrialRecord(
        4, "COMPLETE", {}, None, None, 1.0, values=(0.5, 0.7), scores={"quality_score": 0.5, "retention": 0.7}
    )
    assert scores_text(two, multi) == "quality_score=0.5 retention=0.7"


def test_the_line_of_each_state(log_lines):
    log = TrialLog(_goals("retention >= 0.5"), worker="w2")
    best = TrialRecord(9, "COMPLETE", {"a": 1}, 0.63, None, 1.0, feasible=True)
    done = TrialRecord(12, "COMPLETE", {"a": 2}, 0.7, None, 1.0, scores={"retention": 0.2, "kept": 20}, feasible=False)
    log.log(done, "13/30", [done, best], best)
    pruned = TrialRecord(13, "PRUNED", {"a": 3}, 0.1, None, 1.0)
    log.log(pruned, "14/30", [done, best, pruned], best)
    failed = TrialRecord(14, "FAIL", {"a": 4}, None, "ValueError: bad\nsecond line", 1.0)
    log.log(failed, "15/30", [done, best, pruned, failed], best)
    assert log_lines[0] == (
        "trial #12 w2 (13/30): quality_score=0.7 retention=0.2 kept=20 feasible=false best=0.63 (#9) params={'a': 2}"
    )
    assert log_lines[1] == "trial #13 w2 (14/30): pruned quality_score=0.1 best=0.63 (#9) params={'a': 3}"
    assert log_lines[2] == "trial #14 w2 (15/30) failed: ValueError: bad | second line params={'a': 4}"


def test_a_run_call_gives_the_pace_from_every_finished_trial(log_lines):
    log = TrialLog(_goals())
    earlier = [TrialRecord(i, "COMPLETE", {}, 0.1, None, 1.0) for i in range(3)]  # resumed: 3 done before
    with log.phase(remaining=4, finished=3):
        now = earlier + [TrialRecord(3, "COMPLETE", {}, 0.2, None, 1.0), TrialRecord(4, "FAIL", {}, None, "x", 1.0)]
        log.log(now[3], "4/7", now, now[3])
        assert log.progress.done == 1  # the failed trial does not count as finished
    assert re.fullmatch(
        r"trial #3 \(4/7, 00:0\d elapsed, ETA 00:\d\d\): quality_score=0\.2 best=0\.2 \(#3\) params=\{\}", log_lines[0]
    )
    assert log.progress is None
