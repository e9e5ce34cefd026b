from .token_ner_component import TokenNER, make_token_ner
from .token_ner_model import build_token_ner_model

__all__ = ["TokenNER", "make_token_ner", "build_token_ner_model"]
