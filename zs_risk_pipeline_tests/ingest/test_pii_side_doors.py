"""No personal ID number in clear anywhere (个人证件号不留明文): not in the text of malformed rows, not in
quarantine, not in rejection messages, not in the Dagster run history, not in the logs. Each one is there as
its keyed hash, so a row can still be traced to the person."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from zs_risk_pipeline.definitions import build_defs
from zs_risk_pipeline.lib.ingest import staging, uscc
from zs_risk_pipeline_tests.conftest import TEST_KEY, drop
from zs_risk_pipeline_tests.ingest.test_ingest import REG_HEADER, reg_row

MONTH = "2024-03"


def resident_id(first17: str) -> str:
    """A well-formed 18-character resident ID number (GB 11643 check character)."""
    total = sum(int(c) * w for c, w in zip(first17, uscc.ID_WEIGHTS, strict=True))
    return first17 + uscc.ID_CHECK[total % 11]


def code(first17: str) -> str:
    """A valid unified social credit code."""
    return first17 + uscc.check_char(first17)


def keyed_hash(value: str) -> str:
    """The hash the ID column gets (HMAC-SHA256 of the normalised value), computed independently."""
    return hmac.new(TEST_KEY.encode(), uscc.normalise(value).encode(), hashlib.sha256).hexdigest()


REP = resident_id("44200019850715331")  # legal representative of a row with one field too many
OLD = "442000850715332"  # an old 15-digit ID number, in the extra field of that row
BAD_ID = "4420001985O715333X"  # a mistyped ID (letter O) in the ID column of a row quarantined for its date
NUM_ID = resident_id("44200019700203441")  # delivered as a JSON number, not a string
BROKEN = resident_id("44200019661111552")  # in a JSON line that does not parse
NO_HEADER = resident_id("44200019771231663")[:17] + "X"  # in a file whose header is missing
CLEAR = (REP, OLD, BAD_ID, NUM_ID, BROKEN, NO_HEADER)


def forms(value: str) -> set[str]:
    return {value, value.lower()}


def _deliver(home) -> None:
    rows = [
        reg_row(uscc=code("91442000MA5L30P86")),
        reg_row(uscc=code("91442000MA5L30P87"), rep=REP) + "," + OLD,  # 13 fields for 12 columns
        reg_row(uscc=code("91442000MA5L30P88"), rep=BAD_ID, est="not a date"),
    ]
    drop(home, "registry", MONTH, "r.csv", "\n".join([REG_HEADER, *rows]) + "\n")
    good = dict(zip(REG_HEADER.split(","), reg_row(uscc=code("91442000MA5L30P89")).split(","), strict=True))
    good["legal_rep_id"] = int(NUM_ID)
    broken = json.dumps({**good, "uscc": code("91442000MA5L30P8A"), "legal_rep_id": BROKEN}, ensure_ascii=False)
    drop(home, "registry", MONTH, "r.jsonl", json.dumps(good, ensure_ascii=False) + "\n" + broken[:-1] + "\n")
    drop(home, "registry", MONTH, "s.csv", reg_row(uscc=code("91442000MA5L30P8B"), rep=NO_HEADER) + "\n")


def _materialise(tmp_path: Path) -> tuple[dg.ExecuteInProcessResult, list[str]]:
    """The registry's raw and staging assets (and their checks) for one month, as a run in the UI does,
    with the run history in SQLite files; returns the result and the whole event log as text."""
    selection = dg.AssetSelection.assets(dg.AssetKey(["raw", "registry"]), dg.AssetKey(["staging", "registry"]))
    job = dg.define_asset_job("registry_month", selection=selection)
    defs = dg.Definitions.merge(build_defs(), dg.Definitions(jobs=[job]))
    storage = tmp_path / "dagster_storage"
    storage.mkdir()
    with dg.instance_for_test(temp_dir=str(storage)) as instance:
        result = defs.resolve_job_def("registry_month").execute_in_process(
            partition_key=f"{MONTH}-01", instance=instance
        )
        events = [dg.serialize_value(e) for e in instance.all_logs(result.run_id)]
    return result, events


def _warehouse_text(conn: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Every value of every column of every table and view in the warehouse, as text, by table.column."""
    cols = conn.execute(
        "SELECT table_schema, table_name, column_name FROM information_schema.columns "
        "WHERE table_catalog = current_database() ORDER BY ALL"
    ).fetchall()
    out = {}
    for schema, table, column in cols:
        values = conn.execute(
            f'SELECT DISTINCT "{column}"::VARCHAR FROM "{schema}"."{table}" WHERE "{column}" IS NOT NULL'
        ).fetchall()
        out[f"{schema}.{table}.{column}"] = [v for (v,) in values]
    return out


