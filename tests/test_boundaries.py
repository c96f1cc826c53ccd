"""Import boundaries between workspace members (DESIGN.md: dependency direction)."""

import subprocess
import sys

import pytest


def _modules_after_import(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return set(out.stdout.split())


@pytest.mark.parametrize(
    "module", ["faceshot_retarget", "faceshot_landmarks", "faceshot_animate", "faceshot"]
)
def test_package_does_not_import_torch(module):
    mods = _modules_after_import(module)
    assert "torch" not in mods, f"importing {module} imported torch"
    assert "diffusers" not in mods


def test_retarget_imports_only_numpy_shapely_attrs():
    mods = _modules_after_import("faceshot_retarget")
    third_party = {m.split(".")[0] for m in mods} - set(sys.stdlib_module_names)
    third_party -= {
        "faceshot_retarget",
        "numpy",
        "attrs",
        "attr",
        "shapely",
        "_distutils_hack",
        "__main__",
    }
    assert not third_party, f"faceshot_retarget pulled in {sorted(third_party)}"


def test_cli_help_is_fast_and_torch_free():
    code = "import sys; from faceshot.cli import build_parser; build_parser(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "False"
