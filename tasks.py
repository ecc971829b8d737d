"""The two set-up-and-run commands of the README; needs only Python 3.10+ with venv and pip.

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
    # --no-compile: byte-compiling every installed module (most of TensorFlow's are never imported) took
    # a third of the install's CPU time; Python compiles what it imports on first use.
    run(PYTHON, "-m", "pip", "install", "--quiet", "--no-compile", "--disable-pip-version-check", "-e", f".{extras}")


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
