import dataclasses
import json
from collections import Counter
from pathlib import Path

import open_clip
import pytest
import torch
from PIL import Image

from retrieval.ml.cli import main
from retrieval.ml.config import PreprocessConfig
from retrieval.ml.data import Record, data_digest, read_corpus
from retrieval.ml.encoders.factory import load_model, register_model_configs
from retrieval.ml.preprocessing import preprocess_image
from retrieval.ml.samples import generate_corpus
from retrieval.ml.training import AugmentConfig, TrainOptions, compose_description, train
from retrieval.ml.training.augment import gray_to_ink
from retrieval.ml.training.dataset import TrainingSet, load_drawing, to_model_input
from retrieval.ml.training.sampler import ClassAwareBatches, RandomBatches
from retrieval.ml.training.start import build_scheduler
from retrieval.ml.training.state import STATE_FILE
from retrieval.ml.training.texts import TextBank, texts_for

pytestmark = pytest.mark.ml
torch.set_num_threads(1)

#: A micro architecture for fast loop tests (the text tower keeps open_clip's vocabulary).
MICRO_ARCH = "test-micro-clip"
MICRO_CONFIG = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 64, "layers": 1, "width": 64, "head_width": 32, "patch_size": 16},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 1, "layers": 1},
}
VIEWS = ("front perspective", "front elevational", "top plan")


