"""Ingestion: normalisation, reason codes, reconciliation, idempotence, PII hashing (数据接入)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import duckdb
import pytest

from zs_risk_pipeline.lib.core import settings
from zs_risk_pipeline_tests.conftest import TEST_KEY, drop, ingest_month

REG_HEADER = (
    "uscc,name,entity_type,industry_code,town_code,registered_capital,established_on,status,"
    "status_changed_on,legal_rep_id,address,record_date"
)
GOOD = "91442000MA5L30P862"


def reg_row(
    uscc=GOOD,
    name="中山市古镇明辉灯饰有限公司",
    etype="有限责任公司",
    industry="C3872",
    town="442000105",
    capital="100",
    est="2015-06-01",
    status="存续",
    changed="",
    rep="44200019900101123X",
    addr="中山市古镇镇东兴路12号",
    rec="2024-03-01",
) -> str:
    return ",".join([uscc, name, etype, industry, town, capital, est, status, changed, rep, addr, rec])


def reasons(conn: duckdb.DuckDBPyConnection, source: str) -> dict[int, tuple[str, str]]:
    rows = conn.execute(
        "SELECT row_number, reason_code, column_name FROM quarantine.rows WHERE source = $s ORDER BY row_number",
        {"s": source},
    ).fetchall()
    return {r: (code, col) for r, code, col in rows}


def test_normalisable_values_are_staged_normalised(home, warehouse):
    rows = [
        reg_row(uscc="９１４４２０００ＭＡ５Ｌ３０Ｐ８６２"),  # full-width
        reg_row(uscc="91442000ma5774p354", est="2015年6月1日", capital='"1,200.50"'),  # lower case, Chinese date
        reg_row(uscc=" 91442000MA5MPWH24B ", est="2015/6/1", rec="20240302"),
    ]
    drop(home, "registry", "2024-03", "r.csv", "\n".join([REG_HEADER, *rows]) + "\n")
    _, rep = ingest_month(warehouse, home, "registry", "2024-03")
    assert rep.staged_rows == 3 and rep.quarantined_rows == 0
    got = warehouse.execute(
        "SELECT uscc, established_on::VARCHAR, registered_capital::VARCHAR, record_date::VARCHAR "
        "FROM staging.registry ORDER BY _row_number"
    ).fetchall()
    assert got == [
        (GOOD, "2015-06-01", "100.00", "2024-03-01"),
        ("91442000MA5774P354", "2015-06-01", "1200.50", "2024-03-01"),
        ("91442000MA5MPWH24B", "2015-06-01", "100.00", "2024-03-02"),
    ]


def test_each_defect_class_has_its_own_reason_code(home, warehouse):
    rows = [
        reg_row(),  # 1 fine
        reg_row(uscc="91442000MA5L30P863"),  # 2 bad check character
        reg_row(uscc="91442000MA5L30PO62"),  # 3 letter O is not in the character set
        reg_row(uscc="91442000MA5774P354", town="442000999"),  # 4 unknown town
        reg_row(uscc="91442000MA5MPWH24B", rec="2024-05-01"),  # 5 after the delivery month
        reg_row(uscc="92442000960013386G", name=""),  # 6 required value missing
        reg_row(),  # 7 exact duplicate of row 1
        reg_row(uscc="93442000MA5K0H6N7X", est="2024-02-30"),  # 8 impossible date
        reg_row(uscc="93442000MA5K0H6N7X", industry="C9999"),  # 9 division 99 is not manufacturing
        reg_row(uscc="93442000MA5K0H6N7X", status="营业"),  # 10 not a registry status
        reg_row(uscc="93442000MA5K0H6N7X", capital="abc"),  # 11 not a number
        "91442000MA5L30P862,too,few",  # 12 malformed
    ]
    drop(home, "registry", "2024-03", "r.csv", "\n".join([REG_HEADER, *rows]) + "\n")
    _, rep = ingest_month(warehouse, home, "registry", "2024-03")
    assert reasons(warehouse, "registry") == {
        2: ("uscc_checksum", "uscc"),
        3: ("uscc_format", "uscc"),
        4: ("unknown_town_code", "town_code"),
        5: ("future_date", "record_date"),
        6: ("missing_required", "name"),
        7: ("duplicate_key", "uscc, record_date"),
        8: ("bad_date", "established_on"),
        9: ("bad_industry_code", "industry_code"),
        10: ("bad_enum", "status"),
        11: ("bad_number", "registered_capital"),
        12: ("malformed_row", "*"),
    }
    assert rep.staged_rows == 1 and rep.quarantined_rows == 11 and rep.balanced
    msg = warehouse.execute("SELECT message FROM quarantine.rows WHERE row_number = 4").fetchall()[0][0]
    assert msg.startswith("registry/2024-03/r.csv: data row 4 (line 5), column town_code:")
    assert '"442000999"' in msg


def test_allow_listed_checksum_failure_is_staged(home, warehouse):
    warehouse.execute("INSERT INTO _uscc_allowlist VALUES ('91350203M0001QAY9B')")
    drop(home, "registry", "2024-03", "r.csv", f"{REG_HEADER}\n{reg_row(uscc='91350203M0001QAY9B')}\n")
    _, rep = ingest_month(warehouse, home, "registry", "2024-03")
    assert rep.staged_rows == 1


def test_rerunning_a_month_is_idempotent(home, warehouse):
    drop(home, "registry", "2024-03", "r.csv", "\n".join([REG_HEADER, reg_row(), reg_row(uscc="bad")]) + "\n")
    ingest_month(warehouse, home, "registry", "2024-03")
    first = warehouse.execute("SELECT * EXCLUDE (_ingested_at) FROM raw.registry ORDER BY ALL").fetchall()
    staged = warehouse.execute("SELECT * FROM staging.registry ORDER BY ALL").fetchall()
    _, rep = ingest_month(warehouse, home, "registry", "2024-03")
    assert warehouse.execute("SELECT * EXCLUDE (_ingested_at) FROM raw.registry ORDER BY ALL").fetchall() == first
    assert warehouse.execute("SELECT * FROM staging.registry ORDER BY ALL").fetchall() == staged
    assert (rep.raw_rows, rep.staged_rows, rep.quarantined_rows) == (2, 1, 1)
    assert warehouse.execute("SELECT count(*) FROM raw.landing_files").fetchall()[0][0] == 1


def test_the_same_bytes_are_never_ingested_twice(home, warehouse):
    body = f"{REG_HEADER}\n{reg_row()}\n"
    drop(home, "registry", "2024-03", "r.csv", body)
    drop(home, "registry", "2024-04", "r_again.csv", body)
    drop(home, "registry", "2024-04", "r_new.csv", f"{REG_HEADER}\n{reg_row(rec='2024-04-02')}\n")
    ingest_month(warehouse, home, "registry", "2024-03")
    files, rep = ingest_month(warehouse, home, "registry", "2024-04")
    by_name = {f.file.rsplit("/", 1)[1]: f for f in files}
    assert by_name["r_again.csv"].status == "duplicate_file"
    assert "registry/2024-03/r.csv" in by_name["r_again.csv"].error_message
    assert by_name["r_new.csv"].status == "ingested"  # the rest of the month still loads
    assert rep.staged_rows == 1


def test_unreadable_file_is_rejected_and_the_others_still_load(home, warehouse):
    drop(home, "penalties", "2024-03", "a_bad.csv", "case_no,decided_on\nX,2024-03-01\n")
    drop(
        home,
        "penalties",
        "2024-03",
        "b_good.csv",
        "case_no,uscc,decided_on,violation_type\nP1,91442000MA5L30P862,2024-03-01,x\n",
    )
    files, rep = ingest_month(warehouse, home, "penalties", "2024-03")
    assert [(f.status, f.error_code) for f in files] == [("rejected", "missing_column"), ("ingested", None)]
    assert "'uscc'" in files[0].error_message
    assert rep.staged_rows == 1 and rep.balanced


def test_case_numbers_repeated_in_a_later_delivery_are_quarantined(home, warehouse):
    drop(
        home,
        "penalties",
        "2024-03",
        "p.csv",
        "case_no,uscc,decided_on,violation_type\nP1,91442000MA5L30P862,2024-03-01,x\n",
    )
    drop(
        home,
        "penalties",
        "2024-04",
        "p.csv",
        "case_no,uscc,decided_on,violation_type\nP1,91442000MA5L30P862,2024-03-01,y\n",
    )
    ingest_month(warehouse, home, "penalties", "2024-03")
    _, rep = ingest_month(warehouse, home, "penalties", "2024-04")
    assert rep.quarantine[0]["reason_code"] == "duplicate_key"
    assert "already delivered in 2024-03" in rep.quarantine[0]["example"]


def test_personal_ids_are_stored_only_as_keyed_hashes(home, warehouse):
    rep_id = "44200019900101123X"
    drop(
        home,
        "registry",
        "2024-03",
        "r.csv",
        "\n".join([REG_HEADER, reg_row(rep=rep_id.lower()), reg_row(uscc="bad", rep=rep_id)]) + "\n",
    )
    ingest_month(warehouse, home, "registry", "2024-03")
    expected = hmac.new(TEST_KEY.encode(), rep_id.encode(), hashlib.sha256).hexdigest()
    assert warehouse.execute("SELECT legal_rep_hash FROM staging.registry").fetchall() == [(expected,)]
    assert warehouse.execute("SELECT legal_rep_id FROM raw.registry WHERE uscc = 'bad'").fetchall() == [(expected,)]
    warehouse.execute("CHECKPOINT")
    blob = home.warehouse.read_bytes()
    assert rep_id.encode() not in blob and rep_id.lower().encode() not in blob
    assert (
        warehouse.execute("SELECT count(*) FROM quarantine.rows WHERE raw_row::VARCHAR LIKE '%123X%'").fetchall()[0][0]
        == 0
    )


def test_pipeline_refuses_to_run_without_a_key(monkeypatch):
    monkeypatch.delenv(settings.PII_KEY_ENV, raising=False)
    with pytest.raises(settings.MissingSecretError, match=settings.PII_KEY_ENV):
        settings.pii_key()
    with pytest.raises(settings.MissingSecretError, match="at least"):
        settings.pii_key("short")


def test_registry_history_has_valid_from_and_valid_to(home, warehouse):
    drop(home, "registry", "2024-03", "r.csv", f"{REG_HEADER}\n{reg_row()}\n")
    drop(
        home,
        "registry",
        "2024-04",
        "r.csv",
        "\n".join(
            [
                REG_HEADER,
                reg_row(addr="中山市古镇镇新地址1号", rec="2024-04-10"),
                reg_row(status="注销", changed="2024-04-20", rec="2024-04-20"),
            ]
        ),
    )
    for m in ("2024-03", "2024-04"):
        ingest_month(warehouse, home, "registry", m)
    got = warehouse.execute(
        "SELECT valid_from::VARCHAR, valid_to::VARCHAR, status, address "
        "FROM staging.registry_history ORDER BY valid_from"
    ).fetchall()
    assert got == [
        ("2024-03-01", "2024-04-10", "存续", "中山市古镇镇东兴路12号"),
        ("2024-04-10", "2024-04-20", "存续", "中山市古镇镇新地址1号"),
        ("2024-04-20", None, "注销", "中山市古镇镇东兴路12号"),
    ]


def test_inspection_results_map_codes_and_chinese_wording(home, warehouse):
    header = "task_id,plan_id,uscc,inspected_on,trigger,result_codes,result_text"
    rows = [
        "T1,MR-GENERAL-2024-03,91442000MA5L30P862,2024-03-05,random,NO_ISSUE,未发现问题",
        "T2,,91442000MA5L30P862,2024-03-06,触发式,,发现问题已责令改正；通过登记的住所(经营场所)无法联系",
        "T3,,91442000MA5L30P862,2024-03-07,special,NOT_A_CODE,",
    ]
    drop(home, "inspections", "2024-03", "i.csv", "\n".join([header, *rows]) + "\n")
    _, rep = ingest_month(warehouse, home, "inspections", "2024-03")
    got = warehouse.execute(
        "SELECT task_id, trigger, result_codes, problem_found FROM staging.inspections ORDER BY task_id"
    ).fetchall()
    assert got == [
        ("T1", "random", ["NO_ISSUE"], False),
        ("T2", "triggered", ["FOUND_RECTIFIED", "UNREACHABLE"], True),
    ]
    assert rep.quarantine[0]["reason_code"] == "bad_result_code"


def test_recorded_on_is_typed_and_one_before_the_inspection_is_quarantined(home, warehouse):
    header = "task_id,uscc,inspected_on,trigger,result_codes,recorded_on"
    rows = [
        "T1,91442000MA5L30P862,2024-03-05,random,NO_ISSUE,2024-03-08",
        "T2,91442000MA5L30P862,2024-03-05,random,NO_ISSUE,2024年3月11日",  # Chinese date: normalised
        "T3,91442000MA5L30P862,2024-03-05,random,NO_ISSUE,",  # not sent: allowed, dated by ingestion later
        "T4,91442000MA5L30P862,2024-03-05,random,NO_ISSUE,2024-03-04",  # entered before the inspection
        "T5,91442000MA5L30P862,2024-03-05,random,NO_ISSUE,soon",
        "T6,91442000MA5L30P862,2024-03-05,random,NO_ISSUE,2024-05-06",  # a late delivery into its results' month
    ]
    drop(home, "inspections", "2024-03", "inspections_20240308.csv", "\n".join([header, *rows]) + "\n")
    _, rep = ingest_month(warehouse, home, "inspections", "2024-03")
    assert rep.balanced and rep.staged_rows == 4
    staged = warehouse.execute("SELECT task_id, recorded_on FROM staging.inspections ORDER BY task_id").fetchall()
    assert [(t, str(r) if r else None) for t, r in staged] == [
        ("T1", "2024-03-08"),
        ("T2", "2024-03-11"),
        ("T3", None),
        ("T6", "2024-05-06"),
    ]
    assert reasons(warehouse, "inspections") == {
        4: ("recorded_before_inspection", "recorded_on"),
        5: ("bad_date", "recorded_on"),
    }
    msg = warehouse.execute("SELECT message FROM quarantine.rows WHERE row_number = 4").fetchall()[0][0]
    assert msg.startswith("inspections/2024-03/inspections_20240308.csv: data row 4 (line 5), column recorded_on:")
    assert "before the inspection date 2024-03-05" in msg and '"2024-03-04"' in msg
    # The Chinese header 录入日期 is the alias of recorded_on.
    drop(
        home,
        "inspections",
        "2024-04",
        "i.csv",
        "任务编号,统一社会信用代码,检查日期,检查方式,检查结果代码,录入日期\n"
        "T7,91442000MA5L30P862,2024-04-01,random,NO_ISSUE,2024/4/3\n",
    )
    ingest_month(warehouse, home, "inspections", "2024-04")
    assert warehouse.execute("SELECT recorded_on FROM staging.inspections WHERE task_id = 'T7'").fetchall()[0][0] == (
        dt.date(2024, 4, 3)
    )


PLAN_HEADER = "plan_id,plan_name,department,kind,drawn_on,frame_size,sample_size,inclusion_probability"


def test_plans_compute_pi_for_random_draws_and_keep_a_delivered_one(home, warehouse):
    rows = [
        "MR-GENERAL-2024-03,2024年3月企业公示信息双随机抽查,SCJGJ,random,2024-03-01,400,8,",
        "MR-FOOD-2024-03-S1,食品经营双随机抽查(第一层),SCJGJ,双随机,2024年3月1日,1000,3,0.0025",  # delivered π
        "SP-FOOD-2024-03,食品安全专项检查,SCJGJ,专项,2024-03-04,50,5,",  # targeted: π not known
        'MR-PRODUCT-2024-03,,,Random,2024/3/1,"1,200",３,',  # thousands separator, full-width digit
    ]
    drop(home, "plans", "2024-03", "p.csv", "\n".join([PLAN_HEADER, *rows]) + "\n")
    _, rep = ingest_month(warehouse, home, "plans", "2024-03")
    assert rep.staged_rows == 4 and rep.quarantined_rows == 0 and rep.balanced
    got = warehouse.execute(
        "SELECT plan_id, kind, drawn_on::VARCHAR, frame_size, sample_size, inclusion_probability "
        "FROM staging.plans ORDER BY _row_number"
    ).fetchall()
    assert got == [
        ("MR-GENERAL-2024-03", "random", "2024-03-01", 400, 8, 8 / 400),
        ("MR-FOOD-2024-03-S1", "random", "2024-03-01", 1000, 3, 0.0025),  # kept, not recomputed (0.003)
        ("SP-FOOD-2024-03", "special", "2024-03-04", 50, 5, None),
        ("MR-PRODUCT-2024-03", "random", "2024-03-01", 1200, 3, 3 / 1200),
    ]


def test_bad_plan_counts_and_probabilities_are_quarantined_naming_the_column(home, warehouse):
    def row(pid, kind="random", drawn="2024-03-01", frame="100", sample="5", pi=""):
        return ",".join([pid, "", "SCJGJ", kind, drawn, frame, sample, pi])

    rows = [
        row("P1"),  # 1 fine
        row("P2", frame="abc"),  # 2 not a number
        row("P3", frame="0"),  # 3 nothing to draw from
        row("P4", frame="-5"),  # 4 negative
        row("P5", frame="10", sample="12"),  # 5 more drawn than there are
        row("P6", sample="2.5"),  # 6 not a whole number
        row("P7", pi="1.5"),  # 7 above 1
        row("P8", pi="0"),  # 8 a drawn enterprise had some chance
        row("P9", pi="abc"),  # 9 not a number
        row("P10", pi="NaN"),  # 10 not a probability
        row("P11", frame=""),  # 11 required
        row("P12", kind="targeted"),  # 12 neither random nor special
        row("P13", drawn="2024-05-01"),  # 13 after the delivery month
        row("P1"),  # 14 repeats the key of row 1
        row("P15", pi="-0.1"),  # 15 negative
        row("P16", sample="0"),  # 16 fine: a stratum may draw nobody
    ]
    drop(home, "plans", "2024-03", "p.csv", "\n".join([PLAN_HEADER, *rows]) + "\n")
    _, rep = ingest_month(warehouse, home, "plans", "2024-03")
    assert reasons(warehouse, "plans") == {
        2: ("bad_number", "frame_size"),
        3: ("bad_number", "frame_size"),
        4: ("bad_number", "frame_size"),
        5: ("bad_number", "sample_size"),
        6: ("bad_number", "sample_size"),
        7: ("bad_number", "inclusion_probability"),
        8: ("bad_number", "inclusion_probability"),
        9: ("bad_number", "inclusion_probability"),
        10: ("bad_number", "inclusion_probability"),
        11: ("missing_required", "frame_size"),
        12: ("bad_enum", "kind"),
        13: ("future_date", "drawn_on"),
        14: ("duplicate_key", "plan_id"),
        15: ("bad_number", "inclusion_probability"),
    }
    assert rep.staged_rows == 2 and rep.balanced
    messages = dict(
        warehouse.execute("SELECT row_number, message FROM quarantine.rows WHERE source = 'plans'").fetchall()
    )
    assert "column frame_size: frame size must be at least 1" in messages[3]
    assert "column sample_size: sample size exceeds frame_size (10)" in messages[5]
    assert 'column inclusion_probability: inclusion probability must lie in (0, 1] [value: "1.5"]' in messages[7]


def test_plan_numbers_repeated_in_a_later_delivery_are_quarantined(home, warehouse):
    drop(home, "plans", "2024-03", "p.csv", f"{PLAN_HEADER}\nMR-GENERAL-2024-03,,SCJGJ,random,2024-03-01,400,8,\n")
    drop(home, "plans", "2024-04", "p.csv", f"{PLAN_HEADER}\nMR-GENERAL-2024-03,,SCJGJ,random,2024-03-01,400,9,\n")
    ingest_month(warehouse, home, "plans", "2024-03")
    _, rep = ingest_month(warehouse, home, "plans", "2024-04")
    assert rep.quarantine[0]["reason_code"] == "duplicate_key"
    assert "already delivered in 2024-03" in rep.quarantine[0]["example"]


def test_inspector_without_branch_is_quarantined_not_a_crash(home, warehouse):
    # An empty branch used to slip past the town check (NULL <> 'city' is NULL) and break the NOT NULL column.
    header = "inspector_id,department,branch,qualifications,certificate_valid_until,active"
    rows = [
        "I1,SCJGJ,city,general,2024-12-31,1",
        "I2,SCJGJ,,general,2024-12-31,1",
        "I3,SCJGJ,442000001,food,2024-12-31,1",
    ]
    drop(home, "inspectors", "2024-03", "i.csv", "\n".join([header, *rows]) + "\n")
    ingest_month(warehouse, home, "inspectors", "2024-03")
    assert reasons(warehouse, "inspectors") == {2: ("missing_required", "branch")}
    staged = warehouse.execute("SELECT inspector_id, branch FROM staging.inspectors ORDER BY 1").fetchall()
    assert staged == [("I1", "city"), ("I3", "442000001")]
