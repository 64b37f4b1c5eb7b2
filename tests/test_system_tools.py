"""Missing system tools: a test skips with the package to install, except under CI, where it
fails; and every system package is named in one place, ``.ci/system-packages``, which both README
"Set-up" and ``.ci/run`` use."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, SYSTEM_PACKAGES, cli_env, require_tool, system_packages


def test_a_missing_tool_skips_with_the_package_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"rapper-nowhere .*; `\.ci/system-packages` installs it"):
        require_tool("rapper-nowhere")


def test_under_ci_a_missing_tool_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="never skips"):
        require_tool("rapper-nowhere")


def test_the_table_names_the_tools_the_tests_look_for() -> None:
    assert system_packages() == {
        "java": "default-jre-headless",
        "rapper": "raptor2-utils",
        "dot": "graphviz",
        "chromium": "chromium",
        "virtuoso-t": "virtuoso-opensource",
    }
    listed = subprocess.run([str(SYSTEM_PACKAGES), "--list"], capture_output=True, text=True, check=True).stdout
    packages = {line.split()[0] for line in listed.splitlines()}
    assert {"python3-venv", "libseccomp2", "fonts-dejavu-core", *system_packages().values()} == packages


def test_no_other_file_installs_system_packages() -> None:
    """apt-get appears in the one script only: README and .ci/run call it."""
    installers = [
        path.relative_to(REPO)
        for path in [REPO / "README.md", REPO / ".ci" / "run", *(REPO / "tests").rglob("*.py")]
        if re.search("apt-get" + r"\s+install", path.read_text(encoding="utf-8"))
    ]
    assert installers == []
    assert ".ci/system-packages" in (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert ".ci/system-packages" in (REPO / "README.md").read_text(encoding="utf-8")


def _setup_commands() -> list[str]:
    """The shell lines of README's "Set-up" section, in order."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_ci_runs_the_readme_set_up_as_written() -> None:
    """The system packages, the main job with its virtual environment, the test command: .ci/run
    runs each README line exactly (CI proves the README works on a fresh machine)."""
    commands = _setup_commands()
    assert commands[0] == ".ci/system-packages"
    assert len(commands) == 3 and "-m venv" in commands[1] and commands[2].endswith("--dist loadfile")
    ci_lines = [line.strip() for line in (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    positions = [ci_lines.index(command) for command in commands]
    assert positions == sorted(positions)


@pytest.mark.parametrize(("ci", "outcome"), [("", "1 skipped"), ("true", "1 failed")])
def test_a_reasoner_test_without_java_skips_or_fails_under_ci(tmp_path: Path, ci: str, outcome: str) -> None:
    """No ``java`` on PATH: the library's JavaUnavailable becomes a skip naming the package, and a
    failure under CI (a real pytest run of a real reasoner test, in a fresh process)."""
    env = cli_env(PATH=str(tmp_path), CI=ci)
    env.pop("JAVA_HOME", None)
    test = "tests/test_reasoning_jvm.py::test_hermit_answers_satisfiability_in_process"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rsf", "-p", "no:cacheprovider", test],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert outcome in done.stdout, done.stdout[-2000:]
    assert "java (Debian package default-jre-headless) is not installed" in done.stdout
