"""Losses as registered functions (`@losses = "..."` in a config), so a config can swap them.

Each factory returns a callable over torch tensors. The components compute their loss in
torch and hand Thinc the gradient of the scores, so one loss serves CPU and GPU alike.
"""
from typing import Callable

import torch
import torch.nn.functional as F
from spacy.util import registry

if not hasattr(registry, "losses"):
    registry.create("losses", entry_points=True)


def masked_bce_with_logits(
    logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor, pos_weight: float = 1.0
) -> torch.Tensor:
    """Summed binary cross-entropy over the elements where `mask` is true."""
    weight = mask.to(logits.dtype)
    pw = torch.tensor(pos_weight, dtype=logits.dtype, device=logits.device) if pos_weight != 1.0 else None
    return F.binary_cross_entropy_with_logits(logits, targets.to(logits.dtype), weight=weight,
                                              pos_weight=pw, reduction="sum")


@registry.losses("spacy_ner_ext.span_bce.v1")
def span_bce_loss_v1(
    start_weight: float = 1.0, end_weight: float = 1.0, span_weight: float = 3.0, pos_weight: float = 1.0
) -> Callable[..., torch.Tensor]:
    """Weighted sum of the binary cross-entropies of the start, end and span logits, per token.

    Each term is summed over types (and span widths) and divided by the number of tokens, not
    by the number of elements: a mean over every span and type would shrink the gradient that
    reaches the transformer by the number of types times the maximum width.
    pos_weight > 1 weighs the (rare) positive targets up against the many negatives.
    """

    def loss(start_logits, end_logits, span_logits, start_targets, end_targets, span_targets,
             token_mask, span_mask) -> torch.Tensor:
        n_tokens = token_mask[..., 0].sum().clamp(min=1)
        return (
            start_weight * masked_bce_with_logits(start_logits, start_targets, token_mask, pos_weight)
            + end_weight * masked_bce_with_logits(end_logits, end_targets, token_mask, pos_weight)
            + span_weight * masked_bce_with_logits(span_logits, span_targets, span_mask, pos_weight)
        ) / n_tokens

    return loss


def _target_distribution(targets: torch.Tensor) -> torch.Tensor:
    return targets / targets.sum(-1, keepdim=True).clamp(min=1e-12)


@registry.losses("spacy_ner_ext.contrastive_infonce.v1")
def contrastive_infonce_loss_v1() -> Callable[..., torch.Tensor]:
    """InfoNCE: a softmax over the "no entity" class and every type for each token; the gold
    type is the positive, all other descriptions and "no entity" the negatives. Mean over tokens.

    logits: [batch, length, 1 + n_types] (column 0: no entity); targets: binary, same shape
    (several 1s in a row share the probability mass); mask: [batch, length].
    """

    def loss(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        per_token = -(_target_distribution(targets) * torch.log_softmax(logits, dim=-1)).sum(-1)
        weight = mask.to(logits.dtype)
        return (per_token * weight).sum() / weight.sum().clamp(min=1.0)

    # How the scores it trains are read at prediction time.
    loss.activation = "softmax"
    return loss


@registry.losses("spacy_ner_ext.contrastive_binary.v1")
def contrastive_binary_loss_v1(pos_weight: float = 1.0) -> Callable[..., torch.Tensor]:
    """A sigmoid per type and per token against the binary token x type matrix (the "no
    entity" column included), summed over types, mean over tokens."""

    def loss(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        full_mask = mask[..., None].expand_as(logits)
        n_tokens = mask.to(logits.dtype).sum().clamp(min=1.0)
        return masked_bce_with_logits(logits, targets, full_mask, pos_weight) / n_tokens

    loss.activation = "sigmoid"
    return loss
