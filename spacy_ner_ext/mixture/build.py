"""Build the mixture: every chosen source read, its labels mapped to universal types, its
Docs cut to passages, marked with the types their source annotates, sampled across datasets,
and written as train and dev DocBins, with the universal types' descriptions and a manifest."""
import random
import shutil
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import srsly
from spacy.language import Language
from spacy.tokens import Doc, DocBin, Span

from ..corpus.annotated_types import annotated_types, incomplete_labels, set_annotated_types
from ..corpus.spans import SPANS_KEY
from ..errors import UserInputError
from .passages import cut_doc
from .sampling import draw, mixture_counts
from . import registry  # noqa: F401  (fills SOURCES)
from .sources import SOURCES, Source, read_source
from .type_mapping import check_mapped, load_mapping, universal_descriptions


@dataclass
class MixtureSettings:
    leave_out: Tuple[str, ...] = ()
    alpha: float = 0.5
    cap: int = 8000  # Docs per dataset, at most
    train_docs: int = 100000  # Docs of the whole train mixture, at most
    dev_docs: int = 20  # per dataset
    max_words: int = 256
    seed: int = 0
    only: Tuple[str, ...] = ()  # these sources alone (tests, small runs); empty: all
    test_docs: int = 0  # Docs per left-out test set, the first ones (small runs); 0: all
    # Leave out every source whose licence forbids commercial use (or part of it does): what the
    # shipped weights are trained on, so that they carry no non-commercial terms.
    exclude_non_commercial: bool = False


@dataclass
class SourceDocs:
    source: Source
    labels: Dict[str, str]  # corpus label -> universal type
    train: List[Doc] = field(default_factory=list)
    dev: List[Doc] = field(default_factory=list)


def chosen_sources(settings: MixtureSettings, sources: Dict[str, Source] = SOURCES) -> Tuple[List[Source], List[str]]:
    """The sources that go in, and those left out (asked for, or sharing texts with one that is)."""
    unknown = sorted(set(settings.leave_out) - set(sources))
    if unknown:
        raise UserInputError(f"--leave-out: unknown dataset(s) {', '.join(unknown)}; the datasets are "
                             f"{', '.join(sorted(sources))}")
    unknown = sorted(set(settings.only) - set(sources))
    if unknown:
        raise UserInputError(f"--only: unknown dataset(s) {', '.join(unknown)}")
    left_out = set(settings.leave_out)
    # Sharing texts goes both ways, and on: leaving BioRED out takes BC5CDR and NCBI-disease too.
    while True:
        more = {s.name for s in sources.values() if s.name not in left_out and
                (set(s.shares_text_with) & left_out or any(s.name in sources[n].shares_text_with for n in left_out))}
        if not more:
            break
        left_out |= more
    names = settings.only or tuple(sorted(sources))
    if settings.exclude_non_commercial:
        named = sorted(n for n in settings.only if sources[n].non_commercial)
        if named:
            raise UserInputError(f"--only names {', '.join(named)}, non-commercial, and non-commercial "
                                 f"datasets are excluded (--non-commercial exclude)")
        names = tuple(n for n in names if not sources[n].non_commercial)
    return [sources[n] for n in names if n not in left_out], sorted(left_out)


def relabel(doc: Doc, labels: Dict[str, str], types: Sequence[str]) -> Doc:
    """The Doc with universal type names on its entities (and on its spans), marked with the
    types its source annotates: all of `types`, or, where the reader recorded the corpus
    labels this very Doc annotates (a (passage, type) question), those labels' types.

    Not counted as annotated in this Doc: a type with a span that the flat `doc.ents` could not
    keep (nested or overlapping annotation: the span is there, so "not an entity" would be
    wrong), and a type the reader marked incomplete."""
    kept = {(e.start, e.end, e.label_) for e in doc.ents}
    unsure = {labels[s.label_] for s in doc.spans.get(SPANS_KEY, []) if (s.start, s.end, s.label_) not in kept}
    unsure |= {labels[label] for label in incomplete_labels(doc)}
    doc.ents = [Span(doc, e.start, e.end, label=labels[e.label_]) for e in doc.ents]
    if SPANS_KEY in doc.spans:
        doc.spans[SPANS_KEY] = [Span(doc, s.start, s.end, label=labels[s.label_]) for s in doc.spans[SPANS_KEY]]
    own = annotated_types(doc)
    annotated = set(types) if own is None else {labels[label] for label in own}
    set_annotated_types(doc, annotated - unsure)
    return doc


