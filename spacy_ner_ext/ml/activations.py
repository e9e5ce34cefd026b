"""Numpy activations for reading scores at prediction time, in forms that never overflow."""
import numpy


def sigmoid(x: numpy.ndarray) -> numpy.ndarray:
    """1 / (1 + exp(-x)), as 0.5 (1 + tanh(x / 2)): exp(-x) overflows for large negative x."""
    return 0.5 * (1.0 + numpy.tanh(0.5 * x))


def softmax(x: numpy.ndarray, axis: int = -1) -> numpy.ndarray:
    shifted = numpy.exp(x - x.max(axis, keepdims=True))
    return shifted / shifted.sum(axis, keepdims=True)
