"""span_ner: every span up to a maximum width scored against every entity type.

A token encoder (the shared transformer, through a listener) and a type encoder (the
description of each type embedded by sentence-transformers, projected by a learned layer)
meet in a dot product scaled by a learned temperature. Start, end and span logits are
trained with weighted binary cross-entropy; at prediction a span is kept when its start,
end and span probabilities all pass the threshold, and in flat mode overlaps are resolved by
keeping the highest-scoring span.
"""
import warnings
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Tuple, Union

import numpy
from spacy.language import Language
from spacy.scorer import Scorer, get_ner_prf
from spacy.tokens import Doc, SpanGroup
from spacy.training import Example, validate_examples
from spacy.util import registry
from spacy.vocab import Vocab
from thinc.api import Config, Model

from ...ml.default_configs import TRANSFORMER_LISTENER, FROZEN_TYPE_ENCODER
from ...ml.backbone import DEFAULT_MODEL_NAME
from ...corpus.annotated_types import annotated_types
from ...errors import UserInputError
from ..described_types import (DescribedTypesPipe, check_foreign_type_weight, check_probability,
                               check_training_type_texts)
from ...ml.activations import sigmoid
from .decoding import decode

# The scorer's settings; the token encoder (a listener here) and the type encoder follow.
SPAN_NER_MODEL_HEAD = """
[model]
@architectures = "spacy_ner_ext.SpanNerModel.v1"
max_span_length = 8
hidden_width = 256
dropout = 0.1
temperature = 0.03
"""
DEFAULT_SPAN_NER_MODEL = SPAN_NER_MODEL_HEAD + TRANSFORMER_LISTENER + FROZEN_TYPE_ENCODER
DEFAULT_MODEL = Config().from_str(DEFAULT_SPAN_NER_MODEL)["model"]

@Language.factory(
    "span_ner",
    assigns=["doc.ents", "doc.spans"],
    default_config={
        "model": DEFAULT_MODEL,
        "threshold": 0.5,
        "thresholds": {},
        "calibration_temperature": 1.0,
        "max_batch_tokens": 4096,
        "spans_key": None,
        "description_encoder": DEFAULT_MODEL_NAME,
        "negative_types": 0,
        "foreign_type_weight": 0.0,
        "training_type_texts": "description",
        "name_probability": 0.5,
        "annotated_negatives": 0,
        "loss": {"@losses": "spacy_ner_ext.span_bce.v1", "start_weight": 1.0, "end_weight": 1.0,
                 "span_weight": 3.0, "pos_weight": 1.0},
        "scorer": {"@scorers": "spacy_ner_ext.span_ner_scorer.v1"},
    },
    default_score_weights={"ents_f": 1.0, "ents_p": 0.0, "ents_r": 0.0, "ents_per_type": None},
)
def make_span_ner(
    nlp: Language, name: str, model: Model, threshold: float, thresholds: Dict[str, float],
    calibration_temperature: float, max_batch_tokens: int, spans_key: Optional[str],
    description_encoder: str, negative_types: int, foreign_type_weight: float, training_type_texts: str,
    name_probability: Optional[float], annotated_negatives: int, loss: Callable, scorer: Optional[Callable],
) -> "SpanNER":
    """threshold: probability that start, end and span scores must all pass.
    thresholds: per-type overrides of `threshold`, {label: threshold} (`tune-thresholds`
        finds them on a dev set).
    calibration_temperature: the logits are divided by it before the sigmoid (1.0: as
        trained); `tune-thresholds --calibrate` fits it.
    max_batch_tokens: positions scored in one forward pass of the span scorer: docs are
        grouped by length within it and longer docs scored in windows, so memory follows the
        batch's tokens rather than batch size x longest doc.
    spans_key: None for flat entities in doc.ents; a key to write every (possibly nested)
        span to doc.spans[key] instead.
    description_encoder: sentence-transformers model (name or path) that embeds the type
        descriptions; "default" is the packaged all-MiniLM-L6-v2.
    negative_types: in training, encode only the types present in the batch plus this many
        sampled others (0: all types), which keeps large label sets cheap. A Doc that records
        the types its source annotates (a mixture's Docs, see corpus/annotated_types.py) brings
        those types into its batch as negatives too.
    foreign_type_weight: the loss weight, on a Doc, of the types its source does not annotate
        (0: they give no loss, positive or negative: partial annotation).
    training_type_texts: "description" (each type is trained on its description) or
        "variants" (on its name or one of its descriptions, drawn at random per batch).
    name_probability: with "variants", how often a type is shown by its name; otherwise by
        one of its descriptions, each as often (null: the name is one text among the
        descriptions, all drawn alike).
    annotated_negatives: in training, at most this many of the types that the batch's Docs'
        sources annotate but that have no entity in the batch, drawn per batch (0: all).
    """
    return SpanNER(nlp.vocab, model, name, threshold=threshold, thresholds=thresholds,
                   calibration_temperature=calibration_temperature, max_batch_tokens=max_batch_tokens,
                   spans_key=spans_key,
                   description_encoder=description_encoder, negative_types=negative_types,
                   foreign_type_weight=foreign_type_weight, training_type_texts=training_type_texts,
                   name_probability=name_probability, annotated_negatives=annotated_negatives,
                   loss=loss, scorer=scorer)


