"""The training loop: ``train(options)`` from a corpus folder to a checkpoint folder.

One run (its pieces built by :func:`~.run.build_run`): read the corpus and keep the training side
of the patent split; decode every image once into a grey-level cache; then for each step draw a
batch (class-aware or random), augment it (one or two views), encode images (and texts), and take
an AdamW step on the weighted losses. After each epoch the full state goes to ``OUT/last.pt`` and
a line to ``OUT/train_log.jsonl``; at the end the model is saved (float16) with a ``model.json``
holding the recipe, data digest and final losses.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import torch
from tqdm import tqdm

from retrieval.ml.config import MODEL_JSON, ModelConfig
from retrieval.ml.training.augment import augment_batch, gray_to_ink
from retrieval.ml.training.dataset import to_model_input
from retrieval.ml.training.options import TrainOptions
from retrieval.ml.training.output import (
    LOG_FILE,
    append_log,
    epoch_line,
    final_losses,
    training_record,
    write_checkpoint,
)
from retrieval.ml.training.run import Run, build_run
from retrieval.ml.training.sampler import epoch_generator
from retrieval.ml.training.state import (
    STATE_FILE,
    Position,
    check_compatible,
    load_state,
    rng_states,
    save_state,
    set_rng_states,
)

__all__ = ["TrainResult", "train", "train_step"]

GENERATOR_STREAMS = {"augment": 1, "text": 2}
_Encode = Callable[..., torch.Tensor]  # the open_clip model's encode_image / encode_text


@dataclass(frozen=True, slots=True)
class TrainResult:
    """What a run produced.

    Attributes:
        out: the checkpoint folder.
        config: the ``model.json`` written there.
        history: one log entry per completed epoch (all runs of a resumed training).
        completed: False when it stopped early (``max_steps``/``max_minutes``; resumable).
        seconds: training time in all (resumed runs included), decoding the images excluded.
    """

    out: Path
    config: ModelConfig
    history: list[dict[str, Any]]
    completed: bool
    seconds: float


class Clock:
    """Training time across resumptions and the early-stop rules of one invocation."""

    def __init__(self, spent: float, options: TrainOptions) -> None:
        self.spent, self.started = spent, time.perf_counter()
        self.max_seconds = None if options.max_minutes is None else options.max_minutes * 60
        self.max_steps = options.max_steps

    def total(self) -> float:
        return self.spent + time.perf_counter() - self.started

    def must_stop(self, step: int) -> bool:
        if self.max_steps is not None and step >= self.max_steps:
            return True
        return (
            self.max_seconds is not None and time.perf_counter() - self.started >= self.max_seconds
        )


def train(options: TrainOptions, *, log: Callable[[str], None] = print) -> TrainResult:
    """Train a model as ``options`` say and write its checkpoint folder.

    Returns:
        What was written and the per-epoch history.

    Raises:
        FileExistsError: ``out`` already holds a checkpoint or state, and neither ``resume``
            nor ``overwrite`` is set.
        FileNotFoundError: ``resume`` without ``out/last.pt``; a missing corpus.
        ValueError: bad options, an empty training set, a resumption that does not match.
    """
    _prepare_out(options)
    if options.threads is not None:
        torch.set_num_threads(options.threads)
    started = time.perf_counter()
    run = build_run(options)
    log(_summary(run, time.perf_counter() - started))
    position = _resume(run) if options.resume else Position()
    clock = Clock(position.seconds, options)
    completed = True
    while position.epoch < options.epochs:
        if not _train_epoch(run, position, clock, log):
            completed = False
            break
    position.seconds = clock.total()
    config = _write_checkpoint(run, position, completed=completed)
    if completed and not options.keep_state:
        (options.out / STATE_FILE).unlink(missing_ok=True)
    log(
        f"wrote {options.out} "
        + ("(complete)" if completed else "(stopped early; continue with --resume)")
    )
    return TrainResult(options.out, config, position.history, completed, position.seconds)


def _write_checkpoint(run: Run, position: Position, *, completed: bool) -> ModelConfig:
    """Save the model and its ``model.json`` (recipe, data digest, final losses) into OUT."""
    options, data, start = run.options, run.data, run.start
    training = training_record(
        options,
        position,
        completed=completed,
        origin=start.origin,
        device=run.device,
        loss_weights=run.objective.weighting.weights(),
        loss_log_variances=run.objective.weighting.log_variances(),
        images=len(data),
        patents=int(data.groups.max()) + 1,
        classes=len(data.class_names),
        images_with_descriptions=0 if run.texts is None else run.texts.with_descriptions,
    )
    config = ModelConfig(
        name=options.name or options.out.resolve().name,
        architecture=start.architecture,
        embed_dim=start.embed_dim,
        preprocess=start.preprocess,
        training=training,
        data_digest=run.digest,
        metrics={"train_loss": final_losses(position)},
    )
    return write_checkpoint(start.model, config, options.out)


def train_step(
    run: Run, indices: list[int], generators: dict[str, torch.Generator]
) -> dict[str, float]:
    """One optimiser step on the items ``indices``.

    Returns:
        The total loss (``loss``) and each term, as floats.
    """
    model, views = run.start.model, 2 if run.options.two_views else 1
    index = torch.as_tensor(indices, device=run.device)
    images = _views(run, index, views, generators["augment"])
    tokens = None
    if run.texts is not None:
        tokens = run.texts.sample(indices, generators["text"]).to(run.device)
    with _autocast(run.device):
        image_features = cast(_Encode, model.encode_image)(images, normalize=True)
        text_features = None if tokens is None else _encode_texts(run, tokens)
    total, terms = run.objective(
        image_features,
        text_features,
        model.logit_scale,
        run.data.groups[index.cpu()].repeat(views).to(run.device),
        run.data.labels[index.cpu()].repeat(views).to(run.device),
    )
    run.optimizer.zero_grad(set_to_none=True)
    total.backward()
    run.optimizer.step()
    run.scheduler.step()
    return {"loss": float(total.detach()), **{k: float(v.detach()) for k, v in terms.items()}}


def _views(run: Run, index: torch.Tensor, views: int, generator: torch.Generator) -> torch.Tensor:
    """``views`` augmented copies of the cached drawings ``index``, normalised, view after view."""
    ink = gray_to_ink(run.pixels[index]).unsqueeze(1)
    cfg, preprocess = run.options.augment, run.start.preprocess
    images = torch.cat(
        [to_model_input(augment_batch(ink, cfg, generator), preprocess) for _ in range(views)]
    )
    if run.device.type == "cuda":
        images = images.contiguous(memory_format=torch.channels_last)
    return images


def _encode_texts(run: Run, tokens: torch.Tensor) -> torch.Tensor:
    grad = contextlib.nullcontext() if not run.options.freeze_text else torch.no_grad()
    with grad:
        features = cast(_Encode, run.start.model.encode_text)(tokens, normalize=True)
    return features


def _train_epoch(run: Run, position: Position, clock: Clock, log: Callable[[str], None]) -> bool:
    """Train the rest of ``position.epoch``; False when an early stop came first."""
    options = run.options
    batches = list(run.sampler.batches(position.epoch))
    generators = _epoch_generators(options.seed, position)
    with _progress(options, position, len(batches)) as bar:
        for indices in batches[position.batch :]:
            if clock.must_stop(position.step):
                _save(run, position, clock, generators)
                return False
            terms = train_step(run, indices, generators)
            position.batch, position.step = position.batch + 1, position.step + 1
            for key, value in terms.items():
                position.sums[key] = position.sums.get(key, 0.0) + value
            bar.update(1)
            bar.set_postfix({k: f"{v:.3f}" for k, v in terms.items()}, refresh=False)
    entry = _epoch_entry(run, position, clock)
    position.history.append(entry)
    append_log(options.out, entry)
    log(epoch_line(entry, options.epochs))
    position.epoch, position.batch, position.sums = position.epoch + 1, 0, {}
    _save(run, position, clock, {})
    return True


def _epoch_entry(run: Run, position: Position, clock: Clock) -> dict[str, Any]:
    total = clock.total()
    before = position.history[-1]["total_seconds"] if position.history else 0.0
    return {
        "epoch": position.epoch + 1,
        "step": position.step,
        **position.term_means(),
        "lr": run.optimizer.param_groups[0]["lr"],
        "weights": run.objective.weighting.weights(),
        "seconds": total - before,
        "total_seconds": total,
    }


def _epoch_generators(seed: int, position: Position) -> dict[str, torch.Generator]:
    generators = {
        name: epoch_generator(seed, position.epoch, stream)
        for name, stream in GENERATOR_STREAMS.items()
    }
    if position.batch > 0:
        for name, state in position.generators.items():
            generators[name].set_state(state)
    return generators


def _save(
    run: Run, position: Position, clock: Clock, generators: dict[str, torch.Generator]
) -> None:
    position.seconds = clock.total()
    position.generators = {name: g.get_state() for name, g in generators.items()}
    save_state(
        run.options.out,
        {
            "recipe": run.options.recipe(),
            "data_digest": run.digest,
            "position": position.__dict__,
            "model": run.start.model.state_dict(),
            "objective": run.objective.state_dict(),
            "optimizer": run.optimizer.state_dict(),
            "scheduler": run.scheduler.state_dict(),
            "rng": rng_states(),
        },
    )


def _resume(run: Run) -> Position:
    state = load_state(run.options.out)
    check_compatible(state, run.options.recipe(), run.digest)
    run.start.model.load_state_dict(state["model"])
    run.objective.load_state_dict(state["objective"])
    run.optimizer.load_state_dict(state["optimizer"])
    run.scheduler.load_state_dict(state["scheduler"])
    set_rng_states(state["rng"])
    return Position(**state["position"])


def _prepare_out(options: TrainOptions) -> None:
    out = options.out
    if options.resume:
        if not (out / STATE_FILE).is_file():
            raise FileNotFoundError(f"cannot resume: {out / STATE_FILE} does not exist")
        return
    taken = [name for name in (MODEL_JSON, STATE_FILE) if (out / name).exists()]
    if taken and not options.overwrite:
        raise FileExistsError(
            f"{out} already holds {', '.join(taken)}: "
            "pass --resume to continue or --overwrite to start over"
        )
    out.mkdir(parents=True, exist_ok=True)
    for name in (STATE_FILE, LOG_FILE):
        (out / name).unlink(missing_ok=True)


def _summary(run: Run, seconds: float) -> str:
    data, options = run.data, run.options
    texts = "" if run.texts is None else f", {run.texts.with_descriptions} with LLM descriptions"
    return (
        f"training {run.start.architecture} ({run.start.origin}) on {len(data)} images of "
        f"{int(data.groups.max()) + 1} patents, "
        f"{len(data.class_names)} {options.class_label} classes{texts}; "
        f"images cached in {seconds:.1f}s; {len(run.sampler)} steps/epoch x {options.epochs} "
        "epochs; "
        f"losses {', '.join(options.losses)}"
    )


@contextlib.contextmanager
def _progress(options: TrainOptions, position: Position, total: int) -> Iterator[tqdm]:
    bar = tqdm(
        total=total,
        initial=position.batch,
        desc=f"epoch {position.epoch + 1}/{options.epochs}",
        disable=not options.progress,
        leave=False,
        dynamic_ncols=True,
    )
    try:
        yield bar
    finally:
        bar.close()


def _autocast(device: torch.device) -> contextlib.AbstractContextManager[Any]:
    if device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()
