from .contrastive_ner_component import ContrastiveNER, make_contrastive_ner
from .contrastive_ner_model import build_contrastive_ner_model

__all__ = ["ContrastiveNER", "make_contrastive_ner", "build_contrastive_ner_model"]
