"""Config blocks the components' default configs share."""

# Word vectors from the pipeline's shared `transformer` component, mean-pooled over word pieces.
TRANSFORMER_LISTENER = """
[model.tok2vec]
@architectures = "spacy-transformers.TransformerListener.v1"
grad_factor = 1.0
upstream = "*"

[model.tok2vec.pooling]
@layers = "reduce_mean.v1"
"""

FROZEN_TYPE_ENCODER = """
[model.type_encoder]
@architectures = "spacy_ner_ext.FrozenTypeEncoder.v1"
"""
