"""Start a span_ner training from the universal weights: `[initialize.after_init]` in a config
whose pipeline is `transformer` (the packaged MiniLM) + `span_ner` (configs/span_from_universal.cfg).

After `nlp.initialize` has read the packaged MiniLM and built span_ner's heads for the training
data's types, the callback adds the shipped differences to the transformer and loads the heads:
training then goes on from the pretrained model on the user's own data (few-shot or full)."""
from typing import Callable

from spacy.language import Language
from spacy.util import registry

from ..errors import UserInputError
from . import shipped_weights
from ..ml.backbone import resolve_model_name
from ..pipeline.span_ner.span_ner_component import SpanNER
from .model_card import mark_pipeline_licence
from .universal_component import resolve_weights


@registry.callbacks("spacy_ner_ext.init_from_universal.v1")
def init_from_universal_v1(weights: str = "shipped", transformer: str = "transformer",
                           component: str = "span_ner", card_threshold: bool = False) -> Callable[[Language], Language]:
    """weights: "shipped" or a folder of universal weights; transformer, component: the names of
    the pipeline's transformer and span_ner components; card_threshold: start from the threshold
    tuned for the weights (their card) instead of the component's own."""

    def init_from_universal(nlp: Language) -> Language:
        folder = resolve_weights(weights)
        card = shipped_weights.read_card(folder)
        for name in (transformer, component):
            if name not in nlp.pipe_names:
                raise UserInputError(f"init_from_universal: no component {name!r} in the pipeline {nlp.pipe_names}")
        span_ner = nlp.get_pipe(component)
        if not isinstance(span_ner, SpanNER):
            raise UserInputError(f"init_from_universal: component {component!r} is a "
                                 f"{type(span_ner).__name__}; the universal weights are for a span_ner")
        # The heads learned to match spans to types embedded by the card's encoder: types embedded
        # by another would be vectors they never saw (same width or not).
        wanted = card["span_ner"]["description_encoder"]
        if resolve_model_name(span_ner.cfg["description_encoder"]) != resolve_model_name(wanted):
            raise UserInputError(f"init_from_universal: [components.{component}] description_encoder is "
                                 f"{span_ner.cfg['description_encoder']!r}, and the universal weights were "
                                 f"trained with {wanted!r}: set it to {wanted!r}")
        shipped_weights.check_shapes(span_ner.model, card,
                                     lambda key: f"init_from_universal: [components.{component}.model] {key}")
        shipped_weights.apply_transformer_delta(shipped_weights.hf_module_of(nlp.get_pipe(transformer).model), folder)
        shipped_weights.apply_scorer(span_ner.model.get_ref("scorer"), folder)
        if card_threshold:
            span_ner.threshold = card["span_ner"]["threshold"]
        mark_pipeline_licence(nlp.meta, card)  # what is trained from the weights holds them
        return nlp

    return init_from_universal
