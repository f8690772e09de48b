"""Synthetic design-patent corpora: line drawings of generated 3-D articles with metadata.

Django-free (stdlib, numpy, Pillow). `generate_corpus` writes a folder in the corpus format
of docs/ARCHITECTURE.md; `python -m retrieval.ml.samples OUT` does the same from a shell.
"""

from retrieval.ml.samples.corpus import CorpusSummary, generate_corpus

__all__ = ["CorpusSummary", "generate_corpus"]
