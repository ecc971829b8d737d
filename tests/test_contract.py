"""docs/contract.md names every command-line flag: each absl flag of train.py (infogan_tf/cli.py),
reproduce.py, export.py and the latent explorer (infogan_tf/explore.py) appears there as `--name`.

The flags are read from the source with `ast` (every `flags.DEFINE_*("name", ...)` call), so no module
is imported and nothing of TensorFlow starts.
"""

import ast
import pathlib
import re

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
CONTRACT = REPO / "docs" / "contract.md"
# The modules whose flags are public, by the command that takes them.
FLAG_MODULES = {
    "train.py": "infogan_tf/cli.py",
    "reproduce.py": "reproduce.py",
    "export.py": "export.py",
    "python -m infogan_tf.explore": "infogan_tf/explore.py",
}
DEFINE_CALL = re.compile(r"\bflags\.DEFINE_\w+\s*\(")


def _flag_name(call: ast.Call) -> str:
    """The flag name a DEFINE call defines: its first argument or its `name=` keyword, a string literal."""
    node = call.args[0] if call.args else next(k.value for k in call.keywords if k.arg == "name")
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        raise AssertionError(f"line {call.lineno}: a flag name that is not a string literal ({ast.dump(node)})")
    return node.value


def defined_flags(path: str) -> list[str]:
    """The names of every `flags.DEFINE_*(...)` call in the file at `path` (relative to the repo)."""
    tree = ast.parse((REPO / path).read_text(), filename=path)
    names = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr.startswith("DEFINE")
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "flags"
        ):
            names.append(_flag_name(node))
    return names


def all_flags() -> dict[str, list[str]]:
    return {command: defined_flags(path) for command, path in FLAG_MODULES.items()}


def test_the_parser_finds_every_define_call():
    # As many names as the text has `flags.DEFINE_...(` calls: a form the walk missed would show here.
    for path in FLAG_MODULES.values():
        text = (REPO / path).read_text()
        assert len(defined_flags(path)) == len(DEFINE_CALL.findall(text)), path


def test_the_parser_finds_known_flags_of_every_command():
    found = all_flags()
    # One- and multi-line calls of each module, so the test cannot pass on an empty or partial list.
    known = {
        "train.py": {"dataset", "workdir", "steps", "spectral_norm", "d_batch_norm", "keep_best", "baseline_workdir"},
        "reproduce.py": {"recipe", "seeds", "workdirs", "parallel", "export"},
        "export.py": {"workdir", "export_dir", "quantize"},
        "python -m infogan_tf.explore": {"export_dir", "backend", "max_concurrent"},
    }
    for command, names in known.items():
        assert names <= set(found[command]), (command, names - set(found[command]))
    assert len(found["train.py"]) >= 40


def test_export_flags_are_exactly_these():
    assert sorted(defined_flags("export.py")) == sorted(
        ["workdir", "export_dir", "version", "checkpoint", "overwrite", "tflite", "quantize"]
    )


@pytest.mark.parametrize("command", sorted(FLAG_MODULES))
def test_every_flag_is_named_in_the_contract(command):
    contract = CONTRACT.read_text()
    missing = [
        name for name in defined_flags(FLAG_MODULES[command]) if not re.search(rf"--{re.escape(name)}(?!\w)", contract)
    ]
    assert not missing, f"{command}: flags not named in docs/contract.md as --name: {missing}"
