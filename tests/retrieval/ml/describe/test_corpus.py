import csv
import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from retrieval.ml.cli import main
from retrieval.ml.describe import (
    BackendUnavailableError,
    DescriptionCache,
    DescriptionFormatError,
    describe_corpus,
    make_backend,
)
from retrieval.ml.samples import generate_corpus

pytestmark = pytest.mark.ml


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    generate_corpus(out, patents=3, seed=0)
    return out


def _image_files(corpus: Path) -> list[str]:
    with open(corpus / "metadata.csv", newline="", encoding="utf-8") as f:
        return [row["image_file"] for row in csv.DictReader(f)]


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


class _Flaky:
    """A backend that fails for one image (by its caption) or for all, like a broken server."""

    name, model = "flaky", "test"

    def __init__(self, fail_caption: str = "", down: bool = False) -> None:
        self.fail_caption, self.down, self.calls = fail_caption, down, 0

    def describe(self, metadata: Mapping[str, str], n: int) -> list[str]:
        self.calls += 1
        if self.down:
            raise BackendUnavailableError("http://llm could not be reached")
        if metadata["caption"] == self.fail_caption:
            raise DescriptionFormatError("expected 2 descriptions, got 1")
        return [f"Description {i} of the {metadata['object_name']}." for i in range(n)]


def test_writes_one_line_per_image(corpus: Path, tmp_path: Path) -> None:
    result = describe_corpus(
        corpus, make_backend("offline"), 3, tmp_path / "d.jsonl", progress=False
    )
    lines = _lines(tmp_path / "d.jsonl")
    assert [line["image_file"] for line in lines] == _image_files(corpus)
    assert all(len(line["descriptions"]) == 3 for line in lines)  # type: ignore[arg-type]
    assert (result.written, result.failures) == (len(lines), ())


def test_cache_makes_a_rerun_free(corpus: Path, tmp_path: Path) -> None:
    backend = _Flaky()
    first = describe_corpus(
        corpus, backend, 2, tmp_path / "a.jsonl", DescriptionCache(tmp_path / "c"), progress=False
    )
    calls = backend.calls
    again = describe_corpus(
        corpus, backend, 2, tmp_path / "b.jsonl", DescriptionCache(tmp_path / "c"), progress=False
    )
    assert backend.calls == calls and again.from_cache == again.written == first.written
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


def test_failed_rows_are_reported_not_silently_skipped(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with open(corpus / "metadata.csv", newline="", encoding="utf-8") as f:
        victim = next(csv.DictReader(f))
    result = describe_corpus(
        corpus, _Flaky(fail_caption=victim["caption"]), 2, tmp_path / "d.jsonl", progress=False
    )
    assert [f.image_file for f in result.failures] == [victim["image_file"]]
    assert "expected 2 descriptions" in result.failures[0].reason
    assert victim["image_file"] in capsys.readouterr().err
    assert len(_lines(tmp_path / "d.jsonl")) == len(_image_files(corpus)) - 1


def test_unreachable_backend_stops_the_run_and_leaves_the_file(
    corpus: Path, tmp_path: Path
) -> None:
    out = tmp_path / "d.jsonl"
    out.write_text("old\n")
    with pytest.raises(BackendUnavailableError):
        describe_corpus(corpus, _Flaky(down=True), 2, out, progress=False)
    assert out.read_text() == "old\n" and not (tmp_path / "d.jsonl.partial").exists()


def test_command_line_describes_a_corpus(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "d.jsonl"
    args = [
        "describe",
        "--corpus",
        str(corpus),
        "--backend",
        "offline",
        "--n",
        "2",
        "--out",
        str(out),
    ]
    assert main(args) == 0
    assert len(_lines(out)) == len(_image_files(corpus))
    assert (tmp_path / "d.jsonl.cache.jsonl").exists()
    assert main(args) == 1 and "--overwrite" in capsys.readouterr().err
    assert main([*args, "--overwrite"]) == 0 and "from the cache" in capsys.readouterr().out
