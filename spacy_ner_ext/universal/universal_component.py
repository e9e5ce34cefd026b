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
from typing import Any, Callable, Dict, Optional, Union

from spacy.language import Language
from spacy.tokens import Doc
from thinc.api import Config, Model

from ..ml.default_configs import FROZEN_TYPE_ENCODER
from ..ml.backbone import DEFAULT_MODEL_NAME
from ..errors import UserInputError
from ..pipeline.span_ner.span_ner_component import SPAN_NER_MODEL_HEAD, SpanNER
from . import shipped_weights
from .model_card import mark_pipeline_licence

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
    # labels: Any, so that set_labels' one-line check reports a wrong value, not a config dump.
    nlp: Language, name: str, labels: Any, weights: str, model: Model,
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
    weights_error: Optional[UserInputError] = None
    try:
        folder = resolve_weights(weights)
        card = shipped_weights.read_card(folder)
        shipped_weights.check_shapes(model, card, lambda key: f"{name}: model.{key}")
    except UserInputError as err:
        card, weights_error = None, err
    if threshold is None:  # a placeholder when the card is unreadable: see weights_error below
        threshold = card["span_ner"]["threshold"] if card is not None else 0.5
    component = UniversalNER(
        nlp.vocab, model, name, threshold=threshold, thresholds=thresholds,
        calibration_temperature=calibration_temperature, max_batch_tokens=max_batch_tokens, spans_key=spans_key,
        description_encoder=card["span_ner"]["description_encoder"] if card is not None else DEFAULT_MODEL_NAME,
        scorer=scorer)
    component.set_labels(labels)
    if card is not None:
        try:
            component.load_weights(folder)
        except UserInputError as err:
            weights_error = err
        mark_pipeline_licence(nlp.meta, card)
    # spacy.load builds each component from its saved config before from_disk puts the saved
    # weights in: a pipeline saved with weights from a folder that is gone (another machine, a
    # wheel from `spacy package`) or that changed since must still load. So weights that cannot
    # be used here are an error at the component's first use, unless from_disk has replaced them.
    component.weights_error = weights_error
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

    # Why the weights named in the config could not be loaded, if they could not: raised at the
    # first use of the component, unless from_disk has filled it first (see the factory).
    weights_error: Optional[UserInputError] = None

    def check_weights(self) -> None:
        if self.weights_error is not None:
            raise type(self.weights_error)(*self.weights_error.args)

    def predict_logits(self, docs):
        self.check_weights()
        return super().predict_logits(docs)

    def update(self, examples, **kwargs):
        self.check_weights()
        return super().update(examples, **kwargs)

    def initialize(self, get_examples, **kwargs):
        self.check_weights()
        return super().initialize(get_examples, **kwargs)

    def to_disk(self, path, *, exclude=tuple()):
        self.check_weights()  # the model holds no weights worth saving
        return super().to_disk(path, exclude=exclude)

    def from_disk(self, path, *, exclude=tuple()):
        if self.weights_error is not None:
            # The model was never built (the factory had no usable weights): build it so that
            # the saved weights have a model to go into.
            self._build_model()
        super().from_disk(path, exclude=exclude)
        self.weights_error = None
        return self

    def _build_model(self) -> None:
        """Initialize the model on one doc: this reads the packaged MiniLM."""
        self.model.initialize(X=([Doc(self.vocab, words=["universal", "weights"])], self._type_input()))

    def load_weights(self, folder: Path) -> None:
        """Build the model and put the universal weights in."""
        self._build_model()
        shipped_weights.apply_transformer_delta(shipped_weights.hf_module_of(self.model.get_ref("tok2vec")), folder)
        shipped_weights.apply_scorer(self.model.get_ref("scorer"), folder)
