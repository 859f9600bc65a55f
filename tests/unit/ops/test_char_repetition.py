"""The vectorised character-repetition statistic equals Data-Juicer's op on every kind of text, both ways of keying
n-grams (packed exactly, hashed and checked), and gives way to the op on any doubt."""

import numpy as np
import pytest

from data_juicer_hpo.ops import char_repetition
from data_juicer_hpo.ops.char_repetition import char_rep_ratios

from tests.helpers.data import varied_texts


def _op_ratios(texts, n):
    from data_juicer.ops.filter.character_repetition_filter import CharacterRepetitionFilter
    from data_juicer.utils.constant import Fields

    op = CharacterRepetitionFilter(rep_len=n)
    batch = op.compute_stats_batched({"text": list(texts), Fields.stats: [{} for _ in texts]})
    return [stats["char_rep_ratio"] for stats in batch[Fields.stats]]


def _odd_texts(seed=0, surrogates=True):
    rng = np.random.default_rng(seed)
    out = ["", "a", "aaaa", "ab" * 40, "abcabcabcabcabcabcabcabc", "😀😀😀 😀😀😀" * 3]
    out += ["\ud800x\ud800x\ud800x" * 5] if surrogates else []  # a lone surrogate (Arrow cannot hold it)
    out += ["".join(rng.choice(list("ab "), size=int(rng.integers(0, 300)))) for _ in range(30)]  # many repeats
    out += [("line %d of a boilerplate footer\n" % (i % 3)) * int(rng.integers(1, 20)) for i in range(20)]
    return out


@pytest.mark.parametrize("n", [1, 2, 3, 5, 10, 15, 40])
def test_equals_the_op(n):
    texts = varied_texts(300) + _odd_texts()
    assert char_rep_ratios(texts, n).tolist() == _op_ratios(texts, n)  # floats equal to the last bit


def test_many_distinct_characters_are_hashed_and_checked():
    """Over 2,048 distinct characters: rep_len 5 no longer packs into a key and takes the hashed way."""
    rng = np.random.default_rng(1)
    alphabet = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
    texts = ["".join(rng.choice(alphabet[:40], size=int(rng.integers(0, 400)))) for _ in range(50)]
    texts.append("".join(alphabet))  # every character at least once
    texts += ["".join(rng.choice(alphabet, size=200)) * 2 for _ in range(5)]
    for n in (2, 5, 15):
        assert char_rep_ratios(texts, n).tolist() == _op_ratios(texts, n)


def test_sub_batches_of_characters_and_of_documents(monkeypatch):
    texts = varied_texts(200, seed=4) + _odd_texts(2)
    monkeypatch.setattr(char_repetition, "SUB_BATCH_CHARS", 500)  # hashed: many sub-batches of characters
    assert char_rep_ratios(texts, 12).tolist() == _op_ratios(texts, 12)
    many = [t for t in texts for _ in range(3)][:1500]  # exactly packed: more documents than 2**room
    assert char_rep_ratios(many, 7).tolist() == _op_ratios(many, 7)


def test_chunks_of_the_in_place_steps(monkeypatch):
    """The hashed way mixes, compares and checks a chunk of n-grams at a time (bounded temporaries for a document of
    a million characters); chunks of 7 cut every run and every document somewhere."""
    texts = varied_texts(120, seed=5) + _odd_texts(3)
    monkeypatch.setattr(char_repetition, "_CHUNK", 7)
    for n in (3, 12):  # packed exactly, then hashed (12 x 7 bits > 64)
        assert char_rep_ratios(texts, n).tolist() == _op_ratios(texts, n)


def test_a_hash_collision_is_never_counted(monkeypatch):
    """With a hash that only sees the last character every n-gram collides: the check must refuse the batch."""
    texts = ["abcd xbcd ybcd", "the cat sat on the mat"] * 3
    monkeypatch.setattr(char_repetition, "_BASE", np.uint64(0))
    monkeypatch.setattr(char_repetition, "_MIX", np.uint64(1))
    assert char_rep_ratios(texts, 20) is None  # hashed (20 x 4 bits > 64): three different 20-grams would be one
    assert char_rep_ratios(texts, 15).tolist() == _op_ratios(texts, 15)  # packed exactly (15 x 4 bits): no hash


def test_not_strings_are_left_to_the_op():
    assert char_rep_ratios(["abc", None], 2) is None
    assert char_rep_ratios([], 3).tolist() == []


def test_the_statistics_pass_uses_it_and_checks_it_against_the_op(monkeypatch, tmp_path):
    from data_juicer.core.data import NestedDataset
    from data_juicer.ops import load_ops

    from data_juicer_hpo.ops.columns import compute_columns

    texts = varied_texts(120) + _odd_texts(3, surrogates=False)
    ops = load_ops([{"character_repetition_filter": {"rep_len": 5}}])
    ops[0].auto_op_parallelism, ops[0].num_proc = False, 1  # in this process: the calls are counted here
    dataset = NestedDataset.from_dict({"text": texts})
    calls = tmp_path / "calls"  # a file: the map runs a copy of the function it is given

    def counted(batch, n, characters=None):
        with open(calls, "a") as f:
            f.write(f"{len(batch)}\n")
        return real(batch, n, characters)

    real = char_repetition.char_rep_ratios
    monkeypatch.setattr(char_repetition, "char_rep_ratios", counted)
    got = compute_columns(dataset, ops, [["char_rep_ratio"]])[0]["char_rep_ratio"]
    assert sum(int(line) for line in calls.read_text().split()) == len(texts)
    assert got.tolist() == _op_ratios(texts, 5)
    # values the op disagrees with (on the probes it recomputes) are not used: the op's own are
    monkeypatch.setattr(char_repetition, "char_rep_ratios", lambda batch, n, characters=None: np.full(len(batch), 0.5))
    got = compute_columns(dataset, ops, [["char_rep_ratio"]])[0]["char_rep_ratio"]
    assert got.tolist() == _op_ratios(texts, 5)
