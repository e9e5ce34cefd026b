"""token_ner: a tag per token (BIO or BILUO), with an optional CRF over the tag sequence.

Without the CRF, any loss of the `@losses` registry trains the tag scores (cross-entropy,
label smoothing, focal, dice, soft IoU, or a compound of them); tags are read by argmax and an
inside tag that continues nothing starts an entity. With the CRF, training maximises the
likelihood of the gold sequence (plus the token loss, if one is given) and Viterbi decoding
never takes a forbidden transition.
"""
from itertools import islice
from pathlib import Path
from typing import Callable, Iterable, List, Optional, Tuple

import numpy
import torch
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example, validate_get_examples
from spacy.util import registry
from spacy.vocab import Vocab
from thinc.api import Config, Model

from ...ml.default_configs import TRANSFORMER_LISTENER
from ...corpus.errors import RepairLog
from ...corpus.tags import tags_to_spans
from ...ml.torch_bridge import loss_and_gradients
from ..torch_pipe import TorchNerPipe
from ...ml.activations import softmax
from .crf import allowed_transitions, crf_log_likelihood, viterbi
from ...errors import DamagedPipelineError, UserInputError

DEFAULT_TOKEN_NER_MODEL = """
[model]
@architectures = "spacy_ner_ext.TokenNerModel.v1"
hidden_width = 256
dropout = 0.1
crf = true
""" + TRANSFORMER_LISTENER
DEFAULT_MODEL = Config().from_str(DEFAULT_TOKEN_NER_MODEL)["model"]
SCHEMES = {"bio": ("B", "I"), "biluo": ("B", "I", "L", "U")}


@Language.factory(
    "token_ner",
    assigns=["doc.ents"],
    default_config={"model": DEFAULT_MODEL, "scheme": "bio", "loss": None,
                    "scorer": {"@scorers": "spacy.ner_scorer.v1"}},
    default_score_weights={"ents_f": 1.0, "ents_p": 0.0, "ents_r": 0.0, "ents_per_type": None},
)
def make_token_ner(nlp: Language, name: str, model: Model, scheme: str, loss: Optional[Callable],
                   scorer: Optional[Callable]) -> "TokenNER":
    """scheme: "bio" or "biluo". loss: a token loss from the @losses registry; without the CRF
    it defaults to cross-entropy, with the CRF it is added to the CRF's negative log-likelihood."""
    return TokenNER(nlp.vocab, model, name, scheme=scheme, loss=loss, scorer=scorer)