def test_personal_ids_are_nowhere_in_clear_but_traceable_by_their_hash(home, tmp_path, caplog, capfd):
    _deliver(home)
    caplog.set_level(logging.DEBUG)
    result, events = _materialise(tmp_path)
    assert result.success
    logged = caplog.text + "".join(capfd.readouterr())

    # nowhere in clear: the warehouse (every column of every table), its file, the run history, the logs
    with duckdb.connect(str(home.warehouse)) as conn:
        stored = _warehouse_text(conn)
        conn.execute("CHECKPOINT")
        quarantine = conn.execute(
            "SELECT source_file, row_number, line_number, reason_code, column_name, message, raw_row "
            "FROM quarantine.rows ORDER BY source_file, row_number"
        ).fetchall()
        raw_lines = conn.execute(
            "SELECT _source_file, _row_number, _raw_line FROM raw.registry WHERE _raw_line IS NOT NULL ORDER BY ALL"
        ).fetchall()
        staged = {r[0] for r in conn.execute("SELECT legal_rep_hash FROM staging.registry").fetchall()}
        rejected = conn.execute(
            "SELECT file, error_code, error_message FROM raw.landing_files WHERE status = 'rejected'"
        ).fetchall()
    warehouse_bytes = home.warehouse.read_bytes()
    storage = {p: p.read_bytes() for p in (tmp_path / "dagster_storage").rglob("*") if p.is_file()}
    assert storage, "the run history was not written to disk"
    for clear in CLEAR:
        for form in forms(clear):
            leaks = [col for col, values in stored.items() if any(form in v for v in values)]
            assert not leaks, f"{form} in clear in {leaks}"
            assert form.encode() not in warehouse_bytes
            assert not [p.name for p, data in storage.items() if form.encode() in data], form
            assert not [e for e in events if form in e], form
            assert form not in logged

    # ... and each one is there as its hash, on a row that says why it was quarantined
    by_row = {(q[0], q[1]): q for q in quarantine}
    malformed = by_row[("registry/2024-03/r.csv", 2)]
    assert malformed[2:5] == (3, "malformed_row", "*")
    assert malformed[5].startswith("registry/2024-03/r.csv: data row 2 (line 3), column *: ")
    for h in (keyed_hash(REP), keyed_hash(OLD)):
        assert h in malformed[5] and h in malformed[6]
    assert {(f, r): t for f, r, t in raw_lines}[("registry/2024-03/r.csv", 2)].endswith("," + keyed_hash(OLD))
    bad_date = by_row[("registry/2024-03/r.csv", 3)]
    assert bad_date[3:5] == ("bad_date", "established_on")
    assert json.loads(bad_date[6])["legal_rep_id"] == keyed_hash(BAD_ID)
    broken = by_row[("registry/2024-03/r.jsonl", 2)]
    assert broken[3] == "malformed_row" and keyed_hash(BROKEN) in broken[5]
    assert keyed_hash(NUM_ID) in staged  # the JSON number is hashed like the string it stands for
    assert len(quarantine) == 3 and len(staged) == 2  # 5 rows read, none lost
    assert [(f, c) for f, c, _ in rejected] == [("registry/2024-03/s.csv", "missing_column")]
    assert keyed_hash(NO_HEADER) in rejected[0][2]

    md = {m.asset_key.to_user_string(): m.materialization.metadata for m in result.get_asset_materialization_events()}
    assert keyed_hash(NO_HEADER) in md["raw/registry"]["rejected_files"].value[0]
    assert "malformed_row" in md["staging/registry"]["quarantine_by_reason"].value
    evals = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert evals["raw_equals_staged_plus_quarantined"].passed


@pytest.mark.parametrize(
    "text,ids",
    [
        (f"a,{REP},b", [REP]),
        (f"a,{REP.lower()},b", [REP]),  # a lower-case x hashes like the upper-case column value
        (f"x{OLD}y", [OLD]),  # the old 15-digit form, even glued to letters
        ("".join(chr(ord(c) + 0xFEE0) for c in REP), [REP]),  # full-width digits
        (f"{REP};{NUM_ID}", [REP, NUM_ID]),
        ("91442000MA5L30P862,12345678901234,2024-03-01", []),  # a USCC, short numbers and dates stay
    ],
)
def test_scrub_replaces_id_tokens_by_the_hash_of_the_id_column(warehouse, text, ids):
    out = staging.scrub_pii(warehouse, text)
    for i in ids:
        assert i not in out and i.lower() not in out
        assert keyed_hash(i) in out
        assert warehouse.execute("SELECT zs_pii_hash($v)", {"v": i}).fetchone()[0] == keyed_hash(i)
    if not ids:
        assert out == text
    assert staging.scrub_pii(warehouse, out) == out  # a hash already in the text stays as it is
