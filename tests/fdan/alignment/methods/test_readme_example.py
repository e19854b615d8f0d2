"""The README's "Methods and baselines" example runs and gives what it says."""
from __future__ import annotations

import re
from pathlib import Path

README = (Path(__file__).resolve().parents[4] / "README.md").read_text()


def test_methods_section_example_runs() -> None:
    section = README.split("## Methods and baselines", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    assert scope["term"].ndim == 0 and scope["modal"].has_parameters and scope["corpus"].name == "dsan"
    assert scope["boot"]["war"]["lo"] < scope["boot"]["war"]["diff"] < scope["boot"]["war"]["hi"]
    assert scope["test"]["method"] == "chi2_cc" and set(scope["list_methods"]()) >= {"fdan", "dann"}
