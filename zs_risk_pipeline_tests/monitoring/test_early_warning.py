"""Early warnings (预警) on a small hand-built warehouse: one test per rule (it fires for one firm and stays
silent for a near miss), point in time, config validation, the trigger-queue feed, determinism, the atomic
month replace, the blocking check and the Dagster asset."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from zs_risk_pipeline.lib.core.sql import run_sql
from zs_risk_pipeline.lib.ingest import staging
from zs_risk_pipeline.lib.monitoring import early_warnings
from zs_risk_pipeline.lib.publish import tables, wap
from zs_risk_pipeline.lib.sampling import task_lists
from zs_risk_pipeline_tests.conftest import materialize_on_copy, policy_file, yaml_variant

M = "2024-03"  # tier month; ends 2024-03-31
MAR, FEB, APR = dt.date(2024, 3, 1), dt.date(2024, 2, 1), dt.date(2024, 4, 1)
SOURCES = ("registry", "abnormal_list", "dishonest_list", "complaints", "inspections", "licenses")
_row = itertools.count(1)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def put(conn: duckdb.DuckDBPyConnection, table: str, delivered: dt.date, **cols: object) -> None:
    """One staged row as ingest would leave it (lineage columns filled)."""
    cols |= {"_delivery_month": delivered, "_source_file": "test", "_file_sha256": "test", "_row_number": next(_row)}
    conn.execute(
        f"INSERT INTO staging.{table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", list(cols.values())
    )


def tier(
    conn: duckdb.DuckDBPyConnection, uscc: str, mar: str | None, feb: str | None = None, model: str = "test"
) -> None:
    for month, t, version in ((MAR, mar, model), (FEB, feb, "test")):
        if t:
            conn.execute(
                "INSERT INTO tiers.enterprise_monthly (month, uscc, model_version, model_kind, score, probability, "
                "points, tier_by_score, tier) VALUES (?, ?, ?, 'scorecard', 0, 0.1, 0, ?, ?)",
                [month, uscc, version, t, t],
            )


def reg(conn, uscc: str, record_date: str, delivered: dt.date, rep: str | None = None, **changes: object) -> None:
    row = {
        "name": f"中山市{uscc}有限公司",
        "address": "中山市石岐街道一号",
        "registered_capital": 100,
        "status": "存续",
    }
    put(
        conn,
        "registry",
        delivered,
        uscc=uscc,
        entity_type="有限责任公司",
        industry_code="C3872",
        town_code="442000001",
        established_on=d("2015-01-01"),
        legal_rep_hash=rep or f"REP-{uscc}",
        record_date=d(record_date),
        **(row | changes),
    )


def listing(conn, table: str, uscc: str, action: str, reason: str, on: str, delivered: dt.date) -> None:
    put(conn, table, delivered, uscc=uscc, action=action, reason_code=reason, decided_on=d(on))


def complaints(conn, uscc: str, dates: list[str], delivered: dt.date | None = None) -> None:
    for on in dates:
        cid = f"C{next(_row)}"
        put(conn, "complaints", delivered or d(on).replace(day=1), complaint_id=cid, uscc=uscc, received_on=d(on))


def inspection(conn, uscc: str, on: str, codes: list[str], delivered: dt.date) -> None:
    put(
        conn,
        "inspections",
        delivered,
        task_id=f"T-{uscc}",
        uscc=uscc,
        inspected_on=d(on),
        trigger="random",
        result_codes=codes,
        problem_found=codes != ["NO_ISSUE"],
    )


def licence(conn, uscc: str, no: str, expires: str, delivered: dt.date, domain: str = "food", status: str = "有效"):
    put(
        conn,
        "licenses",
        delivered,
        license_no=no,
        uscc=uscc,
        domain=domain,
        issued_on=d("2019-05-01"),
        expires_on=d(expires),
        status=status,
    )


def build_city(conn: duckdb.DuckDBPyConnection) -> None:
    """Every rule's firing firm and near misses. Enterprises are named after their case."""
    staging.prepare(conn)
    for source in SOURCES:
        staging.stage(conn, source, M)  # nothing landed: the staging tables, empty
    run_sql(conn, "intermediate/tiers.enterprise_monthly.sql")
    # tier_jump: two steps or more up since February
    for uscc, mar, feb in [("JUMP-A-C", "C", "A"), ("JUMP-B-D", "D", "B"), ("STEP-A-B", "B", "A")]:
        tier(conn, uscc, mar, feb)
    tier(conn, "JUMP-MODEL", "C", "A", model="lgbm-new")  # in the month the serving model changed
    tier(conn, "NEW-D", "D")  # no February tier: nothing to jump from
    tier(conn, "DROP-D-A", "A", "D")
    # newly_listed
    listing(conn, "abnormal_list", "LIST-ABN", "in", "late_annual_report", "2024-03-10", MAR)
    listing(conn, "dishonest_list", "LIST-DIS", "in", "serious_food_safety", "2024-03-20", MAR)
    listing(conn, "abnormal_list", "LIST-AGAIN", "in", "late_annual_report", "2023-06-01", d("2023-06-01"))
    listing(conn, "abnormal_list", "LIST-AGAIN", "in", "false_info", "2024-03-05", MAR)  # already on the list
    listing(conn, "abnormal_list", "LIST-BACK", "in", "not_publicized", "2023-07-01", d("2023-07-01"))
    listing(conn, "abnormal_list", "LIST-BACK", "out", "not_publicized", "2024-02-10", FEB)  # removed, then
    listing(conn, "abnormal_list", "LIST-BACK", "in", "not_publicized", "2024-03-12", MAR)  # listed again
    listing(conn, "dishonest_list", "LIST-LATE", "in", "serious_market_order", "2024-03-25", APR)  # known in April
    listing(conn, "abnormal_list", "LIST-FEB", "in", "late_annual_report", "2024-02-20", FEB)
    for uscc in ("LIST-ABN", "LIST-DIS", "LIST-AGAIN", "LIST-BACK", "LIST-LATE", "LIST-FEB"):
        tier(conn, uscc, "C", "C")
    # complaint_spike: k = 6, factor 3, min_count 3
    trailing = ["2023-09-05", "2023-10-05", "2023-11-05", "2023-12-05", "2024-01-05", "2024-02-05"]
    complaints(conn, "SPIKE-3-0", ["2024-03-02", "2024-03-09", "2024-03-30"])
    complaints(conn, "CALM-2-0", ["2024-03-02", "2024-03-09"])
    complaints(conn, "SPIKE-3-6", [*trailing, "2023-08-15", "2024-03-02", "2024-03-09", "2024-03-30"])  # Aug: out
    complaints(conn, "CALM-3-7", [*trailing, "2024-02-06", "2024-03-02", "2024-03-09", "2024-03-30"])
    complaints(conn, "LATE-3", ["2024-03-02", "2024-03-09"])
    complaints(conn, "LATE-3", ["2024-03-30"], delivered=APR)
    for uscc in ("SPIKE-3-0", "CALM-2-0", "SPIKE-3-6", "CALM-3-7", "LATE-3"):
        tier(conn, uscc, "B", "B")
    # unreachable
    inspection(conn, "UNR-INSP", "2024-03-05", ["FOUND_PENDING", "UNREACHABLE"], MAR)
    listing(conn, "abnormal_list", "UNR-LIST", "in", "unreachable", "2024-03-15", MAR)
    inspection(conn, "UNR-FEB", "2024-02-28", ["UNREACHABLE"], FEB)
    inspection(conn, "UNR-LATE", "2024-03-30", ["UNREACHABLE"], APR)
    inspection(conn, "INSP-OTHER", "2024-03-05", ["FOUND_PENDING"], MAR)
    for uscc in ("UNR-INSP", "UNR-LIST", "UNR-FEB", "UNR-LATE", "INSP-OTHER"):
        tier(conn, uscc, "A", "A")
    # related_party_contagion: representatives R1 (a firm turned D), R2 (a firm D all along), R3 (a new D firm)
    jan = d("2023-01-01")
    for uscc, rep, mar, feb in [
        ("REP1-TURNED", "R1", "D", "B"),
        ("REP1-SIBLING", "R1", "A", "A"),
        ("REP1-ALSO-C", "R1", "C", "C"),
        ("REP1-ALREADY-D", "R1", "D", "D"),
        ("REP1-MOVED", "R1", "B", "B"),
        ("REP1-GONE", "R1", None, "B"),
        ("REP2-STILL-D", "R2", "D", "D"),
        ("REP2-SIBLING", "R2", "A", "A"),
        ("REP3-NEW-D", "R3", "D", None),
        ("REP3-SIBLING", "R3", "B", "B"),
    ]:
        reg(conn, uscc, "2023-01-01", jan, rep=rep)
        tier(conn, uscc, mar, feb)
    reg(conn, "REP1-MOVED", "2024-03-05", MAR, rep="R9")  # a new legal representative in March
    # licence_expiring within 30 days of 2024-03-31
    for uscc, no, expires, delivered, extra in [
        ("LIC-30", "L30", "2024-04-30", jan, {}),
        ("LIC-END", "LEND", "2024-03-31", jan, {}),
        ("LIC-31", "L31", "2024-05-01", jan, {}),
        ("LIC-RENEWED-OTHER", "LRO-1", "2024-04-10", jan, {}),
        ("LIC-RENEWED-OTHER", "LRO-2", "2029-04-09", MAR, {}),
        ("LIC-OTHER-DOMAIN", "LOD-1", "2024-04-10", jan, {}),
        ("LIC-OTHER-DOMAIN", "LOD-2", "2029-04-09", jan, {"domain": "drug"}),
        ("LIC-RENEWED-VERSION", "LRV", "2024-04-10", jan, {}),
        ("LIC-RENEWED-VERSION", "LRV", "2029-04-10", MAR, {}),
        ("LIC-RENEWED-LATE", "LRL", "2024-04-10", jan, {}),
        ("LIC-RENEWED-LATE", "LRL", "2029-04-10", APR, {}),
        ("LIC-REVOKED", "LRE", "2024-04-10", jan, {"status": "吊销"}),
    ]:
        licence(conn, uscc, no, expires, delivered, **extra)
    for uscc in ("LIC-30", "LIC-END", "LIC-31", "LIC-RENEWED-OTHER", "LIC-OTHER-DOMAIN", "LIC-RENEWED-VERSION"):
        tier(conn, uscc, "A", "A")
    for uscc in ("LIC-RENEWED-LATE", "LIC-REVOKED"):
        tier(conn, uscc, "A", "A")
    # registry_changes: 3 changes in the 6 months Oct 2023 - Mar 2024
    history = {
        "CHG-3": [
            ("2023-01-01", {}),
            ("2023-11-10", {"address": "新址"}),
            ("2024-01-15", {"rep": "X"}),
            ("2024-03-20", {"registered_capital": 500}),
        ],
        "CHG-2": [("2023-01-01", {}), ("2023-11-10", {"address": "新址"}), ("2024-03-20", {"registered_capital": 5})],
        "CHG-NEW": [("2023-12-01", {}), ("2024-01-10", {"address": "新址"}), ("2024-03-20", {"name": "新名"})],
        "CHG-SAME": [
            ("2023-01-01", {}),
            ("2023-11-10", {"address": "新址"}),
            ("2024-01-15", {"address": "新址"}),
            ("2024-03-20", {"address": "再迁"}),
        ],
        "CHG-OLD": [
            ("2023-01-01", {}),
            ("2023-09-30", {"address": "新址"}),
            ("2023-11-10", {"address": "再迁"}),
            ("2024-03-20", {"name": "新名"}),
        ],
        "CHG-LATE": [
            ("2023-01-01", {}),
            ("2023-11-10", {"address": "新址"}),
            ("2024-01-15", {"address": "再迁"}),
            ("2024-03-25", {"name": "新名"}),
        ],
    }
    for uscc, versions in history.items():
        state: dict[str, object] = {}
        for i, (on, change) in enumerate(versions):
            state |= change
            delivered = APR if uscc == "CHG-LATE" and i == 3 else d(on).replace(day=1)
            fields = {k: v for k, v in state.items() if k != "rep"}
            reg(conn, uscc, on, delivered, rep=str(state["rep"]) if "rep" in state else None, **fields)
        tier(conn, uscc, "B", "B")


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[duckdb.DuckDBPyConnection, Path]]:
    path = tmp_path_factory.mktemp("early_warning") / "warehouse.duckdb"
    conn = duckdb.connect(str(path))
    build_city(conn)
    early_warnings.build_early_warnings(conn, M, early_warnings.load_rules())
    yield conn, path
    conn.close()


