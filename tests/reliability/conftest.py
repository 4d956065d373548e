"""Helpers of the reliability tests: running the real ``ews`` command, killing it, stores."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ews.settings import project_root

RUN_TIMEOUT_S = 120.0
"""Upper bound of one uninterrupted command; only reached when something hangs."""


def cli_env(store: Path | str, **extra: str) -> dict[str, str]:
    """The environment of an ``ews`` child process on ``store`` (no progress bars)."""
    env = dict(os.environ, EWS_STORE=str(store), EWS_PROGRESS="false", EWS_ENV="test")
    env.update(extra)
    return env


def ews_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "ews.cli", *args]


def run_ews(args: Sequence[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``ews ARGS`` to the end (bounded) and return its result."""
    return subprocess.run(
        ews_cmd(*args),
        env=dict(env),
        cwd=project_root(),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )


@dataclass
class KillLog:
    """What a kill-and-restart loop did."""

    killed: int = 0
    """Runs that were still working when SIGKILL arrived."""
    delays: list[float] = field(default_factory=list)
    final: subprocess.CompletedProcess[str] | None = None


def kill_until_done(
    args: Sequence[str],
    env: Mapping[str, str],
    *,
    rng: random.Random,
    reference_s: float,
    rounds: int,
    low: float = 0.25,
    high: float = 0.85,
) -> KillLog:
    """Start ``ews ARGS``, SIGKILL it after a seeded random share of ``reference_s`` (how long
    an uninterrupted run took on this machine, measured in the same test), restart, ``rounds``
    times; then run it once more to the end.

    The delays are drawn from ``rng`` so a failure can be replayed with the same seed. A run
    that finished before its kill counts as not killed; the final run must always succeed.
    """
    log = KillLog()
    for _ in range(rounds):
        delay = rng.uniform(low, high) * reference_s
        log.delays.append(delay)
        proc = subprocess.Popen(
            ews_cmd(*args),
            env=dict(env),
            cwd=project_root(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            log.killed += 1
        else:
            assert proc.returncode == 0, f"ews {' '.join(args)} failed with {proc.returncode}"
    log.final = run_ews(args, env)
    return log


def timed_run(args: Sequence[str], env: Mapping[str, str]) -> tuple[float, str]:
    """Run ``ews ARGS`` uninterrupted; (seconds it took, stdout). Fails on a non-zero exit."""
    start = time.monotonic()
    result = run_ews(args, env)
    took = time.monotonic() - start
    assert result.returncode == 0, result.stderr
    return took, result.stdout


# The API tests' store (sample data assessed, a RED alert, keys of each kind) serves the API
# robustness and security tests here too.
from tests.api.conftest import api, client  # noqa: E402, F401
