"""The only bridge from Django into retrieval.ml: loads encoders (cached per process) and embeds.

Model rows name a checkpoint folder or an open_clip hub name; the ML library does the loading.
Errors of the library become the app's own errors here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from django.conf import settings
from numpy.typing import NDArray
from PIL import Image

from retrieval.exceptions import (
    DescriberNotConfiguredError,
    DescriberUnavailableError,
    DescriptionFailedError,
    ModelRegistrationError,
    TextSearchNotSupportedError,
)
from retrieval.ml.encoders.base import Encoder
from retrieval.ml.errors import ModelLoadError
from retrieval.ml.evaluation.metrics import RECALL_LEVELS  # noqa: F401  (the PR curve's levels, for reports)

if TYPE_CHECKING:
    from retrieval.ml.describe.backend import DescriptionBackend

_cache: dict[tuple[str, str], Encoder] = {}
_lock = threading.Lock()


def load_encoder(spec: str) -> Encoder:
    """Load (once per process) the encoder of a checkpoint folder or hub name."""
    key = (spec, settings.RETRIEVAL_DEVICE)
    with _lock:
        if key not in _cache:
            _cache[key] = _load(spec)
        return _cache[key]


def encoder_version(spec: str) -> str:
    """The version (architecture and weights digest) the checkpoint or name loads as now."""
    return load_encoder(spec).version


def _load(spec: str) -> Encoder:
    from retrieval.ml.encoders.factory import load_encoder as ml_load_encoder
    from retrieval.ml.runtime import set_cpu_threads

    set_cpu_threads(settings.RETRIEVAL_TORCH_THREADS)
    try:
        return ml_load_encoder(spec, device=settings.RETRIEVAL_DEVICE, batch_size=settings.RETRIEVAL_ENCODE_BATCH_SIZE)
    except (ModelLoadError, ValueError, OSError) as exc:
        raise ModelRegistrationError(f"Model {spec!r} could not be loaded: {exc}") from exc


def model_available(spec: str) -> bool:
    """False when spec names a shipped model that has not been built; other specs are checked
    when they are loaded."""
    from retrieval.ml.shipped import resolve_model_spec

    try:
        resolve_model_spec(spec)
    except ModelLoadError:
        return False
    return True


def is_shipped_name(spec: str) -> bool:
    """Whether spec is the name of a model shipped with the project ("default", "classical"), as
    the loader reads it (a file or folder of that name would be loaded instead)."""
    from retrieval.ml.shipped import SHIPPED_NAMES

    return spec in SHIPPED_NAMES and not Path(spec).exists()


def embed_images(spec: str, images: Sequence[Image.Image]) -> NDArray[np.float32]:
    """(N, dim) unit vectors for the images."""
    return load_encoder(spec).embed_images(images)


def embed_image_loaders(
    spec: str, loaders: Sequence[Callable[[], Image.Image]]
) -> tuple[NDArray[np.float32], list[int], dict[int, Exception]]:
    """Embed the images the loaders read (each a callable returning a decoded image or raising),
    decoding and preprocessing in ``RETRIEVAL_DECODE_THREADS`` threads while the model encodes
    the images before. Returns the vectors of the images that loaded, their positions in
    ``loaders``, and each failed loader's exception by position (nothing is embedded for it)."""
    encoder = load_encoder(spec)
    embed_loaded = getattr(encoder, "embed_loaded", None)
    if embed_loaded is None:  # an encoder of the protocol without the streaming path
        images, ok, errors = [], [], {}
        for i, loader in enumerate(loaders):
            try:
                images.append(loader())
                ok.append(i)
            except Exception as exc:  # noqa: BLE001 - handed back to the caller, who decides
                errors[i] = exc
        return encoder.embed_images(images), ok, errors
    out = embed_loaded(loaders, threads=settings.RETRIEVAL_DECODE_THREADS)
    return out.vectors, out.ok, out.errors


def embed_texts(spec: str, texts: Sequence[str]) -> NDArray[np.float32]:
    """(N, dim) unit vectors for the texts, in the space of the model's image vectors."""
    from retrieval.ml.encoders.classical import NotSupportedError

    encoder = load_encoder(spec)
    try:
        return encoder.embed_texts(texts)
    except NotSupportedError as exc:
        raise TextSearchNotSupportedError(
            f"The active model ({encoder.name}) searches by drawing only; upload a drawing."
        ) from exc


def embed_query_text(spec: str, text: str) -> tuple[NDArray[np.float32] | None, NDArray[np.float32]]:
    """A query text's unit vector in the model's drawing space (None when the model has no text
    tower) and in the sentence space of the text channel, each computed once: the shipped
    models' text tower is the locked sentence model itself, so one pass gives both."""
    from retrieval.ml.encoders.sentence import NAME

    sentence = embed_sentences([text])[0]
    if not model_embeds_texts(spec):
        return None, sentence
    if getattr(load_encoder(spec), "text_tower", None) == NAME:
        return sentence, sentence
    return embed_texts(spec, [text])[0], sentence