@pytest.fixture
def conn(city) -> duckdb.DuckDBPyConnection:
    return city[0]


def fired(conn: duckdb.DuckDBPyConnection, rule: str) -> dict[str, dict]:
    rows = conn.execute(
        "SELECT uscc, evidence FROM monitoring.early_warnings WHERE month = $m AND rule = $r ORDER BY uscc",
        {"m": MAR, "r": rule},
    ).fetchall()
    return {u: json.loads(e) for u, e in rows}


def test_tier_jump(conn) -> None:
    got = fired(conn, "tier_jump")
    same = {"model_changed": False, "model_from": "test", "model_to": "test"}
    assert got["JUMP-A-C"] == {"from": "A", "to": "C", "levels": 2, **same}
    assert got["JUMP-B-D"] == {"from": "B", "to": "D", "levels": 2, **same}
    changed = {"model_changed": True, "model_from": "test", "model_to": "lgbm-new"}
    assert got["JUMP-MODEL"] == {"from": "A", "to": "C", "levels": 2, **changed}
    text = dict(
        conn.execute("SELECT uscc, evidence_zh FROM monitoring.early_warnings WHERE rule = 'tier_jump'").fetchall()
    )
    assert "模型已更换" in text["JUMP-MODEL"] and "模型" not in text["JUMP-A-C"]
    assert not {"STEP-A-B", "NEW-D", "DROP-D-A"} & set(got)  # one step, no previous tier, a drop


