"""What the components share as spaCy pipes: the update step around a torch loss, and
writing scored entities to the Doc."""
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from spacy.pipeline import TrainablePipe
from spacy.scorer import get_ner_prf
from spacy.tokens import Doc, Span
from spacy.training import Example, validate_examples
from thinc.api import Optimizer

from ..corpus.spans import trim_whitespace
from ..ml.torch_bridge import set_dropout_rate

if not Span.has_extension("ner_score"):
    Span.set_extension("ner_score", default=None)

# start, end (exclusive), label (a string, or an index into the pipe's labels), score
Prediction = Tuple[int, int, Union[int, str], float]


def trimmed_predictions(doc: Doc, predictions: Sequence[Prediction]) -> List[Prediction]:
    """The predictions, none starting or ending on a whitespace token (as spaCy's `ner` has it):
    such tokens are trimmed off, and a prediction of whitespace alone is dropped. Trimming only
    shrinks spans, so flat predictions stay apart; two nested ones trimmed to the same span and
    type are one, with the higher score. Entities set on docs and the scores that threshold
    tuning counts both come from here."""
    kept: Dict[Tuple[int, int, Union[int, str]], float] = {}
    for start, end, label, score in predictions:
        start, end = trim_whitespace(doc, start, end)
        if start < end and ((start, end, label) not in kept or score > kept[(start, end, label)]):
            kept[(start, end, label)] = score
    return [(start, end, label, score) for (start, end, label), score in kept.items()]


class TorchNerPipe(TrainablePipe):
    """Subclasses give `_train_input(examples)` -> (model input, extra arguments of get_loss),
    or (None, ()) for a batch with nothing to learn from, and `get_loss(examples, outputs, *extra)`
    -> (loss, gradient of the outputs).

    `update(drop=...)` sets the dropout of the Thinc layers and of the torch modules' Dropout
    layers, as spaCy's own pipes do (spacy train passes [training] dropout); the architectures'
    `dropout` is the rate until the first update."""

    def _train_input(self, examples: List[Example]) -> Tuple[Any, tuple]:
        raise NotImplementedError

    def update(self, examples: Iterable[Example], *, drop: float = 0.0, sgd: Optional[Optimizer] = None,
               losses: Optional[Dict[str, float]] = None) -> Dict[str, float]:
        losses = {} if losses is None else losses
        losses.setdefault(self.name, 0.0)
        examples = list(examples)
        validate_examples(examples, f"{type(self).__name__}.update")
        if not any(len(eg.predicted) for eg in examples):
            return losses
        set_dropout_rate(self.model, drop)
        inputs, extra = self._train_input(examples)
        if inputs is None:
            return losses
        outputs, backprop = self.model.begin_update(inputs)
        loss, d_outputs = self.get_loss(examples, outputs, *extra)
        backprop(d_outputs)
        if sgd is not None:
            self.finish_update(sgd)
        losses[self.name] += loss
        return losses

    def make_spans(self, doc: Doc, predictions: Sequence[Prediction]) -> List[Span]:
        spans = []
        for start, end, label, score in trimmed_predictions(doc, predictions):
            span = Span(doc, start, end, label=label if isinstance(label, str) else self.labels[label])
            span._.ner_score = score
            spans.append(span)
        return spans

    def set_annotations(self, docs: Iterable[Doc], predictions) -> None:
        for doc, doc_predictions in zip(docs, predictions):
            doc.ents = self.make_spans(doc, doc_predictions)

    def score(self, examples: Iterable[Example], **kwargs) -> Dict:
        validate_examples(examples, f"{type(self).__name__}.score")
        return self.scorer(examples, **kwargs) if self.scorer else get_ner_prf(examples)
