"""Progress (progress.py): lines only in silences, only the innermost of nested phases speaks, steps read from log
lines (Data-Juicer's own, from a real run of its processing), an ETA from the pace since the first step."""

import re
import time
from types import SimpleNamespace

from data_juicer.core.data import NestedDataset
from data_juicer.ops.filter.text_length_filter import TextLengthFilter
from datasets import Dataset
from loguru import logger

from data_juicer_hpo import progress as progress_module
from data_juicer_hpo.progress import DJ_OP_STEPS, Progress, clock


def _mine(found, what):
    return [line for line in found if line.startswith(f"auto_hpo: {what}:")]


def test_clock():
    assert (clock(0), clock(61.4), clock(3600 + 62)) == ("00:00", "01:01", "1:01:02")


def test_a_silent_phase_logs_a_line_whenever_the_log_is_silent(log_lines):
    with Progress("quiet work", every_s=0.3, bar=False):
        time.sleep(1.05)
    mine = _mine(log_lines, "quiet work")
    assert 2 <= len(mine) <= 5 and all(" elapsed" in line for line in mine)


def test_lines_from_elsewhere_keep_a_phase_quiet(log_lines):
    with Progress("busy work", every_s=0.4, bar=False):
        for _ in range(12):
            logger.info("the work says something itself")
            time.sleep(0.1)
    assert _mine(log_lines, "busy work") == []


def test_only_the_innermost_of_nested_phases_speaks(log_lines):
    with Progress("outer", every_s=0.3, bar=False):
        with Progress("inner", total=4, unit="docs", every_s=0.3, bar=False) as inner:
            for _ in range(4):
                time.sleep(0.25)
                inner.update(1)
    assert _mine(log_lines, "outer") == []
    assert _mine(log_lines, "inner") and "4/4 docs (100%)" in _mine(log_lines, "inner")[-1]


def test_steps_are_read_from_data_juicers_own_line_after_each_op(log_lines):
    data = NestedDataset(Dataset.from_list([{"text": "x" * n} for n in (1, 5, 20, 50)]))
    ops = [TextLengthFilter(min_len=2, max_len=100, num_proc=1), TextLengthFilter(min_len=10, max_len=40, num_proc=1)]
    with Progress("processing", steps=DJ_OP_STEPS, every_s=60, bar=False) as p:
        out = data.process(ops)
        time.sleep(0.7)  # the sink hears the lines; the ticker applies them
        assert (p.done, p.total) == (2, 2)
    assert len(out) == 1 and any(DJ_OP_STEPS.match(line) for line in log_lines)


def test_the_eta_is_the_pace_since_the_first_step(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(progress_module, "time", SimpleNamespace(monotonic=lambda: now[0]))
    p = Progress("trials", total=10, unit="trials", every_s=1e9, bar=False)
    try:
        assert p.timing() == "00:00 elapsed"  # no step yet: no ETA
        now[0] = 100.0  # the first trial carried a 100 s warm-up
        p.update(1)
        assert p.timing() == "01:40 elapsed, ETA 15:00"  # one step: the only pace known
        now[0] = 110.0
        p.update(1)  # then 10 s a trial: 8 left take 80 s (not 110 / 2 * 8 = 440)
        assert p.timing() == "01:50 elapsed, ETA 01:20"
        assert p.line() == "trials: 2/10 trials (20%), 01:50 elapsed, ETA 01:20"
        now[0] = 190.0
        p.update(8)
        assert p.timing() == "03:10 elapsed"  # all done: no ETA
    finally:
        p.close()


def test_a_phase_ends_with_a_last_line_only_when_it_has_news(log_lines):
    with Progress("short", total=2, every_s=0.3, bar=False):
        time.sleep(0.45)
    assert len(_mine(log_lines, "short")) == 1  # the silence's line; the end a moment later adds nothing new
    with Progress("stepped", total=2, every_s=0.3, bar=False) as p:
        time.sleep(0.45)
        p.update(2)
    last = _mine(log_lines, "stepped")[-1]  # (a loaded machine may take a second longer than the sleep)
    assert re.fullmatch(r"auto_hpo: stepped: 2/2 \(100%\), 00:0\d elapsed", last), last
    with Progress("instant", every_s=0.3, bar=False):
        pass
    assert _mine(log_lines, "instant") == []  # a phase too short to speak stays silent