class TokenNER(TorchNerPipe):
    def __init__(self, vocab: Vocab, model: Model, name: str = "token_ner", *, scheme: str = "bio",
                 loss: Optional[Callable] = None, scorer: Optional[Callable] = None):
        if scheme not in SCHEMES:
            raise UserInputError(f"scheme must be one of {', '.join(SCHEMES)}, not {scheme!r}")
        self.vocab = vocab
        self.model = model
        self.name = name
        self.scorer = scorer
        if loss is None and not model.attrs["crf"]:
            loss = registry.losses.get("spacy_ner_ext.cross_entropy.v1")()
        self.loss = loss
        self.cfg = {"labels": [], "scheme": scheme}

    @property
    def labels(self) -> Tuple[str, ...]:
        return tuple(self.cfg["labels"])

    @property
    def label_data(self) -> List[str]:
        return list(self.labels)

    @property
    def tags(self) -> List[str]:
        return ["O"] + [f"{p}-{label}" for label in self.labels for p in SCHEMES[self.cfg["scheme"]]]

    def add_label(self, label: str) -> int:
        if label in self.labels:
            return 0
        self.cfg["labels"] = list(self.labels) + [label]
        self.model.attrs["set_n_tags"](self.model, len(self.tags))
        return 1

    def from_disk(self, path, *, exclude=tuple()) -> "TokenNER":
        super().from_disk(path, exclude=exclude)
        self._check_tag_layer(f"{Path(path) / 'cfg'}")
        return self

    def from_bytes(self, bytes_data, *, exclude=tuple()) -> "TokenNER":
        super().from_bytes(bytes_data, exclude=exclude)
        self._check_tag_layer(f"the bytes of {self.name}")
        return self

    def _check_tag_layer(self, where: str) -> None:
        """Labels that do not fit the saved tag layer fail at load time, not at the first doc."""
        output = self.model.get_ref("tagger").shims[0]._model.output
        if output is not None and output.out_features != len(self.tags):
            raise DamagedPipelineError(
                f"{where}: damaged: its {len(self.labels)} labels make {len(self.tags)} "
                f"{self.cfg['scheme'].upper()} tags, but the saved model has {output.out_features}")

    def _allowed(self) -> numpy.ndarray:
        """Allowed transitions (rows), then start and end; computed once per tag set, since
        update and predict ask for it on every batch."""
        tags = tuple(self.tags)
        if getattr(self, "_allowed_for", None) != tags:
            trans, start, end = allowed_transitions(tags, self.cfg["scheme"])
            self._allowed_matrix = numpy.concatenate([trans, start[None], end[None]]).astype("float32")
            self._allowed_for = tags
        return self._allowed_matrix

    def initialize(self, get_examples: Callable[[], Iterable[Example]], *, nlp: Optional[Language] = None,
                   labels: Optional[List[str]] = None) -> None:
        validate_get_examples(get_examples, "TokenNER.initialize")
        if labels is None:
            labels = sorted({e.label_ for eg in get_examples() for e in eg.reference.ents})
        if not labels:
            raise ValueError(f"{self.name}: no labels given and no entities found in the training examples")
        self.cfg["labels"] = list(labels)
        self.model.attrs["set_n_tags"](self.model, len(self.tags))
        docs = [eg.predicted for eg in islice(get_examples(), 10)]
        self.model.initialize(X=(docs, self._allowed()))

    def _gold_tags(self, examples: List[Example], length: int) -> Tuple[numpy.ndarray, numpy.ndarray]:
        index = {tag: i for i, tag in enumerate(self.tags)}
        targets = numpy.zeros((len(examples), length), dtype="int64")
        mask = numpy.zeros((len(examples), length), dtype=bool)
        bio = self.cfg["scheme"] == "bio"
        for b, eg in enumerate(examples):
            # BILUO tags on the predicted tokens; "-" marks tokens the gold tokens do not align to.
            for i, tag in enumerate(eg.get_aligned_ner()):
                if tag is None or tag == "-":
                    continue
                if bio:
                    tag = {"U": "B", "L": "I"}.get(tag[0], tag[0]) + tag[1:]
                targets[b, i] = index.get(tag, 0)
                mask[b, i] = True
        return targets, mask

    def _train_input(self, examples: List[Example]):
        return ([eg.predicted for eg in examples], self._allowed()), ()

    def get_loss(self, examples: Iterable[Example], outputs):
        examples = list(examples)
        targets, mask = self._gold_tags(examples, outputs[0].shape[1])
        token_loss, crf = self.loss, self.model.attrs["crf"]
        lengths = numpy.array([len(eg.predicted) for eg in examples])
        # The CRF scores whole sequences: every real token is in the sequence, and the tokens
        # without a gold tag (partial annotation, misalignment) are summed over, not taken as O.
        prefix = numpy.arange(outputs[0].shape[1])[None, :] < lengths[:, None]

        def total(emissions, *rest_and_targets):
            rest, (tags, token_mask) = rest_and_targets[:-2], rest_and_targets[-2:]
            value = emissions.new_zeros(())
            if crf:
                transitions, start, end = rest
                seq_mask = torch.as_tensor(prefix, device=emissions.device)
                nll = -crf_log_likelihood(emissions, tags, seq_mask, transitions, start[0], end[0], known=token_mask)
                value = value + nll.sum() / seq_mask.sum().clamp(min=1)
            if token_loss is not None:
                value = value + token_loss(emissions, tags, token_mask)
            return value

        return loss_and_gradients(total, outputs, targets, mask)

    def predict(self, docs: Iterable[Doc]):
        docs = list(docs)
        if not self.labels:
            raise ValueError(f"{self.name} has no labels: initialize it or add labels first")
        if not any(len(doc) for doc in docs):
            return [[] for _ in docs]
        outputs = [self.model.ops.to_numpy(x) for x in self.model.predict((docs, self._allowed()))]
        emissions = outputs[0]
        probs = softmax(emissions)
        tags = self.tags
        scheme = "iob2" if self.cfg["scheme"] == "bio" else "biluo"
        quiet = RepairLog(self.name)
        predictions = []
        for i, doc in enumerate(docs):
            n = len(doc)
            if self.model.attrs["crf"]:
                path = viterbi(emissions[i, :n], outputs[1], outputs[2][0], outputs[3][0])
            else:
                path = [int(t) for t in emissions[i, :n].argmax(-1)]
            token_p = probs[i, numpy.arange(n), path]
            spans = tags_to_spans([tags[t] for t in path], scheme, self.name, repairs=quiet)
            predictions.append([(s, e, label, float(token_p[s:e].mean())) for s, e, label in spans])
        return predictions
