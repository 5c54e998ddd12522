"""nox sessions: tests, lint, typecheck, package, bench, stress."""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite (real sockets on 127.0.0.1, real clients)."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff over sources, tests and benchmarks."""
    session.install("ruff>=0.5")
    session.run("ruff", "check", "src", "tests", "benchmarks", "noxfile.py")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy (strict) on src."""
    session.install("-e", ".", "mypy>=1.10", "pytest>=8")
    session.run("mypy")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks with their ceilings measured side by side: ``nox -s bench [-- --long]``."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session
def stress(session: nox.Session) -> None:
    """Load, leak and shutdown checks with a summary table: ``nox -s stress [-- --quick]``."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "benchmarks.stress", *session.posargs)


@nox.session
def package(session: nox.Session) -> None:
    """Build the sdist and wheel (the wheel from the sdist), install the wheel, smoke-test it."""
    session.install("build>=1.0,<2")
    dist = session.create_tmp() + "/dist"
    session.run("python", "-m", "build", "--outdir", dist, ".")
    wheels = [str(p) for p in Path(dist).glob("mockfeed-*.whl")]
    sdists = [str(p) for p in Path(dist).glob("mockfeed-*.tar.gz")]
    if len(wheels) != 1 or len(sdists) != 1:
        session.error(f"expected one wheel and one sdist in {dist}, got {wheels + sdists}")
    session.install("--force-reinstall", wheels[0])
    session.chdir(session.create_tmp())  # away from the source tree: import the installed package
    session.run("python", str(Path(__file__).parent / "tests" / "smoke_installed.py"))
    session.run("python", "-m", "mockfeed", "--list")
