"""The two set-up-and-run commands of the README; needs only Python 3.10+ with venv and pip (which fetches uv).

python3 tasks.py train [train.py flags]   # make .venv, install the package, train on `digits`
python3 tasks.py test  [pytest args]      # make .venv, install with test extras, ruff + pytest
"""

import os
import subprocess
import sys
import venv

ROOT = os.path.dirname(os.path.abspath(__file__))
VENV = os.path.join(ROOT, ".venv")
PYTHON = os.path.join(VENV, "Scripts" if os.name == "nt" else "bin", "python")


def run(*args: str) -> None:
    print("+", " ".join(args), flush=True)
    subprocess.run(args, cwd=ROOT, check=True)


def install(extras: str) -> None:
    if not os.path.exists(PYTHON):
        venv.create(VENV, with_pip=True)
    package = f".{extras}"
    # uv (fetched by pip) installs the same packages from the same PyPI in a fraction of pip's time
    # (BUILD_NOTES.md, "The suite: every timed run"). Both byte-compile what they install: where
    # PYTHONDONTWRITEBYTECODE is set, nothing compiled on import is kept, and every process of the suite
    # would compile TensorFlow's modules again (~9 s of CPU each). uv reads no pip.conf: where it can't
    # install (no uv wheel for this platform, PyPI reachable only through pip's configured index), pip does.
    try:
        run(PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "uv>=0.4")
        run(PYTHON, "-m", "uv", "pip", "install", "--quiet", "--compile-bytecode", "--python", PYTHON, "-e", package)
    except subprocess.CalledProcessError:
        print("uv could not install the package: pip installs it instead.", flush=True)
        run(PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", package)


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in ("train", "test"):
        raise SystemExit(__doc__)
    task, rest = sys.argv[1], sys.argv[2:]
    try:
        if task == "train":
            install("")
            run(PYTHON, "train.py", *rest)
        else:
            install("[test]")
            run(PYTHON, "-m", "ruff", "check", ".")
            run(PYTHON, "-m", "ruff", "format", "--check", ".")
            run(PYTHON, "-m", "pytest", *rest)
    except subprocess.CalledProcessError as e:
        raise SystemExit(e.returncode) from None


if __name__ == "__main__":
    main()
