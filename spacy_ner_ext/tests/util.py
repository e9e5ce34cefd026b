"""Test helpers: a tiny random transformer and small pipelines built on it."""
import string
from pathlib import Path
from typing import Dict, List

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.training import Example

WORDS = (
    "the a of in on and to is was at by for with from john smith mary jones paris london berlin "
    "acme corp google united nations reuters visited works said met new york city germany france "
    "president company bank river today yesterday he she it they"
).split()


def make_tiny_transformer(folder: Path) -> Path:
    from transformers import BertConfig, BertModel, BertTokenizerFast

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS
    vocab += list(string.ascii_lowercase + string.digits + string.punctuation)
    vocab += ["##" + c for c in string.ascii_lowercase + string.digits]
    (folder / "vocab.txt").write_text("\n".join(dict.fromkeys(vocab)) + "\n", encoding="utf8")
    config = BertConfig(
        vocab_size=len(dict.fromkeys(vocab)), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=160,
    )
    BertModel(config).save_pretrained(folder)
    BertTokenizerFast(vocab_file=str(folder / "vocab.txt"), do_lower_case=True, model_max_length=128).save_pretrained(folder)
    return folder


def transformer_config(name: str, window: int = 32, stride: int = 24) -> Dict:
    return {
        "model": {
            "@architectures": "spacy_ner_ext.TransformerModel.v1",
            "name": name,
            "get_spans": {"@span_getters": "spacy-transformers.strided_spans.v1", "window": window, "stride": stride},
            "tokenizer_config": {"use_fast": True},
        }
    }


LISTENER = {
    "@architectures": "spacy-transformers.TransformerListener.v1",
    "grad_factor": 1.0,
    "pooling": {"@layers": "reduce_mean.v1"},
    "upstream": "*",
}


def make_doc(nlp: Language, words: List[str], ents: List[tuple] = ()) -> Doc:
    doc = Doc(nlp.vocab, words=words)
    doc.ents = [Span(doc, s, e, label=label) for s, e, label in ents]
    return doc


TRAIN_DATA = [
    ("john smith visited paris today".split(), [(0, 2, "PER"), (3, 4, "LOC")]),
    ("mary jones works at acme corp".split(), [(0, 2, "PER"), (4, 6, "ORG")]),
    ("reuters said google met the united nations in berlin".split(),
     [(0, 1, "ORG"), (2, 3, "ORG"), (5, 7, "ORG"), (8, 9, "LOC")]),
    ("he visited london and new york city yesterday".split(), [(2, 3, "LOC"), (4, 7, "LOC")]),
]


def train_examples(nlp: Language) -> List[Example]:
    return [
        Example(Doc(nlp.vocab, words=words), make_doc(nlp, words, ents)) for words, ents in TRAIN_DATA
    ]


def blank_with_transformer(name: str, lang: str = "en") -> Language:
    nlp = spacy.blank(lang)
    nlp.add_pipe("transformer", config=transformer_config(name))
    return nlp


def ents(doc: Doc) -> List[tuple]:
    return [(e.start, e.end, e.label_) for e in doc.ents]


def build_pipeline(transformer: str, factory: str, config: Dict) -> Language:
    """The tiny transformer and one component, seeded so that training is repeatable."""
    spacy.util.fix_random_seed(0)
    nlp = blank_with_transformer(transformer)
    nlp.add_pipe(factory, config=config)
    return nlp


def assert_same_predictions(nlp: Language, other: Language) -> None:
    """The same entities, with the same scores, from two pipelines (one saved and reloaded)."""
    import pytest

    for words, _ in TRAIN_DATA:
        a, b = nlp(Doc(nlp.vocab, words=words)), other(Doc(other.vocab, words=words))
        assert ents(a) == ents(b)
        assert [e._.ner_score for e in a.ents] == pytest.approx([e._.ner_score for e in b.ents], abs=1e-5)


def train_pipeline(nlp: Language, steps: int) -> List[Example]:
    examples = train_examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(steps):
        nlp.update(examples, sgd=optimizer)
    return examples
