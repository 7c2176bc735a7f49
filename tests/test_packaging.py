"""Packaging tests: the wheel carries the grammar, installs, and runs outside the checkout."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BIN = "Scripts" if os.name == "nt" else "bin"
EXE = ".exe" if os.name == "nt" else ""


def _clean_env() -> dict[str, str]:
    """Environment for child processes that cannot see the checkout or the outer venv."""
    env = dict(os.environ)
    for var in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP"):
        env.pop(var, None)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(cmd: list[str], *, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        cmd, cwd=cwd, env=_clean_env(), capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, (
        f"command failed ({proc.returncode}): {cmd}\n"
        f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
    )
    return proc


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the project's wheel once per session and return its path."""
    if importlib.util.find_spec("build") is None:
        pytest.skip("the 'build' module is not installed (pip install -e '.[test]')")
    outdir = tmp_path_factory.mktemp("dist")
    cmd = [sys.executable, "-m", "build", "--wheel", "--outdir", str(outdir)]
    if importlib.util.find_spec("hatchling") is not None:
        # Faster and works offline; otherwise build fetches hatchling into an isolated env.
        cmd.append("--no-isolation")
    cmd.append(str(REPO))
    _run(cmd, cwd=outdir)
    wheels = sorted(outdir.glob("symbackprop-*.whl"))
    assert len(wheels) == 1, f"expected exactly one wheel in {outdir}, found {wheels}"
    return wheels[0]


@pytest.fixture(scope="session")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed (no deps: they come from the running Python)."""
    root = tmp_path_factory.mktemp("venv")
    env_dir = root / "env"
    _run([sys.executable, "-m", "venv", "--system-site-packages", str(env_dir)], cwd=root)
    python = env_dir / BIN / f"python{EXE}"

    if sys.prefix != sys.base_prefix:
        # Running inside a venv (e.g. the CI one): --system-site-packages only exposes the
        # base interpreter's packages, so also append this venv's site directories, where
        # numpy/sympy/lark live. Plain path lines: their .pth files (such as the editable
        # install's) are not processed, so the checkout stays invisible.
        site_dirs = {sysconfig.get_paths()[key] for key in ("purelib", "platlib")}
        purelib = _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            cwd=root,
        ).stdout.strip()
        (Path(purelib) / "_symbackprop_test_outer_site.pth").write_text(
            "".join(f"{d}\n" for d in sorted(site_dirs)), encoding="utf-8"
        )

    _run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)], cwd=root)
    return env_dir


def test_wheel_contains_grammar_and_marker(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    assert "symbackprop/grammar/symbackprop.lark" in names
    assert "symbackprop/py.typed" in names
    assert "symbackprop/__init__.py" in names


def test_installed_wheel_compiles_outside_checkout(venv: Path, tmp_path: Path) -> None:
    script = (
        "import symbackprop, pathlib, sys\n"
        "assert 'site-packages' in symbackprop.__file__, symbackprop.__file__\n"
        "assert symbackprop.__file__.startswith(sys.prefix), (symbackprop.__file__, sys.prefix)\n"
        'f = symbackprop.compile("(x+y)*z")\n'
        "v, g = f(x=-2.0, y=5.0, z=-4.0)\n"
        'print(v, g["x"], g["y"], g["z"])\n'
    )
    proc = _run([str(venv / BIN / f"python{EXE}"), "-c", script], cwd=tmp_path)
    assert proc.stdout.strip() == "-12.0 -4.0 -4.0 3.0"


def test_console_script(venv: Path, tmp_path: Path) -> None:
    exe = venv / BIN / f"symbackprop{EXE}"
    assert exe.is_file(), f"console script missing: {exe}"
    proc = _run([str(exe), "grad", "(x+y)*z", "--at", "x=-2,y=5,z=-4"], cwd=tmp_path)
    assert "-12" in proc.stdout


def test_python_dash_m(venv: Path, tmp_path: Path) -> None:
    python = venv / BIN / f"python{EXE}"
    proc = _run(
        [str(python), "-m", "symbackprop", "grad", "(x+y)*z", "--at", "x=-2,y=5,z=-4"],
        cwd=tmp_path,
    )
    assert "-12" in proc.stdout
