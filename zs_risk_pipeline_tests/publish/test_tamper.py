"""Tampering with a published home (防篡改核验): every tamper an insider can do without the signing key is named.

One tiny home is built once for the module (synth + backfill through the CLI); every test restores a fresh copy
of it, tampers with it as someone who can write every file of the home but does not hold the Ed25519 signing key
would (recomputing every SHA-256, entry hash and prev_hash they can), and checks that `zs-risk verify` (or
`zs-risk verify-draw`) exits non-zero and names the problem. Verification runs with the public key only.

The catalogue mart.duckdb names the mart's files by absolute path, so each fresh copy is restored at the path the
home was built at (a copy elsewhere is the subject of its own test below).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import io
import json
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from zs_risk_pipeline import cli
from zs_risk_pipeline.lib.core import settings
from zs_risk_pipeline.lib.core.digest import sha256_file
from zs_risk_pipeline.lib.evidence import signing, verification
from zs_risk_pipeline.lib.model.registry import Registry, RegistryError
from zs_risk_pipeline.lib.publish import catalog as publish_catalog
from zs_risk_pipeline.lib.publish import log, tables
from zs_risk_pipeline.lib.sampling import package as sampling_package
from zs_risk_pipeline.lib.sampling import protocol as draw_protocol
from zs_risk_pipeline_tests.conftest import TEST_KEY, TEST_SIGNING_KEY, signed_home_env

pytestmark = pytest.mark.e2e  # whole months through Dagster (make test runs them; -m "not e2e" skips)

PUBLIC_KEY = signing.Signer.from_hex(TEST_SIGNING_KEY).verifier.public_hex
HEX64 = re.compile(r"^[0-9a-f]{64}$")
PLAN = "MR-GENERAL-2023-03"  # a plan drawn in the tiny home (its frame is the whole city)
ENTRIES = 2 * len(tables.MART_TABLES)  # the tiny home's publish log: two months, one version of every table each
LOG_COLUMNS = (
    "seq",
    "mart_table",
    "month",
    "version",
    "file",
    "file_sha256",
    "rows",
    "fingerprint",
    "published_at",
    "prev_hash",
    "entry_hash",
    "context",
    "signature",
    "key_id",
)


@dataclass(frozen=True)
class Built:
    home: Path  # where the home was built and where every test's fresh copy is restored
    pristine: Path  # the untouched home, copied once after the build
    head: str  # the publish-log head the clean verify printed: the copy an operator keeps outside the system


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    base = tmp_path_factory.mktemp("tamper")
    home = base / "home"
    with pytest.MonkeyPatch.context() as mp:
        signed_home_env(mp, home)
        assert cli.main(["synth", "--enterprises", "800", "--months", "2", "--start", "2023-01", "--seed", "5"]) == 0
        assert cli.main(["backfill", "--from", "2023-01", "--to", "2023-02"]) == 0
        rc, out = _run(["verify"])
    assert rc == 0, out
    found = re.search(r"publish-log head: ([0-9a-f]{64})", out)
    assert found, out
    shutil.copytree(home, base / "pristine", symlinks=True)
    return Built(home, base / "pristine", found.group(1))


@pytest.fixture
def fresh(built: Built, monkeypatch: pytest.MonkeyPatch) -> settings.Paths:
    """A fresh copy of the built home, checked with the public key only (no signing key in the environment)."""
    if built.home.exists():
        shutil.rmtree(built.home)
    shutil.copytree(built.pristine, built.home, symlinks=True)
    monkeypatch.setenv(settings.HOME_ENV, str(built.home))
    monkeypatch.setenv(settings.PII_KEY_ENV, TEST_KEY)
    monkeypatch.setenv("DAGSTER_HOME", str(built.home / "dagster_home"))
    monkeypatch.delenv(signing.SIGNING_KEY_ENV, raising=False)
    monkeypatch.setenv(signing.VERIFY_KEY_ENV, PUBLIC_KEY)
    return settings.Paths(built.home)


# --- running the commands ----------------------------------------------------------------------------------


def _run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = cli.main(argv)
    print(f"$ zs-risk {' '.join(argv)}  (exit {rc})\n{out.getvalue()}")  # shown when a test fails
    return rc, out.getvalue()


def tampered(*expected: str, argv: tuple[str, ...] = ("verify",)) -> str:
    """Run verify (or verify-draw): it must fail and print every expected substring."""
    rc, out = _run(list(argv))
    assert rc == 1, out
    assert "intact" not in out
    for text in expected:
        assert text in out, f"{text!r} not named in:\n{out}"
    return out


def intact(argv: tuple[str, ...] = ("verify",)) -> str:
    rc, out = _run(list(argv))
    assert rc == 0, out
    return out


# --- the insider's tools: everything but the signing key ---------------------------------------------------


@contextlib.contextmanager
def warehouse(paths: settings.Paths):
    conn = duckdb.connect(str(paths.warehouse))
    try:
        yield conn
    finally:
        conn.close()


def log_entries(conn: duckdb.DuckDBPyConnection) -> list[dict]:
    rows = conn.execute(f"SELECT {', '.join(LOG_COLUMNS)} FROM audit.publish_log ORDER BY seq").fetchall()
    return [dict(zip(LOG_COLUMNS, r, strict=True)) for r in rows]


def recomputed_hash(e: dict) -> str:
    """An entry's hash, computed as the pipeline does (publish._entry_dict / _entry_hash)."""
    month = e["month"].strftime("%Y-%m") if isinstance(e["month"], dt.date) else e["month"]
    fields = log._entry_dict(
        e["seq"],
        e["mart_table"],
        month,
        e["version"],
        e["file"],
        e["file_sha256"],
        e["rows"],
        e["fingerprint"],
        e["published_at"],
        e["prev_hash"],
        e["context"],
    )
    return log._entry_hash(fields)


