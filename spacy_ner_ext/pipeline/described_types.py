"""The part that span_ner and contrastive_ner share: entity types known by their
descriptions, kept as frozen sentence-transformers vectors, added or changed after training,
and saved with the pipeline as JSON and safetensors (nothing is unpickled on load)."""
import math
import random
import tempfile
from itertools import islice
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Tuple, Union

import srsly
from spacy import util
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.training import Example, validate_get_examples
from spacy.vocab import Vocab
from thinc.api import Model

from .length_batches import score_in_pieces
from .torch_pipe import TorchNerPipe
from ..errors import DamagedPipelineError
from ..ml.type_encoders import TypeInput
from ..corpus.annotated_types import annotated_types
from ..corpus.descriptions import load_description_variants
from ..ml.type_vectors import TypeVectors, resolve_descriptions
from ..errors import UserInputError

def _training_seed(nlp: Optional[Language]) -> int:
    """[training] seed of the pipeline's config (spacy train seeds with it too); without one, a
    draw from Python's random state, which spaCy's fix_random_seed sets."""
    seed = None
    if nlp is not None and "training" in nlp.config:
        # The raw config says "${system.seed}": read it interpolated.
        seed = nlp.config.interpolate()["training"].get("seed")
    return int(seed) if seed is not None else random.getrandbits(32)


def threshold_array(labels: Iterable[str], threshold: float, thresholds: Dict[str, float]):
    """Each label's threshold, in label order: its override, else the default."""
    import numpy

    return numpy.asarray([thresholds.get(label, threshold) for label in labels], dtype="float32")


