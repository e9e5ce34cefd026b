"""Thresholds and a calibration temperature fitted on a dev set, for span_ner and contrastive_ner.

The component's logits are computed once; every temperature and threshold tried is then a
re-decoding of them, which costs numpy time, not transformer time. Entities are counted on the
component's own tokens, as `decode_scores` returns them, so the F1 printed here is the F1
`spacy evaluate` gives the tuned copy on the same data.

- temperature (optional): the one that minimizes dev ECE on a log grid from 1/4 to 4; kept only
  when it lowers dev ECE.
- global threshold: the grid value with the best dev micro F1.
- a partially annotated dev set (a mixture's: each Doc records the types its source
  annotates) counts on each Doc only the predictions of the types its source annotates.
- per-type thresholds: coordinate ascent from the global one, each type's threshold moved to
  the grid value that maximizes dev micro F1 with the others fixed (types interact through
  overlap resolution, so the objective is the overall F1, not each type's own).
"""
import math
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy
from spacy.language import Language
from spacy.training import Example

from ..corpus.annotated_types import annotated_types
from ..errors import UserInputError
from ..pipeline.described_types import threshold_array
from ..pipeline.torch_pipe import trimmed_predictions
from .calibration import expected_calibration_error

THRESHOLD_GRID = tuple(round(t, 2) for t in numpy.arange(0.05, 0.951, 0.05))
TEMPERATURE_GRID = tuple(float(t) for t in numpy.exp(numpy.linspace(numpy.log(0.25), numpy.log(4.0), 33)))


@dataclass
class Setting:
    """What the pipe predicts with: a default threshold, per-type overrides, a temperature."""
    threshold: float
    thresholds: Dict[str, float] = field(default_factory=dict)
    temperature: float = 1.0


@dataclass
class Outcome:
    f1: float
    precision: float
    recall: float
    ece: float
    per_type_f1: Dict[str, float]


@dataclass
class TuningResult:
    component: str
    before: Setting
    before_dev: Outcome
    after: Setting
    after_dev: Outcome
    global_threshold: float
    global_dev: Outcome

    def to_dict(self) -> Dict:
        """As JSON takes it: an ECE is None where a setting predicts no entity (it is undefined there)."""
        data = asdict(self)
        for key in ("before_dev", "after_dev", "global_dev"):
            if math.isnan(data[key]["ece"]):
                data[key]["ece"] = None
        return data


class DevScores:
    """The component's logits on dev docs and the gold entities on the component's tokens."""

    def __init__(self, nlp: Language, examples: Sequence[Example], component: str, batch_size: int = 64):
        self.pipe = nlp.get_pipe(component)
        if not hasattr(self.pipe, "predict_logits"):
            raise UserInputError(f"{component} ({type(self.pipe).__name__}) has no thresholds to tune: "
                             "use a span_ner or contrastive_ner component")
        before = nlp.pipe_names[: nlp.pipe_names.index(component)]
        docs = [eg.predicted.copy() for eg in examples]
        with nlp.select_pipes(enable=before):
            docs = list(nlp.pipe(docs, batch_size=batch_size))
        self.logits: List = []
        for i in range(0, len(docs), batch_size):
            self.logits.extend(self.pipe.predict_logits(docs[i:i + batch_size]))
        index = {label: j for j, label in enumerate(self.pipe.labels)}
        self.docs = docs
        self.gold = []
        # A partially annotated Doc (a mixture's) says which types its source annotates: a
        # prediction of another type is neither right nor wrong there, and is not counted.
        self.annotated = []
        for eg in examples:
            types = annotated_types(eg.reference)
            self.annotated.append(None if types is None else {index[t] for t in types if t in index})
        for doc, eg in zip(docs, examples):
            aligned = Example(doc, eg.reference).get_aligned_spans_y2x(self.pipe._gold_spans(eg.reference), allow_overlap=True)
            # A gold type the component does not know can only be missed: it counts against recall.
            self.gold.append({(s.start, s.end, index.get(s.label_, s.label_)) for s in aligned})

    def outcome(self, setting: Setting, scores: Optional[List] = None) -> Outcome:
        if scores is None:
            scores = self.pipe.scores_from_logits(self.logits, setting.temperature)
        predictions = self.pipe.decode_scores(scores, threshold_array(self.pipe.labels, setting.threshold, setting.thresholds))
        labels = list(self.pipe.labels)
        tp, fp, fn = (numpy.zeros(len(labels) + 1) for _ in range(3))  # last column: unknown gold types
        confidences, correct = [], []
        for doc, gold, annotated, predicted in zip(self.docs, self.gold, self.annotated, predictions):
            predicted = trimmed_predictions(doc, predicted)  # what set_annotations would keep
            if annotated is not None:
                predicted = [p for p in predicted if p[2] in annotated]
            for start, end, t, score in predicted:
                hit = (start, end, t) in gold
                tp[t] += hit
                fp[t] += not hit
                confidences.append(score)
                correct.append(hit)
            found = {(s, e, t) for s, e, t, _ in predicted}
            for s, e, t in gold - found:
                fn[t if isinstance(t, int) else -1] += 1
        return Outcome(f1=_f1(tp.sum(), fp.sum(), fn.sum()), precision=_ratio(tp.sum(), tp.sum() + fp.sum()),
                       recall=_ratio(tp.sum(), tp.sum() + fn.sum()),
                       ece=expected_calibration_error(numpy.asarray(confidences), numpy.asarray(correct, dtype=bool)),
                       per_type_f1={label: _f1(tp[j], fp[j], fn[j]) for j, label in enumerate(labels)})


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b else 0.0


