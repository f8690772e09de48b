"""Settings of the retrieval app (RETRIEVAL_*)."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from patentsearch.env import env
from patentsearch.settings.components.paths import VAR_DIR

# Which model encodes figures when no model is registered yet: a shipped model name (default,
# baseline, classical), a checkpoint folder or an open_clip hub name. Empty, or a shipped model
# that is not built: a seeded random-init placeholder made under RETRIEVAL_MODELS_DIR.
RETRIEVAL_DEFAULT_MODEL = env("RETRIEVAL_DEFAULT_MODEL", default="default")
RETRIEVAL_MODELS_DIR = Path(env("RETRIEVAL_MODELS_DIR", default=str(VAR_DIR / "models")))
RETRIEVAL_DEVICE = env("RETRIEVAL_DEVICE", default="cpu")
# The drawing index (retrieval/index.py; docs/scaling.md has the measurements behind these):
# HNSW graph degree and build effort, and the candidate list a search keeps (ef_search).
RETRIEVAL_HNSW_M = env.int("RETRIEVAL_HNSW_M", default=16)
RETRIEVAL_HNSW_EF_CONSTRUCTION = env.int("RETRIEVAL_HNSW_EF_CONSTRUCTION", default=64)
RETRIEVAL_HNSW_EF_SEARCH = env.int("RETRIEVAL_HNSW_EF_SEARCH", default=200)
RETRIEVAL_HNSW_MAX_SCAN_TUPLES = env.int("RETRIEVAL_HNSW_MAX_SCAN_TUPLES", default=20000)
# A search whose filters (corpus, class, grant dates) at most this many figures pass is an exact
# scan of those figures instead of an HNSW walk (exact, and fast through the attribute indexes);
# 0 leaves every search to the index.
RETRIEVAL_EXACT_SEARCH_MAX_ROWS = env.int("RETRIEVAL_EXACT_SEARCH_MAX_ROWS", default=20000)
# Building an HNSW index (bulk loads, re-indexing): memory and parallel workers of the build.
RETRIEVAL_HNSW_BUILD_MEMORY = env("RETRIEVAL_HNSW_BUILD_MEMORY", default="2GB")
RETRIEVAL_HNSW_BUILD_WORKERS = env.int("RETRIEVAL_HNSW_BUILD_WORKERS", default=2)
RETRIEVAL_MAX_K = env.int("RETRIEVAL_MAX_K", default=200)
RETRIEVAL_DEFAULT_K = env.int("RETRIEVAL_DEFAULT_K", default=20)
RETRIEVAL_ENCODE_BATCH_SIZE = env.int("RETRIEVAL_ENCODE_BATCH_SIZE", default=32)
# PyTorch threads per process on the CPU (retrieval/ml/runtime.py says why): its share of the
# cores. 1 suits the 2-core box, where two gunicorn workers or a worker beside the web share
# them (measured: docs/scaling.md); 0 is PyTorch's default, one thread per core. gunicorn's
# config (patentsearch/gunicorn.conf.py) sets cores / workers for the web processes.
RETRIEVAL_TORCH_THREADS = env.int("RETRIEVAL_TORCH_THREADS", default=1)
# Threads that read, decode and preprocess a batch's drawings while the model encodes the ones
# before (the encoding worker): decoding and resizing run beside the model's thread.
RETRIEVAL_DECODE_THREADS = env.int("RETRIEVAL_DECODE_THREADS", default=2)
# A figure without a vector whose encoding task the broker took longer ago than this is counted
# lost and queued again by the sweep (longer than any queue takes to drain; see
# retrieval.selectors.encoding). The sweep runs every RETRIEVAL_SWEEP_SECONDS (Celery beat).
RETRIEVAL_ENCODE_REQUEUE_AFTER = env.int("RETRIEVAL_ENCODE_REQUEUE_AFTER", default=6 * 60 * 60)
RETRIEVAL_SWEEP_SECONDS = env.float("RETRIEVAL_SWEEP_SECONDS", default=10 * 60)
RETRIEVAL_MAX_IMAGE_PIXELS = env.int("RETRIEVAL_MAX_IMAGE_PIXELS", default=50_000_000)
RETRIEVAL_MAX_IMAGE_BYTES = env.int("RETRIEVAL_MAX_IMAGE_BYTES", default=50 * 1024 * 1024)
RETRIEVAL_MAX_ARCHIVE_BYTES = env.int("RETRIEVAL_MAX_ARCHIVE_BYTES", default=20 * 1024**3)
RETRIEVAL_PDF_DPI = env.int("RETRIEVAL_PDF_DPI", default=150)

# LLM figure descriptions (Celery queue "llm"). Backends: offline (templates from metadata, no
# model), openai (any OpenAI-compatible chat-completions endpoint, configured by
# PATENTSEARCH_LLM_BASE_URL, PATENTSEARCH_LLM_MODEL and PATENTSEARCH_LLM_API_KEY, which the
# backend itself reads: retrieval/ml/describe/openai_backend.py, the one reader for the app and
# the training CLI), transformers (a local model folder, RETRIEVAL_DESCRIBE_MODEL_PATH; needs
# `pip install transformers` on the llm worker).
RETRIEVAL_DESCRIBE_BACKEND = env("RETRIEVAL_DESCRIBE_BACKEND", default="offline")
# Describe new figures that came without descriptions (descriptions.jsonl) as part of ingest.
RETRIEVAL_DESCRIBE_ON_INGEST = env.bool("RETRIEVAL_DESCRIBE_ON_INGEST", default=True)
RETRIEVAL_DESCRIBE_N = env.int("RETRIEVAL_DESCRIBE_N", default=5)
RETRIEVAL_DESCRIBE_BATCH_SIZE = env.int("RETRIEVAL_DESCRIBE_BATCH_SIZE", default=8)
RETRIEVAL_DESCRIBE_MODEL_PATH = env("RETRIEVAL_DESCRIBE_MODEL_PATH", default="")

# Fusion of the search channels (retrieval/selectors/search.py): reciprocal rank fusion with
# constant RETRIEVAL_RRF_K, each channel ranked RETRIEVAL_FUSION_DEPTH deep (at least k), and
# per-channel weights chosen on the validation patents of the dev corpus (docs/evaluation.md).
RETRIEVAL_RRF_K = env.int("RETRIEVAL_RRF_K", default=60)
RETRIEVAL_FUSION_DEPTH = env.int("RETRIEVAL_FUSION_DEPTH", default=100)
# Chosen on the validation patents (US class, patent level, drawing + title; docs/evaluation.md):
# the best setting in which every channel takes part. The sentence channel carries most.
RETRIEVAL_FUSION_WEIGHTS = {
    "drawing": env.float("RETRIEVAL_FUSION_WEIGHT_DRAWING", default=0.25),
    "text_tower": env.float("RETRIEVAL_FUSION_WEIGHT_TEXT_TOWER", default=0.5),
    "fulltext": env.float("RETRIEVAL_FUSION_WEIGHT_FULLTEXT", default=0.5),
    "trigram": env.float("RETRIEVAL_FUSION_WEIGHT_TRIGRAM", default=0.5),
    "sentence": env.float("RETRIEVAL_FUSION_WEIGHT_SENTENCE", default=2.0),
}
# Each figure's sentence vector (retrieval/services/search_text.py): the names (patent title and
# object name) take this share of it and the figure's LLM descriptions the rest (its caption and
# generated caption where it has no description; the viewpoint never). Chosen on the validation
# patents (docs/evaluation.md, "The sentence vector's composition"): 0.2 against the earlier
# plain mean of every text, US class +2 % to +3 %, Locarno not worse. Between 0 and 1; changing
# it makes every stored sentence vector outdated (their version names it), rebuilt on request.
RETRIEVAL_SENTENCE_NAMES_SHARE = env.float("RETRIEVAL_SENTENCE_NAMES_SHARE", default=0.2)
if not 0.0 <= RETRIEVAL_SENTENCE_NAMES_SHARE <= 1.0:
    raise ImproperlyConfigured(
        f"RETRIEVAL_SENTENCE_NAMES_SHARE is {RETRIEVAL_SENTENCE_NAMES_SHARE}: it must be between 0 and 1."
    )
# The joint channel (drawing + text queries, models whose drawings live in the sentence space):
# the query normalize(t + α·d) of the text's and the drawing's sentence-space vectors against
# each figure's sentence vector, α = RETRIEVAL_JOINT_DRAWING_WEIGHT (chosen on the validation
# patents, docs/evaluation.md).
RETRIEVAL_JOINT_DRAWING_WEIGHT = env.float("RETRIEVAL_JOINT_DRAWING_WEIGHT", default=0.3)
# The query's own drawing comes first (retrieval/selectors/search.py, put_identical_first): a
# figure whose drawing vector meets one of the query's drawings at this cosine or above is
# ranked before every other hit, whatever the text, the fusion and the class focus. Measured on
# the dev corpus (docs/evaluation.md, "The query's own drawing first"): the same pixels give
# 0.9999 or more, drawings of other patents at most 0.96 under any shipped model, a copy scaled
# to 90 % as little as 0.71 under `default` and 0.37 under `classical` ("Strokes at the same
# weight at any resolution"), so only the very drawing passes. Above 1: off.
RETRIEVAL_IDENTICAL_MIN_COSINE = env.float("RETRIEVAL_IDENTICAL_MIN_COSINE", default=0.995)
if RETRIEVAL_IDENTICAL_MIN_COSINE < 0.9:
    raise ImproperlyConfigured(
        f"RETRIEVAL_IDENTICAL_MIN_COSINE is {RETRIEVAL_IDENTICAL_MIN_COSINE}: below 0.9 drawings of other "
        "patents would be taken for the query's own; use a value near 1 (0.995), or above 1 to turn it off."
    )
# Class focus (retrieval/selectors/class_focus.py): the classes (US main, Locarno) of the best
# RETRIEVAL_CLASS_FOCUS_PATENTS patents of the fused list vote; each figure's fused score,
# scaled to 0-1 over the list, gains RETRIEVAL_CLASS_FOCUS_WEIGHT times its classes' vote shares.
# Chosen on the validation patents (docs/evaluation.md, "Class focus"); 0 turns it off.
RETRIEVAL_CLASS_FOCUS_WEIGHT = env.float("RETRIEVAL_CLASS_FOCUS_WEIGHT", default=0.5)
RETRIEVAL_CLASS_FOCUS_PATENTS = env.int("RETRIEVAL_CLASS_FOCUS_PATENTS", default=3)
if RETRIEVAL_CLASS_FOCUS_WEIGHT < 0 or RETRIEVAL_CLASS_FOCUS_PATENTS < 0:
    raise ImproperlyConfigured("RETRIEVAL_CLASS_FOCUS_WEIGHT and RETRIEVAL_CLASS_FOCUS_PATENTS must not be negative.")
# Drawing + text queries that have the joint channel: chosen on the validation patents (US class,
# patent level, drawing + title): the joint channel alone; the others still report their ranks.
RETRIEVAL_FUSION_WEIGHTS_JOINT = {
    name: env.float(f"RETRIEVAL_FUSION_WEIGHT_JOINT_{name.upper()}", default=1.0 if name == "joint" else 0.0)
    for name in ("drawing", "text_tower", "fulltext", "trigram", "sentence", "joint")
}
# Text-only queries (no drawing): by default the same validation-chosen weights (on the
# validation patents, title-only US-class mAP 0.448 with them against 0.404 with equal weights).
# Equal weights (1.0 each) bring misspelt names found only by the trigram channel higher
# ("botle"), at that cost; docs/evaluation.md.
RETRIEVAL_FUSION_WEIGHTS_TEXT_ONLY = {
    name: env.float(f"RETRIEVAL_FUSION_WEIGHT_TEXT_ONLY_{name.upper()}", default=RETRIEVAL_FUSION_WEIGHTS[name])
    for name in ("text_tower", "fulltext", "trigram", "sentence")
}
