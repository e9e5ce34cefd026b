"""universal_ner: the shipped pretrained span_ner, ready to find the types a user names.

A span_ner that carries its own transformer (no listener, so `nlp.add_pipe` puts it in any
pipeline, the way gliner-spacy is used) and is built ready to predict: the factory loads the
packaged MiniLM, adds the shipped differences of its top layers and the span heads
(`shipped_weights.py`), and embeds the given types' descriptions. It is a `SpanNER` in every
other respect: per-type thresholds, calibration, int8, `to_disk`/`spacy.load`, `spacy package`,
`annotate`, and further training with `spacy train`.

    nlp = spacy.blank("en")
    nlp.add_pipe("universal_ner", config={"labels": {"disease": "a disease or syndrome"}})
"""
from pathlib import Path
from typing import Callable, Dict, List, Optional, Union

from spacy.language import Language
from thinc.api import Config, Model

from ..ml.default_configs import FROZEN_TYPE_ENCODER
from ..ml.backbone import DEFAULT_MODEL_NAME
from ..errors import UserInputError
from ..pipeline.span_ner.span_ner_component import SPAN_NER_MODEL_HEAD, SpanNER
from . import shipped_weights

# span_ner's model with its own transformer in place of the listener (what replace_listeners makes).
DEFAULT_UNIVERSAL_MODEL = SPAN_NER_MODEL_HEAD + """
[model.tok2vec]
@architectures = "spacy_ner_ext.Tok2VecTransformer.v1"
name = "default"
tokenizer_config = {"use_fast": true}
grad_factor = 1.0

[model.tok2vec.get_spans]
@span_getters = "spacy-transformers.strided_spans.v1"
window = 128
stride = 96

[model.tok2vec.pooling]
@layers = "reduce_mean.v1"
""" + FROZEN_TYPE_ENCODER
DEFAULT_MODEL = Config().from_str(DEFAULT_UNIVERSAL_MODEL)["model"]
DEFAULT_LABELS = ["person", "organization", "location"]


@Language.factory(
    "universal_ner",
    assigns=["doc.ents", "doc.spans"],
    default_config={
        "labels": DEFAULT_LABELS,
        "weights": "shipped",
        "model": DEFAULT_MODEL,
        "threshold": None,
        "thresholds": {},
        "calibration_temperature": 1.0,
        "max_batch_tokens": 4096,
        "spans_key": None,
        "scorer": {"@scorers": "spacy_ner_ext.span_ner_scorer.v1"},
    },
    default_score_weights={"ents_f": 1.0, "ents_p": 0.0, "ents_r": 0.0, "ents_per_type": None},
)
def make_universal_ner(
    nlp: Language, name: str, labels: Union[Dict[str, str], List[str]], weights: str, model: Model,
    threshold: Optional[float], thresholds: Dict[str, float], calibration_temperature: float,
    max_batch_tokens: int, spans_key: Optional[str], scorer: Optional[Callable],
) -> "UniversalNER":
    """labels: the entity types, a list of names or a {name: description} dict (change them
        later with `nlp.get_pipe(name).set_labels(...)`).
    weights: "shipped" (the weights inside this package) or a folder of files in that format
        (`python -m spacy_ner_ext export-universal` writes one).
    threshold: null for the threshold tuned after pretraining (the weights' card); see
        span_ner for the other settings.
    """
    folder = resolve_weights(weights)
    card = shipped_weights.read_card(folder)
    shipped_weights.check_shapes(model, card, lambda key: f"{name}: model.{key}")
    component = UniversalNER(
        nlp.vocab, model, name, threshold=card["span_ner"]["threshold"] if threshold is None else threshold,
        thresholds=thresholds, calibration_temperature=calibration_temperature,
        max_batch_tokens=max_batch_tokens, spans_key=spans_key,
        description_encoder=card["span_ner"].get("description_encoder", DEFAULT_MODEL_NAME), scorer=scorer)
    component.set_labels(labels)
    component.load_weights(nlp, folder)
    if card.get("commercial_use") is False:
        # The pipeline now holds weights under the card's terms: say so in its meta, which
        # `spacy package` writes into the wheel's licence field.
        nlp.meta["license"] = card["licence"]
    return component


def resolve_weights(weights: Union[str, Path]) -> Path:
    if str(weights) == "shipped":
        return shipped_weights.WEIGHTS_DIR
    folder = Path(weights)
    if not folder.is_dir():
        raise UserInputError(f"weights: {weights} is neither \"shipped\" nor a folder of universal weights")
    return folder


class UniversalNER(SpanNER):
    """A span_ner with its own transformer, built from the shipped universal weights."""

    def load_weights(self, nlp: Language, folder: Path) -> None:
        """Build the model (the packaged MiniLM is read here) and put the universal weights in."""
        self.model.initialize(X=([nlp.make_doc("universal weights")], self._type_input()))
        shipped_weights.apply_transformer_delta(shipped_weights.hf_module_of(self.model.get_ref("tok2vec")), folder)
        shipped_weights.apply_scorer(self.model.get_ref("scorer"), folder)
