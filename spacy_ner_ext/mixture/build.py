"""Build the mixture: every chosen source read, its labels mapped to universal types, its
Docs cut to passages, marked with the types their source annotates, sampled across datasets,
and written as train and dev DocBins, with the universal types' descriptions and a manifest."""
import random
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import srsly
from spacy.language import Language
from spacy.tokens import Doc, DocBin, Span

from ..corpus.annotated_types import annotated_types, set_annotated_types
from ..errors import UserInputError
from .passages import cut_doc
from .sampling import draw, mixture_counts
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
    left_out |= {s.name for s in sources.values() if set(s.shares_text_with) & set(settings.leave_out)}
    names = settings.only or tuple(sorted(sources))
    return [sources[n] for n in names if n not in left_out], sorted(left_out)


def relabel(doc: Doc, labels: Dict[str, str], types: Sequence[str]) -> Doc:
    """The Doc with universal type names on its entities, marked with the types its source
    annotates: all of `types`, or, where the reader recorded the corpus labels this very Doc
    annotates (a (passage, type) question), those labels' types."""
    doc.ents = [Span(doc, e.start, e.end, label=labels[e.label_]) for e in doc.ents]
    own = annotated_types(doc)
    set_annotated_types(doc, types if own is None else [labels[label] for label in own])
    return doc


def read_source_docs(source: Source, nlp: Language, mirror: Path, mapping, mapping_path: Path,
                     settings: MixtureSettings, rng: random.Random) -> SourceDocs:
    train = read_source(source, "train", nlp, mirror)
    dev = read_source(source, "dev", nlp, mirror)
    found = {e.label_ for doc in train + dev for e in doc.ents}
    found |= {label for doc in train + dev for label in annotated_types(doc) or ()}
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
    types = universal_descriptions(mapping, [d.source.name for d in read], descriptions_dir)
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
    manifest["left_out_test_sets"] = write_left_out_tests(nlp, mirror, output, left_out, sources, log)
    srsly.write_json(output / "manifest.json", manifest)
    return manifest


def write_left_out_tests(nlp: Language, mirror: Path, output: Path, left_out: List[str],
                         sources: Dict[str, Source], log) -> Dict[str, Dict]:
    """The test split of each left-out dataset, with its own labels, as
    output/left_out/<dataset>/test.spacy: what the zero-shot scores are measured on."""
    written = {}
    for name in left_out:
        docs = [doc for doc in read_source(sources[name], "test", nlp, mirror) if len(doc)]
        if not docs:
            continue
        path = output / "left_out" / name / "test.spacy"
        path.parent.mkdir(parents=True, exist_ok=True)
        DocBin(docs=docs).to_disk(path)
        written[name] = {"path": str(path), "docs": len(docs), "entities": sum(len(d.ents) for d in docs)}
        log(f"left out: {name}: {len(docs)} test Docs in {path}")
    return written
