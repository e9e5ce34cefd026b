"""Losses as registered functions (`@losses = "..."` in a config), so a config can swap them.

Each factory returns a callable over torch tensors. The components compute their loss in
torch and hand Thinc the gradient of the scores, so one loss serves CPU and GPU alike.
"""
from typing import Callable, List, Optional, Union

import torch
import torch.nn.functional as F
# Thinc's own `losses` registry (spaCy's registry inherits it): its entry-point group is
# `thinc_losses`, which is where pyproject.toml lists these, so a config naming one of them
# resolves in a process that never imported this module.
from spacy.util import registry

from ..errors import UserInputError


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
        # Tokens, not weights (masks may be weights): the tokens with any type trained; a doc
        # whose every type is masked (partial annotation) adds nothing.
        n_tokens = (token_mask > 0).any(-1).sum().clamp(min=1)
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
    (several 1s in a row share the probability mass); mask: [batch, length]; type_mask
    (optional): [batch, 1 + n_types], false for the types a doc's source does not annotate:
    they leave the softmax, so they get no loss and no gradient there.
    """

    def loss(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor,
             type_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        if type_mask is not None:
            logits = logits.masked_fill(~type_mask.bool()[:, None, :], torch.finfo(logits.dtype).min)
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

    def loss(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor,
             type_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        full_mask = mask[..., None].expand_as(logits)
        if type_mask is not None:
            full_mask = full_mask * type_mask[:, None, :].to(logits.dtype)
        n_tokens = mask.to(logits.dtype).sum().clamp(min=1.0)
        return masked_bce_with_logits(logits, targets, full_mask, pos_weight) / n_tokens

    loss.activation = "sigmoid"
    return loss


# -- token classification: loss(logits [batch, length, n_tags], targets [batch, length] (long),
#    mask [batch, length] (bool)) -> scalar; tag 0 is "O" ---------------------------------------


def _masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    weight = mask.to(values.dtype)
    return (values * weight).sum() / weight.sum().clamp(min=1.0)


@registry.losses("spacy_ner_ext.cross_entropy.v1")
def cross_entropy_loss_v1() -> Callable[..., torch.Tensor]:
    def loss(logits, targets, mask):
        return _masked_mean(F.cross_entropy(logits.transpose(1, 2), targets, reduction="none"), mask)

    return loss


@registry.losses("spacy_ner_ext.label_smoothing.v1")
def label_smoothing_loss_v1(smoothing: float = 0.1) -> Callable[..., torch.Tensor]:
    """Cross-entropy against (1 - smoothing) on the gold tag and smoothing spread evenly."""
    if not 0.0 <= smoothing < 1.0:
        raise UserInputError(f"smoothing must be in [0, 1), not {smoothing}")

    def loss(logits, targets, mask):
        per_token = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none", label_smoothing=smoothing)
        return _masked_mean(per_token, mask)

    return loss


class EmbeddingLabelSmoothing:
    """Label smoothing whose smoothing mass goes to the labels the gold one is close to, in a
    space of learned label embeddings, instead of evenly to all of them.

    target = (1 - smoothing) * one_hot(gold) + smoothing * q(gold), where q(gold) is a softmax over
    the other labels of cos(e_gold, e_j) / temperature. A lower temperature sharpens q.

    The embeddings learn which labels the model itself confuses: after each training call they
    take one step (their own Adam) towards making q(gold) match the model's predicted distribution
    over the non-gold labels (detached, so this never pushes the tagger). They are state of
    training only: prediction never reads them, so they are not saved with the pipeline, and a
    resumed training starts them afresh. With equal embeddings q is uniform over the other labels.
    """

    def __init__(self, smoothing: float, temperature: float, width: int, learn_rate: float, seed: int):
        if not 0.0 <= smoothing < 1.0:
            raise UserInputError(f"smoothing must be in [0, 1), not {smoothing}")
        if temperature <= 0:
            raise UserInputError(f"temperature must be > 0, not {temperature}")
        self.smoothing, self.temperature, self.width = smoothing, temperature, width
        self.learn_rate, self.seed = learn_rate, seed
        self.embeddings: Optional[torch.nn.Parameter] = None
        self.optimizer: Optional[torch.optim.Optimizer] = None

    def _embeddings_for(self, logits: torch.Tensor) -> torch.nn.Parameter:
        n_labels = logits.shape[-1]
        if self.embeddings is None or self.embeddings.shape[0] != n_labels:
            generator = torch.Generator().manual_seed(self.seed)
            values = torch.randn(n_labels, self.width, generator=generator)
        elif self.embeddings.device != logits.device:
            # Adam's moments live on the old device: start them afresh with the moved values.
            values = self.embeddings.detach()
        else:
            return self.embeddings
        self.embeddings = torch.nn.Parameter(values.to(device=logits.device, dtype=logits.dtype))
        self.optimizer = torch.optim.Adam([self.embeddings], lr=self.learn_rate)
        return self.embeddings

    def smoothing_distribution(self, embeddings: torch.Tensor) -> torch.Tensor:
        """[n_labels, n_labels]: row g is q(g), zero on the diagonal."""
        unit = F.normalize(embeddings, dim=-1)
        sims = unit @ unit.T / self.temperature
        eye = torch.eye(len(sims), dtype=torch.bool, device=sims.device)
        return torch.softmax(sims.masked_fill(eye, float("-inf")), dim=-1)

    def __call__(self, logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        embeddings = self._embeddings_for(logits)
        n_labels = logits.shape[-1]
        log_p = torch.log_softmax(logits, -1)
        q = self.smoothing_distribution(embeddings)
        one_hot = F.one_hot(targets, n_labels).to(logits.dtype)
        soft = (1.0 - self.smoothing) * one_hot + self.smoothing * q.detach()[targets]
        value = _masked_mean(-(soft * log_p).sum(-1), mask)
        if logits.requires_grad and torch.is_grad_enabled() and n_labels > 1:
            self._learn(q, log_p.detach(), one_hot.bool(), targets, mask)
        return value

    def _learn(self, q, log_p, gold, targets, mask) -> None:
        # The model's belief over the wrong labels, renormalised: what q(gold) should look like.
        wrong = log_p.exp().masked_fill(gold, 0.0)
        wrong = wrong / wrong.sum(-1, keepdim=True).clamp(min=1e-12)
        log_q = torch.log(q[targets].masked_fill(gold, 1.0).clamp(min=1e-12))
        embedding_loss = _masked_mean(-(wrong * log_q).sum(-1), mask)
        (grad,) = torch.autograd.grad(embedding_loss, [self.embeddings])
        self.embeddings.grad = grad
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)


@registry.losses("spacy_ner_ext.embedding_label_smoothing.v1")
def embedding_label_smoothing_loss_v1(smoothing: float = 0.1, temperature: float = 0.5, width: int = 32,
                                      learn_rate: float = 0.01, seed: int = 0) -> Callable[..., torch.Tensor]:
    """Label smoothing towards similar labels, from learned label embeddings (see
    EmbeddingLabelSmoothing). smoothing 0 is cross-entropy."""
    return EmbeddingLabelSmoothing(smoothing, temperature, width, learn_rate, seed)


@registry.losses("spacy_ner_ext.focal.v1")
def focal_loss_v1(gamma: float = 2.0, alpha: Optional[Union[float, List[float]]] = None) -> Callable[..., torch.Tensor]:
    """-alpha_t (1 - p_t)^gamma log p_t (Lin et al. 2017). alpha: one weight for every tag, a
    list with one weight per tag, or None for no weighting. gamma 0, alpha None: cross-entropy."""

    def loss(logits, targets, mask):
        log_p = torch.log_softmax(logits, -1).gather(-1, targets[..., None]).squeeze(-1)
        per_token = -((1.0 - log_p.exp()) ** gamma) * log_p
        if alpha is not None:
            weights = torch.as_tensor(alpha, dtype=logits.dtype, device=logits.device)
            per_token = per_token * (weights[targets] if weights.dim() else weights)
        return _masked_mean(per_token, mask)

    return loss


@registry.losses("spacy_ner_ext.dice.v1")
def dice_loss_v1(smooth: float = 1.0, ignore_o: bool = False) -> Callable[..., torch.Tensor]:
    """1 - mean over tags of the soft Dice coefficient between predicted probabilities and the
    one-hot gold tags, over all tokens of the batch (Li et al. 2020). ignore_o leaves tag 0 out."""

    def loss(logits, targets, mask):
        probs = torch.softmax(logits, -1) * mask[..., None]
        gold = F.one_hot(targets, logits.shape[-1]).to(logits.dtype) * mask[..., None]
        inter = (probs * gold).sum((0, 1))
        dice = (2 * inter + smooth) / (probs.sum((0, 1)) + gold.sum((0, 1)) + smooth)
        if ignore_o:
            dice = dice[1:]
        return 1.0 - dice.mean()

    return loss


@registry.losses("spacy_ner_ext.soft_iou.v1")
def soft_iou_loss_v1() -> Callable[..., torch.Tensor]:
    """Boundary-aware: 1 - soft IoU between the predicted probability that a token is inside
    an entity (1 - P(O)) and the gold entity tokens. Rewards predicted entities that overlap
    the gold ones, whatever their type; meant to be combined with a typed loss."""

    def loss(logits, targets, mask):
        weight = mask.to(logits.dtype)
        inside = (1.0 - torch.softmax(logits, -1)[..., 0]) * weight
        gold = (targets != 0).to(logits.dtype) * weight
        inter = (inside * gold).sum()
        union = inside.sum() + gold.sum() - inter
        return 1.0 - (inter + 1.0) / (union + 1.0)

    return loss


@registry.losses("spacy_ner_ext.compound.v1")
def compound_loss_v1(*losses: Callable, weights: Optional[List[float]] = None) -> Callable[..., torch.Tensor]:
    """sum of weights[i] * losses[i](...), every weight 1 when none are given. In a config the
    losses are sections `[...loss.*.name]`, taken in order:

        [components.token_ner.loss]
        @losses = "spacy_ner_ext.compound.v1"
        weights = [1.0, 0.5]

        [components.token_ner.loss.*.focal]
        @losses = "spacy_ner_ext.focal.v1"

        [components.token_ner.loss.*.iou]
        @losses = "spacy_ner_ext.soft_iou.v1"
    """
    if not losses:
        raise UserInputError("compound loss needs at least one loss")
    weights = list(weights) if weights is not None else [1.0] * len(losses)
    if len(weights) != len(losses):
        raise UserInputError(f"compound loss: {len(losses)} losses but {len(weights)} weights")

    def loss(*args):
        return sum(w * fn(*args) for w, fn in zip(weights, losses))

    return loss