def test_newly_listed(conn) -> None:
    got = fired(conn, "newly_listed")
    abnormal = {"list": "abnormal", "reason_code": "late_annual_report", "decided_on": "2024-03-10"}
    assert got["LIST-ABN"] == {"listings": [abnormal]}
    assert got["LIST-DIS"]["listings"][0]["list"] == "dishonest"
    assert "LIST-BACK" in got  # removed in February, so not on the list at the end of February
    # already on the list, delivered only in April (not known at the end of March), listed in February
    assert not {"LIST-AGAIN", "LIST-LATE", "LIST-FEB"} & set(got)
    text = conn.execute("SELECT evidence_zh FROM monitoring.early_warnings WHERE uscc = 'LIST-DIS'").fetchall()
    assert "严重违法失信名单" in text[0][0]


def test_complaint_spike(conn) -> None:
    got = fired(conn, "complaint_spike")
    assert got["SPIKE-3-0"]["complaints"] == 3 and got["SPIKE-3-0"]["trailing_mean"] == 0
    assert got["SPIKE-3-6"]["trailing_mean"] == 1  # 3 >= 3 × 1; the August complaint is outside the 6 months
    # fewer than min_count; 3 < 3 × 7/6; the third complaint was delivered only in April
    assert not {"CALM-2-0", "CALM-3-7", "LATE-3"} & set(got)