def _check_threshold(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise UserInputError(f"{what} must be a number between 0 and 1, not {value!r}")
    # srsly's JSON reader parses 0.3 as 0.30000000000000004: rounding keeps a saved threshold equal to the
    # one that was set, far below any precision a threshold needs.
    return round(float(value), 9)


def _check_temperature(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not value > 0:
        raise UserInputError(f"calibration_temperature must be a positive finite number, not {value!r}")
    return float(value)


def _check_max_batch_tokens(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 64:
        raise UserInputError(f"max_batch_tokens must be an integer of at least 64, not {value!r}")
    return value


TRAINING_TYPE_TEXTS = ("description", "variants")


def check_training_type_texts(value: str) -> str:
    if value not in TRAINING_TYPE_TEXTS:
        raise UserInputError(f"training_type_texts must be one of {', '.join(TRAINING_TYPE_TEXTS)}, not {value!r}")
    return value


def check_probability(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise UserInputError(f"{what} must be a number between 0 and 1, not {value!r}")
    return float(value)


def check_foreign_type_weight(value) -> float:
    return check_probability(value, "foreign_type_weight")


def description_variants(descriptions, labels) -> Dict[str, List[str]]:
    """Each label's training texts: its name (first), then every description given for it (a
    JSON file may hold a list of paraphrases per label)."""
    if isinstance(descriptions, (str, Path)):
        given = load_description_variants(descriptions)
    elif isinstance(descriptions, dict):
        given = {k: (list(v) if isinstance(v, (list, tuple)) else [v]) for k, v in descriptions.items()}
    else:
        given = {}
    return {label: list(dict.fromkeys([readable_name(label)] + given.get(label, []))) for label in labels}


def readable_name(label: str) -> str:
    """A label as words: "Restaurant_Name" -> "restaurant name", "MilitaryPlatform" ->
    "military platform"; a code such as "PER" is only lower-cased."""
    import re

    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", label)
    return re.sub(r"[_\-\s]+", " ", words).strip().lower() or label


class DescribedTypesPipe(TorchNerPipe):
    """A TrainablePipe whose model takes (docs, TypeInput): one row per entity type."""

    def __init__(self, vocab: Vocab, model: Model, name: str, *, threshold: float, spans_key: Optional[str],
                 description_encoder: str, scorer: Optional[Callable], thresholds: Optional[Dict[str, float]] = None,
                 calibration_temperature: float = 1.0, max_batch_tokens: int = 4096, **cfg):
        self.vocab = vocab
        self.model = model
        self.name = name
        self.scorer = scorer
        self.types = TypeVectors(description_encoder)
        self.cfg = {"threshold": _check_threshold(threshold, "threshold"), "thresholds": {},
                    "spans_key": spans_key, "description_encoder": description_encoder,
                    "calibration_temperature": _check_temperature(calibration_temperature),
                    "max_batch_tokens": _check_max_batch_tokens(max_batch_tokens), **cfg}
        # Types are not known before initialize: the overrides are checked against them there.
        self._set_thresholds(thresholds or {}, check_labels=False)
        # Re-seeded by initialize from [training] seed, so that runs with other seeds see other
        # negative types.
        self._rng = random.Random(0)

    # -- labels and descriptions ---------------------------------------------------------
    @property
    def labels(self) -> Tuple[str, ...]:
        return tuple(self.types.labels)

    @property
    def label_data(self) -> Dict[str, str]:
        return dict(self.types.descriptions)

    @property
    def descriptions(self) -> Dict[str, str]:
        return dict(self.types.descriptions)

    # -- thresholds and calibration ----------------------------------------------------------
    @property
    def threshold(self) -> float:
        """The threshold of every type without an override in `thresholds`."""
        return self.cfg["threshold"]

    @threshold.setter
    def threshold(self, value: float) -> None:
        self.cfg["threshold"] = _check_threshold(value, "threshold")

    @property
    def thresholds(self) -> Dict[str, float]:
        """Per-type overrides of `threshold`, {label: threshold}; a copy: assign a new dict to change them."""
        return dict(self.cfg["thresholds"])

    @thresholds.setter
    def thresholds(self, values: Dict[str, float]) -> None:
        self._set_thresholds(values, check_labels=True)

    def _set_thresholds(self, values: Dict[str, float], check_labels: bool) -> None:
        if not isinstance(values, dict):
            raise UserInputError(f"{self.name}: thresholds must be a dict of {{label: threshold}}, not {values!r}")
        checked = {str(label): _check_threshold(value, f"threshold of {label}") for label, value in values.items()}
        if check_labels:
            unknown = sorted(set(checked) - set(self.labels))
            if unknown:
                raise UserInputError(f"{self.name}: thresholds for unknown types {unknown}; the types are {list(self.labels)}")
        self.cfg["thresholds"] = checked

    def threshold_for(self, label: str) -> float:
        return self.cfg["thresholds"].get(label, self.cfg["threshold"])

    def _threshold_array(self):
        return threshold_array(self.labels, self.cfg["threshold"], self.cfg["thresholds"])

    @property
    def calibration_temperature(self) -> float:
        """Logits are divided by it before they become probabilities (1.0: as trained);
        `tune-thresholds --calibrate` fits it on a dev set."""
        return self.cfg["calibration_temperature"]

    @calibration_temperature.setter
    def calibration_temperature(self, value: float) -> None:
        self.cfg["calibration_temperature"] = _check_temperature(value)

    # -- prediction ------------------------------------------------------------------------
    # predict = predict_logits -> scores_from_logits (calibration temperature) -> decode_scores
    # (thresholds): the stages are apart so that tuning reads the logits once and tries many
    # temperatures and thresholds on them.
    def predict(self, docs: Iterable[Doc]):
        docs = list(docs)
        self._require_labels()
        scores = self.scores_from_logits(self.predict_logits(docs), self.calibration_temperature)
        return self.decode_scores(scores, self._threshold_array())

    def predict_logits(self, docs: List[Doc]) -> List:
        """Per doc, the scorer's logits (a tuple of arrays), or None for an empty doc."""
        raise NotImplementedError

    def scores_from_logits(self, doc_logits: List, temperature: float) -> List:
        """Per doc, the probabilities that `decode_scores` reads (None for an empty doc)."""
        raise NotImplementedError

    def decode_scores(self, doc_scores: List, thresholds) -> List[List]:
        """Per doc, the predicted (start, end, type index, score), at one threshold per type."""
        raise NotImplementedError

    def _logits_in_pieces(self, docs: List[Doc], context: int = 0, types: Optional[TypeInput] = None) -> List:
        """The scorer's logits per doc, docs cut and grouped by length (see length_batches)."""
        if not any(len(doc) for doc in docs):
            return [None for _ in docs]
        types = self._type_input() if types is None else types
        vectors = self.model.get_ref("tok2vec").predict(docs)
        type_vectors = self.model.get_ref("type_encoder").predict(types)
        scorer = self.model.get_ref("scorer")
        to_numpy = self.model.ops.to_numpy

        def score(pieces):
            return tuple(to_numpy(x) for x in scorer.predict((pieces, type_vectors)))

        return score_in_pieces(vectors, score, self.cfg["max_batch_tokens"], context)

    def add_label(self, label: str, description: Optional[str] = None) -> int:
        """Add a type, described by `description` (or by its name). A type added after
        training is predicted from its description alone (zero-shot)."""
        if not isinstance(label, str) or not label:
            raise UserInputError(f"A label must be a non-empty string, not {label!r}")
        if description is None:
            description = self.types.descriptions.get(label) or label
        if self.types.descriptions.get(label) == description:
            return 0
        self.types.set({label: description}, f"{self.name}.add_label")
        return 1

    def set_descriptions(self, descriptions: Dict[str, str]) -> None:
        """Add types or change their descriptions; other types are kept."""
        self.types.set(descriptions, f"{self.name}.set_descriptions")

    def set_labels(self, labels: Union[List[str], Dict[str, str]]) -> None:
        """Replace the entity types by these: a list of names (each described by its name as
        words: "restaurant_name" -> "restaurant name") or a {name: description} dict. Per-type
        thresholds of the types that go are dropped."""
        if isinstance(labels, dict):
            given = dict(labels)
        elif isinstance(labels, (list, tuple)) and all(isinstance(label, str) and label for label in labels):
            if len(set(labels)) < len(labels):
                raise UserInputError(f"{self.name}: labels named twice in {list(labels)}")
            given = {label: readable_name(label) for label in labels}
        else:
            raise UserInputError(f"{self.name}: labels must be a list of names or a {{name: description}} dict, "
                                 f"not {labels!r}")
        if not given:
            raise UserInputError(f"{self.name}: labels is empty: give at least one entity type")
        types = TypeVectors(self.cfg["description_encoder"])
        types.set(given, f"{self.name}: labels")
        self.types = types
        self.cfg["thresholds"] = {l: t for l, t in self.cfg["thresholds"].items() if l in given}

    def remove_label(self, label: str) -> None:
        self.types.remove(label)
        self.cfg["thresholds"].pop(label, None)

    def _type_input(self) -> TypeInput:
        return TypeInput([self.types.descriptions[label] for label in self.labels], self.types.vectors)

    def _training_type_input(self, type_ids: List[int]) -> TypeInput:
        """The types of one training batch. With `training_type_texts = "variants"`, each type
        is shown by its name or one of its descriptions, drawn at random (from the pipe's
        seeded generator), so that users may give either at prediction; every variant's vector
        was embedded once, when the variants were set."""
        types = self._type_input().select(type_ids)
        if self.cfg.get("training_type_texts", "description") != "variants":
            return types
        texts, rows = list(types.texts), types.vectors.copy()
        name_share = self.cfg.get("name_probability", 0.5)
        for j, t in enumerate(type_ids):
            label = self.labels[t]
            variants = self.types.variants.get(label)
            if variants:
                # The name is the first variant. It is drawn with a set probability, not as one
                # text among many: a type gathered from 30 corpora has 30 descriptions, and
                # users give names as often as descriptions. (None: one text among many.)
                if name_share is None:
                    k = self._rng.randrange(len(variants))
                elif len(variants) == 1 or self._rng.random() < name_share:
                    k = 0
                else:
                    k = 1 + self._rng.randrange(len(variants) - 1)
                texts[j], rows[j] = variants[k], self.types.variant_vectors[label][k]
        return TypeInput(texts, rows)

    def _type_weights(self, examples: List[Example], type_ids: List[int]):
        """[batch, len(type_ids)]: 1 where a Doc's source annotates the type (or the Doc has no
        record of it: fully annotated), `foreign_type_weight` elsewhere (0: no loss, positive
        or negative, and so no gradient)."""
        import numpy

        weights = numpy.ones((len(examples), len(type_ids)), dtype="float32")
        foreign = float(self.cfg.get("foreign_type_weight", 0.0))
        for b, eg in enumerate(examples):
            annotated = annotated_types(eg.reference)
            if annotated is not None:
                annotated = set(annotated)
                weights[b] = [1.0 if self.labels[t] in annotated else foreign for t in type_ids]
        return weights

    def _gold_spans(self, doc: Doc) -> List[Span]:
        key = self.cfg["spans_key"]
        if key is not None and key in doc.spans:
            return list(doc.spans[key])
        return list(doc.ents)

    def _require_labels(self) -> None:
        if not self.labels:
            raise UserInputError(f"{self.name} has no entity types: initialize it or add labels first")

    def initialize(self, get_examples: Callable[[], Iterable[Example]], *, nlp: Optional[Language] = None,
                   labels: Optional[Union[List[str], Dict[str, str]]] = None,
                   descriptions: Optional[Union[str, Path, Dict[str, Union[str, List[str]]]]] = None) -> None:
        """labels: the types (default: every type in the examples), as a list, or as the
        {label: description} dict that `label_data` gives and `spacy init labels` writes;
        descriptions: a dict or a JSON file of {label: description}, taking precedence; a type
        with neither is described by its name."""
        validate_get_examples(get_examples, f"{type(self).__name__}.initialize")
        if labels is None:
            labels = sorted({s.label_ for eg in get_examples() for s in self._gold_spans(eg.reference)})
        if not labels:
            raise UserInputError(f"{self.name}: no labels given and no entities found in the training examples")
        given = dict(labels) if isinstance(labels, dict) else {}
        given.update(resolve_descriptions(descriptions, labels, default=given))
        self.types = TypeVectors(self.cfg["description_encoder"])
        self.types.set(given, f"{self.name}: the labels and descriptions given to initialize")
        if self.cfg.get("training_type_texts", "description") == "variants":
            # Every description given, also those that came in the labels dict.
            variants = description_variants(descriptions, labels)
            for label, texts in variants.items():
                if given.get(label) not in texts:
                    texts.insert(1, given[label])
            self.types.set_variants(variants, f"{self.name}: the description variants given to initialize")
        self._set_thresholds(self.cfg["thresholds"], check_labels=True)
        self._rng = random.Random(_training_seed(nlp))
        docs = [eg.predicted for eg in islice(get_examples(), 10)]
        self.model.initialize(X=(docs, self._type_input()))

    # -- serialization ---------------------------------------------------------------------
    def to_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()) -> None:
        path = util.ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / "cfg", dict(self.cfg, labels=list(self.labels), descriptions=self.descriptions,
                                            variants=self.types.variants_to_json()))
        self.types.to_disk(path / "type_vectors.safetensors")
        self.model.to_disk(path / "model")

    def from_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()):
        """Every file is checked as it is read: a damaged one fails here, named, not at the
        first doc."""
        path = util.ensure_path(path)
        try:
            cfg = srsly.read_json(path / "cfg")
            labels, descriptions = cfg.pop("labels"), cfg.pop("descriptions")
            variants = cfg.pop("variants", {})
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
            raise DamagedPipelineError(f"{path / 'cfg'}: damaged: not the JSON settings of {self.name} ({err})") from None
        try:
            cfg["threshold"] = _check_threshold(cfg.get("threshold", self.cfg["threshold"]), "threshold")
            cfg["calibration_temperature"] = _check_temperature(
                cfg.get("calibration_temperature", self.cfg["calibration_temperature"]))
            cfg["max_batch_tokens"] = _check_max_batch_tokens(cfg.get("max_batch_tokens", self.cfg["max_batch_tokens"]))
        except ValueError as err:
            raise DamagedPipelineError(f"{path / 'cfg'}: damaged: {err}") from None
        self.cfg.update(cfg)
        self.types = TypeVectors(self.cfg["description_encoder"])
        self.types.from_disk(path / "type_vectors.safetensors", labels, descriptions, variants)
        try:
            self._set_thresholds(self.cfg.get("thresholds", {}), check_labels=True)
        except ValueError as err:
            raise DamagedPipelineError(f"{path / 'cfg'}: damaged: {err}") from None
        try:
            self.model.from_disk(path / "model")
        except Exception as err:  # Thinc's msgpack, shape and safetensors errors alike
            raise DamagedPipelineError(f"{path / 'model'}: damaged: the weights cannot be read "
                                       f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''})") from None
        return self

    def to_bytes(self, *, exclude: Iterable[str] = tuple()) -> bytes:
        with tempfile.TemporaryDirectory() as tmp:
            self.to_disk(tmp)
            return srsly.msgpack_dumps({p.name: p.read_bytes() for p in Path(tmp).iterdir()})

    def from_bytes(self, bytes_data: bytes, *, exclude: Iterable[str] = tuple()):
        with tempfile.TemporaryDirectory() as tmp:
            for name, data in srsly.msgpack_loads(bytes_data).items():
                (Path(tmp) / name).write_bytes(data)
            return self.from_disk(tmp)