def _f1(tp: float, fp: float, fn: float) -> float:
    return _ratio(2 * tp, 2 * tp + fp + fn)


def fit_temperature(dev: DevScores, setting: Setting, grid: Sequence[float] = TEMPERATURE_GRID) -> Tuple[float, float]:
    """(temperature, dev ECE) with the lowest dev ECE, or the setting's own when none is lower."""
    def ece_of(temperature: float) -> float:
        ece = dev.outcome(Setting(setting.threshold, setting.thresholds, temperature)).ece
        # No entity predicted: no calibration to measure, so any temperature that predicts some is better.
        return math.inf if math.isnan(ece) else ece

    best = (setting.temperature, ece_of(setting.temperature))
    for temperature in grid:
        ece = ece_of(temperature)
        if ece < best[1] - 1e-6:
            best = (temperature, ece)
    return best


def check_dev_set(examples: Sequence[Example], labels: Sequence[str], source: str) -> None:
    """Thresholds tuned on no docs, or on docs without an entity of the component's types,
    would be set by nothing: refused."""
    if not examples:
        raise UserInputError(f"{source}: the dev set holds no docs: nothing to tune thresholds on")
    gold = {ent.label_ for eg in examples for ent in eg.reference.ents}
    if not gold & set(labels):
        found = f"its entity types are {', '.join(sorted(gold))}" if gold else "it holds no entities"
        raise UserInputError(f"{source}: no entity of the component's types ({', '.join(labels)}) in the dev set "
                             f"({found}): nothing to tune thresholds on")


def tune(nlp: Language, examples: Sequence[Example], component: str, calibrate: bool = False,
         per_type: bool = True, batch_size: int = 64, grid: Sequence[float] = THRESHOLD_GRID,
         rounds: int = 2, source: str = "the dev set") -> TuningResult:
    """Find the thresholds (and temperature) on `examples`; the pipeline itself is not changed.
    `source` names the examples in an error."""
    if not hasattr(nlp.get_pipe(component), "predict_logits"):
        raise UserInputError(f"{component} ({type(nlp.get_pipe(component)).__name__}) has no thresholds to tune: "
                             "use a span_ner or contrastive_ner component")
    check_dev_set(examples, nlp.get_pipe(component).labels, source)
    dev = DevScores(nlp, examples, component, batch_size)
    pipe = dev.pipe
    before = Setting(pipe.threshold, pipe.thresholds, pipe.calibration_temperature)
    before_dev = dev.outcome(before)
    temperature = fit_temperature(dev, before)[0] if calibrate else before.temperature
    scores = pipe.scores_from_logits(dev.logits, temperature)

    def f1_of(setting: Setting) -> float:
        return dev.outcome(setting, scores).f1

    # Ties go to the value nearest the current threshold, so a flat stretch does not move it.
    global_threshold = max(grid, key=lambda t: (f1_of(Setting(t, {}, temperature)), -abs(t - before.threshold)))
    thresholds: Dict[str, float] = {}
    if per_type:
        for _ in range(rounds):
            changed = False
            for label in pipe.labels:
                current = thresholds.get(label, global_threshold)
                best = max(grid, key=lambda t: (f1_of(Setting(global_threshold, {**thresholds, label: t}, temperature)),
                                                -abs(t - current)))
                changed |= best != current
                thresholds[label] = best
            if not changed:
                break
        thresholds = {label: t for label, t in thresholds.items() if t != global_threshold}
    after = Setting(global_threshold, thresholds, temperature)
    return TuningResult(component=component, before=before, before_dev=before_dev, after=after,
                        after_dev=dev.outcome(after, scores), global_threshold=global_threshold,
                        global_dev=dev.outcome(Setting(global_threshold, {}, temperature), scores))


def apply_setting(nlp: Language, component: str, setting: Setting) -> None:
    pipe = nlp.get_pipe(component)
    pipe.threshold = setting.threshold
    pipe.thresholds = setting.thresholds
    pipe.calibration_temperature = setting.temperature
