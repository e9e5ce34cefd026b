from .span_ner_component import SpanNER, make_span_ner
from .span_ner_model import build_span_ner_model

__all__ = ["SpanNER", "make_span_ner", "build_span_ner_model"]