@pytest.fixture(scope="module")
def micro_arch(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("configs")
    (folder / f"{MICRO_ARCH}.json").write_text(json.dumps(MICRO_CONFIG), encoding="utf-8")
    register_model_configs()
    open_clip.add_model_config(folder)
    return MICRO_ARCH


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    generate_corpus(root, patents=6, seed=0, views=VIEWS, image_size=160)
    return root


def _options(corpus: Path, out: Path, **changes: object) -> TrainOptions:
    base = TrainOptions(
        corpus=corpus,
        out=out,
        arch=MICRO_ARCH,
        split="all",
        epochs=3,
        batch_size=8,
        lr=2e-3,
        warmup=0.0,
        threads=1,
        load_threads=1,
        progress=False,
        augment=AugmentConfig.off(),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def _record(**fields: str) -> Record:
    return Record(image_path=Path("/x.png"), image_file="x.png", patent_id="USD1", **fields)


# -- texts -----------------------------------------------------------------------------------


def test_compose_description_uses_object_view_and_caption() -> None:
    record = _record(
        object_name="Office chair",
        title="Chair",
        viewpoint="front perspective",
        caption="FIG. 1 is a front perspective   view of a chair;",
    )
    assert compose_description(record) == (
        "A design patent drawing of an office chair, front perspective view. "
        "FIG. 1 is a front perspective view of a chair;"
    )
    assert compose_description(_record(title="Lamp", viewpoint="top plan view")) == (
        "A design patent drawing of a lamp, top plan view."
    )
    assert compose_description(_record()) == "A design patent drawing."


def test_texts_prefer_descriptions_only_when_asked() -> None:
    record = dataclasses.replace(_record(object_name="pen"), descriptions=("a pen", " "))
    assert texts_for(record, descriptions=True) == ["a pen"]
    assert texts_for(record, descriptions=False) == ["A design patent drawing of a pen."]
    assert texts_for(_record(object_name="pen"), descriptions=True) == [
        "A design patent drawing of a pen."
    ]


def test_text_bank_samples_among_each_items_texts() -> None:
    records = [
        dataclasses.replace(_record(), descriptions=("a", "b", "c")),
        _record(object_name="cup"),
    ]
    tokenizer = lambda texts: torch.tensor([[len(t), ord(t[0])] for t in texts])  # noqa: E731
    bank = TextBank(records, tokenizer, descriptions=True)
    seen = Counter()
    generator = torch.Generator().manual_seed(0)
    for _ in range(60):
        tokens = bank.sample([0, 1], generator)
        seen[chr(int(tokens[0, 1]))] += 1
        assert int(tokens[1, 0]) == len("A design patent drawing of a cup.")
    assert set(seen) == {"a", "b", "c"}
    first = bank.sample([0, 1, 0], torch.Generator().manual_seed(5))
    assert torch.equal(first, bank.sample([0, 1, 0], torch.Generator().manual_seed(5)))
    assert bank.with_descriptions == 1


# -- samplers --------------------------------------------------------------------------------


def test_random_batches_cover_every_item_once_per_epoch() -> None:
    sampler = RandomBatches(10, 4, seed=1)
    batches = list(sampler.batches(0))
    assert [len(b) for b in batches] == [4, 4, 2] and len(sampler) == 3
    assert sorted(i for b in batches for i in b) == list(range(10))
    assert batches == list(sampler.batches(0)) and batches != list(sampler.batches(1))
    assert len(RandomBatches(10, 4, drop_last=True)) == 2


def _long_tail() -> tuple[list[str], list[str]]:
    classes, groups = [], []
    for p in range(30):  # frequent class: 30 patents x 3 images
        classes += ["D14"] * 3
        groups += [f"A{p}"] * 3
    for p in range(3):  # rare class: 3 patents x 3 images
        classes += ["D99"] * 3
        groups += [f"B{p}"] * 3
    classes += ["", ""]  # unlabelled single images
    groups += ["C0", "C1"]
    return classes, groups


def test_class_aware_batches_are_full_distinct_and_deterministic() -> None:
    classes, groups = _long_tail()
    sampler = ClassAwareBatches(classes, groups, 16, per_group=3, seed=0)
    batches = list(sampler.batches(0))
    assert len(batches) == len(sampler) == -(-len(classes) // 16)
    assert all(len(b) == 16 and len(set(b)) == 16 for b in batches)
    assert batches == list(sampler.batches(0)) and batches != list(sampler.batches(1))


def test_class_aware_batches_keep_patents_together() -> None:
    classes, groups = _long_tail()
    sampler = ClassAwareBatches(classes, groups, 16, per_group=3, seed=0)
    with_partner = total = 0
    for epoch in range(5):
        for batch in sampler.batches(epoch):
            counts = Counter(groups[i] for i in batch)
            with_partner += sum(1 for i in batch if counts[groups[i]] > 1)
            total += len(batch)
    assert with_partner / total > 0.8


def test_class_aware_batches_favour_rare_classes() -> None:
    classes, groups = _long_tail()
    rare_share = {}
    for power in (1.0, 0.5, 0.0):
        sampler = ClassAwareBatches(classes, groups, 8, per_group=2, power=power, seed=0)
        drawn = [classes[i] for epoch in range(10) for b in sampler.batches(epoch) for i in b]
        rare_share[power] = drawn.count("D99") / len(drawn)
    assert rare_share[1.0] < rare_share[0.5] < rare_share[0.0]
    assert rare_share[0.5] > 2 * 9 / len(classes)


def test_class_aware_batches_handle_a_set_smaller_than_a_batch() -> None:
    sampler = ClassAwareBatches(["a", "a", "b"], ["p", "p", "q"], 8, seed=0)
    (batch,) = list(sampler.batches(0))
    assert sorted(batch) == [0, 1, 2]


# -- data in memory --------------------------------------------------------------------------


def test_training_set_caches_preprocessed_drawings(corpus: Path) -> None:
    records = read_corpus(corpus)
    cfg = PreprocessConfig(image_size=64)
    data = TrainingSet.build(records, cfg, class_label="us_class", threads=2)
    assert data.pixels.shape == (len(records), 64, 64) and data.pixels.dtype == torch.uint8
    assert int(data.groups.max()) + 1 == 6 and sum(data.class_counts) == len(records)
    assert [data.class_names[i] for i in data.labels.tolist()] == [r.us_class_main for r in records]
    with Image.open(records[0].image_path) as img:
        expected = preprocess_image(img, cfg)
    got = to_model_input(gray_to_ink(data.pixels[:1]).unsqueeze(1), cfg)[0]
    assert got.shape == expected.shape
    assert float((got - expected).abs().max()) <= 0.5 / 255 / min(cfg.std) + 1e-6
    assert int(load_drawing(records[0].image_path, cfg)[0, 0]) == 255


def test_training_set_rejects_empty_or_unknown_labels(corpus: Path) -> None:
    records = read_corpus(corpus)
    with pytest.raises(ValueError, match="empty"):
        TrainingSet.build([], PreprocessConfig(image_size=64), class_label="us_class")
    with pytest.raises(ValueError, match="class label"):
        TrainingSet.build(records[:1], PreprocessConfig(image_size=64), class_label="colour")


def test_schedule_warms_up_then_decays_to_zero() -> None:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    scheduler = build_scheduler(optimizer, total_steps=10, warmup=0.2)
    lrs = []
    for _ in range(10):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert lrs[:3] == pytest.approx([0.5, 1.0, 1.0])
    assert lrs[3:] == sorted(lrs[3:], reverse=True) and lrs[-1] < 0.05


# -- the loop --------------------------------------------------------------------------------


def test_training_lowers_the_losses_and_writes_a_loadable_checkpoint(
    micro_arch: str, corpus: Path, tmp_path: Path
) -> None:
    out = tmp_path / "model"
    result = train(_options(corpus, out, epochs=6, uncertainty=False), log=lambda line: None)
    first, last = result.history[0], result.history[-1]
    for term in ("image_text", "patent", "class"):
        assert last[term] < first[term], term
    assert result.completed and not (out / STATE_FILE).exists()
    loaded = load_model(out)
    config = loaded.config
    assert config.architecture == MICRO_ARCH and config.embed_dim == 32
    assert config.data_digest == data_digest(read_corpus(corpus))
    recipe = config.training
    assert (
        recipe["options"]["losses"] == ["image-text", "patent", "class"] and recipe["epochs"] == 6
    )
    assert recipe["torch"] == torch.__version__ and recipe["hardware"].startswith("cpu")
    assert set(recipe["loss_weights"]) == {"image_text", "patent", "class"}
    assert config.metrics["train_loss"]["patent"] == pytest.approx(last["patent"])
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert [entry["epoch"] for entry in log] == [1, 2, 3, 4, 5, 6]


def test_resuming_an_interrupted_run_gives_the_uninterrupted_result(
    micro_arch: str, corpus: Path, tmp_path: Path
) -> None:
    changes = dict(
        two_views=True,
        augment=AugmentConfig(),
        balance_beta=0.5,
        logit_adjust=1.0,
        descriptions=True,
    )
    whole = train(_options(corpus, tmp_path / "whole", **changes), log=lambda line: None)
    stopped = train(
        _options(corpus, tmp_path / "parts", max_steps=4, **changes), log=lambda line: None
    )
    assert not stopped.completed and (tmp_path / "parts" / STATE_FILE).exists()
    assert stopped.config.training["completed"] is False
    with pytest.raises(FileNotFoundError, match="last.pt"):
        train(_options(corpus, tmp_path / "nothing", resume=True), log=lambda line: None)
    with pytest.raises(FileExistsError):
        train(_options(corpus, tmp_path / "parts", **changes), log=lambda line: None)
    with pytest.raises(ValueError, match="lr"):
        train(
            _options(corpus, tmp_path / "parts", resume=True, lr=1e-2, **changes),
            log=lambda line: None,
        )
    resumed = train(
        _options(corpus, tmp_path / "parts", resume=True, **changes), log=lambda line: None
    )
    assert resumed.completed and [e["epoch"] for e in resumed.history] == [1, 2, 3]
    a, b = (
        load_model(tmp_path / "whole").model.state_dict(),
        load_model(tmp_path / "parts").model.state_dict(),
    )
    assert all(torch.equal(a[k], b[k]) for k in a)
    for x, y in zip(whole.history, resumed.history, strict=True):
        assert x["loss"] == pytest.approx(y["loss"], rel=1e-4)


def test_training_one_loss_with_random_batches_and_frozen_options(
    micro_arch: str, corpus: Path, tmp_path: Path
) -> None:
    text_before = load_model(MICRO_ARCH).model.token_embedding.weight.clone()
    result = train(
        _options(
            corpus,
            tmp_path / "m",
            epochs=1,
            losses=("image-text",),
            freeze_text=True,
            sampler="random",
            uncertainty=False,
            split="train",
            name="frozen",
        ),
        log=lambda line: None,
    )
    loaded = load_model(tmp_path / "m")
    assert loaded.config.name == "frozen" and set(result.history[0]) >= {"image_text", "loss"}
    assert torch.allclose(loaded.model.token_embedding.weight, text_before, atol=1e-3)
    assert result.config.training["patents"] < len({r.patent_id for r in read_corpus(corpus)})


def test_init_from_a_checkpoint_keeps_its_architecture(
    micro_arch: str, corpus: Path, tmp_path: Path
) -> None:
    first = tmp_path / "first"
    train(_options(corpus, first, epochs=1, losses=("patent",)), log=lambda line: None)
    second = train(
        _options(
            corpus,
            tmp_path / "second",
            arch="ps-tiny",
            init=str(first),
            epochs=1,
            losses=("class",),
        ),
        log=lambda line: None,
    )
    assert second.config.architecture == MICRO_ARCH
    assert second.config.training["init"] == str(first)


def test_train_command_line(
    micro_arch: str, corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cli"
    args = [
        "train",
        "--corpus",
        str(corpus),
        "--out",
        str(out),
        "--arch",
        MICRO_ARCH,
        "--split",
        "all",
        "--epochs",
        "1",
        "--batch-size",
        "6",
        "--threads",
        "1",
        "--losses",
        "patent,class",
        "--no-progress",
        "--no-augment",
        "--balance-beta",
        "0.5",
        "--seed",
        "3",
    ]
    assert main(args) == 0
    assert "epoch 1/1" in capsys.readouterr().out
    config = load_model(out).config
    assert (
        config.training["options"]["losses"] == ["patent", "class"] and config.training["seed"] == 3
    )
    assert main(args) == 1  # the folder holds a checkpoint now
    assert "--overwrite" in capsys.readouterr().err
    assert main([*args, "--losses", "nope", "--overwrite"]) == 1
    assert "losses must be" in capsys.readouterr().err


def test_ps_resnet_tiny_fits_the_size_budget_and_trains(corpus: Path, tmp_path: Path) -> None:
    """The small CNN architecture: at most 20 MB of float16 weights, and it trains (BatchNorm)."""
    result = train(
        _options(corpus, tmp_path / "rn", arch="ps-resnet-tiny", epochs=1, batch_size=6,
                 losses=("patent",), max_steps=1),
        log=lambda line: None,
    )  # fmt: skip
    loaded = load_model(tmp_path / "rn")
    assert loaded.config.embed_dim == 256 and loaded.config.preprocess.image_size == 128
    assert (tmp_path / "rn" / "model.safetensors").stat().st_size <= 20_000_000
    assert result.config.training["steps"] == 1
    with torch.no_grad():
        out = loaded.model.encode_image(torch.zeros(2, 3, 128, 128), normalize=True)
    assert out.shape == (2, 256) and bool(torch.isfinite(out).all())


def test_class_aware_batches_hold_several_images_of_few_classes() -> None:
    classes = [f"c{i % 10}" for i in range(400)]
    groups = [f"p{i}" for i in range(400)]  # one image per patent, as most real patents here
    sampler = ClassAwareBatches(classes, groups, 32, per_class=8, seed=0)
    for batch in sampler.batches(0):
        counts = Counter(classes[i] for i in batch)
        assert len(batch) == 32 and len(set(batch)) == 32
        assert max(counts.values()) <= 8 and len(counts) == 4