def test_unreachable(conn) -> None:
    got = fired(conn, "unreachable")
    assert got["UNR-INSP"] == {
        "inspections": [{"task_id": "T-UNR-INSP", "inspected_on": "2024-03-05"}],
        "abnormal_listings": [],
    }
    assert got["UNR-LIST"]["abnormal_listings"] == [{"reason_code": "unreachable", "decided_on": "2024-03-15"}]
    # inspected in February, a result delivered in April, another finding, an abnormal listing for another reason
    assert not {"UNR-FEB", "UNR-LATE", "INSP-OTHER", "LIST-ABN"} & set(got)


def test_related_party_contagion(conn) -> None:
    got = fired(conn, "related_party_contagion")
    assert set(got) == {"REP1-SIBLING", "REP1-ALSO-C", "REP3-SIBLING"}
    turned = {"uscc": "REP1-TURNED", "name": "中山市REP1-TURNED有限公司", "from": "B", "to": "D"}
    assert got["REP1-SIBLING"] == {"firms_turned": [turned]}
    assert got["REP3-SIBLING"]["firms_turned"][0]["from"] is None  # new in March with D
    # not warned: the turned firm itself, a sibling D already, a firm whose representative changed in March, a
    # firm no longer tiered, and the sibling of a firm that was D in February too
    text = conn.execute("SELECT evidence_zh FROM monitoring.early_warnings WHERE uscc = 'REP1-SIBLING'").fetchall()
    assert "REP1-TURNED" in text[0][0]


