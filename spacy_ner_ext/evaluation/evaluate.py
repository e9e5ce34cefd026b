"""Score a pipeline on gold examples: predict in batches, count entities, time it; and the
table the command line prints."""
import time
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

import spacy
from spacy.tokens import DocBin
from spacy.training import Example
from tqdm import tqdm
from wasabi import msg

from ..corpus import CorpusFormatError, read_docs
from ..corpus.readers import docs_to_examples, infer_format
from .calibration import calibration_report
from .metrics import score_entities


# The factories whose labels are entity types (for the check that gold and model share some).
ENTITY_FACTORIES = ("ner", "beam_ner", "span_ner", "universal_ner", "contrastive_ner", "token_ner", "entity_ruler")


def read_gold_docs(data: Path, nlp, format: Optional[str], options: dict) -> List:
    """Docs of a .spacy file, or of a corpus file in `format` (None: inferred from what it
    holds); an unreadable file is a CorpusFormatError naming it."""
    if data.suffix != ".spacy":
        return read_docs(data, nlp, format or infer_format(data), **options)
    try:
        return list(DocBin().from_disk(data).get_docs(nlp.vocab))
    except Exception as err:  # DocBin raises msgpack's, zlib's and its own errors alike
        raise CorpusFormatError(data, None, f"not a readable .spacy file (DocBin): {type(err).__name__}: "
                                f"{str(err).splitlines()[0] if str(err) else ''}") from None


def load_examples(nlp, data: Path, format: Optional[str], options: dict) -> List[Example]:
    docs = read_gold_docs(data, nlp if data.suffix == ".spacy" else spacy.blank(nlp.lang), format, options)
    return list(docs_to_examples(nlp, docs))


def entity_types(nlp) -> Set[str]:
    """The entity types a pipeline predicts."""
    return {label for name, pipe in nlp.pipeline if nlp.get_pipe_meta(name).factory in ENTITY_FACTORIES
            for label in getattr(pipe, "labels", ())}


def gold_types(examples: List[Example]) -> Set[str]:
    return {ent.label_ for eg in examples for ent in eg.reference.ents}


def warn_if_no_shared_types(nlp, examples: List[Example], model: str, data: str) -> bool:
    """Scores of a pipeline on data whose types it does not know are zeros that mean nothing:
    say so, naming both sets. True when it warned."""
    predicted, gold = entity_types(nlp), gold_types(examples)
    if gold and predicted and not predicted & gold:
        msg.warn(f"{data} and {model} share no entity type: gold types {', '.join(sorted(gold))}; "
                 f"the pipeline's {', '.join(sorted(predicted))}. Every score below is 0.")
        return True
    return False


def evaluate_pipeline(nlp, examples: List[Example], batch_size: int = 64) -> Tuple[Dict, List[Example]]:
    """Predict every example in batches and score the entities; also times the prediction."""
    docs = [eg.predicted for eg in examples]
    started = time.perf_counter()
    predicted = list(tqdm(nlp.pipe(docs, batch_size=batch_size), total=len(docs), desc="predict", unit="doc",
                          disable=None))
    seconds = time.perf_counter() - started
    scored = [Example(pred, eg.reference) for pred, eg in zip(predicted, examples)]
    result = score_entities(scored).to_dict()
    # Only pipelines whose entities carry scores (span_ner, contrastive_ner) have one.
    result["calibration"] = calibration_report(scored)
    n_words = sum(len(d) for d in docs)
    result["speed"] = {"words": n_words, "seconds": round(seconds, 3),
                       "words_per_second": round(n_words / seconds, 1) if seconds else None}
    return result, scored


def print_table(result: dict, title: str) -> None:
    rows = [(label, s["gold"], s["predicted"], s["correct"], f"{100 * s['precision']:.2f}",
             f"{100 * s['recall']:.2f}", f"{100 * s['f1']:.2f}") for label, s in result["per_type"].items()]
    m = result["test_metrics"]
    rows.append(("micro", m["gold"], m["predicted"], m["correct"], f"{100 * m['precision']:.2f}",
                 f"{100 * m['recall']:.2f}", f"{100 * m['f1']:.2f}"))
    rows.append(("macro", "", "", "", f"{100 * m['macro_precision']:.2f}", f"{100 * m['macro_recall']:.2f}",
                 f"{100 * m['macro_f1']:.2f}"))
    msg.table(rows, header=("type", "gold", "pred", "correct", "P", "R", "F1"), divider=True, title=title,
              aligns=("l", "r", "r", "r", "r", "r", "r"))
