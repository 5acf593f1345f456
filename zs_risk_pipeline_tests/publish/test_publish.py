"""Write-audit-publish: only audited content reaches the mart; readers are never blocked (写入—审计—发布)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from zs_risk_pipeline.lib.core import digest
from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.publish import catalog, tables, verify, wap

SPEC = tables.MART_TABLES["enterprise_features"]
T0 = dt.datetime(2024, 4, 1, 8, 0)


@pytest.fixture
def wh(tmp_path) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    conn.execute("CREATE SCHEMA features")
    conn.execute("CREATE TABLE features.enterprise_monthly (uscc VARCHAR, month DATE, x DOUBLE)")
    tables.prepare(conn)
    return conn


def write(conn, month: str, values: list[float]) -> None:
    conn.execute("DELETE FROM features.enterprise_monthly WHERE month = $m", {"m": Month.of(month).start})
    for i, v in enumerate(values):
        conn.execute(
            "INSERT INTO features.enterprise_monthly VALUES ($u, $m, $x)",
            {"u": f"U{i:03d}", "m": Month.of(month).start, "x": v},
        )


def audit(conn, month: str, passed: bool = True, checks=SPEC.required_checks) -> None:
    fp = tables.fingerprint(conn, SPEC, month)
    for name in checks:
        wap.record_audit(conn, SPEC, month, name, fp, passed, {"test": True}, at=T0)


def mart_rows(mart_dir, month: str) -> list[tuple]:
    with duckdb.connect(str(mart_dir / tables.MART_FILE), read_only=True) as r:
        return r.execute(
            "SELECT uscc, x FROM enterprise_features WHERE month = $m ORDER BY uscc", {"m": Month.of(month).start}
        ).fetchall()


def test_unaudited_month_is_refused_and_nothing_is_published(wh, tmp_path):
    write(wh, "2024-03", [1.0, 2.0])
    with pytest.raises(tables.PublishRefused, match="never ran"):
        wap.publish_month(wh, SPEC, "2024-03", tmp_path / "mart")
    assert not (tmp_path / "mart" / tables.MART_FILE).exists()


def test_passing_audit_publishes_and_a_failed_one_keeps_the_previous_version(wh, tmp_path):
    mart = tmp_path / "mart"
    write(wh, "2024-03", [1.0, 2.0])
    audit(wh, "2024-03")
    first = wap.publish_month(wh, SPEC, "2024-03", mart, at=T0)
    assert mart_rows(mart, "2024-03") == [("U000", 1.0), ("U001", 2.0)]

    write(wh, "2024-03", [9.0, 9.0, 9.0])  # a re-run whose checks fail
    audit(wh, "2024-03", passed=False, checks=SPEC.required_checks[:1])
    audit(wh, "2024-03", passed=True, checks=SPEC.required_checks[1:])
    with pytest.raises(tables.PublishRefused, match="failed"):
        wap.publish_month(wh, SPEC, "2024-03", mart)
    assert mart_rows(mart, "2024-03") == [("U000", 1.0), ("U001", 2.0)]
    assert first.file.read_bytes() and digest.sha256_file(first.file) == first.file_sha256


def test_content_changed_after_the_audit_is_refused(wh, tmp_path):
    write(wh, "2024-03", [1.0, 2.0])
    audit(wh, "2024-03")
    wh.execute("UPDATE features.enterprise_monthly SET x = 5 WHERE uscc = 'U000'")
    with pytest.raises(tables.PublishRefused, match="other content"):
        wap.publish_month(wh, SPEC, "2024-03", tmp_path / "mart")


def test_reader_held_open_across_a_publish(wh, tmp_path):
    mart = tmp_path / "mart"
    write(wh, "2024-03", [1.0])
    audit(wh, "2024-03")
    wap.publish_month(wh, SPEC, "2024-03", mart)
    reader = duckdb.connect(str(mart / tables.MART_FILE), read_only=True)
    assert reader.execute("SELECT count(*) FROM enterprise_features").fetchall() == [(1,)]

    write(wh, "2024-04", [3.0, 4.0])
    audit(wh, "2024-04")
    wap.publish_month(wh, SPEC, "2024-04", mart)  # must not wait for, or fail on, the open reader
    assert reader.execute("SELECT count(*) FROM enterprise_features WHERE month = DATE '2024-03-01'").fetchall() == [
        (1,)
    ]
    reader.close()
    assert mart_rows(mart, "2024-04") == [("U000", 3.0), ("U001", 4.0)]
    with duckdb.connect(str(mart / tables.MART_FILE), read_only=True) as r:
        comment = r.execute("SELECT comment FROM duckdb_views() WHERE view_name = 'enterprise_features'").fetchall()
        assert "企业月度特征" in comment[0][0]
        assert r.execute("SELECT count(*) FROM indicators").fetchall()[0][0] >= 40


def test_publishing_the_same_rows_gives_the_same_bytes_and_a_hash_chained_log(wh, tmp_path):
    write(wh, "2024-03", [1.0, 2.0])
    audit(wh, "2024-03")
    a = wap.publish_month(wh, SPEC, "2024-03", tmp_path / "m1", at=T0)
    # A mart without the logged version's file gets it back rewritten from the warehouse: the same bytes.
    b = wap.publish_month(wh, SPEC, "2024-03", tmp_path / "m2", at=T0)
    assert b.unchanged and a.file.read_bytes() == b.file.read_bytes()
    assert b.recovered == (
        "versions/enterprise_features/month=2024-03/v0001.parquet: logged version 1 was not in "
        "place; rewritten from the warehouse",
        "data/enterprise_features/month=2024-03/data.parquet: made current (version 1)",
        "mart.duckdb: rebuilt (it was missing or not as the code builds it)",
    )
    write(wh, "2024-04", [3.0])
    audit(wh, "2024-04")
    wap.publish_month(wh, SPEC, "2024-04", tmp_path / "m1", at=T0)
    log = wh.execute("SELECT seq, prev_hash, entry_hash FROM audit.publish_log ORDER BY seq").fetchall()
    assert log[0][1] == tables.GENESIS and log[1][1] == log[0][2]


def test_unchanged_publishes_compare_with_the_catalogue_built_once_and_still_repair_a_tampered_one(
    wh, tmp_path, monkeypatch
):
    mart = tmp_path / "mart"
    write(wh, "2024-03", [1.0, 2.0])
    audit(wh, "2024-03")
    wap.publish_month(wh, SPEC, "2024-03", mart, at=T0)
    scratch_builds = []
    real_build = catalog.build_catalog

    def counted(mart_dir, target=None):
        if target is not None:
            scratch_builds.append(target)
        return real_build(mart_dir, target)

    monkeypatch.setattr(catalog, "build_catalog", counted)
    for _ in range(3):  # a run's unchanged publishes: the expected catalogue is built once, not every time
        assert wap.publish_month(wh, SPEC, "2024-03", mart, at=T0).recovered == ()
    assert len(scratch_builds) == 1
    with duckdb.connect(str(mart / tables.MART_FILE)) as w:  # an insider hides rows behind the view
        w.execute("CREATE OR REPLACE VIEW enterprise_features AS SELECT 1 AS x")
    again = wap.publish_month(wh, SPEC, "2024-03", mart, at=T0)
    assert again.recovered == ("mart.duckdb: rebuilt (it was missing or not as the code builds it)",)
    assert mart_rows(mart, "2024-03") == [("U000", 1.0), ("U001", 2.0)]
    assert catalog.catalog_problems(mart) == []  # verify builds its own catalogue to compare with


def test_verify_names_a_tampered_file_and_a_rewritten_log_entry(wh, tmp_path):
    mart = tmp_path / "mart"
    for month, values in (("2024-03", [1.0]), ("2024-04", [2.0])):
        write(wh, month, values)
        audit(wh, month)
        wap.publish_month(wh, SPEC, month, mart)
    assert verify.verify(wh, mart) == []

    target = mart / "data" / "enterprise_features" / "month=2024-03" / "data.parquet"
    target.write_bytes(target.read_bytes() + b"x")
    wh.execute("UPDATE audit.publish_log SET rows = 99 WHERE seq = 2")
    problems = verify.verify(wh, mart)
    assert any("month=2024-03/data.parquet: content differs" in p for p in problems)
    assert any(p.startswith("publish log entry 2: entry altered") for p in problems)


def test_a_republished_month_is_a_new_version_and_the_old_one_stays_verifiable(wh, tmp_path):
    mart = tmp_path / "mart"
    write(wh, "2024-03", [1.0, 2.0])
    audit(wh, "2024-03")
    v1 = wap.publish_month(wh, SPEC, "2024-03", mart, at=T0)
    again = wap.publish_month(wh, SPEC, "2024-03", mart)  # a rerun that changed nothing
    assert (again.version, again.unchanged, again.entry_hash) == (1, True, v1.entry_hash)
    assert wh.execute("SELECT count(*) FROM audit.publish_log").fetchall() == [(1,)]

    write(wh, "2024-03", [1.0, 2.5])  # late results restate the month
    audit(wh, "2024-03")
    v2 = wap.publish_month(wh, SPEC, "2024-03", mart)
    assert (v2.version, v2.unchanged) == (2, False)
    assert v1.version_file.exists() and digest.sha256_file(v1.version_file) == v1.file_sha256
    assert digest.sha256_file(v2.file) == v2.file_sha256 != v1.file_sha256
    assert mart_rows(mart, "2024-03") == [("U000", 1.0), ("U001", 2.5)]
    with duckdb.connect(str(mart / tables.MART_FILE), read_only=True) as r:
        history = r.execute(
            "SELECT published_version, uscc, x FROM enterprise_features_versions ORDER BY ALL"
        ).fetchall()
    assert history == [(1, "U000", 1.0), (1, "U001", 2.0), (2, "U000", 1.0), (2, "U001", 2.5)]
    assert verify.verify(wh, mart) == []

    v1.version_file.write_bytes(v1.version_file.read_bytes()[:-1] + b"\x00")  # history rewritten
    problems = verify.verify(wh, mart)
    assert problems == [
        "versions/enterprise_features/month=2024-03/v0001.parquet: content differs from what entry 1 published "
        "(version 1)"
    ]


def test_the_current_file_must_be_the_latest_version(wh, tmp_path):
    mart = tmp_path / "mart"
    write(wh, "2024-03", [1.0])
    audit(wh, "2024-03")
    v1 = wap.publish_month(wh, SPEC, "2024-03", mart)
    write(wh, "2024-03", [2.0])
    audit(wh, "2024-03")
    v2 = wap.publish_month(wh, SPEC, "2024-03", mart)
    v2.file.unlink()
    v2.file.write_bytes(v1.version_file.read_bytes())  # someone puts the superseded version back
    assert verify.verify(wh, mart) == [
        "data/enterprise_features/month=2024-03/data.parquet: content differs from version 2, the current one (entry 2)"
    ]
    again = wap.publish_month(wh, SPEC, "2024-03", mart)  # the next publish restores it from its version
    assert again.unchanged and verify.verify(wh, mart) == []


def test_fingerprint_follows_content_not_storage_order(wh):
    write(wh, "2024-03", [1.0, 2.0, 2.0])
    first = tables.fingerprint(wh, SPEC, "2024-03")
    rows = wh.execute("SELECT * FROM features.enterprise_monthly ORDER BY uscc DESC").fetchall()
    wh.execute("DELETE FROM features.enterprise_monthly")
    wh.executemany("INSERT INTO features.enterprise_monthly VALUES (?, ?, ?)", rows)  # stored in reverse
    assert tables.fingerprint(wh, SPEC, "2024-03") == first
    write(wh, "2024-03", [2.0, 1.0, 2.0])  # the same values on other enterprises
    assert tables.fingerprint(wh, SPEC, "2024-03") != first
    write(wh, "2024-03", [1.0, 2.0, 2.0, 2.0])
    wh.execute("UPDATE features.enterprise_monthly SET uscc = 'U002' WHERE uscc = 'U003'")  # a duplicated row
    assert tables.fingerprint(wh, SPEC, "2024-03").sha256 != first.sha256


def test_a_log_from_before_versions_is_refused_not_rewritten(tmp_path):
    conn = duckdb.connect(str(tmp_path / "old.duckdb"))
    conn.execute("CREATE SCHEMA audit")
    conn.execute("CREATE TABLE audit.publish_log (seq BIGINT, mart_table VARCHAR, month DATE, file VARCHAR)")
    with pytest.raises(tables.PublishRefused, match="earlier release"):
        tables.prepare(conn)


def test_a_new_month_in_the_same_schema_keeps_the_catalogue_and_a_new_column_rebuilds_it(wh, tmp_path):
    """The views read every month's files by pattern: a new month needs no new catalogue, a changed schema does."""
    mart = tmp_path / "mart"

    def built() -> tuple[int, int]:
        st = (mart / tables.MART_FILE).stat()
        return st.st_ino, st.st_mtime_ns

    write(wh, "2024-03", [1.0, 2.0])
    audit(wh, "2024-03")
    wap.publish_month(wh, SPEC, "2024-03", mart, at=T0)
    first = built()
    write(wh, "2024-04", [3.0])
    audit(wh, "2024-04")
    wap.publish_month(wh, SPEC, "2024-04", mart, at=T0)
    assert built() == first  # the same file: not rebuilt
    assert mart_rows(mart, "2024-04") == [("U000", 3.0)]  # and the new month reads through the existing view
    assert catalog.catalog_problems(mart) == []  # still exactly the catalogue the code builds

    wh.execute("ALTER TABLE features.enterprise_monthly ADD COLUMN y DOUBLE")
    wh.execute("INSERT INTO features.enterprise_monthly VALUES ('U000', $m, 5, 6)", {"m": Month.of("2024-05").start})
    audit(wh, "2024-05")
    wap.publish_month(wh, SPEC, "2024-05", mart, at=T0)
    assert built() != first  # a new column: the catalogue is rebuilt and the view has it
    with duckdb.connect(str(mart / tables.MART_FILE), read_only=True) as r:
        columns = [c[0] for c in r.execute("DESCRIBE enterprise_features").fetchall()]
    assert columns[-1] == "y"
    assert catalog.catalog_problems(mart) == []


def test_the_catalogue_key_follows_the_home_it_guards(wh, tmp_path):
    write(wh, "2024-03", [1.0, 2.0])
    audit(wh, "2024-03")
    wap.publish_month(wh, SPEC, "2024-03", tmp_path / "a", at=T0)
    wap.publish_month(wh, SPEC, "2024-03", tmp_path / "b", at=T0)
    assert catalog.catalog_key(tmp_path / "a") != catalog.catalog_key(tmp_path / "b")
    assert catalog._built_key(tmp_path / "a") == catalog.catalog_key(tmp_path / "a")
