"""The report's per-filter numbers (report/filters.py) against brute force: what each bound removes alone and in
the chain, as written and as chosen, which documents are picked as examples, and list-valued statistics."""

import numpy as np

from data_juicer_hpo.report.filters import (
    TunedStatistic,
    chain_keeps,
    fetch_texts,
    filter_sections,
    spread_nearest,
    version_keeps,
)

RNG = np.random.default_rng(3)


def _stat(index, name, values, written, chosen, **kw):
    return TunedStatistic(index, name, f"s{index}", values, {"min": "min_x", "max": "max_x"}, written, chosen, **kw)


def _population(n=600):
    a = RNG.integers(0, 1000, n)
    b = RNG.uniform(0, 1, n)
    texts = [f"doc {i} <b>{v}</b>" for i, v in enumerate(a)]
    first = _stat(0, "len_filter", a, {"min": 50, "max": 900}, {"min": 120, "max": 800})
    second = _stat(2, "ratio_filter", b, {"min": 0.1, "max": None}, {"min": 0.25, "max": 0.9}, high_closed=False)
    return a, b, texts, [first, second]


def test_spread_nearest_matches_a_brute_force_order():
    distance = np.array([5.0, 1.0, 1.0, 9.0, 3.0, 7.0, 2.0])
    members = np.array([0, 1, 2, 3, 4, 5, 6])
    order = sorted(members, key=lambda i: (distance[i], i))  # ties: the lower index first
    assert list(spread_nearest(members, distance, 3, spread=False)) == order[:3]
    assert list(spread_nearest(members, distance, 3)) == [order[0], order[3], order[6]]  # nearest, middle, farthest
    assert list(spread_nearest(members[:2], distance, 5)) == [1, 0]
    assert list(spread_nearest(members, distance, 0)) == []


def test_counts_alone_and_in_the_chain_match_brute_force():
    a, b, texts, stats = _population()
    sections = filter_sections(stats, lambda rows: fetch_texts(texts, rows))
    first, second = sections
    rows = {r.arg: r for r in first.rows}
    assert rows["min_x"].written_alone == sum(1 for v in a if v < 50)
    assert rows["max_x"].chosen_alone == sum(1 for v in a if v > 800)
    assert rows["min_x"].chosen_chain == rows["min_x"].chosen_alone  # nothing before the first filter
    reach_written = [50 <= x <= 900 for x in a]  # what reaches the second filter, as written
    reach_chosen = [120 <= x <= 800 for x in a]
    rows = {r.arg: r for r in second.rows}
    assert rows["min_x"].written_chain == sum(1 for v, r in zip(b, reach_written) if r and v < 0.1)
    assert rows["min_x"].chosen_chain == sum(1 for v, r in zip(b, reach_chosen) if r and v < 0.25)
    assert rows["max_x"].chosen_alone == sum(1 for v in b if v >= 0.9)  # an open upper interval
    assert rows["max_x"].written_alone == 0 and rows["max_x"].written == "none"
    assert second.kept_chosen == sum(1 for v in b if 0.25 <= v < 0.9)
    assert [list(k) for k in chain_keeps(stats, version_keeps(stats, "chosen"))] == [[True] * len(a), reach_chosen]


def test_examples_are_the_documents_each_group_describes():
    a, _, texts, stats = _population()
    first = filter_sections(stats, lambda rows: fetch_texts(texts, rows), n_examples=3)[0]
    groups = {g.title: g for g in first.groups}
    below = groups["removed below min_x = 120"]
    assert below.total == sum(1 for v in a if v < 120) and len(below.docs) == 3
    assert all(a[d.index] < 120 and d.text == texts[d.index] for d in below.docs)
    assert a[below.docs[0].index] == max(v for v in a if v < 120)  # the closest to the bound first
    assert a[below.docs[-1].index] == min(a)  # ... spread out to the farthest
    inside = groups["kept just inside max_x = 800"]
    kept = sorted((abs(v - 800), i) for i, v in enumerate(a) if 120 <= v <= 800)
    assert [d.index for d in inside.docs] == [i for _, i in kept[:3]]
    assert "kept by the chosen bounds, removed as written" not in groups  # the chosen bounds are tighter: none
    flipped = groups["removed by the chosen bounds, kept as written"]
    assert flipped.total == sum(1 for v in a if 50 <= v < 120 or 800 < v <= 900)
    assert all(d.value == f"{a[d.index]:,}" for g in first.groups for d in g.docs)


def test_one_read_of_the_texts_for_every_example():
    _, _, texts, stats = _population()
    calls = []

    def read(rows):
        calls.append(list(rows))
        return fetch_texts(texts, rows)

    sections = filter_sections(stats, read)
    assert len(calls) == 1 and calls[0] == sorted(set(calls[0]))
    assert {d.index for s in sections for g in s.groups for d in g.docs} == set(calls[0])
    assert filter_sections(stats, None)[0].groups == []  # no texts: counts only


def test_list_valued_statistics_decide_per_document_by_any_item():
    values = [[1.0, 50.0], [2.0], [], [80.0, 90.0], [5.0, 60.0, 70.0]]
    stat = TunedStatistic(0, "image_size_filter", "sizes", values, {"min": "min_size", "max": "max_size"},
                          {"min": None, "max": None}, {"min": 10.0, "max": 75.0})  # fmt: skip
    (section,) = filter_sections([stat], lambda rows: [f"t{r}" for r in rows])
    # kept: some item in [10, 75], or no item at all (Data-Juicer keeps a document without images)
    assert section.kept_chosen == 3 and section.kept_written == 5  # [2.0] and [80.0, 90.0] go
    rows = {r.arg: r for r in section.rows}
    assert rows["min_size"].chosen_alone == 1  # only [2.0] has no item >= 10
    assert rows["max_size"].chosen_alone == 1  # only [80.0, 90.0] has no item <= 75