def _check_count(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UserInputError(f"{what} must be a whole number of at least 0, not {value!r}")
    return value


@registry.scorers("spacy_ner_ext.span_ner_scorer.v1")
def make_span_ner_scorer():
    return score_span_ner


def score_span_ner(examples: Iterable[Example], spans_key: Optional[str] = None, **kwargs) -> Dict:
    """ents_p/r/f and ents_per_type, on doc.ents (flat) or on doc.spans[spans_key] (nested)."""
    if spans_key is None:
        return get_ner_prf(examples)
    scores = Scorer.score_spans(examples, attr=f"spans_{spans_key}",
                                getter=lambda doc, attr: doc.spans.get(spans_key, []), allow_overlap=True)
    prefix = f"spans_{spans_key}_"
    return {"ents_" + k[len(prefix):]: v for k, v in scores.items()}


class SpanNER(DescribedTypesPipe):
    def __init__(self, vocab: Vocab, model: Model, name: str = "span_ner", *, threshold: float = 0.5,
                 thresholds: Optional[Dict[str, float]] = None, calibration_temperature: float = 1.0,
                 max_batch_tokens: int = 4096, spans_key: Optional[str] = None,
                 description_encoder: str = DEFAULT_MODEL_NAME, negative_types: int = 0,
                 foreign_type_weight: float = 0.0, training_type_texts: str = "description",
                 name_probability: Optional[float] = 0.5, annotated_negatives: int = 0,
                 loss: Optional[Callable] = None, scorer: Optional[Callable] = None):
        super().__init__(vocab, model, name, threshold=threshold, thresholds=thresholds,
                         calibration_temperature=calibration_temperature, max_batch_tokens=max_batch_tokens,
                         spans_key=spans_key, description_encoder=description_encoder, scorer=scorer,
                         negative_types=negative_types,
                         foreign_type_weight=check_foreign_type_weight(foreign_type_weight),
                         training_type_texts=check_training_type_texts(training_type_texts),
                         name_probability=None if name_probability is None else
                         check_probability(name_probability, "name_probability"),
                         annotated_negatives=_check_count(annotated_negatives, "annotated_negatives"))
        self.loss = loss if loss is not None else registry.losses.get("spacy_ner_ext.span_bce.v1")()

    def initialize(self, get_examples: Callable[[], Iterable[Example]], *, nlp: Optional[Language] = None,
                   labels: Optional[Union[List[str], Dict[str, str]]] = None,
                   descriptions: Optional[Union[str, Path, Dict[str, Union[str, List[str]]]]] = None) -> None:
        """See DescribedTypesPipe.initialize; also warns about gold entities longer than
        max_span_length. The examples are read once for both (a mixture's are many)."""
        width = self.model.attrs["max_span_length"]
        found, n_spans, too_long = set(), 0, 0
        for eg in get_examples():
            for span in self._gold_spans(eg.reference):
                found.add(span.label_)
                n_spans += 1
                too_long += len(span) > width
        if labels is None and found:
            labels = sorted(found)
        super().initialize(get_examples, nlp=nlp, labels=labels, descriptions=descriptions)
        if too_long:
            warnings.warn(f"{self.name}: {too_long} of {n_spans} gold entities are longer than "
                          f"max_span_length={width} tokens and cannot be predicted")

    def _batch_types(self, examples: List[Example]) -> List[int]:
        """Indices of the types to train on in this batch: all of them, or those present
        plus `negative_types` sampled others."""
        n_negative = self.cfg["negative_types"]
        all_types = list(range(len(self.labels)))
        records = [annotated_types(eg.reference) for eg in examples]
        # Every Doc says which types its source annotates and the others weigh nothing: other
        # types would only cost time.
        only_annotated = all(r is not None for r in records) and not self.cfg["foreign_type_weight"]
        if not n_negative and not only_annotated:
            return all_types
        if only_annotated:
            n_negative = 0
        index = {label: i for i, label in enumerate(self.labels)}
        present = {index[s.label_] for eg in examples for s in self._gold_spans(eg.reference) if s.label_ in index}
        # The types a Doc's source annotates are its sound negatives; a batch from many corpora
        # can bring hundreds, and each costs a column of every span's scores: at most
        # `annotated_negatives` of them are drawn (0: all).
        negatives = sorted({index[t] for record in records for t in record or () if t in index} - present)
        cap = self.cfg.get("annotated_negatives", 0)
        if cap and len(negatives) > cap:
            negatives = sorted(self._rng.sample(negatives, cap))
        present = sorted(present | set(negatives))
        taken = set(present)
        others = [i for i in all_types if i not in taken]
        return sorted(present + self._rng.sample(others, min(n_negative, len(others))))

    def _train_input(self, examples: List[Example]):
        type_ids = self._batch_types(examples)
        if not type_ids:
            # Every Doc's source annotates no type that the batch can score (a Pile-NER question
            # whose one type's string was not found, say): no target, positive or negative.
            return None, ()
        return ([eg.predicted for eg in examples], self._training_type_input(type_ids)), (type_ids,)

    def get_loss(self, examples: Iterable[Example], scores, type_ids: Optional[List[int]] = None):
        from ...ml.torch_bridge import loss_and_gradients

        examples = list(examples)
        type_ids = list(range(len(self.labels))) if type_ids is None else type_ids
        targets = self._targets(examples, scores[2].shape, type_ids)
        return loss_and_gradients(self.loss, scores, *targets)

    def _targets(self, examples: List[Example], shape, type_ids: List[int]):
        batch, length, width, n_types = shape
        start = numpy.zeros((batch, length, n_types), dtype="float32")
        end = numpy.zeros_like(start)
        span = numpy.zeros((batch, length, width, n_types), dtype="float32")
        token_mask = numpy.zeros((batch, length, n_types), dtype=bool)
        span_mask = numpy.zeros((batch, length, width, n_types), dtype=bool)
        column = {self.labels[t]: j for j, t in enumerate(type_ids)}
        nested = self.cfg["spans_key"] is not None
        # Masks are weights: 0 outside a doc, and on the types its source does not annotate.
        type_weights = self._type_weights(examples, type_ids)
        if not (type_weights == 1.0).all():
            token_mask = token_mask.astype("float32")
            span_mask = span_mask.astype("float32")
        for b, eg in enumerate(examples):
            n = len(eg.predicted)
            token_mask[b, :n] = type_weights[b]
            inside = (numpy.arange(n)[:, None] + numpy.arange(width)[None, :] < n)[:, :, None]
            span_mask[b, :n] = inside * type_weights[b][None, None, :]
            gold = self._gold_spans(eg.reference)
            for s in eg.get_aligned_spans_y2x(gold, allow_overlap=nested):
                j = column.get(s.label_)
                if j is None:
                    continue
                start[b, s.start, j] = 1.0
                end[b, s.end - 1, j] = 1.0
                if len(s) <= width:
                    span[b, s.start, len(s) - 1, j] = 1.0
        return start, end, span, token_mask, span_mask

    # -- prediction ----------------------------------------------------------------------
    def predict_logits(self, docs: List[Doc]) -> List[Optional[Tuple[numpy.ndarray, ...]]]:
        """Per doc: start and end logits [n, types] and span logits [n, width, types], or None
        for an empty doc. A span starting near a window's edge ends in the next window's first
        tokens: the windows overlap by max_span_length - 1 tokens."""
        return self._logits_in_pieces(docs, context=self.model.attrs["max_span_length"] - 1)

    def scores_from_logits(self, doc_logits, temperature: float):
        return [None if logits is None else tuple(sigmoid(x / temperature) for x in logits) for logits in doc_logits]

    def decode_scores(self, doc_scores, thresholds) -> List[List]:
        flat = self.cfg["spans_key"] is None
        return [[] if scores is None else decode(*scores, thresholds, flat) for scores in doc_scores]

    def set_annotations(self, docs: Iterable[Doc], predictions) -> None:
        key = self.cfg["spans_key"]
        if key is None:
            return super().set_annotations(docs, predictions)
        for doc, spans in zip(docs, predictions):
            group = SpanGroup(doc, name=key, spans=self.make_spans(doc, spans))
            group.attrs["scores"] = [span._.ner_score for span in group]
            doc.spans[key] = group

    def score(self, examples: Iterable[Example], **kwargs) -> Dict:
        validate_examples(examples, "SpanNER.score")
        return self.scorer(examples, spans_key=self.cfg["spans_key"], **kwargs)
