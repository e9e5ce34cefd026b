"""Few-shot and zero-shot NER runs.

Few-shot: K examples per type are sampled with a seed (greedy: a doc is taken when it holds a
type that still has fewer than K mentions), each config is trained on them for a fixed number
of steps, and scored on a test set; F1 is reported as mean and standard deviation over seeds.

Zero-shot: a trained description-matching pipeline gets another dataset's types by their
descriptions, forgets its own, and is scored on that dataset.
"""
import random
import statistics
import tempfile
from pathlib import Path
from typing import Dict, List, Sequence

import spacy
from spacy.tokens import Doc, DocBin


from ..corpus.descriptions import load_descriptions
from ..errors import UserInputError
from ..pipeline.loading import load_pipeline
from ..corpus.readers import docs_to_examples
from ..evaluation.evaluate import evaluate_pipeline
from .runs import Run, run_all


def sample_k_shot(docs: Sequence[Doc], k: int, seed: int) -> List[Doc]:
    """Docs such that every entity type has at least k mentions (or all that exist)."""
    order = list(range(len(docs)))
    random.Random(seed).shuffle(order)
    labels = {e.label_ for doc in docs for e in doc.ents}
    counts = dict.fromkeys(labels, 0)
    chosen = []
    for i in order:
        doc_labels = [e.label_ for e in docs[i].ents]
        if any(counts[label] < k for label in doc_labels):
            chosen.append(docs[i])
            for label in doc_labels:
                counts[label] += 1
        if all(c >= k for c in counts.values()):
            break
    return chosen


def score_pipeline(nlp, test_docs: Sequence[Doc], batch_size: int = 64) -> Dict:
    examples = list(docs_to_examples(nlp, list(test_docs)))
    result, _ = evaluate_pipeline(nlp, examples, batch_size)
    return result


def run_fewshot(configs: Sequence[Path], train_docs: Sequence[Doc], test_docs: Sequence[Doc], ks: Sequence[int],
                seeds: Sequence[int], steps: int, overrides: Dict, descriptions: Path = None, gpu_id: int = -1,
                jobs: int = 1) -> Dict:
    """Every config is trained on the same samples (one per K and seed) for `steps` steps, the
    sample doubling as the dev set: K-shot means no more annotated data than that."""
    results = {"steps": steps, "gpu_id": gpu_id, "jobs": jobs, "runs": [], "summary": []}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        test_path = tmp / "test.spacy"
        DocBin(docs=test_docs).to_disk(test_path)
        # Only configs that read descriptions get the dataset's.
        described = {str(c) for c in configs if "descriptions" in spacy.util.load_config(c)["paths"]}
        runs, meta = [], []
        for k in ks:
            for seed in seeds:
                sample = sample_k_shot(train_docs, k, seed)
                sample_path = tmp / f"k{k}-seed{seed}.spacy"
                DocBin(docs=sample).to_disk(sample_path)
                for config in configs:
                    run_overrides = dict(overrides)
                    run_overrides.update({"paths.train": str(sample_path), "paths.dev": str(sample_path),
                                          "training.max_steps": steps, "training.eval_frequency": steps,
                                          "training.seed": seed, "system.seed": seed})
                    if descriptions is not None and str(config) in described:
                        run_overrides["paths.descriptions"] = str(descriptions)
                    runs.append(Run(f"{Path(config).stem}-k{k}-seed{seed}", Path(config), run_overrides))
                    meta.append({"config": str(config), "k": k, "seed": seed, "train_docs": len(sample)})
        scored = run_all(runs, test_path, tmp / "runs", gpu_id, jobs, desc="few-shot")
        for info, scores in zip(meta, scored):
            results["runs"].append(dict(info, f1=scores["test_metrics"]["f1"], per_type=scores["per_type"],
                                        train_seconds=scores["train_seconds"]))
        results["summary"] = summarize_runs(results["runs"])
    return results


def summarize_runs(runs: Sequence[Dict]) -> List[Dict]:
    """F1 mean and sample standard deviation over seeds, per config and K, in the order the runs
    came (runs of several fewshot results may be merged: one file per seed survives a stop)."""
    groups: Dict = {}
    for run in runs:
        groups.setdefault((run["config"], run["k"]), []).append(run)
    summary = []
    for (config, k), group in groups.items():
        seeds = [run["seed"] for run in group]
        if len(set(seeds)) != len(seeds):
            raise UserInputError(f"few-shot runs of {config} at K = {k}: seed repeated in {sorted(seeds)}")
        f1s = [run["f1"] for run in group]
        summary.append({"config": config, "k": k, "seeds": len(f1s), "f1_mean": statistics.mean(f1s),
                        "f1_std": statistics.stdev(f1s) if len(f1s) > 1 else 0.0})
    return summary


def run_zeroshot(model: str, test_docs: Sequence[Doc], descriptions_path: Path, as_names: bool = False) -> Dict:
    """as_names: each type given by its bare name, in words ("Restaurant_Name" -> "restaurant
    name"), instead of its description."""
    from ..pipeline.described_types import readable_name

    descriptions = load_descriptions(descriptions_path)  # a bad file fails before the pipeline loads
    if as_names:
        descriptions = {label: readable_name(label) for label in descriptions}
    nlp = load_pipeline(model)
    described = [name for name in nlp.pipe_names if hasattr(nlp.get_pipe(name), "set_descriptions")]
    if not described:
        raise UserInputError(f"{model} has no component that reads type descriptions (span_ner or contrastive_ner)")
    for name in described:
        pipe = nlp.get_pipe(name)
        trained_on = list(pipe.labels)
        pipe.set_descriptions(descriptions)
        for label in trained_on:
            if label not in descriptions:
                pipe.remove_label(label)
    result = score_pipeline(nlp, test_docs)
    result["config"] = {"model": model, "descriptions": str(descriptions_path), "components": described,
                        "labels": sorted(descriptions), "types_given_as": "names" if as_names else "descriptions",
                        "texts": descriptions}
    return result