def test_licence_expiring(conn) -> None:
    got = fired(conn, "licence_expiring")
    assert got["LIC-30"]["licences"] == [
        {"license_no": "L30", "domain": "food", "expires_on": "2024-04-30", "days_left": 30}
    ]
    assert got["LIC-END"]["licences"][0]["days_left"] == 0
    assert "LIC-OTHER-DOMAIN" in got  # a licence of another domain is no renewal
    assert "LIC-RENEWED-LATE" in got  # the renewal arrives only in April
    # 31 days away, renewed by another licence, renewed as a new version of the licence, revoked
    assert not {"LIC-31", "LIC-RENEWED-OTHER", "LIC-RENEWED-VERSION", "LIC-REVOKED"} & set(got)


def test_registry_changes(conn) -> None:
    got = fired(conn, "registry_changes")
    assert got == {
        "CHG-3": {
            "changes": 3,
            "window_months": 6,
            "changed_on": ["2023-11-10", "2024-01-15", "2024-03-20"],
            "fields": ["address", "capital", "legal_rep"],
        }
    }
    # two changes; the founding record is no change; a version repeating the previous state is no change; a
    # change before the window; a third change delivered only in April


def test_bad_rules_are_refused_naming_the_file_and_field(tmp_path: Path) -> None:
    cases = [
        (
            lambda doc: doc["rules"]["tier_jump"].update(severity="urgent"),
            r"rules\.tier_jump\.severity: must be one of 'high', 'medium' or 'low', got 'urgent'",
        ),
        (
            lambda doc: doc["rules"]["complaint_spike"]["thresholds"].pop("factor"),
            r"rules\.complaint_spike\.thresholds\.factor: is required",
        ),
        (
            lambda doc: doc["rules"]["complaint_spike"]["thresholds"].update(window=3),
            r"rules\.complaint_spike\.thresholds\.window: unknown key \(allowed: factor, min_count, trailing_months\)",
        ),
        (
            lambda doc: doc["rules"]["licence_expiring"]["thresholds"].update(days=-1),
            r"rules\.licence_expiring\.thresholds\.days: must be an integer in \[0, 366\], got -1",
        ),
        (
            lambda doc: doc["rules"]["licence_expiring"]["thresholds"].update(days=30.0),
            r"thresholds\.days: must be an integer, got 30\.0",
        ),
        (
            lambda doc: doc["rules"]["newly_listed"]["thresholds"].update(lists=["blacklist"]),
            r"lists: unknown \['blacklist'\]",
        ),
        (lambda doc: doc["rules"]["unreachable"]["thresholds"].update(inspection_codes=["GONE"]), "GONE"),
        (
            lambda doc: doc["rules"]["unreachable"]["thresholds"].update(inspection_codes=[], abnormal_reasons=[]),
            r"rules\.unreachable\.thresholds: inspection_codes and abnormal_reasons are both empty",
        ),
        (
            lambda doc: doc["rules"]["registry_changes"].update(suggested_action="check it"),
            r"rules\.registry_changes\.suggested_action: must be written in Chinese",
        ),
        (
            lambda doc: doc["rules"]["tier_jump"].update(enabled="yes"),
            r"rules\.tier_jump\.enabled: must be true or false",
        ),
        (lambda doc: doc["rules"].update(spam={}), r"rules\.spam: unknown key \(allowed: complaint_spike"),
        (lambda doc: doc["rules"].pop("unreachable"), r"rules\.unreachable: is missing \(switch a rule off"),
    ]
    default = early_warnings.load_rules()
    assert list(default) == list(early_warnings.RULES) and all(r.enabled for r in default.values())
    for edit, message in cases:
        path = yaml_variant(tmp_path, policy_file("warning_rules.yaml"), edit)
        with pytest.raises(early_warnings.WarningRulesError, match=r"^warning_rules\.yaml: .*" + message) as err:
            early_warnings.load_rules(path)
        assert isinstance(err.value, ValueError) and "\n" not in str(err.value)


