"""README.md is the user's manual: its Python example must run and every CLI command must be in it."""
import re
from pathlib import Path

from harness.cli import app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_python_example_runs():
    section = README.split("## Using the model library from Python", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    assert scope["out"].fused_logits.shape == (8, 7)
    assert scope["loss"].dim() == 0


def test_every_command_is_documented():
    names = [c.name for c in app.registered_commands]
    assert set(names) == {"synth", "prepare", "train", "sweep", "report", "compare", "export", "predict", "submit"}
    names += [g.name for g in app.registered_groups]  # `jobs status|logs|stop`
    assert "jobs" in names and "weights" in names
    for name in names:
        assert f"fdan-bench {name}" in README
    assert "make test" in README and "make quickstart" in README
