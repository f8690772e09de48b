"""Evaluation of retrieval models: metrics (numpy) and corpus evaluation runs.

Typical use::

    from retrieval.ml.evaluation import EvaluationRequest, evaluate

    report = evaluate(EvaluationRequest(corpus=Path("corpus"), model="classical",
                                        relevances=("patent", "us_class")))
    report["mAP"], report["by_relevance"]["us_class"]["recall@10"]
"""

from retrieval.ml.evaluation.metrics import (
    BANDS,
    KS,
    RECALL_LEVELS,
    QueryResults,
    band_metrics,
    frequency_bands,
    pr_curve,
    query_results,
    retrieval_metrics,
    summarise,
)
from retrieval.ml.evaluation.run import EvaluationRequest, embed_records, evaluate

__all__ = [
    "BANDS",
    "KS",
    "RECALL_LEVELS",
    "EvaluationRequest",
    "QueryResults",
    "band_metrics",
    "embed_records",
    "evaluate",
    "frequency_bands",
    "pr_curve",
    "query_results",
    "retrieval_metrics",
    "summarise",
]
