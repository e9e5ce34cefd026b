"""GLiNER beside the shipped `span_ner` on the same work: the same backbone (the packaged
all-MiniLM-L6-v2), the same mixture (its train Docs, its dev set, its left-out test sets), the
same budget (the words and minutes of the shipped pretraining, from the weights' card), the
same scorer (exact character spans and types).

Stages, each written to its own JSON in the output folder, so that a rerun of the same command
goes on where the last one stopped (a stage whose file exists is not run again; the training
resumes from its last checkpoint):

1. train: GLiNER built on the backbone and trained by GLiNER's own Trainer on the mixture's
   Docs as GLiNER records (`gliner_baseline.records`), each type by its name or one of its
   descriptions, the negatives those the Doc's source annotates;
2. threshold: one threshold for every type, the best F1 on the mixture's dev set (each Doc
   scored on its source's types), as the shipped `span_ner`'s was chosen; the left-out sets
   play no part;
3. zeroshot: F1 on each left-out test set, its types given by name and by description, GLiNER
   and `span_ner`;
4. speed: words/s and peak RSS of GLiNER and of `span_ner` (float and int8) with 8, 64 and 512
   types over the same texts, each in a fresh process;
5. long_input: one document of about 3,000 words made of real test sentences: the gold
   entities found in its first and in its last 1,000 words.
"""
import json
import time
import warnings
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence

import srsly
from spacy.tokens import Doc, DocBin
from spacy.vocab import Vocab

from ..corpus.annotated_types import annotated_types
from ..corpus.descriptions import load_description_variants, load_descriptions
from ..evaluation.metrics import EntityScores
from ..gliner_baseline.records import CharSpan, docs_to_records, gold_char_spans

SPEED_TYPES = (8, 64, 512)
THRESHOLDS = [round(0.05 * i, 2) for i in range(1, 20)]


def read_docs(path: Path, limit: int = 0) -> List[Doc]:
    docs = []
    for doc in DocBin(store_user_data=True).from_disk(path).get_docs(Vocab()):
        docs.append(doc)
        if limit and len(docs) >= limit:
            break
    return docs


def shipped_budget() -> Dict:
    """The words and training minutes of the shipped `span_ner` pretraining (its card)."""
    from ..universal.shipped_weights import read_card

    card = read_card()
    return {"words": int(card["pretraining"]["words"]), "minutes": round(card["pretraining"]["train_seconds"] / 60, 1),
            "words_per_second": card["pretraining"]["words_per_second"], "peak_rss_mb": card["pretraining"]["peak_rss_mb"]}


def score_char_spans(gold_docs: Sequence[Doc], predicted: Sequence[Iterable[CharSpan]],
                     by_source: bool = False) -> Dict:
    """Exact (start_char, end_char, type) matches. by_source: each Doc scored on the types its
    source annotates (a mixture's Doc), as the shipped weights' threshold was chosen."""
    scores = EntityScores()
    for doc, spans in zip(gold_docs, predicted):
        keep = annotated_types(doc) if by_source else None
        keep = None if keep is None else set(keep)
        gold = {s for s in gold_char_spans(doc) if keep is None or s[2] in keep}
        pred = {tuple(s[:3]) for s in spans if keep is None or s[2] in keep}
        scores.add(gold, pred)
    return scores.to_dict()


