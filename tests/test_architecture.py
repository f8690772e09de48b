"""The layering rules of ARCHITECTURE.md hold in the code."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_retrieval_ml_imports_without_django():
    code = (
        "import sys, retrieval.ml.encoders.factory, retrieval.ml.samples; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('django', 'rest_framework', 'celery')]; "
        "assert not bad, bad"
    )
    env = {"PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, check=True)


def test_import_contracts_are_kept():
    linter = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(linter)], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
