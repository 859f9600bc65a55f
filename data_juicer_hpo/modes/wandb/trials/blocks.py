"""Sweep trials on a Ray cluster as per-block partial aggregates: nothing per document reaches the driver.

The statistics pass leaves a materialized Ray dataset whose blocks carry every filter's statistics
(:meth:`~data_juicer_hpo.data.ray_data.RayData.statistics_pass`). Long-lived actors (:class:`BlockHolder`, spread
over the nodes) each take some of its blocks and turn them into the keep-mask engine's columns -- the same engine
as on the default executor (:mod:`.keep_masks`: numpy interval masks checked against the filter on the block's
samples nearest each bound and on a random few, else the filter's own decision on every sample). A trial sends its
thresholds to every actor; each block answers with partial aggregates: its kept count and, for ``quality_score``,
the exact sum of its kept documents' probabilities (:class:`~data_juicer_hpo.objectives.exact.ExactSum`). The
driver adds them up and rounds once, so the metric is the default executor's to the last bit.

``quality_score``'s classifier is trained on the driver as the default executor trains it: its negatives are drawn
by global document index, and only their texts are fetched from the blocks. The actors then score their own
documents (tokenizing where the text lives).

Faults: the actors restart when their node is lost (``max_restarts``) and a trial sent to a dead actor is retried on
the restarted one (``max_task_retries``); a restarted actor reads its blocks again and scores its documents again
before it answers, so a lost node costs the running trial's time. Its blocks may have lived only on the lost node,
and Ray cannot always rebuild them (a block made by an actor of Data-Juicer's pipeline has no lineage to re-run), so
every actor also holds the next actor's blocks: one copy more in the object stores, and a single lost node leaves a
copy of every block that Ray recovers the block from.
"""

import uuid
from typing import Dict, List, Optional, Sequence

import numpy as np
import ray
from data_juicer.ops import load_ops
from data_juicer.utils.constant import Fields

from data_juicer_hpo.data.ray_data import block_values
from data_juicer_hpo.modes.wandb.trials.bundles import Bundles
from data_juicer_hpo.modes.wandb.trials.keep_masks import KeepMasks
from data_juicer_hpo.objectives.base import Population
from data_juicer_hpo.objectives.exact import ExactSum
from data_juicer_hpo.objectives.bigram_lm import bigram_counts, joined_counts, loss_of_counts, trained_counts
from data_juicer_hpo.objectives.labels import LabelsObjective
from data_juicer_hpo.objectives.model_loss import ModelLoss
from data_juicer_hpo.objectives.quality_score import (
    QualityScore,
    document_keys,
    smallest_keyed,
    train_quality_classifier,
)
from data_juicer_hpo.objectives.reference import load_reference
from data_juicer_hpo.objectives.tokens import chunked_streams
from data_juicer_hpo.ops.addressing import apply_params
from data_juicer_hpo.ops.columns import as_column

__all__ = ["BlockHolder", "BlockTrials", "BlockTexts", "block_objective_reason"]

# objectives a block reduces to partial aggregates (kept and retention are counts); the labels objectives score the
# labelled documents, which live in the driver on every executor (trials/labelled.py)
_REDUCIBLE = (QualityScore, ModelLoss, LabelsObjective)


def block_objective_reason(objectives: Dict[str, object]) -> Optional[str]:
    """Why these objectives cannot be scored from per-block partial aggregates (None: they can)."""
    for name, objective in objectives.items():
        if not isinstance(objective, _REDUCIBLE) and getattr(objective, "name", None) not in ("retention", "kept"):
            return f"objective {name} needs the kept documents themselves"
    return None


class _Rows:
    """A block's size, where the keep-mask engine asks for a population."""

    def __init__(self, n: int):
        self.n, self.cache = n, {}

    def __len__(self) -> int:
        return self.n