def make_random_checkpoint(out_dir: Path, *, architecture: str, seed: int, name: str) -> Path:
    """A seeded random-init checkpoint folder (the placeholder until a trained model exists)."""
    from retrieval.ml.encoders.factory import init_checkpoint

    if (out_dir / "model.json").exists():
        return out_dir
    return init_checkpoint(architecture, out_dir, seed=seed, name=name)


def make_sample_corpus(
    out_dir: Path, *, patents: int, seed: int, progress: Callable[[int, int], None] | None = None
) -> str:
    """Generate a synthetic design-patent corpus folder; returns a one-line summary.
    ``progress(done, total)`` is called as patents are drawn."""
    from retrieval.ml.samples import generate_corpus

    summary = generate_corpus(out_dir, patents=patents, seed=seed, progress=progress)
    return (
        f"{summary.patents} patents, {summary.figures} figures, {len(summary.categories)} categories "
        f"in {summary.out_dir} ({summary.elapsed_seconds:.1f} s)"
    )


_describers: dict[tuple[object, ...], DescriptionBackend] = {}


def describer(backend: str | None = None, model_path: str | None = None) -> DescriptionBackend:
    """A figure-description backend, once per process: the one of the settings
    (RETRIEVAL_DESCRIBE_*), or ``backend`` (offline, openai with the settings' endpoint,
    transformers from ``model_path`` or the settings' folder) when an admin chose one."""
    from retrieval.ml.describe import DescriptionBackendError, make_backend

    name = backend or settings.RETRIEVAL_DESCRIBE_BACKEND
    options = _describer_options(name, model_path)
    key = (name, *sorted(options.items()))
    with _lock:
        if key not in _describers:
            try:
                _describers[key] = make_backend(name, **options)
            except (DescriptionBackendError, ValueError) as exc:
                raise DescriberNotConfiguredError(f"Description backend {name!r}: {exc}") from exc
        return _describers[key]


def describer_source(backend: str | None = None, model_path: str | None = None) -> str:
    """Who writes descriptions, as stored in FigureText.source: "backend:model"."""
    chosen = describer(backend, model_path)
    return f"{chosen.name}:{chosen.model}"


def describer_backend_of(source: str) -> str:
    """The backend part of a stored FigureText.source ("offline:templates-v1-seed0" -> "offline";
    "import" -> "import")."""
    return source.partition(":")[0]


def describer_names_class_headings(source: str) -> bool:
    """Whether descriptions of this FigureText.source name the figure's own class headings (the
    offline templates do): class-level evaluation over them is helped by its own labels."""
    from retrieval.ml.describe.offline import OfflineBackend

    return describer_backend_of(source) == OfflineBackend.name and OfflineBackend.names_class_headings


def describe_figure(
    metadata: Mapping[str, str], n: int, backend: str | None = None, model_path: str | None = None
) -> list[str]:
    """``n`` descriptions of a figure from its metadata (keys: object_name, title, viewpoint,
    caption, locarno_class, us_class, generated_caption) by the configured (or chosen) backend.

    Raises:
        DescriberUnavailableError: the backend could not be reached (transient).
        DescriberNotConfiguredError: the backend cannot work as configured.
        DescriptionFailedError: no usable answer for this figure, after the backend's re-asks.
    """
    from retrieval.ml.describe import (
        BackendUnavailableError,
        DescriptionBackendError,
        DescriptionFormatError,
    )

    chosen = describer(backend, model_path)
    try:
        return chosen.describe(metadata, n)
    except BackendUnavailableError as exc:
        raise DescriberUnavailableError(str(exc)) from exc
    except DescriptionBackendError as exc:
        raise DescriberNotConfiguredError(str(exc)) from exc
    except (DescriptionFormatError, ValueError) as exc:
        raise DescriptionFailedError(str(exc)) from exc


def describe_backends() -> tuple[str, ...]:
    """The names of the description backends the ML library has."""
    from retrieval.ml.describe import BACKENDS

    return tuple(BACKENDS)


def describe_endpoint() -> tuple[str, str]:
    """The OpenAI-compatible endpoint and model the environment configures ("" when unset)."""
    from retrieval.ml.describe.openai_backend import configured_endpoint

    return configured_endpoint()


