"""Training loggers: a JSONL record of every evaluation and TensorBoard events."""
