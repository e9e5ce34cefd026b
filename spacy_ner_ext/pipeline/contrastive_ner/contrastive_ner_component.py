"""contrastive_ner: NER by matching tokens against descriptions of the entity types.

Token vectors are projected into the space of the sentence-transformers embeddings of each
type's natural-language description and compared by cosine similarity. Types can be added
or redescribed after training (`set_descriptions`), which gives zero-shot and few-shot NER.
"""
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Union

import numpy
from safetensors.numpy import load_file, save_file
from spacy import util
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import registry
from spacy.vocab import Vocab
from thinc.api import Config, Model

from ...errors import DamagedPipelineError
from ...ml.default_configs import TRANSFORMER_LISTENER, FROZEN_TYPE_ENCODER
from ...ml.backbone import DEFAULT_MODEL_NAME
from ..described_types import DescribedTypesPipe
from ...ml.torch_bridge import loss_and_gradients
from ...ml.type_encoders import TypeInput
from ...ml.type_vectors import encode_descriptions
from ...ml.activations import sigmoid, softmax
from .decoding import decode_tokens

DEFAULT_CONTRASTIVE_NER_MODEL = """
[model]
@architectures = "spacy_ner_ext.ContrastiveNerModel.v1"
projection = "mlp"
hidden_width = 256
dropout = 0.1
temperature = 0.05
learned_null = true
""" + TRANSFORMER_LISTENER + FROZEN_TYPE_ENCODER
DEFAULT_MODEL = Config().from_str(DEFAULT_CONTRASTIVE_NER_MODEL)["model"]
NULL_DESCRIPTION = "Ordinary words and punctuation that are not part of the name of any entity."


@Language.factory(
    "contrastive_ner",
    assigns=["doc.ents"],
    default_config={
        "model": DEFAULT_MODEL,
        "threshold": 0.5,
        "thresholds": {},
        "calibration_temperature": 1.0,
        "max_batch_tokens": 4096,
        "description_encoder": DEFAULT_MODEL_NAME,
        "null_description": NULL_DESCRIPTION,
        "loss": {"@losses": "spacy_ner_ext.contrastive_infonce.v1"},
        "scorer": {"@scorers": "spacy.ner_scorer.v1"},
    },
    default_score_weights={"ents_f": 1.0, "ents_p": 0.0, "ents_r": 0.0, "ents_per_type": None},
)
def make_contrastive_ner(nlp: Language, name: str, model: Model, threshold: float, thresholds: Dict[str, float],
                         calibration_temperature: float, max_batch_tokens: int, description_encoder: str,
                         null_description: str, loss: Callable, scorer: Optional[Callable]) -> "ContrastiveNER":
    """threshold: probability a token's best type must pass to be inside an entity.
    thresholds: per-type overrides of `threshold`, {label: threshold}.
    calibration_temperature: the logits are divided by it before the softmax or sigmoid.
    max_batch_tokens: tokens scored in one forward pass (docs grouped by length, long ones cut).
    description_encoder: the sentence-transformers model that embeds the descriptions.
    null_description: how "no entity" is described, when the model does not learn its vector.
    loss: `spacy_ner_ext.contrastive_infonce.v1` (softmax over types) or
        `spacy_ner_ext.contrastive_binary.v1` (a sigmoid per type).
    """
    return ContrastiveNER(nlp.vocab, model, name, threshold=threshold, thresholds=thresholds,
                          calibration_temperature=calibration_temperature, max_batch_tokens=max_batch_tokens,
                          description_encoder=description_encoder,
                          null_description=null_description, loss=loss, scorer=scorer)


