"""Experiments built from trained pipelines: benchmarks, few-shot and zero-shot runs, loss ablations."""