def rechain(conn: duckdb.DuckDBPyConnection, entries: list[dict]) -> dict[int, str]:
    """Rewrite every entry's prev_hash and entry_hash from the first one on (signatures kept: they cannot be
    made); returns seq → entry hash for the entries whose hash changed."""
    prev, changed = signing.GENESIS, {}
    for e in entries:
        e["prev_hash"] = prev
        new = recomputed_hash(e)
        if new != e["entry_hash"]:
            changed[e["seq"]] = new
        e["entry_hash"] = prev = new
        conn.execute(
            "UPDATE audit.publish_log SET prev_hash = ?, entry_hash = ?, file_sha256 = ?, context = ? WHERE seq = ?",
            [e["prev_hash"], e["entry_hash"], e["file_sha256"], e["context"], e["seq"]],
        )
    return changed


def insert_entry(conn: duckdb.DuckDBPyConnection, e: dict) -> None:
    conn.execute(
        f"INSERT INTO audit.publish_log ({', '.join(LOG_COLUMNS)}) VALUES ({', '.join('?' * len(LOG_COLUMNS))})",
        [e[c] for c in LOG_COLUMNS],
    )


def heads_path(paths: settings.Paths) -> Path:
    return tables.heads_file(paths.mart)


def rewrite_heads(path: Path, docs: list[dict]) -> None:
    """Write heads.jsonl from `docs` with every line's `prev` recomputed (the chain), signatures as given."""
    prev, lines = signing.GENESIS, []
    for doc in docs:
        line = json.dumps({**doc, "prev": prev}, sort_keys=True)
        lines.append(line)
        prev = hashlib.sha256(line.encode("utf-8")).hexdigest()
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")


def head_docs(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write_parquet(table: pa.Table, *targets: Path) -> str:
    """The pipeline's own writer options: a tamperer can produce files indistinguishable in form."""
    for target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, target, compression="zstd", compression_level=3, write_statistics=True)
    return sha256_file(targets[0])


def set_column(table: pa.Table, name: str, values: list) -> pa.Table:
    i = table.schema.get_field_index(name)
    return table.set_column(i, table.schema.field(i), pa.array(values, type=table.schema.field(i).type))


