"""The analysts' mart with real clients (分析集市与客户端): the DuckDB command-line client and Python duckdb open it,
the README's cookbook runs in it, every column is documented, and a copied home never reads the original's files.

One tiny city (the 800-firm synthetic city the tamper and least-access tests use) is built once through the CLI:
its first month, then a copy of the home, then its second month in the original only, so that the original and the
copy differ by a month a re-pointed copy must not show.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from zs_risk_pipeline import cli
from zs_risk_pipeline.lib.core.sql import SQL_DIR
from zs_risk_pipeline.lib.evidence import signing
from zs_risk_pipeline.lib.publish import catalog, tables, wap
from zs_risk_pipeline_tests.conftest import TEST_SIGNING_KEY, signed_home_env

pytestmark = pytest.mark.e2e  # whole months through Dagster (make test runs them; -m "not e2e" skips)

README = Path(__file__).resolve().parents[2] / "README.md"
SESSION_SQL = SQL_DIR / "marts" / "analyst_session.sql"
PUBLIC_KEY = signing.Signer.from_hex(TEST_SIGNING_KEY).verifier.public_hex
MONTHS = ("2023-01", "2023-02")
REFUSAL = "was built for"  # the guard's message (sql/marts/mart_home_guard.sql)


@dataclass(frozen=True)
class Built:
    home: Path  # both months published
    copy: Path  # the home as it was after the first month, copied elsewhere (never modified by a test)


def _cli_binary() -> str:
    found = shutil.which("duckdb", path=str(Path(sys.executable).parent))
    assert found, "the DuckDB command-line client is missing: install the dev extras (duckdb-cli)"
    return found


def duckdb_cli(mart: Path, sql: str, locked: bool = False) -> subprocess.CompletedProcess[str]:
    """Run `sql` in the real DuckDB CLI on `mart`/mart.duckdb, read-only, from the mart folder as analysts do;
    `locked`: in the analyst session of sql/marts/analyst_session.sql with the CLI's safe mode."""
    lock = ["-init", str(SESSION_SQL), "-cmd", ".safe_mode"] if locked else []
    return subprocess.run(
        [_cli_binary(), "-readonly", "-csv", *lock, tables.MART_FILE, "-c", sql],
        cwd=mart,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


def rows(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The data lines of a -csv result (the header and the -init banner left out)."""
    lines = [line for line in result.stdout.splitlines() if line.strip() and "Loading resources" not in line]
    return lines[1:]


def cookbook() -> list[str]:
    """Every ```sql block of the README's cookbook section."""
    text = README.read_text(encoding="utf-8")
    section = text.split("### Cookbook", 1)[1]
    section = re.split(r"\n#{1,3} ", section, maxsplit=1)[0]
    return re.findall(r"```sql\n(.*?)```", section, flags=re.S)


def zs_risk(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = cli.main(list(argv))
    print(f"$ zs-risk {' '.join(argv)}  (exit {rc})\n{out.getvalue()}")  # shown when a test fails
    return rc, out.getvalue()


def months_in(mart: Path) -> list[str]:
    result = duckdb_cli(mart, "SELECT DISTINCT strftime(month, '%Y-%m') FROM enterprise_tiers ORDER BY 1")
    assert result.returncode == 0, result.stderr
    return rows(result)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    base = tmp_path_factory.mktemp("mart_clients")
    home = base / "home"
    with pytest.MonkeyPatch.context() as mp:
        signed_home_env(mp, home)
        argv = ["synth", "--enterprises", "800", "--months", "2", "--start", MONTHS[0], "--seed", "5"]
        assert cli.main(argv) == 0
        assert cli.main(["run", "--month", MONTHS[0]]) == 0
        copy = base / "elsewhere" / "home"
        shutil.copytree(home, copy, symlinks=True)
        assert cli.main(["run", "--month", MONTHS[1]]) == 0
        yield Built(home, copy)


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Checked with the public key only, as an operator re-pointing a restored home would."""
    monkeypatch.delenv(signing.SIGNING_KEY_ENV, raising=False)
    monkeypatch.setenv(signing.VERIFY_KEY_ENV, PUBLIC_KEY)


def test_the_cookbook_runs_in_the_duckdb_cli_and_python_reads_the_mart(built: Built) -> None:
    mart = built.home / "mart"
    queries = cookbook()
    assert len(queries) >= 6
    for sql in queries:
        for locked in (False, True):
            result = duckdb_cli(mart, sql, locked=locked)
            assert result.returncode == 0 and "Error" not in result.stderr, (sql, result.stderr)
            assert rows(result), (sql, locked, result.stdout)
    assert months_in(mart) == list(MONTHS)
    with duckdb.connect(str(mart / tables.MART_FILE), read_only=True) as conn:
        views = {v for (v,) in conn.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
        assert {"enterprises", "inspection_results", "inspection_plans", "enterprise_tiers"} <= views
        assert conn.execute("SELECT count(*) FROM towns WHERE coordinated_area = '火炬统筹区'").fetchone()[0] >= 1
        assert conn.execute("SELECT count(*) FROM enterprises").fetchone()[0] > 0
        # The enterprise dimension carries nothing personal and no tier.
        found = conn.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = 'enterprises'").fetchall()
        columns = {c for (c,) in found}
        assert not columns & {"legal_rep_hash", "legal_rep_id", "address", "tier", "score", "points"}


def test_every_column_of_the_mart_has_a_comment(built: Built) -> None:
    with duckdb.connect(str(built.home / "mart" / tables.MART_FILE), read_only=True) as conn:
        found = conn.execute(
            "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE NOT internal ORDER BY ALL"
        ).fetchall()
    assert len({t for t, _, _ in found}) >= 17  # 6 views and their histories, 5 reference tables
    assert [f"{t}.{c}" for t, c, comment in found if not comment] == []
    # English with the Chinese term.
    assert [f"{t}.{c}" for t, c, comment in found if not re.search(r"[\u4e00-\u9fff]", comment)] == []


def test_a_copied_home_refuses_until_repointed_then_reads_its_own_files(
    built: Built, tmp_path: Path, keys: None
) -> None:
    copy = tmp_path / "restored"
    shutil.copytree(built.copy, copy, symlinks=True)
    mart = copy / "mart"
    for sql in (
        "SELECT * FROM enterprise_tiers",
        "SELECT count(*) FROM enterprise_features",
        "SELECT * FROM inspection_results LIMIT 1",
        "SELECT count(*) FROM enterprise_tiers_versions",
    ):
        result = duckdb_cli(mart, sql)
        assert result.returncode != 0 and not rows(result), (sql, result.stdout)
        assert REFUSAL in result.stderr and "zs-risk repoint" in result.stderr, result.stderr
    with (
        pytest.raises(duckdb.Error, match=REFUSAL),
        duckdb.connect(str(mart / tables.MART_FILE), read_only=True) as conn,
    ):
        conn.execute("SELECT count(*) FROM enterprises").fetchall()
    # The locked analyst session refuses too: the original's folders are not among its allowed ones.
    assert duckdb_cli(mart, "SELECT count(*) FROM enterprise_tiers", locked=True).returncode != 0

    rc, out = zs_risk("--home", str(copy), "verify")
    assert rc == 1
    assert "view main.enterprise_tiers reads files outside this home's mart" in out and "zs-risk repoint" in out

    rc, out = zs_risk("repoint", "--home", str(copy))
    assert rc == 0, out
    assert months_in(mart) == [MONTHS[0]]  # its own month, not the original's second one
    assert duckdb_cli(mart, "SELECT count(*) FROM enterprise_tiers", locked=True).returncode == 0
    assert zs_risk("--home", str(copy), "verify")[0] == 0


def test_repoint_refuses_a_home_whose_files_the_log_does_not_vouch_for(
    built: Built, tmp_path: Path, keys: None
) -> None:
    copy = tmp_path / "restored"
    shutil.copytree(built.copy, copy, symlinks=True)
    before = (copy / "mart" / tables.MART_FILE).read_bytes()
    file = sorted((copy / "mart" / "data" / "enterprise_tiers").rglob("data.parquet"))[0]
    file.write_bytes(file.read_bytes()[:-16] + b"\0" * 16)
    rc, out = zs_risk("repoint", "--home", str(copy))
    assert rc == 1 and "refused:" in out and "content differs" in out
    assert (copy / "mart" / tables.MART_FILE).read_bytes() == before  # left as it was: still refusing
    missing = tmp_path / "no-such-home"
    assert zs_risk("repoint", "--home", str(missing))[0] != 0
    assert not missing.exists()


def test_a_copy_whose_original_is_gone_fails_and_never_reads_it(built: Built, tmp_path: Path) -> None:
    original = tmp_path / "original"
    shutil.copytree(built.copy, original, symlinks=True)
    catalog.build_catalog(original / "mart")  # a home built where it lies
    assert months_in(original / "mart") == [MONTHS[0]]
    restored = tmp_path / "restored"
    shutil.copytree(original, restored, symlinks=True)
    assert REFUSAL in duckdb_cli(restored / "mart", "SELECT count(*) FROM enterprise_tiers").stderr
    shutil.rmtree(original)
    for sql in ("SELECT * FROM enterprise_tiers", "SELECT count(*) FROM enterprise_features_versions"):
        result = duckdb_cli(restored / "mart", sql)
        assert result.returncode != 0 and not rows(result), (sql, result.stdout)


def test_the_next_publish_repoints_a_copy_even_when_nothing_is_new(built: Built, tmp_path: Path) -> None:
    """What the next `zs-risk run` does: every publish ends by rebuilding a catalogue that is not the one the code
    builds for this home, also when the month's content was published before (nothing new)."""
    copy = tmp_path / "restored"
    shutil.copytree(built.copy, copy, symlinks=True)
    with duckdb.connect(str(copy / "warehouse.duckdb")) as conn:
        result = wap.publish_month(conn, tables.MART_TABLES["enterprise_tiers"], MONTHS[0], copy / "mart")
    assert result.unchanged
    assert any("mart.duckdb: rebuilt" in r for r in result.recovered)
    assert months_in(copy / "mart") == [MONTHS[0]]