def test_a_disabled_rule_is_silent_and_thresholds_apply(conn) -> None:
    rules = early_warnings.load_rules()
    rules["tier_jump"] = dataclasses.replace(rules["tier_jump"], enabled=False)
    rules["licence_expiring"] = dataclasses.replace(rules["licence_expiring"], thresholds={"days": 31})
    try:
        early_warnings.build_early_warnings(conn, M, rules)
        assert fired(conn, "tier_jump") == {}
        assert "LIC-31" in fired(conn, "licence_expiring")
    finally:
        early_warnings.build_early_warnings(conn, M, early_warnings.load_rules())


def test_only_a_and_b_warnings_feed_the_trigger_queue(conn) -> None:
    rows = conn.execute(
        "SELECT uscc, rule, tier, to_trigger_queue FROM monitoring.early_warnings WHERE month = $m", {"m": MAR}
    ).fetchall()
    assert rows and all(queued == (t in ("A", "B")) for _, _, t, queued in rows)
    assert {u for u, _, t, _ in rows if t == "C"} >= {"LIST-ABN", "JUMP-A-C"}  # warned, but not queued
    task_lists.build_trigger_queue(conn, M)
    queued = {
        u: (t, rules)
        for u, t, rules in conn.execute(
            "SELECT uscc, tier, rules FROM sampling.trigger_queue WHERE month = $m AND trigger_type = 'early_warning'",
            {"m": MAR},
        ).fetchall()
    }
    warned_ab = {u for u, _, t, _ in rows if t in ("A", "B")}
    assert set(queued) == warned_ab
    assert queued["LIC-30"] == ("A", ["licence_expiring"]) and queued["SPIKE-3-0"] == ("B", ["complaint_spike"])
    assert not {"LIST-ABN", "JUMP-A-C", "JUMP-B-D"} & set(queued)
    # the complaint triggers stay beside the warnings
    complaint = conn.execute(
        "SELECT triggers, channels IS NOT NULL, rules FROM sampling.trigger_queue "
        "WHERE uscc = 'SPIKE-3-0' AND trigger_type = 'complaint'"
    ).fetchall()
    assert complaint == [(3, True, None)]


