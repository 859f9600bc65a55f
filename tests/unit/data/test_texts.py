"""Texts read from Arrow (data/texts.py: ArrowTexts), checked against the plain list of texts."""

import numpy as np
import pytest

from data_juicer_hpo.data.texts import ArrowTexts

from tests.helpers.data import varied_texts


def test_arrow_texts_reads_like_a_list_and_follows_a_filter():
    import datasets

    texts = varied_texts(50) + ["", "é ü 漢字"] + varied_texts(5000, seed=3)
    full = datasets.Dataset.from_dict({"text": texts, "n": list(range(len(texts)))})
    for dataset, want in (
        (full, texts),
        (full.filter(lambda s: s["n"] % 3 != 1), [t for i, t in enumerate(texts) if i % 3 != 1]),  # indices mapping
    ):
        seq = ArrowTexts.of(dataset, "text")
        assert len(seq) == len(want) and list(seq) == want
        assert seq[0] == want[0] and seq[-1] == want[-1] and seq[25] == want[25]
        assert seq[18:23] == want[18:23] and seq[::7] == want[::7]
        assert seq[np.array([51, 3, 20])] == [want[51], want[3], want[20]]
        with pytest.raises(IndexError):
            seq[len(want)]


def test_arrow_texts_release_pages_keeps_the_texts(tmp_path):
    """Paging a memory-mapped text column out of the process is a hint: the texts read the same afterwards."""
    import datasets

    texts = varied_texts(3000, seed=5)
    datasets.Dataset.from_dict({"text": texts}).save_to_disk(str(tmp_path / "ds"))
    mapped = datasets.load_from_disk(str(tmp_path / "ds"))  # memory-mapped from its Arrow file
    seq = ArrowTexts.of(mapped, "text")
    assert list(seq) == texts
    assert seq.release_pages() >= 0
    assert list(seq) == texts and seq[17] == texts[17]
    in_memory = ArrowTexts.of(datasets.Dataset.from_dict({"text": texts}), "text")
    in_memory.release_pages()  # anonymous memory: MADV_PAGEOUT never drops data either
    assert list(in_memory) == texts


def test_arrow_texts_encoded_are_the_texts_utf8_bytes():
    """What hashing a text reads: views of the Arrow buffers, the bytes str.encode gives (b"" for a null), over a
    filter's indices mapping, a large_string column and a column of another type."""
    import datasets
    import pyarrow as pa

    texts = varied_texts(40) + ["", None, "é ü 漢字\n\n", "x" * 9000] + varied_texts(300, seed=4)
    full = datasets.Dataset.from_dict({"text": texts, "n": list(range(len(texts)))})
    filtered = full.filter(lambda s: s["n"] % 4 != 2)
    large = full.cast_column("text", datasets.Value("large_string"))
    assert large.data.table.schema.field("text").type == pa.large_string()
    numbers = datasets.Dataset.from_dict({"text": list(range(30))})
    for dataset in (full, filtered, large, numbers):
        seq = ArrowTexts.of(dataset, "text")
        want = [(t if isinstance(t, str) else "").encode("utf-8") for t in seq]
        if dataset is numbers:
            want = [b""] * 30  # not text: read as empty, as document_keys reads a non-string
        for start, stop in ((0, len(seq)), (7, 41), (len(seq) - 3, len(seq)), (5, 5)):
            assert [bytes(b) for b in seq.encoded(start, stop)] == want[start:stop]
