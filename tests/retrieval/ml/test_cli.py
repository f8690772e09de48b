import argparse
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from retrieval.ml.cli import COMMANDS, Command, build_parser, main
from retrieval.ml.config import read_model_json

pytestmark = pytest.mark.ml

REPO_ROOT = Path(__file__).resolve().parents[3]


def _drawing_file(folder: Path) -> Path:
    img = Image.new("1", (200, 150), 1)
    ImageDraw.Draw(img).polygon([(20, 20), (180, 40), (90, 130)], outline=0, width=3)
    path = folder / "drawing.png"
    img.save(path)
    return path


def test_init_checkpoint_writes_a_loadable_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(
        ["init-checkpoint", "--arch", "ps-tiny", "--seed", "3", "--out", str(tmp_path / "m")]
    )

    assert status == 0
    config = read_model_json(tmp_path / "m")
    assert config.name == "ps-tiny-seed3" and config.training["seed"] == 3
    assert "version=ps-tiny@" in capsys.readouterr().out


def test_init_checkpoint_is_reproducible_and_named(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        main(
            [
                "init-checkpoint",
                "--arch",
                "ps-tiny",
                "--out",
                str(tmp_path / folder),
                "--name",
                "demo",
            ]
        )

    assert read_model_json(tmp_path / "a").name == "demo"
    assert (tmp_path / "a" / "model.safetensors").read_bytes() == (
        tmp_path / "b" / "model.safetensors"
    ).read_bytes()


def test_init_checkpoint_refuses_to_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["init-checkpoint", "--arch", "ps-tiny", "--out", str(tmp_path / "m")]
    main(args)

    assert main(args) == 1
    assert "already holds a checkpoint" in capsys.readouterr().err
    assert main([*args, "--overwrite"]) == 0


def test_embed_prints_dims_and_norms(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["init-checkpoint", "--arch", "ps-tiny", "--out", str(tmp_path / "m")])
    image = _drawing_file(tmp_path)
    capsys.readouterr()

    status = main(["embed", "--model", str(tmp_path / "m"), str(image), "--text", "a triangle"])

    lines = capsys.readouterr().out.splitlines()
    assert status == 0
    assert lines[0].startswith("model ps-tiny-seed0")
    assert lines[1].startswith(str(image)) and "dim=256" in lines[1] and "norm=1.000000" in lines[1]
    assert lines[2].startswith("text:'a triangle'") and "norm=1.000000" in lines[2]


def test_embed_with_an_unknown_model_fails_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["embed", "--model", str(tmp_path / "nope"), "--text", "x"])

    assert status == 1
    assert "error:" in capsys.readouterr().err


def test_embed_needs_something_to_embed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["embed", "--model", "ps-tiny"]) == 1
    assert "at least one IMAGE" in capsys.readouterr().err


def test_unknown_or_missing_command_is_a_usage_error() -> None:
    for argv in ([], ["fly"], ["init-checkpoint", "--arch", "ps-tiny"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2


def test_parser_takes_further_commands() -> None:
    def configure(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--corpus", required=True)

    def run(args: argparse.Namespace) -> int:
        return 7 if args.corpus == "c" else 0

    parser = build_parser([*COMMANDS, Command("report", "a further command", configure, run)])

    args = parser.parse_args(["report", "--corpus", "c"])
    assert args._run(args) == 7


def test_module_entry_point_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "retrieval.ml", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0
    assert "init-checkpoint" in result.stdout and "embed" in result.stdout