class ContrastiveNER(DescribedTypesPipe):
    def __init__(self, vocab: Vocab, model: Model, name: str = "contrastive_ner", *, threshold: float = 0.5,
                 thresholds: Optional[Dict[str, float]] = None, calibration_temperature: float = 1.0,
                 max_batch_tokens: int = 4096, description_encoder: str = DEFAULT_MODEL_NAME,
                 null_description: str = NULL_DESCRIPTION, loss: Optional[Callable] = None,
                 scorer: Optional[Callable] = None):
        super().__init__(vocab, model, name, threshold=threshold, thresholds=thresholds,
                         calibration_temperature=calibration_temperature, max_batch_tokens=max_batch_tokens,
                         spans_key=None,
                         description_encoder=description_encoder, scorer=scorer, null_description=null_description)
        self.loss = loss if loss is not None else registry.losses.get("spacy_ner_ext.contrastive_infonce.v1")()
        self.null_vector: Optional[numpy.ndarray] = None

    @property
    def _described_null(self) -> bool:
        return not self.model.attrs["learned_null"]

    def _type_input(self) -> TypeInput:
        types = super()._type_input()
        if not self._described_null:
            return types
        if self.null_vector is None:
            self.null_vector = encode_descriptions([self.cfg["null_description"]], self.cfg["description_encoder"])
        return TypeInput([self.cfg["null_description"]] + types.texts,
                         numpy.concatenate([self.null_vector, types.vectors]))

    def _train_input(self, examples: List[Example]):
        return ([eg.predicted for eg in examples], self._type_input()), ()

    def get_loss(self, examples: Iterable[Example], scores):
        """scores: the 1-tuple of logits [batch, length, 1 + n_types]."""
        examples = list(examples)
        batch, length, n_classes = scores[0].shape
        targets = numpy.zeros((batch, length, n_classes), dtype="float32")
        mask = numpy.zeros((batch, length), dtype=bool)
        column = {label: i + 1 for i, label in enumerate(self.labels)}
        for b, eg in enumerate(examples):
            n = len(eg.predicted)
            mask[b, :n] = True
            targets[b, :n, 0] = 1.0
            for span in eg.get_aligned_spans_y2x(self._gold_spans(eg.reference), allow_overlap=True):
                j = column.get(span.label_)
                if j is not None:
                    targets[b, span.start:span.end, 0] = 0.0
                    targets[b, span.start:span.end, j] = 1.0
        type_weights = self._type_weights(examples, list(range(len(self.labels))))
        if (type_weights == 1.0).all():
            return loss_and_gradients(self.loss, scores, targets, mask)
        # Partial annotation: the types a doc's source does not annotate leave its loss
        # (contrastive losses take no weights between 0 and 1: any weight below 1 masks).
        type_mask = numpy.concatenate([numpy.ones((batch, 1), dtype=bool), type_weights >= 1.0], axis=1)
        return loss_and_gradients(self.loss, scores, targets, mask, type_mask)

    def predict_logits(self, docs: List[Doc]) -> List[Optional[tuple]]:
        """Per doc, a 1-tuple of logits [n, 1 + types] (column 0: no entity), or None when empty."""
        return self._logits_in_pieces(docs)

    def scores_from_logits(self, doc_logits, temperature: float) -> List[Optional[numpy.ndarray]]:
        """Per doc, the probability of each type per token [n, types] (no null column)."""
        # Scores are read the way the loss trained them: a softmax over the classes, or a
        # sigmoid per class.
        activation = softmax if getattr(self.loss, "activation", "softmax") == "softmax" else sigmoid
        return [None if logits is None else activation(logits[0] / temperature)[:, 1:] for logits in doc_logits]

    def decode_scores(self, doc_scores, thresholds) -> List[List]:
        return [[] if probs is None else decode_tokens(probs, thresholds) for probs in doc_scores]

    def to_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()) -> None:
        super().to_disk(path, exclude=exclude)
        if self._described_null and self.null_vector is not None:
            save_file({"null": self.null_vector}, str(util.ensure_path(path) / "null_vector.safetensors"))

    def from_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()) -> "ContrastiveNER":
        super().from_disk(path, exclude=exclude)
        null_path = util.ensure_path(path) / "null_vector.safetensors"
        try:
            self.null_vector = load_file(str(null_path))["null"] if null_path.exists() else None
        except Exception as err:  # safetensors' own SafetensorError, or no "null" in it
            raise DamagedPipelineError(f"{null_path}: damaged: cannot be read ({err})") from None
        return self
