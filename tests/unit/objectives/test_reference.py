"""Reading the reference set of good text and reporting what is wrong with it."""

import gzip

import pytest

from data_juicer_hpo.objectives.reference import load_reference, reference_problems


def _write(path, content, gz=False):
    opener = gzip.open if gz else open
    with opener(path, "wt", encoding="utf-8") as f:
        f.write(content)
    return str(path)


@pytest.mark.parametrize(
    "name, content",
    [
        ("r.jsonl", '{"text": "one"}\n\n{"text": "two"}\n'),
        ("r.jsonl.gz", '{"text": "one"}\n{"text": "two"}\n'),
        ("r.json", '[{"text": "one"}, {"text": "two"}]'),
        ("r.json", '{"text": "one"}\n{"text": "two"}\n'),
    ],
)
def test_formats(tmp_path, name, content):
    path = _write(tmp_path / name, content, gz=name.endswith(".gz"))
    assert load_reference(path) == ["one", "two"]
    assert reference_problems({"reference": path}, "model_loss") == []


def test_text_key_and_blank_texts(tmp_path):
    path = _write(tmp_path / "r.jsonl", '{"content": "a", "text": 1}\n{"content": "  "}\n{"content": "b"}\n')
    assert load_reference(path, "content") == ["a", "b"]
    assert reference_problems({"reference": path, "text_key": "content"}, "model_loss") == []


def test_edited_file_is_read_again(tmp_path):
    path = _write(tmp_path / "r.jsonl", '{"text": "old"}\n')
    assert load_reference(path) == ["old"]
    _write(tmp_path / "r.jsonl", '{"text": "newer text"}\n')
    assert load_reference(path) == ["newer text"]


@pytest.mark.parametrize(
    "options, expected",
    [
        ({}, "auto_hpo.reference: required by objective quality_score"),
        ({"reference": 3}, "auto_hpo.reference: must be a file path (got 3)"),
        ({"reference": "r.txt"}, "auto_hpo.reference: must end with one of .jsonl, .jsonl.gz, .json, .json.gz"),
        ({"reference": "absent.jsonl"}, "auto_hpo.reference: file not found (got 'absent.jsonl')"),
    ],
)
def test_option_problems(options, expected):
    problems = reference_problems(options, "quality_score")
    assert len(problems) == 1 and problems[0].startswith(expected)


@pytest.mark.parametrize(
    "content, expected",
    [
        ('{"text": "a"}\n{"text": \n', "line 2 is not valid JSON"),
        ('{"text": "a"}\n{"body": "b"}\n', "record 2 has no string field 'text'"),
        ('{"text": " "}\n', "holds no non-empty 'text' text"),
        ("[1, 2]", None),
    ],
)
def test_content_problems(tmp_path, content, expected):
    path = _write(tmp_path / ("r.json" if content.startswith("[") else "r.jsonl"), content)
    problems = reference_problems({"reference": path}, "model_loss")
    assert len(problems) == 1
    assert problems[0].startswith(f"auto_hpo.reference: {path!r}")
    assert (expected or "record 1 has no string field 'text'") in problems[0]
    with pytest.raises(ValueError, match="auto_hpo.reference"):
        load_reference(path)


def test_undecodable_file(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_bytes(b'{"text": "\xff\xfe"}\n')
    problems = reference_problems({"reference": str(path)}, "model_loss")
    assert len(problems) == 1 and "cannot read" in problems[0]