def read_source_docs(source: Source, nlp: Language, mirror: Path, mapping, mapping_path: Path,
                     settings: MixtureSettings, rng: random.Random) -> SourceDocs:
    train = read_source(source, "train", nlp, mirror)
    dev = read_source(source, "dev", nlp, mirror)
    found = {e.label_ for doc in train + dev for e in doc.ents}
    found |= {label for doc in train + dev for label in annotated_types(doc) or ()}
    found |= {s.label_ for doc in train + dev for s in doc.spans.get(SPANS_KEY, [])}
    labels = check_mapped(mapping, source.name, found, mapping_path)
    # The types a source annotates: every label the mapping gives it (also one with no
    # entity in these Docs: its absence is still annotation).
    types = sorted(set(labels.values()))
    if not dev:  # no dev split: hold some train Docs out
        held = set(rng.sample(range(len(train)), min(settings.dev_docs, len(train) // 10)))
        dev = [d for i, d in enumerate(train) if i in held]
        train = [d for i, d in enumerate(train) if i not in held]
    out = SourceDocs(source, labels)
    for docs, target in ((train, out.train), (dev, out.dev)):
        for doc in docs:
            if len(doc):
                target.extend(relabel(piece, labels, types) for piece in cut_doc(doc, settings.max_words))
    return out


def build_mixture(nlp: Language, mirror: Path, output: Path, mapping_path: Path, descriptions_dir: Path,
                  settings: MixtureSettings, sources: Dict[str, Source] = SOURCES, log=print) -> Dict:
    """Writes output/train.spacy, output/dev.spacy, output/types.json ({type: descriptions})
    and output/manifest.json; returns the manifest."""
    rng = random.Random(settings.seed)
    mapping = load_mapping(mapping_path)
    chosen, left_out = chosen_sources(settings, sources)
    if not chosen:
        raise UserInputError("no dataset left for the mixture: every one is left out")
    read: List[SourceDocs] = []
    for source in chosen:
        docs = read_source_docs(source, nlp, mirror, mapping, mapping_path, settings, rng)
        log(f"{source.name}: {len(docs.train)} train / {len(docs.dev)} dev Docs, {len(set(docs.labels.values()))} types")
        read.append(docs)
    counts = mixture_counts({d.source.name: len(d.train) for d in read}, settings.train_docs, settings.alpha,
                            settings.cap)
    train, dev = [], []
    manifest_sources = []
    for d in read:
        taken = draw(d.train, counts[d.source.name], rng)
        dev_taken = draw(d.dev, settings.dev_docs, rng)
        train.extend(taken)
        dev.extend(dev_taken)
        manifest_sources.append({
            "dataset": d.source.name, "folder": d.source.folder, "url": d.source.url, "licence": d.source.licence,
            "non_commercial": d.source.non_commercial, "domain": d.source.domain,
            "docs_available": len(d.train), "train_docs": len(taken), "dev_docs": len(dev_taken),
            "words": sum(len(doc) for doc in taken),
            "labels": d.labels,
            "entities_per_type": dict(sorted(Counter(e.label_ for doc in taken for e in doc.ents).items())),
        })
    rng.shuffle(train)
    # A type's first description (the one used at prediction) comes from its largest corpus:
    # the general ones, rather than the first name in the alphabet.
    by_size = [d.source.name for d in sorted(read, key=lambda d: -len(d.train))]
    types = universal_descriptions(mapping, by_size, descriptions_dir)
    used = sorted({t for d in read for t in d.labels.values()})
    output.mkdir(parents=True, exist_ok=True)
    for name, docs in (("train", train), ("dev", dev)):
        DocBin(docs=docs, store_user_data=True).to_disk(output / f"{name}.spacy")
    srsly.write_json(output / "types.json", {t: types[t] for t in used})
    manifest = {
        "settings": asdict(settings), "left_out": left_out,
        "train_docs": len(train), "dev_docs": len(dev), "train_words": sum(len(d) for d in train),
        "types": len(used),
        "entities_per_type": dict(sorted(Counter(e.label_ for doc in train for e in doc.ents).items())),
        "non_commercial_sources": [s["dataset"] for s in manifest_sources if s["non_commercial"]],
        "sources": manifest_sources,
    }
    manifest["left_out_test_sets"] = write_left_out_tests(nlp, mirror, output, left_out, sources, log,
                                                          settings.test_docs)
    srsly.write_json(output / "manifest.json", manifest)
    return manifest


def write_left_out_tests(nlp: Language, mirror: Path, output: Path, left_out: List[str],
                         sources: Dict[str, Source], log, limit: int = 0) -> Dict[str, Dict]:
    """The test split of each left-out dataset, with its own labels, as
    output/left_out/<dataset>/test.spacy: what the zero-shot scores are measured on (`limit`:
    its first Docs only)."""
    written = {}
    # Test sets of an earlier build with another leave-out list must not be scored as unseen.
    shutil.rmtree(output / "left_out", ignore_errors=True)
    for name in left_out:
        docs = [doc for doc in read_source(sources[name], "test", nlp, mirror) if len(doc)]
        docs = docs[:limit] if limit else docs
        if not docs:
            continue
        path = output / "left_out" / name / "test.spacy"
        path.parent.mkdir(parents=True, exist_ok=True)
        DocBin(docs=docs).to_disk(path)
        written[name] = {"path": str(path), "docs": len(docs), "entities": sum(len(d.ents) for d in docs)}
        log(f"left out: {name}: {len(docs)} test Docs in {path}")
    return written
