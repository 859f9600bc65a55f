"""What the tests of the vectorised statistics share: texts that stress them, the ops' own values, an exact
comparison, and the bench corpus texts."""

import gzip
import json
import os

from tests.helpers.runs import SHARED_DATA

__all__ = ["EDGE_TEXTS", "op_values", "mismatches", "bench_texts", "write_word_lists"]

# every line boundary of str.splitlines, \r\n inside and across texts, empty and blank texts, tabs, non-ASCII (final
# sigma, dotted capital I, emoji, CJK), a lone surrogate, special characters at word ends, a very long line
EDGE_TEXTS = [
    "",
    "\n",
    "\n\n\n",
    "\r\n",
    "\r\n\r\n",
    "\r",
    "text ends with a carriage return\r",
    "\nand the next starts with a newline",
    "a\r\nb\n\rc\r\r\nd",
    "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029",
    "one\x0btwo\x0cthree\x1cfour\x85five\u2028six\u2029",
    "\t\t",
    " ",
    "tab\tseparated\twords\tand  double  spaces ",
    "ΣΑΣ σας ΟΔΥΣΣΕΥΣ. İstanbul İI ǅ ß ﬁ",
    "😀 😀 😀 👍🏽 ❤️ ✨✨ 中文文本，標點。 日本語のテキスト",
    "x\ud800y \ud800 \udfff\n\ud83d",
    "...!!! ??? --- *** (a) [b] {c} «d» “e” ‘f’",
    "the the the the the the the the the the the the",
    "the cat, the cat. The Cat! THE CAT? the-cat the_cat",
    "free money!!! click here: free money, click now",
    "l" * 50_000 + "\n" + "short\n" + "m" * 70_000,
    "word " * 3000,
    "é" * 7 + "\r\n" + "\u00a0\u2003\u3000 unicode spaces \u200b zero width",
    "\x00\x01\x07\x1b[31mred\x1b[0m\x7f",
]


def op_values(op, texts, key):
    """The op's own statistic ``key`` of each text, computed by the op on empty statistics."""
    from data_juicer.utils.constant import Fields

    if op.is_batched_op():
        batch = {op.text_key: list(texts), Fields.stats: [{} for _ in texts]}
        return [stats[key] for stats in op.compute_stats_batched(batch)[Fields.stats]]
    return [op.compute_stats_single({op.text_key: t, Fields.stats: {}})[Fields.stats][key] for t in texts]


def mismatches(ours, theirs, texts=None):
    """The positions where two lists of statistics differ in type or value (floats to the last bit)."""
    out = []
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if type(a) is not type(b) or (a.hex() != b.hex() if isinstance(a, float) else a != b):
            out.append((i, a, b, (texts[i][:40] if texts else None)))
    assert len(ours) == len(theirs), f"{len(ours)} values for {len(theirs)}"
    return out


def bench_texts(limit=None, every=1):
    """Texts of the bench corpus (every ``every``-th of the first ``limit``)."""
    out = []
    with gzip.open(SHARED_DATA / "bench-corpus.jsonl.gz", "rt", encoding="utf-8") as f:
        for i, line in enumerate(f):
            if limit is not None and i >= limit:
                break
            if i % every == 0:
                out.append(json.loads(line)["text"])
    return out


def write_word_lists(folder) -> str:
    """A stop-word and a flagged-word list in Data-Juicer's asset format (``stopwords*.json``, ``flagged_words*.json``:
    language -> words), so the word filters build without a download; returns the folder."""
    os.makedirs(folder, exist_ok=True)
    stopwords = {"en": ["the", "a", "an", "of", "and", "to", "in", "is", "it", "cat", "σας"], "de": ["der", "und"]}
    flagged = {"en": ["free", "money", "click", "istanbul", "i̇stanbul"]}
    with open(os.path.join(folder, "stopwords.json"), "w", encoding="utf-8") as f:
        json.dump(stopwords, f)
    with open(os.path.join(folder, "flagged_words.json"), "w", encoding="utf-8") as f:
        json.dump(flagged, f)
    return str(folder)
