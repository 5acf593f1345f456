"""Crash-recovery benchmark (断点恢复): random SIGKILLs of a month's run, then an unattended rerun.

On a small synthetic city, every month but the last is run once (the base home). The last month is then run
uninterrupted on a copy (the reference). Each trial copies the base home, starts `zs-risk run --month LAST` in
its own process group, kills the whole group with SIGKILL at a random moment of the run (uniform over the
reference run's duration), reruns the month with no manual step, and counts the trial recovered when:

- the rerun exits 0 within a time limit (no hang on a slot the dead run held, no "investigate" error);
- `zs-risk verify` exits 0 (log, signatures, heads, mart files and catalogue, plan packages);
- every file readers can reach under mart/data and mart/versions has the reference's bytes, and the same plan
  packages exist (their seeds are fresh and secure, so their content differs by design);
- nothing written aside is left in the mart.

Prints "N/N recovered" and, for each failed trial, the kill time and what went wrong.

    python bench/bench_crash.py [--trials 20] [--enterprises 2000] [--months 3] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from zs_risk_pipeline.lib.core import digest
from zs_risk_pipeline.lib.evidence import signing

ROOT = Path(__file__).resolve().parents[1]
ZS = [sys.executable, "-m", "zs_risk_pipeline.cli"]


def _env(home: Path, signing_key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZS_RISK_")}
    env.update(
        ZS_RISK_HOME=str(home),
        ZS_RISK_PII_KEY="benchmark-key-not-a-secret",
        ZS_RISK_SIGNING_KEY=signing_key,
        DAGSTER_HOME=str(home / "dagster_home"),
        GX_ANALYTICS_ENABLED="false",
        DAGSTER_DISABLE_TELEMETRY="true",
    )
    return env


def _zs(home: Path, key: str, *args: str, timeout: float | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*ZS, *args], env=_env(home, key), cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def _readable(home: Path) -> dict[str, str]:
    mart = home / "mart"
    return {
        p.relative_to(mart).as_posix(): digest.sha256_file(p)
        for folder in ("data", "versions")
        for p in sorted((mart / folder).rglob("*"))
        if p.is_file()
    }


def _plans(home: Path) -> list[str]:
    return sorted(p.name for p in (home / "plans").glob("*") if p.is_dir() and not p.name.startswith("."))


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True)
    # The instance's dagster.yaml names its storage by the home's path: point the copy at itself.
    for cfg in (dst / "dagster_home").glob("*.yaml"):
        cfg.write_text(cfg.read_text(encoding="utf-8").replace(str(src), str(dst)), encoding="utf-8")
    return dst


def _trial(
    base: Path, work: Path, key: str, month: str, n: int, at: float, limit: float, reference: dict, plans: list
) -> str:
    home = _copy(base, work / f"trial{n:02d}")
    env = _env(home, key)
    child = subprocess.Popen(
        [*ZS, "run", "--month", month],
        env=env,
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(at)
    if child.poll() is None:
        os.killpg(child.pid, signal.SIGKILL)
    child.wait()
    try:
        rerun = _zs(home, key, "run", "--month", month, timeout=limit)
    except subprocess.TimeoutExpired:
        return f"rerun still running after {limit:.0f} s (hung)"
    if rerun.returncode != 0:
        return f"rerun exit {rerun.returncode}: {(rerun.stdout + rerun.stderr).strip().splitlines()[-3:]}"
    verify = _zs(home, key, "verify", timeout=limit)
    if verify.returncode != 0:
        return f"verify exit {verify.returncode}: {verify.stdout.strip().splitlines()[:3]}"
    got = _readable(home)
    if got != reference:
        diff = sorted(set(got.items()) ^ set(reference.items()))[:3]
        return f"mart differs from the uninterrupted run: {diff}"
    if _plans(home) != plans:
        return f"plan packages {_plans(home)} instead of {plans}"
    left = [p for p in (home / "mart").rglob(".*") if p.is_file()]
    if left:
        return f"left aside in the mart: {left[:3]}"
    shutil.rmtree(home, ignore_errors=True)
    return ""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--trials", type=int, default=20)
    p.add_argument("--enterprises", type=int, default=2000)
    p.add_argument("--months", type=int, default=3)
    p.add_argument("--start", default="2023-01")
    p.add_argument("--seed", type=int, default=11, help="seed of the kill times")
    p.add_argument("--workdir", help="keep the homes here (default: a temporary folder)")
    args = p.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench_crash_"))
    work.mkdir(parents=True, exist_ok=True)
    key, _ = signing.new_key()  # a throw-away signing key for this benchmark
    y, m = map(int, args.start.split("-"))
    months = [f"{y + (m - 1 + i) // 12}-{(m - 1 + i) % 12 + 1:02d}" for i in range(args.months)]
    month = months[-1]

    base = work / "base"
    shutil.rmtree(base, ignore_errors=True)
    t0 = time.perf_counter()
    synth = _zs(
        base, key, "synth", "--enterprises", str(args.enterprises), "--months", str(args.months), "--start", args.start
    )
    assert synth.returncode == 0, synth.stderr
    if len(months) > 1:
        back = _zs(base, key, "backfill", "--from", months[0], "--to", months[-2])
        assert back.returncode == 0, back.stdout + back.stderr
    print(
        f"base home: {args.enterprises:,} entities, months {months[0]}…{months[-2]} run "
        f"({time.perf_counter() - t0:.0f} s)"
    )

    ref = _copy(base, work / "reference")
    t0 = time.perf_counter()
    run = _zs(ref, key, "run", "--month", month)
    duration = time.perf_counter() - t0
    assert run.returncode == 0, run.stdout + run.stderr
    assert _zs(ref, key, "verify").returncode == 0
    reference, plans = _readable(ref), _plans(ref)
    fingerprint = hashlib.sha256(repr(sorted(reference.items())).encode()).hexdigest()[:12]
    print(
        f"reference run of {month}: {duration:.1f} s, {len(reference)} mart files ({fingerprint}), {len(plans)} plans"
    )

    rng = random.Random(args.seed)
    limit = max(120.0, 4 * duration)
    failures = []
    for n in range(1, args.trials + 1):
        at = rng.uniform(0.02, 0.98) * duration
        t0 = time.perf_counter()
        problem = _trial(base, work, key, month, n, at, limit, reference, plans)
        status = "recovered" if not problem else f"NOT RECOVERED: {problem}"
        print(
            f"trial {n:2d}: SIGKILL at {at:5.1f} s of {duration:.1f} s -> {status} ({time.perf_counter() - t0:.0f} s)"
        )
        if problem:
            failures.append(n)
    print(f"\n{args.trials - len(failures)}/{args.trials} recovered")
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
