"""spaCy pipeline components for named entity recognition on transformers."""
from .backbone import resolve_model_name, DEFAULT_MODEL_NAME

__version__ = "0.1.0"
__all__ = ["resolve_model_name", "DEFAULT_MODEL_NAME", "__version__"]