def type_prompts(labels: Iterable[str], given_as: str, descriptions: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """Each label's text: its readable name ("Restaurant_Name" -> "restaurant name"), or its
    description; the way `zeroshot --as-names` and `zeroshot` give them to `span_ner`."""
    from ..pipeline.described_types import readable_name

    if given_as == "names":
        return {label: readable_name(label) for label in labels}
    return {label: descriptions[label] for label in labels}


# -- 1. training -------------------------------------------------------------------------------

def train_stage(mixture: Path, output: Path, budget: Dict, name_probability: float, seed: int, log,
                settings: Optional[Dict] = None) -> Dict:
    from ..gliner_baseline.training import train_gliner

    started = time.perf_counter()
    docs = read_docs(mixture / "train.spacy")
    variants = load_description_variants(mixture / "types.json")
    records = docs_to_records(docs, variants, name_probability=name_probability, seed=seed)
    del docs
    log(f"{len(records):,} records from {mixture / 'train.spacy'} ({time.perf_counter() - started:.0f} s)")
    summary = train_gliner(records, output / "gliner", max_words=budget["words"], max_minutes=budget["minutes"],
                           seed=seed, schedule_words=budget.get("schedule_words", 0), settings=settings, log=log)
    from .benchmark import _peak_rss_mb

    summary["peak_rss_mb"] = round(_peak_rss_mb(), 1)
    return summary


# -- 2. threshold ----------------------------------------------------------------------------

def gliner_dev_predictions(model, dev_docs: Sequence[Doc], all_types: Sequence[str], batch_size: int) -> List[List[tuple]]:
    """Scored spans of each dev Doc at a low threshold, its source's types given by name."""
    from ..gliner_baseline.model import predict_scored

    groups: Dict[tuple, List[int]] = {}
    for i, doc in enumerate(dev_docs):
        types = annotated_types(doc)
        groups.setdefault(tuple(types) if types is not None else tuple(all_types), []).append(i)
    predicted: List[List[tuple]] = [[] for _ in dev_docs]
    for types, indices in groups.items():
        found = predict_scored(model, [dev_docs[i].text for i in indices], {t: t for t in types},
                               threshold=THRESHOLDS[0], batch_size=batch_size)
        for i, spans in zip(indices, found):
            predicted[i] = spans
    return predicted


def best_threshold(dev_docs: Sequence[Doc], scored: Sequence[Sequence[tuple]]) -> Dict:
    """The threshold of THRESHOLDS with the best micro F1 over the dev Docs, each Doc on its
    source's types. Exact: greedy flat decoding keeps the spans scored >= t of a lower one."""
    rows = [{"threshold": t, "f1": _f1(score_char_spans(dev_docs, [[x for x in spans if x[3] >= t] for spans in scored],
                                                        by_source=True))}
            for t in THRESHOLDS]
    best = max(rows, key=lambda r: (r["f1"], -abs(r["threshold"] - 0.5)))
    return {"threshold": best["threshold"], "dev_f1": best["f1"], "curve": rows}


# -- 3. zero-shot ----------------------------------------------------------------------------

def span_ner_predictions(nlp, docs: Sequence[Doc], prompts: Dict[str, str], batch_size: int) -> List[List[CharSpan]]:
    """The entities `load_universal`'s pipeline finds in `docs` (on their own tokens), given
    these types."""
    nlp.get_pipe("universal_ner").set_labels(prompts)
    texts = (Doc(nlp.vocab, words=[t.text for t in d], spaces=[bool(t.whitespace_) for t in d]) for d in docs)
    return [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in nlp.pipe(texts, batch_size=batch_size)]


def zeroshot_stage(model, mixture: Path, descriptions_dir: Path, threshold: float, batch_size: int,
                   log, span_ner_weights: str = "shipped", test_docs: int = 0) -> Dict:
    """test_docs: at most this many Docs of each test set (the first ones), both systems on the
    same; 0: all."""
    from ..gliner_baseline.model import predict_scored
    from ..universal.loader import load_universal

    span_nlp = load_universal(weights=span_ner_weights)
    manifest = srsly.read_json(mixture / "manifest.json")
    datasets = {}
    for dataset in manifest["settings"]["leave_out"]:
        docs = read_docs(mixture / "left_out" / dataset / "test.spacy", test_docs)
        described = load_descriptions(descriptions_dir / f"{dataset}.json")
        labels = sorted(described)
        row = {"docs": len(docs), "words": sum(len(d) for d in docs)}
        for given_as in ("names", "descriptions"):
            prompts = type_prompts(labels, given_as, described)
            started = time.perf_counter()
            scored = predict_scored(model, [d.text for d in docs], prompts, threshold=min(threshold, 0.5),
                                    batch_size=batch_size)
            gliner_seconds = time.perf_counter() - started
            at = {t: score_char_spans(docs, [[s for s in spans if s[3] >= t] for spans in scored])
                  for t in sorted({threshold, 0.5})}
            started = time.perf_counter()
            span = score_char_spans(docs, span_ner_predictions(span_nlp, docs, prompts, batch_size))
            span_seconds = time.perf_counter() - started
            row[given_as] = {
                "gliner_f1": _f1(at[threshold]), "gliner_f1_at_0.5": _f1(at[0.5]), "span_ner_f1": _f1(span),
                "gliner": at[threshold], "span_ner": span,
                "gliner_seconds": round(gliner_seconds, 1), "span_ner_seconds": round(span_seconds, 1),
            }
            log(f"{dataset} by {given_as}: GLiNER {row[given_as]['gliner_f1']:.2f} "
                f"(at 0.5: {row[given_as]['gliner_f1_at_0.5']:.2f}), span_ner {row[given_as]['span_ner_f1']:.2f}")
        datasets[dataset] = row
    def mean(given_as, key):
        return round(sum(r[given_as][key] for r in datasets.values()) / max(1, len(datasets)), 2)

    average = {f"{name}_{given_as}": mean(given_as, key) for given_as in ("names", "descriptions")
               for name, key in (("gliner", "gliner_f1"), ("span_ner", "span_ner_f1"),
                                 ("gliner_at_0.5", "gliner_f1_at_0.5"))}
    return {"datasets": datasets, "average_f1": average, "gliner_threshold": threshold, "test_docs": test_docs}


def _f1(result: Dict) -> float:
    return round(100 * result["test_metrics"]["f1"], 2)


# -- 4. speed (each measurement in a fresh process: benchmark.run_isolated) --------------------

def _texts(data: str, max_words: int):
    """The benchmark's texts (the first Docs of `data`, about `max_words` tokens) and their
    token count, the words of every speed figure in this project."""
    import spacy

    from .benchmark import _read_texts

    docs = _read_texts(spacy.blank("en"), Path(data), max_words)
    return [doc.text for doc in docs], sum(len(doc) for doc in docs)


def gliner_speed_worker(model_dir: str, data: str, types_file: str, n_types: int, max_words: int,
                        batch_size: int, threshold: float) -> Dict:
    from ..gliner_baseline.model import load_gliner, predict_char_spans
    from .benchmark import _peak_rss_mb

    started = time.perf_counter()
    model = load_gliner(Path(model_dir))
    load_seconds = time.perf_counter() - started
    names = list(srsly.read_json(types_file))[:n_types]
    texts, words = _texts(data, max_words)
    predict_char_spans(model, texts[:batch_size], {n: n for n in names}, threshold=threshold, batch_size=batch_size)
    started = time.perf_counter()
    found = predict_char_spans(model, texts, {n: n for n in names}, threshold=threshold, batch_size=batch_size)
    seconds = time.perf_counter() - started
    return {"system": "GLiNER", "types": n_types, "texts": len(texts), "words": words, "seconds": round(seconds, 2),
            "words_per_second": round(words / seconds, 1), "entities": sum(len(f) for f in found),
            "load_seconds": round(load_seconds, 2), "peak_rss_mb": round(_peak_rss_mb(), 1)}


def span_ner_speed_worker(data: str, types_file: str, n_types: int, max_words: int, batch_size: int,
                          int8: bool, weights: str = "shipped") -> Dict:
    from ..universal.loader import load_universal
    from .benchmark import _peak_rss_mb

    started = time.perf_counter()
    names = list(srsly.read_json(types_file))[:n_types]
    nlp = load_universal(names, weights=weights)
    if int8:
        nlp.add_pipe("int8_quantizer", last=True).quantize()
    load_seconds = time.perf_counter() - started
    texts, words = _texts(data, max_words)
    list(nlp.pipe(texts[:batch_size], batch_size=batch_size))
    started = time.perf_counter()
    n_ents = sum(len(doc.ents) for doc in nlp.pipe(texts, batch_size=batch_size))
    seconds = time.perf_counter() - started
    return {"system": "span_ner int8" if int8 else "span_ner", "types": n_types, "texts": len(texts), "words": words,
            "seconds": round(seconds, 2), "words_per_second": round(words / seconds, 1), "entities": n_ents,
            "load_seconds": round(load_seconds, 2), "peak_rss_mb": round(_peak_rss_mb(), 1)}


def speed_stage(model_dir: Path, data: Path, types_file: Path, max_words: int, batch_size: int, threshold: float,
                log, counts: Sequence[int] = SPEED_TYPES, weights: str = "shipped") -> Dict:
    from .benchmark import machine_info, run_isolated

    rows = []
    for n in counts:
        for row in (run_isolated(gliner_speed_worker, str(model_dir), str(data), str(types_file), n, max_words,
                                 batch_size, threshold),
                    run_isolated(span_ner_speed_worker, str(data), str(types_file), n, max_words, batch_size, False,
                                 weights),
                    run_isolated(span_ner_speed_worker, str(data), str(types_file), n, max_words, batch_size, True,
                                 weights)):
            rows.append(row)
            log(f"{row['system']:>14} {n:>4} types: {row['words_per_second']:>8,.0f} words/s, "
                f"peak RSS {row['peak_rss_mb']:,.0f} MB")
    for row in rows:
        gliner = next(r for r in rows if r["system"] == "GLiNER" and r["types"] == row["types"])
        row["vs_gliner"] = round(row["words_per_second"] / gliner["words_per_second"], 2)
    return {"data": str(data), "max_words": max_words, "batch_size": batch_size, "types_file": str(types_file),
            "machine": machine_info(), "rows": rows}


# -- 5. long input -----------------------------------------------------------------------------

def long_document(docs: Sequence[Doc], words: int = 3000) -> Doc:
    """One Doc of whole test sentences, about `words` long, with their gold entities."""
    chosen, n = [], 0
    for doc in docs:
        if n >= words:
            break
        copy = doc.copy()
        copy.user_data = {}  # a mixture's record of annotated types: not merged (spaCy warns)
        chosen.append(copy)
        n += len(doc)
    return Doc.from_docs(chosen, ensure_whitespace=True)


def long_input_stage(model, test: Path, prompts: Dict[str, str], threshold: float, log, words: int = 3000,
                     weights: str = "shipped") -> Dict:
    from ..gliner_baseline.model import predict_char_spans

    doc = long_document(read_docs(test), words)
    gold = gold_char_spans(doc)
    # GLiNER cuts a text longer than its max_len words, saying so only in a Python warning:
    # kept here, so that the result says what happened.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gliner_spans = predict_char_spans(model, [doc.text], prompts, threshold=threshold)[0]
    from ..universal.loader import load_universal

    found = {"GLiNER": gliner_spans,
             "span_ner": span_ner_predictions(load_universal(weights=weights), [doc], prompts, 1)[0]}
    first_end = doc[min(len(doc), 1000) - 1].idx + len(doc[min(len(doc), 1000) - 1].text)
    last_start = doc[max(0, len(doc) - 1000)].idx
    result = {"test": str(test), "words": len(doc), "characters": len(doc.text), "gold": len(gold), "systems": {}}
    for system, spans in found.items():
        spans = set(spans)
        part = {}
        for name, keep in (("first_1000_words", lambda s: s[1] <= first_end),
                           ("last_1000_words", lambda s: s[0] >= last_start)):
            g = {s for s in gold if keep(s)}
            part[name] = {"gold": len(g), "found": len(g & spans), "recall": round(100 * len(g & spans) / max(1, len(g)), 2)}
        part["predicted"] = len(spans)
        part["last_predicted_char"] = max((s[1] for s in spans), default=None)
        result["systems"][system] = part
        log(f"long input ({len(doc)} words), {system}: recall first 1,000 words "
            f"{part['first_1000_words']['recall']:.1f}, last 1,000 words {part['last_1000_words']['recall']:.1f}")
    result["systems"]["GLiNER"]["warnings"] = sorted({str(w.message) for w in caught})
    return result


# -- the whole run ---------------------------------------------------------------------------

def run_comparison(mixture: Path, output: Path, *, descriptions_dir: Path, speed_data: Path,
                   long_test: Path, budget: Optional[Dict] = None, name_probability: float = 1.0, seed: int = 0,
                   batch_size: int = 32, speed_max_words: int = 20000, dev_limit: int = 0,
                   speed_counts: Sequence[int] = SPEED_TYPES, span_ner_weights: str = "shipped", test_docs: int = 0,
                   train_settings: Optional[Dict] = None,
                   log: Callable[[str], None] = print) -> Dict:
    from ..gliner_baseline.training import trained_model

    output.mkdir(parents=True, exist_ok=True)
    budget = budget or shipped_budget()

    def stage(name, fn):
        path = output / f"{name}.json"
        if path.exists():
            log(f"{name}: done before ({path})")
            return srsly.read_json(path)
        log(f"{name}: running")
        result = fn()
        srsly.write_json(path, result)
        return result

    training = stage("train", lambda: train_stage(mixture, output, budget, name_probability, seed, log,
                                                  train_settings))
    model = trained_model(output / "gliner")

    def threshold_fn():
        dev = read_docs(mixture / "dev.spacy", dev_limit)
        all_types = list(srsly.read_json(mixture / "types.json"))
        return best_threshold(dev, gliner_dev_predictions(model, dev, all_types, batch_size))

    threshold = stage("threshold", threshold_fn)
    zeroshot = stage("zeroshot", lambda: zeroshot_stage(model, mixture, descriptions_dir, threshold["threshold"],
                                                         batch_size, log, span_ner_weights, test_docs))
    speed = stage("speed", lambda: speed_stage(output / "gliner" / "model", speed_data, mixture / "types.json",
                                               speed_max_words, batch_size, threshold["threshold"], log, speed_counts,
                                               span_ner_weights))
    long_labels = sorted({e.label_ for d in read_docs(long_test, 50) for e in d.ents})
    long_input = stage("long_input", lambda: long_input_stage(model, long_test, type_prompts(long_labels, "names"),
                                                               threshold["threshold"], log, weights=span_ner_weights))
    summary = {"budget": budget, "span_ner_pretraining": shipped_budget(), "train": training, "threshold": threshold, "zeroshot": zeroshot, "speed": speed,
               "long_input": long_input}
    srsly.write_json(output / "comparison.json", summary)
    (output / "comparison.md").write_text(markdown_table(summary), encoding="utf8")
    return summary


def markdown_table(summary: Dict) -> str:
    z = summary["zeroshot"]
    lines = ["| | GLiNER | `span_ner` (shipped) |", "| --- | --- | --- |"]
    for dataset, row in z["datasets"].items():
        lines.append(f"| {dataset}: F1 names / descriptions | {row['names']['gliner_f1']:.2f} / "
                     f"{row['descriptions']['gliner_f1']:.2f} | {row['names']['span_ner_f1']:.2f} / "
                     f"{row['descriptions']['span_ner_f1']:.2f} |")
    a = z["average_f1"]
    lines.append(f"| **average F1**, names / descriptions | **{a['gliner_names']:.2f} / {a['gliner_descriptions']:.2f}** "
                 f"| **{a['span_ner_names']:.2f} / {a['span_ner_descriptions']:.2f}** |")
    speed = summary["speed"]["rows"]
    for n in sorted({r["types"] for r in speed}):
        g = next(r for r in speed if r["system"] == "GLiNER" and r["types"] == n)
        s = next(r for r in speed if r["system"] == "span_ner" and r["types"] == n)
        q = next(r for r in speed if r["system"] == "span_ner int8" and r["types"] == n)
        lines.append(f"| words/s, {n} types (peak RSS MB) | {g['words_per_second']:,.0f} ({g['peak_rss_mb']:,.0f}) | "
                     f"{s['words_per_second']:,.0f} ({s['peak_rss_mb']:,.0f}), {s['vs_gliner']:.2f}x; int8 "
                     f"{q['words_per_second']:,.0f} ({q['peak_rss_mb']:,.0f}), {q['vs_gliner']:.2f}x |")
    t, b = summary["train"], summary["span_ner_pretraining"]
    lines.append(f"| training: words, minutes, words/s, peak RSS MB | {t['words']:,}, {t['train_seconds'] / 60:.1f}, "
                 f"{t['words_per_second']:,.0f}, {t.get('peak_rss_mb', 0):,.0f} | {b['words']:,}, {b['minutes']:.1f}, "
                 f"{b['words_per_second']:,.0f}, {b['peak_rss_mb']:,.0f} |")
    long = summary["long_input"]
    lines.append(f"| {long['words']:,}-word document: recall in the first / last 1,000 words | "
                 f"{long['systems']['GLiNER']['first_1000_words']['recall']:.1f} / "
                 f"{long['systems']['GLiNER']['last_1000_words']['recall']:.1f} | "
                 f"{long['systems']['span_ner']['first_1000_words']['recall']:.1f} / "
                 f"{long['systems']['span_ner']['last_1000_words']['recall']:.1f} |")
    lines.append(f"| threshold (chosen on the mixture's dev set) | {summary['threshold']['threshold']} | the card's |")
    return "\n".join(lines) + "\n"
