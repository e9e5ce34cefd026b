"""A seeded train/dev split, for corpora that come without a dev set."""
import random
from typing import List, Sequence, Tuple, TypeVar

from ..errors import UserInputError

T = TypeVar("T")


def train_dev_split(items: Sequence[T], dev_ratio: float, seed: int = 0) -> Tuple[List[T], List[T]]:
    if not 0.0 < dev_ratio < 1.0:
        raise UserInputError(f"dev_ratio must be between 0 and 1, not {dev_ratio}")
    if len(items) < 2:
        raise UserInputError(f"{len(items)} example(s) cannot be split into a training and a dev set")
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    n_dev = max(1, round(len(items) * dev_ratio))
    dev_idx = set(order[:n_dev])
    train = [x for i, x in enumerate(items) if i not in dev_idx]
    dev = [x for i, x in enumerate(items) if i in dev_idx]
    return train, dev