def test_rebuild_gives_identical_rows_and_a_failure_keeps_the_month(conn) -> None:
    def stored() -> list[tuple]:
        return conn.execute("SELECT * FROM monitoring.early_warnings").fetchall()  # storage order too

    first = stored()
    early_warnings.build_early_warnings(conn, M, early_warnings.load_rules())
    assert stored() == first
    broken = early_warnings.load_rules()
    broken["registry_changes"] = dataclasses.replace(broken["registry_changes"], thresholds={})  # the last rule
    with pytest.raises(KeyError):
        early_warnings.build_early_warnings(conn, M, broken)
    assert stored() == first  # the rules that ran before the failure changed nothing


def test_well_formed_check_catches_broken_rows(conn) -> None:
    assert early_warnings.well_formed_violations(conn, M) == []
    conn.execute("CREATE TEMP TABLE _kept AS SELECT * FROM monitoring.early_warnings")
    try:
        conn.execute(
            "INSERT INTO monitoring.early_warnings SELECT * REPLACE ('{oops' AS evidence) FROM _kept "
            "WHERE uscc = 'LIC-30'"
        )
        conn.execute("UPDATE monitoring.early_warnings SET tier = 'B' WHERE uscc = 'JUMP-A-C'")
        conn.execute("UPDATE monitoring.early_warnings SET rule = 'gut_feeling' WHERE uscc = 'CHG-3'")
        problems = {(u, p.split(":")[0].split(" ")[0]) for u, _, p in early_warnings.well_formed_violations(conn, M)}
        assert {("LIC-30", "evidence"), ("LIC-30", "duplicate"), ("JUMP-A-C", "tier"), ("CHG-3", "unknown")} <= problems
        assert ("JUMP-A-C", "to_trigger_queue") in problems  # a B row must feed the queue
    finally:
        conn.execute("DELETE FROM monitoring.early_warnings")
        conn.execute("INSERT INTO monitoring.early_warnings SELECT * FROM _kept")
        conn.execute("DROP TABLE _kept")


def test_summary_lines(conn, tmp_path: Path) -> None:
    lines = early_warnings.summary_lines(conn, M)
    text = "\n".join(lines)
    total = conn.execute("SELECT count(*) FROM monitoring.early_warnings WHERE month = $m", {"m": MAR}).fetchall()
    assert f"{total[0][0]:,} warnings" in lines[0] and "trigger" in lines[0]
    assert all(rule in text for rule in early_warnings.RULES)
    assert "JUMP-A-C" in text and "风险分类由A类升至C类" in text  # an example: the first firm of a rule
    assert not any(word in text.lower() for word in ("score", "points", "probability"))
    assert early_warnings.summary_lines(conn, "2023-01") == ["Early warnings (预警) 2023-01: none"]
    duckdb.connect(str(tmp_path / "fresh.duckdb")).close()  # a warehouse where no warning was ever built
    with duckdb.connect(str(tmp_path / "fresh.duckdb"), read_only=True) as fresh:
        assert early_warnings.summary_lines(fresh, M) == ["Early warnings (预警) 2024-03: none"]


def test_asset_materialises_and_its_check_lets_the_month_publish(city, tmp_path: Path) -> None:
    from zs_risk_pipeline.defs.monitoring import early_warnings as defs

    conn, path = city
    result, copy = materialize_on_copy(
        conn, path, tmp_path, [defs.early_warnings, defs.early_warnings_well_formed], "2024-03-01"
    )
    assert result.success
    [check] = result.get_asset_check_evaluations()
    assert check.passed and check.check_name == "early_warnings_well_formed"
    md = result.get_asset_materialization_events()[0].materialization.metadata
    assert "| licence_expiring | low |" in md["warnings_by_rule"].value
    with duckdb.connect(str(copy)) as wh:
        rows = wh.execute("SELECT count(*) FROM monitoring.early_warnings WHERE month = $m", {"m": MAR}).fetchall()
        assert md["dagster/partition_row_count"].value == rows[0][0] > 0
        # the recorded verdict is what the publish requires
        published = wap.publish_month(wh, tables.MART_TABLES["early_warnings"], M, tmp_path / "mart")
        assert published.rows == rows[0][0]