def catalog(paths: settings.Paths, *statements: str) -> None:
    with duckdb.connect(str(paths.mart / tables.MART_FILE)) as conn:
        for sql in statements:
            conn.execute(sql)


def view_comment(paths: settings.Paths, view: str) -> str:
    with duckdb.connect(str(paths.mart / tables.MART_FILE), read_only=True) as conn:
        return conn.execute("SELECT comment FROM duckdb_views() WHERE view_name = ?", [view]).fetchone()[0]


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def redraw(folder: Path, seed: str, scratch: Path, commitment: dict, drop_uscc: str | None = None) -> dict:
    """Re-draw a plan package with lib/sampling/protocol.py (consistent: check_package passes on it), optionally without
    one firm of its frame, with `commitment` as its commitment.json, and swap it in. Returns the new plan.json."""
    plan = json.loads((folder / draw_protocol.PLAN_FILE).read_text(encoding="utf-8"))
    frame = read_csv(folder / draw_protocol.FRAME_FILE)
    if drop_uscc is not None:
        frame = frame[frame["uscc"] != drop_uscc].reset_index(drop=True)
    eligibility = read_csv(folder / draw_protocol.ELIGIBILITY_FILE)
    rates = {s: entry["rate"] for s, entry in plan["strata"].items()}
    protocol = {
        "plan_id",
        "month",
        "algorithm",
        "seed",
        "seed_commitment",
        "workload_cap",
        "strata",
        "known_through",
        "eligibility_sha256",
    }
    extra = {k: v for k, v in plan.items() if k not in protocol}
    pid, cap = plan["plan_id"], plan["workload_cap"]
    doc = draw_protocol.new_plan(pid, plan["month"], seed, rates, frame, cap, plan["known_through"], extra)
    with duckdb.connect() as conn:
        selection = draw_protocol.draw(conn, frame, rates, seed, pid)
        assignments = draw_protocol.assign(conn, selection, eligibility, seed, pid, cap)
    package = sampling_package.write_package(scratch / pid, doc, frame, selection, eligibility, assignments, commitment)
    assert sampling_package.check_package(package).problems == []  # the forged package is consistent in itself
    shutil.rmtree(folder)
    shutil.move(package, folder)
    return json.loads((folder / draw_protocol.PLAN_FILE).read_text(encoding="utf-8"))


def record_commitment(paths: settings.Paths, pid: str, record: dict) -> None:
    with warehouse(paths) as conn:
        conn.execute(
            "UPDATE sampling.commitments SET seed_commitment = ?, frame_sha256 = ?, record = ? WHERE plan_id = ?",
            [record["seed_commitment"], record["frame_sha256"], json.dumps(record, sort_keys=True), pid],
        )


def random_signature() -> str:
    return base64.b64encode(secrets.token_bytes(64)).decode("ascii")


# --- the untouched home ------------------------------------------------------------------------------------


def test_the_untouched_copy_verifies_clean(fresh: settings.Paths, built: Built):
    report = verification.verify_home(fresh, signing.Verifier.from_hex(PUBLIC_KEY))
    assert report.problems == []
    assert report.entries == ENTRIES
    assert report.head == built.head and report.packages >= 1
    out = intact()
    assert "intact" in out and built.head in out
    assert "intact" in intact(("verify", "--head", built.head))
    assert "intact" in intact(("verify", "--public-key", PUBLIC_KEY))
    assert f"{PLAN}: selection and assignments match" in intact(("verify-draw", PLAN))