class BlockHolder:
    """Some blocks of the statistics pass's dataset, as keep-mask columns (and probabilities), in one actor."""

    def __init__(
        self, block_refs: list, process: List[dict], targets: dict, stat_keys: Dict[int, List[str]], backup_refs=()
    ):
        self.tables = ray.get(list(block_refs))
        # another actor's blocks, held (pinned) here as well: when that actor's node is lost, its restarted self
        # reads them again from this copy (Ray recovers a lost object from a surviving copy first)
        self.backup = ray.get(list(backup_refs))
        self.targets = targets
        self.blocks = []
        for table in self.tables:
            values = block_values(table.select([Fields.stats]), stat_keys)
            columns = {p: {key: as_column(column) for key, column in stats.items()} for p, stats in values.items()}
            bundles = Bundles.of_columns(process, columns, targets, _Rows(table.num_rows), load_ops)
            bundle = bundles.bundle({})
            self.blocks.append((bundles, bundle, KeepMasks(bundles.stats)))
        self.probabilities: List[Optional[np.ndarray]] = [None] * len(self.tables)
        self.keys: Optional[List[np.ndarray]] = None  # each block's document keys, once asked for
        self.scored_by = None
        self.bigrams: list = [None] * len(self.tables)  # model_loss: each block's per-document bigram counts
        self.counted_by = None

    def sizes(self) -> List[int]:
        return [table.num_rows for table in self.tables]

    def texts(self, block: int, rows: List[int], text_key: str) -> list:
        """The texts of ``rows`` of this actor's ``block``."""
        column = self.tables[block].column(text_key)
        return column.take(rows).to_pylist()

    def _texts(self, i: int, text_key: str) -> list:
        table = self.tables[i]
        return table.column(text_key).to_pylist() if text_key in table.column_names else [""] * table.num_rows

    def smallest_keys(self, n: int, seed: int, offsets: List[int], text_key: str):
        """The ``n`` smallest distinct :func:`~data_juicer_hpo.objectives.quality_score.document_keys` of each of
        this actor's blocks and their global indices (the driver picks the classifier's negatives among them); the
        keys stay here for scoring."""
        self.keys = [document_keys(self._texts(i, text_key), seed) for i in range(len(self.tables))]
        picked = [smallest_keyed(keys, n) for keys in self.keys]
        return (
            np.concatenate([keys[p] for keys, p in zip(self.keys, picked)] + [np.zeros(0, np.uint64)]),
            np.concatenate([offset + p for offset, p in zip(offsets, picked)] + [np.zeros(0, np.int64)]),
        )

    def _score(self, classifier, seed: int, text_key: str) -> None:
        if isinstance(classifier, ray.ObjectRef):  # a reference inside the arguments is not resolved by Ray
            classifier = ray.get(classifier)
        for i in range(len(self.tables)):
            texts = self._texts(i, text_key)
            keys = self.keys[i] if self.keys is not None else document_keys(texts, seed)  # a restarted actor
            out = np.empty(len(texts))
            for start, streams in chunked_streams(texts):  # a chunk's tokens at a time
                docs = np.arange(len(streams))
                out[start : start + len(docs)] = classifier.probabilities(streams, docs, keys=keys[start:][: len(docs)])
            self.probabilities[i] = out

    def _count(self, evaluation, text_key: str) -> None:
        if isinstance(evaluation, ray.ObjectRef):
            evaluation = ray.get(evaluation)
        for i in range(len(self.tables)):
            parts = [bigram_counts(streams, evaluation) for _, streams in chunked_streams(self._texts(i, text_key))]
            self.bigrams[i] = (joined_counts(parts), evaluation)

    def _loss_parts(self, i: int, kept: np.ndarray):
        """The block's training counts of the kept documents (unigram, contexts, held-out pairs), as the non-zero
        entries of each: integers, which the driver adds up exactly."""
        counts, evaluation = self.bigrams[i]
        times = np.zeros(len(counts.word_lengths), dtype=np.int64)
        times[kept] = 1
        out = []
        for vector in trained_counts(counts, evaluation, times):
            where = np.flatnonzero(vector)
            out.append((where.astype(np.int32), vector[where]))
        return out

    def trial(self, params: dict, quality=None, loss=None) -> list:
        """Per block: ``(kept count, exact sum of the kept probabilities' parts or None, model_loss's training
        counts or None)``. ``quality``: ``(setup id, classifier, seed, text key)`` of ``quality_score``; ``loss``:
        ``(setup id, held-out text, text key)`` of ``model_loss``; either None."""
        if quality is not None and self.scored_by != quality[0]:  # first trial, or this actor was restarted
            self._score(*quality[1:])
            self.scored_by = quality[0]
        if loss is not None and self.counted_by != loss[0]:
            self._count(*loss[1:])
            self.counted_by = loss[0]
        out = []
        for i, (bundles, bundle, masks) in enumerate(self.blocks):
            if params is None:  # keep everything (no filter)
                kept = np.arange(bundle.rows.n)
            else:
                thresholds = {n: v for n, v in params.items() if n in bundles.keep_only}
                process, _ = apply_params(bundle.process, self.targets, thresholds)
                kept = masks.kept(bundle, process)
            total = None if quality is None else ExactSum.of(self.probabilities[i][kept]).parts
            out.append((int(kept.size), total, None if loss is None else self._loss_parts(i, kept)))
        return out


class BlockTexts(Sequence):
    """The texts of a dataset held by :class:`BlockHolder` actors, by global index; only what is asked for (the
    classifier's sampled negatives) comes to the driver."""

    def __init__(self, trials: "BlockTrials", text_key: str):
        self.trials, self.text_key = trials, text_key

    def __len__(self) -> int:
        return self.trials.n

    def __getitem__(self, i):
        return self.take([i])[0]

    def take(self, docs) -> list:
        docs = np.asarray(docs, dtype=np.int64)
        block = np.searchsorted(self.trials.offsets, docs, side="right") - 1
        out = [None] * len(docs)
        calls = []
        for b in np.unique(block):
            picked = np.flatnonzero(block == b)
            actor, local = self.trials.placement[int(b)]
            rows = (docs[picked] - self.trials.offsets[b]).tolist()
            calls.append((picked, actor.texts.remote(local, rows, self.text_key)))
        for picked, call in calls:
            for i, text in zip(picked, ray.get(call)):
                out[i] = text
        return out