def _describer_options(name: str, model_path: str | None = None) -> dict[str, object]:
    """Options of the chosen backend from the settings; the openai backend reads its endpoint,
    model and key (PATENTSEARCH_LLM_*) from the environment itself, in one place."""
    if name == "transformers":
        path = model_path or settings.RETRIEVAL_DESCRIBE_MODEL_PATH
        if not path:
            raise DescriberNotConfiguredError(
                "The transformers description backend needs RETRIEVAL_DESCRIBE_MODEL_PATH, "
                "a local model folder."
            )
        return {"model_path": path, "device": settings.RETRIEVAL_DEVICE}
    return {}


def embed_sentences(texts: Sequence[str]) -> NDArray[np.float32]:
    """(N, 384) unit vectors of the locked sentence model (all-MiniLM-L6-v2): the text channel."""
    from retrieval.ml.encoders.sentence import sentence_encoder
    from retrieval.ml.runtime import set_cpu_threads

    set_cpu_threads(settings.RETRIEVAL_TORCH_THREADS)
    try:
        return sentence_encoder().embed(texts)
    except ModelLoadError as exc:
        raise ModelRegistrationError(f"The sentence model could not be loaded: {exc}") from exc


def sentence_version() -> str:
    """Name and weights digest of the sentence model (stored with each figure's text vector)."""
    from retrieval.ml.encoders.sentence import NAME
    from retrieval.ml.encoders.wheel_weights import WHEEL_FILES

    return f"{NAME}@{WHEEL_FILES[NAME].sha256[:12]}"


def model_embeds_texts(spec: str) -> bool:
    """Whether the model maps texts into its drawing space (has a text tower)."""
    from retrieval.ml.encoders.classical import ClassicalEncoder

    encoder = load_encoder(spec)
    if isinstance(encoder, ClassicalEncoder):
        return False
    return bool(getattr(encoder, "has_text_tower", True))


def model_in_sentence_space(spec: str) -> bool:
    """Whether the model's drawing vectors live in the locked sentence model's space (its text
    tower is that model, trained LiT-style), so a drawing compares with figures' sentence vectors."""
    from retrieval.ml.encoders.sentence import NAME

    return getattr(load_encoder(spec), "text_tower", None) == NAME


def figure_texts(
    *, title: str, object_name: str, viewpoint: str, caption: str, texts: Sequence[tuple[str, str]] = ()
) -> list[tuple[str, str]]:
    """A figure's distinct texts as (kind, text), title first (retrieval.ml.sentence_composition)."""
    from retrieval.ml.sentence_composition import figure_texts as ml_figure_texts

    return ml_figure_texts(title=title, object_name=object_name, viewpoint=viewpoint, caption=caption, texts=texts)


def sentence_weights(kinds: Sequence[str], *, names_share: float) -> list[float]:
    """The weight of each of a figure's texts in its sentence vector (retrieval.ml.sentence_composition)."""
    from retrieval.ml.sentence_composition import sentence_weights as ml_sentence_weights

    return ml_sentence_weights(kinds, names_share=names_share)


def sentence_vector(
    kinds: Sequence[str], vectors: NDArray[np.float32], *, names_share: float
) -> NDArray[np.float32] | None:
    """A figure's sentence vector from its texts' unit vectors (retrieval.ml.sentence_composition)."""
    from retrieval.ml.sentence_composition import sentence_vector as ml_sentence_vector

    return ml_sentence_vector(kinds, vectors, names_share=names_share)


def patent_side(patent_id: str, *, test_fraction: float, seed: int, val_fraction: float) -> str:
    """The side ('train', 'val', 'test') of the ML library's fixed split a patent falls on."""
    from retrieval.ml.data import patent_side as ml_patent_side

    return ml_patent_side(patent_id, test_fraction=test_fraction, seed=seed, val_fraction=val_fraction)


def ranking_metrics(
    relevant: Sequence[Sequence[bool]], n_relevant: Sequence[int], query_index: Sequence[int],
    band_labels: Sequence[str], *, skipped_no_label: int, patent_labels: Sequence[str] | None = None,
) -> dict[str, object]:
    """The report keys of ``python -m retrieval.ml evaluate`` (mAP, recall@K, recall_fraction@K,
    mrr@K, queries, skipped, bands) from ranked lists; with ``patent_labels`` (the patent of
    every row) also ``mAP_patent_weighted``, each query patent weighing once."""
    from retrieval.ml.evaluation.metrics import (
        group_weighted_map,
        ranked_query_results,
        retrieval_metrics,
    )

    results = ranked_query_results(relevant, n_relevant, query_index, skipped_no_label=skipped_no_label)
    report = retrieval_metrics(results, list(band_labels))
    if patent_labels is not None:
        report["mAP_patent_weighted"] = group_weighted_map(results, list(patent_labels))
    return report


def object_label(name: str) -> str:
    """The object-name label of the ML library's evaluation ('Shaving  blade.' -> 'shaving blade')."""
    from retrieval.ml.corpus_format import normalise_object_name

    return normalise_object_name(name)