def test_a_home_copied_elsewhere_is_named_until_its_catalogue_is_rebuilt(
    built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The catalogue's views name the mart's files by absolute path (DuckDB resolves relative paths against the
    reader's working folder), so a copy's catalogue still reads the original home: verify says so, and the
    catalogue the next publish rebuilds verifies clean."""
    elsewhere = tmp_path / "restored-home"
    shutil.copytree(built.pristine, elsewhere, symlinks=True)
    monkeypatch.setenv(settings.HOME_ENV, str(elsewhere))
    monkeypatch.setenv("DAGSTER_HOME", str(elsewhere / "dagster_home"))
    monkeypatch.delenv(signing.SIGNING_KEY_ENV, raising=False)
    monkeypatch.setenv(signing.VERIFY_KEY_ENV, PUBLIC_KEY)
    verifier = signing.Verifier.from_hex(PUBLIC_KEY)
    problems = verification.verify_home(settings.Paths(elsewhere), verifier).problems
    assert problems and all("reads files outside this home's mart" in p and "copied or moved" in p for p in problems)
    publish_catalog.build_catalog(elsewhere / "mart")
    assert verification.verify_home(settings.Paths(elsewhere), verifier).problems == []


# --- 1-4: the log shortened, emptied, dropped, the warehouse deleted ----------------------------------------


def test_last_entries_deleted(fresh: settings.Paths):
    with warehouse(fresh) as conn:
        n = conn.execute("SELECT max(seq) FROM audit.publish_log").fetchone()[0]
        conn.execute("DELETE FROM audit.publish_log WHERE seq > ?", [n - 2])
    tampered(
        f"the publish log has {n - 2} entries, shorter than its last signed head (entry {n}",
        "entries were deleted",
    )


def test_log_emptied(fresh: settings.Paths):
    with warehouse(fresh) as conn:
        conn.execute("DELETE FROM audit.publish_log")
    tampered("the publish log has 0 entries, shorter than its last signed head", "entries were deleted")


def test_log_dropped(fresh: settings.Paths):
    with warehouse(fresh) as conn:
        conn.execute("DROP TABLE audit.publish_log")
    tampered("audit.publish_log is missing (dropped), but heads.jsonl has signed heads up to entry")


def test_warehouse_deleted(fresh: settings.Paths):
    for path in settings.warehouse_files(fresh.warehouse):
        if path.is_file():
            path.unlink()
    tampered(f"the warehouse is missing, but heads.jsonl has signed heads up to entry {ENTRIES}")


# --- 5: files the log never published ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        "data/enterprise_tiers/month=2023-03/data.parquet",  # a fake month the mart's view reads
        "versions/enterprise_tiers/month=2023-03/v0001.parquet",  # a fake month in the versions view
        "versions/enterprise_tiers/month=2023-02/v0002.parquet",  # a fake later version of a real month
    ],
)
def test_file_the_log_never_published(fresh: settings.Paths, extra: str):
    source = fresh.mart / "data/enterprise_tiers/month=2023-02/data.parquet"
    target = fresh.mart / extra
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    tampered(f"TAMPERED: {extra}: in the mart but not vouched for by the publish log")


def test_month_folder_symlinked_from_outside_the_mart(fresh: settings.Paths, tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copyfile(fresh.mart / "data/enterprise_tiers/month=2023-02/data.parquet", outside / "data.parquet")
    (fresh.mart / "data/enterprise_tiers/month=2023-03").symlink_to(outside, target_is_directory=True)
    with duckdb.connect(str(fresh.mart / tables.MART_FILE), read_only=True) as conn:
        served = conn.execute("SELECT count(*) FROM enterprise_tiers").fetchone()[0]
    with duckdb.connect(str(fresh.warehouse), read_only=True) as conn:
        published = conn.execute(
            "SELECT sum(rows) FROM audit.publish_log WHERE mart_table = 'enterprise_tiers'"
        ).fetchone()[0]
    assert served > published  # the analysts' view serves the unpublished month
    tampered("data/enterprise_tiers/month=2023-03: a symbolic link (to ")


# --- 6: the catalogue redefined ----------------------------------------------------------------------------


def test_view_redefined_to_hide_d_tier(fresh: settings.Paths):
    files = str((fresh.mart / "data/enterprise_tiers").resolve()) + "/month=*/data.parquet"
    comment = view_comment(fresh, "enterprise_tiers").replace("'", "''")
    catalog(
        fresh,
        "CREATE OR REPLACE VIEW enterprise_tiers AS SELECT * FROM read_parquet("
        f"'{files}', union_by_name = true, hive_partitioning = false) WHERE tier <> 'D'",
        f"COMMENT ON VIEW enterprise_tiers IS '{comment}'",
    )
    with duckdb.connect(str(fresh.mart / tables.MART_FILE), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM enterprise_tiers WHERE tier = 'D'").fetchone()[0] == 0
    tampered("mart.duckdb: view main.enterprise_tiers is not defined as the pipeline builds it", "WHERE (tier != 'D')")


def test_view_redefined_to_read_other_files(fresh: settings.Paths, tmp_path: Path):
    other = tmp_path / "other.parquet"
    table = pq.read_table(fresh.mart / "data/enterprise_tiers/month=2023-02/data.parquet")
    write_parquet(set_column(table, "tier", ["A"] * table.num_rows), other)
    comment = view_comment(fresh, "enterprise_tiers").replace("'", "''")
    catalog(
        fresh,
        f"CREATE OR REPLACE VIEW enterprise_tiers AS SELECT * FROM read_parquet('{other}')",
        f"COMMENT ON VIEW enterprise_tiers IS '{comment}'",
    )
    tampered(f"mart.duckdb: view main.enterprise_tiers reads files outside this home's mart ({other})")


def test_view_dropped(fresh: settings.Paths):
    catalog(fresh, "DROP VIEW enterprise_tiers")
    tampered("mart.duckdb: view main.enterprise_tiers is missing")


def test_object_added_to_the_catalogue(fresh: settings.Paths):
    catalog(fresh, "CREATE TABLE tier_overrides AS SELECT 'X' AS uscc, 'A' AS tier")
    tampered("mart.duckdb: table main.tier_overrides is not one the pipeline builds")


# --- 7: a fake month appended with every hash recomputed ----------------------------------------------------


@pytest.mark.parametrize("signature", ["copied", "random"])
def test_fake_month_appended_with_recomputed_hashes(fresh: settings.Paths, signature: str):
    mart = fresh.mart
    table = pq.read_table(mart / "data/enterprise_tiers/month=2023-02/data.parquet")
    table = set_column(table, "month", [dt.date(2023, 3, 1)] * table.num_rows)
    file = "versions/enterprise_tiers/month=2023-03/v0001.parquet"
    sha = write_parquet(table, mart / file, mart / "data/enterprise_tiers/month=2023-03/data.parquet")
    with warehouse(fresh) as conn:
        entries = log_entries(conn)
        last, tiers = entries[-1], next(e for e in reversed(entries) if e["mart_table"] == "enterprise_tiers")
        fake = {
            **tiers,
            "seq": last["seq"] + 1,
            "month": dt.date(2023, 3, 1),
            "file": file,
            "file_sha256": sha,
            "rows": table.num_rows,
            "fingerprint": hashlib.sha256(b"rows of 2023-03").hexdigest(),
            "published_at": last["published_at"] + dt.timedelta(days=30),
            "prev_hash": last["entry_hash"],
            "signature": last["signature"] if signature == "copied" else random_signature(),
        }
        fake["entry_hash"] = recomputed_hash(fake)
        insert_entry(conn, fake)
    out = tampered(
        f"publish log entry {fake['seq']}: not signed by key {signing.Verifier.from_hex(PUBLIC_KEY).key_id} "
        "(enterprise_tiers 2023-03): forged or written without the pipeline's key"
    )
    # The tamper itself was consistent: only the signature gives it away.
    assert "chain broken" not in out and "entry altered" not in out and "not vouched" not in out


# --- 8: a tier changed in a published file, every hash after it recomputed ----------------------------------


@pytest.mark.parametrize("heads", ["rewritten", "left"])
def test_tier_changed_with_every_hash_recomputed(fresh: settings.Paths, heads: str):
    mart = fresh.mart
    with warehouse(fresh) as conn:
        entries = log_entries(conn)
        target = next(e for e in entries if e["mart_table"] == "enterprise_tiers" and e["month"].month == 2)
        table = pq.read_table(mart / target["file"])
        tiers = table.column("tier").to_pylist()
        i = tiers.index("D")
        tiers[i] = "A"  # one D-tier enterprise made an A
        current = mart / "data/enterprise_tiers/month=2023-02/data.parquet"
        target["file_sha256"] = write_parquet(set_column(table, "tier", tiers), mart / target["file"], current)
        changed = rechain(conn, entries)
    assert sorted(changed) == [e["seq"] for e in entries if e["seq"] >= target["seq"]]
    path = heads_path(fresh)
    if heads == "rewritten":
        rewrite_heads(path, [{**d, "entry_hash": changed.get(d["seq"], d["entry_hash"])} for d in head_docs(path)])
    out = tampered(
        *[f"publish log entry {seq}: not signed by key" for seq in changed],
        *(
            [f"heads.jsonl line {seq}: signature does not verify" for seq in changed]
            if heads == "rewritten"
            else [f"publish log entry {seq} is not the one signed in heads.jsonl line {seq}" for seq in changed]
        ),
    )
    assert "chain broken" not in out and "entry altered" not in out and "content differs" not in out


# --- 9: the heads file -------------------------------------------------------------------------------------


def _remove_line(n: int):
    def edit(docs: list[dict]) -> list[dict]:
        return [d for i, d in enumerate(docs, start=1) if i != n]

    return edit


def _edit_signed_at(docs: list[dict]) -> list[dict]:
    docs[1]["signed_at"] = "2023-01-01T00:00:00"
    return docs


def _swap(docs: list[dict]) -> list[dict]:
    docs[2], docs[3] = docs[3], docs[2]
    return docs


def _forged_head(docs: list[dict]) -> list[dict]:
    fake = {**docs[-1], "seq": docs[-1]["seq"] + 1, "entry_hash": hashlib.sha256(b"fake").hexdigest()}
    return [*docs, fake]


def _head_moved(docs: list[dict]) -> list[dict]:
    docs[-1]["entry_hash"] = docs[-2]["entry_hash"]
    return docs


@pytest.mark.parametrize(
    ("edit", "rechained", "expected"),
    [
        (_remove_line(3), False, "heads.jsonl line 3: does not follow line 2 (heads removed, inserted or reordered)"),
        (_remove_line(1), False, "heads.jsonl line 1: does not follow line 0"),
        (_remove_line(3), True, "heads.jsonl line 3: signature does not verify"),
        (_swap, False, "heads.jsonl line 3: does not follow line 2"),
        (_swap, True, "heads.jsonl line 4: head seq 3 after seq 4 (signed heads only move forward)"),
        (_edit_signed_at, False, "heads.jsonl line 2: signature does not verify"),
        (_forged_head, True, f"heads.jsonl line {ENTRIES + 1}: signature does not verify"),
        (_head_moved, True, f"heads.jsonl line {ENTRIES}: signature does not verify"),
    ],
    ids=[
        "middle-removed",
        "first-removed",
        "middle-removed-rechained",
        "reordered",
        "reordered-rechained",
        "edited",
        "forged-appended",
        "last-redirected",
    ],
)
def test_heads_file_forged_or_line_removed(fresh: settings.Paths, edit, rechained: bool, expected: str):
    path = heads_path(fresh)
    assert [json.dumps(d, sort_keys=True) for d in head_docs(path)] == path.read_text(encoding="utf-8").splitlines()
    docs = edit(head_docs(path))
    if rechained:  # every `prev` recomputed: only the signatures give it away
        rewrite_heads(path, docs)
    else:  # the lines as they are (the pipeline writes them with sorted keys), edited or not
        path.write_text("".join(f"{json.dumps(d, sort_keys=True)}\n" for d in docs), encoding="utf-8")
    tampered(expected)


def test_heads_file_deleted(fresh: settings.Paths):
    heads_path(fresh).unlink()
    tampered(f"heads.jsonl: no signed head for a log of {ENTRIES} entries (the heads file is gone)")


def test_only_the_last_head_removed_is_a_crash_before_signing(fresh: settings.Paths, built: Built):
    """Indistinguishable from a publish killed after its (signed) entry and before its head: not a problem by
    itself; what it could hide, a truncated log, is caught by the head kept outside (test 12)."""
    path = heads_path(fresh)
    path.write_text("".join(f"{line}\n" for line in path.read_text(encoding="utf-8").splitlines()[:-1]))
    intact()
    intact(("verify", "--head", built.head))


# --- 10-11: plans re-drawn -----------------------------------------------------------------------------------


@pytest.mark.parametrize("commitment", ["new-with-old-signature", "old-kept"])
def test_plan_redrawn_with_a_new_seed(fresh: settings.Paths, tmp_path: Path, commitment: str):
    folder = fresh.plans / PLAN
    old_record = json.loads((folder / draw_protocol.COMMITMENT_FILE).read_text(encoding="utf-8"))
    old_plan = json.loads((folder / draw_protocol.PLAN_FILE).read_text(encoding="utf-8"))
    seed = draw_protocol.new_seed()
    record = (
        {**old_record, "seed_commitment": draw_protocol.commitment(seed)} if commitment != "old-kept" else old_record
    )
    new_plan = redraw(folder, seed, tmp_path, record)
    assert new_plan["seed"] != old_plan["seed"]
    if commitment != "old-kept":
        record_commitment(fresh, PLAN, record)  # the warehouse's record agrees with the forged package
        expected = f"commitment of {PLAN}: signature does not verify with key"
    else:
        expected = f"commitment.json: signed seed commitment {old_record['seed_commitment']} is not plan.json's"
    out = tampered(expected, argv=("verify-draw", PLAN))
    assert f"MISMATCH: {expected}" in out
    out = tampered(f"TAMPERED: plan {PLAN}: {expected}")
    if commitment == "old-kept":
        assert "the plan was re-drawn with another seed" in out


@pytest.mark.parametrize("commitment", ["signed-kept", "frame-hash-updated"])
def test_firm_dropped_from_the_frame_and_redrawn_with_the_same_seed(
    fresh: settings.Paths, tmp_path: Path, commitment: str
):
    folder = fresh.plans / PLAN
    old_record = json.loads((folder / draw_protocol.COMMITMENT_FILE).read_text(encoding="utf-8"))
    old_plan = json.loads((folder / draw_protocol.PLAN_FILE).read_text(encoding="utf-8"))
    dropped = read_csv(folder / draw_protocol.SELECTION_FILE)["uscc"].iloc[0]  # a selected firm: the sample changes
    frame = read_csv(folder / draw_protocol.FRAME_FILE)
    new_frame = frame[frame["uscc"] != dropped]
    record = old_record
    if commitment == "frame-hash-updated":
        record = {
            **old_record,
            "frame_sha256": hashlib.sha256(sampling_package.frame_csv(new_frame)).hexdigest(),
            "frame_rows": len(new_frame),
        }
    new_plan = redraw(folder, old_plan["seed"], tmp_path, record, drop_uscc=dropped)
    assert new_plan["seed"] == old_plan["seed"] and new_plan["strata"] != old_plan["strata"]
    assert dropped not in read_csv(folder / draw_protocol.SELECTION_FILE)["uscc"].tolist()
    if commitment == "signed-kept":
        frame_sha = sha256_file(folder / draw_protocol.FRAME_FILE)
        expected = f"frame.csv: SHA-256 {frame_sha} is not the frame signed before the draw"
        tampered(expected, "the frame was changed", argv=("verify-draw", PLAN))
    else:  # the commitment names the new frame, in the package and the warehouse: its signature cannot follow
        record_commitment(fresh, PLAN, record)
        expected = f"commitment of {PLAN}: signature does not verify with key"
        tampered(expected, argv=("verify-draw", PLAN))
    tampered(f"TAMPERED: plan {PLAN}: {expected}")


def test_plan_package_deleted(fresh: settings.Paths):
    shutil.rmtree(fresh.plans / PLAN)
    tampered(f"plan {PLAN}: committed in sampling.commitments but its package is missing")


def test_plan_package_deleted_behind_an_empty_pending_marker(fresh: settings.Paths):
    shutil.rmtree(fresh.plans / PLAN)
    marker = fresh.plans / ".pending" / f"{PLAN}.json"
    marker.parent.mkdir(exist_ok=True)
    marker.write_text("", encoding="utf-8")
    tampered(f"plan {PLAN}: committed in sampling.commitments but its package is missing (sampling.plan holds")


def test_plan_commitment_removed_from_the_warehouse(fresh: settings.Paths):
    with warehouse(fresh) as conn:
        conn.execute("DELETE FROM sampling.commitments WHERE plan_id = ?", [PLAN])
    tampered(f"plan {PLAN}: sampling.commitments has no commitment for {PLAN}: the plan was not drawn here")


# --- 12: the log truncated together with the heads file ------------------------------------------------------


def test_log_truncated_with_the_heads_file_is_caught_by_the_head_kept_outside(fresh: settings.Paths, built: Built):
    mart = fresh.mart
    with warehouse(fresh) as conn:
        last = log_entries(conn)[-1]
        assert last["entry_hash"] == built.head and last["version"] == 1
        conn.execute("DELETE FROM audit.publish_log WHERE seq = ?", [last["seq"]])
    month = last["month"].strftime("%Y-%m")
    for file in (mart / last["file"], mart / "data" / last["mart_table"] / f"month={month}" / "data.parquet"):
        shutil.rmtree(file.parent)  # the only version of that month: both folders go
    path = heads_path(fresh)
    kept = [line for line in path.read_text(encoding="utf-8").splitlines() if json.loads(line)["seq"] < last["seq"]]
    path.write_text("".join(f"{line}\n" for line in kept), encoding="utf-8")
    # Consistent: the log, its files, the catalogue and the signed heads agree, so plain verify passes ...
    intact()
    # ... but the head the operator kept outside the system is no longer in the log.
    tampered(
        f"head {built.head} kept outside the system is not in the publish log ({last['seq'] - 1} entries): "
        "the log was truncated or rewritten",
        argv=("verify", "--head", built.head),
    )


# --- 13: what a log entry records beside the content ---------------------------------------------------------


def test_entries_record_models_config_and_code(fresh: settings.Paths):
    registry = Registry(fresh.models)
    with warehouse(fresh) as conn:
        entries = log_entries(conn)
    tiers = [e for e in entries if e["mart_table"] == "enterprise_tiers"]
    assert len(tiers) == 2
    for e in entries:
        context = json.loads(e["context"])
        assert HEX64.match(context["config_sha256"]), context
        assert HEX64.match(context["code"]["source_sha256"]) and context["code"]["release"], context
        if e["mart_table"] != "enterprise_tiers":
            assert context["models"] == {}
            continue
        served = set(pq.read_table(fresh.mart / e["file"], columns=["model_version"]).column(0).to_pylist())
        assert set(context["models"]) == served and served, context["models"]
        for version, sha in context["models"].items():
            if sha is None:  # a scorecard: its version names the hash of its config file
                assert re.fullmatch(r"scorecard-v\S+-[0-9a-f]{12}", version), version
                with pytest.raises(RegistryError):
                    registry.entry(version)
            else:  # a registered model: the SHA-256 of its file in the registry
                assert HEX64.match(sha) and sha == registry.entry(version)["sha256"]


def test_context_rewritten_with_every_hash_recomputed(fresh: settings.Paths):
    with warehouse(fresh) as conn:
        entries = log_entries(conn)
        target = next(e for e in entries if e["mart_table"] == "enterprise_tiers")
        context = json.loads(target["context"])
        context["models"] = {"lightgbm-2023-01-forged": hashlib.sha256(b"another model").hexdigest()}
        context["config_sha256"] = hashlib.sha256(b"other config").hexdigest()
        target["context"] = json.dumps(context, sort_keys=True, ensure_ascii=False)
        changed = rechain(conn, entries)
    out = tampered(f"publish log entry {target['seq']}: not signed by key")
    assert "entry altered" not in out and "chain broken" not in out
    assert all(f"publish log entry {seq}: not signed by key" in out for seq in changed)