class BlockTrials:
    """A sweep's trials on the blocks of a statistics pass's Ray dataset (see the module doc).

    :param stats: the statistics pass (its ``dataset`` materialized, carrying the statistics column).
    :param process: the base recipe's ``process`` list; ``targets``: sweep parameter name -> target.
    """

    def __init__(self, stats, process: List[dict], targets: dict, text_key: str = "text", actors: int = None):
        refs = stats.dataset.data.to_arrow_refs()
        # held until close: a restarted actor reads its blocks again through them (Ray deletes an object, and
        # cannot rebuild it, once no reference to it is left)
        self._refs, self._dataset = refs, stats.dataset
        if actors is None:
            actors = int(ray.cluster_resources().get("CPU", 1))
        n_actors = max(1, min(len(refs), actors))
        holder = ray.remote(BlockHolder).options(
            num_cpus=0.01, max_restarts=-1, max_task_retries=-1, scheduling_strategy="SPREAD"
        )
        owned = [list(range(a, len(refs), n_actors)) for a in range(n_actors)]
        self.actors = [
            holder.remote(
                [refs[b] for b in mine],
                process,
                targets,
                stats.stat_keys,
                [refs[b] for b in owned[(a + 1) % n_actors]] if n_actors > 1 else [],
            )
            for a, mine in enumerate(owned)
        ]
        sizes = ray.get([actor.sizes.remote() for actor in self.actors])
        self.placement, block_sizes = {}, [0] * len(refs)
        for actor, mine, theirs in zip(self.actors, owned, sizes):
            for local, (b, size) in enumerate(zip(mine, theirs)):
                self.placement[b] = (actor, local)  # block b is the actor's local-th
                block_sizes[b] = size
        self.offsets = np.concatenate([[0], np.cumsum(block_sizes)]).astype(np.int64)
        self.n = int(self.offsets[-1])
        self.text_key = text_key
        self._owned = owned
        self.quality = None  # (setup id, classifier ref, seed, text key) once set up
        self.loss = None  # (setup id, held-out text ref, text key) once model_loss is set up
        self._held_out = None

    def setup_quality(self, objective: QualityScore) -> Optional[float]:
        """Train ``quality_score``'s classifier on the driver (negatives fetched by global index), for the actors to
        score their documents with; returns its cross-validated AUC."""
        reference = load_reference(objective.options["reference"], objective.options.get("text_key") or "text")
        population = Population(BlockTexts(self, self.text_key))
        seed, n = int(objective.options.get("seed") or 0), min(len(reference), self.n)
        calls = [
            actor.smallest_keys.remote(n, seed, [int(self.offsets[b]) for b in mine], self.text_key)
            for actor, mine in zip(self.actors, self._owned)
        ]
        answers = ray.get(calls)
        keys = np.concatenate([k for k, _ in answers])
        indices = np.concatenate([i for _, i in answers])
        by_index = np.argsort(indices, kind="stable")  # in document order, as keyed_sample sees the whole population
        keys, indices = keys[by_index], indices[by_index]
        picked = smallest_keyed(keys, n)
        keys, negatives = keys[picked], indices[picked]
        classifier = train_quality_classifier(reference, population, seed, negatives, keys)
        self.quality = (uuid.uuid4().hex, ray.put(classifier), seed, self.text_key)
        return classifier.auc

    def setup_loss(self, objective: ModelLoss) -> None:
        """``model_loss``: the reference's held-out bigrams, for the actors to count their documents' bigrams
        against (once); each trial then sums the kept documents' counts per block."""
        self._held_out = objective.held_out_text()
        self.loss = (uuid.uuid4().hex, ray.put(self._held_out), self.text_key)

    def _calls(self, params: Optional[dict]):
        return [actor.trial.remote(params, self.quality, self.loss) for actor in self.actors]

    def _loss(self, parts: list) -> float:
        """model_loss of the summed training counts (exact integers: the loss is the default executor's)."""
        sizes = (self._held_out.n_buckets, self._held_out.n_buckets, len(self._held_out.pair_keys))
        totals = [np.zeros(size, dtype=np.int64) for size in sizes]
        for *_, counts in parts:
            for total, (where, values) in zip(totals, counts):
                np.add.at(total, where, values)
        return loss_of_counts(*totals, self._held_out)

    def evaluate(self, params: Optional[dict]) -> dict:
        """``kept``, ``retention`` and (when set up) ``quality_score`` of the trial with ``params`` (None: keep
        every document)."""
        parts = [part for answer in ray.get(self._calls(params)) for part in answer]
        kept = sum(count for count, _, _ in parts)
        out = {"kept": kept, "retention": kept / self.n if self.n else 0.0}
        if self.quality is not None:
            total = ExactSum()
            for count, sums, _ in parts:
                total = total + ExactSum(sums, count)
            out["quality_score"] = total.mean()
        if self.loss is not None and kept:
            out["model_loss"] = self._loss(parts)
        return out

    def close(self) -> None:
        for actor in self.actors:
            ray.kill(actor, no_restart=True)
        self.actors, self._refs, self._dataset = [], [], None
