"""nox sessions: tests, lint, typecheck, bench, stress."""

from __future__ import annotations

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
