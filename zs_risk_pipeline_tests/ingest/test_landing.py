"""Reading landing files: encodings, headers, whole-file rejection, malformed rows (落地文件读取)."""

from __future__ import annotations

import codecs
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from zs_risk_pipeline.lib.ingest import landing
from zs_risk_pipeline.lib.ingest.contract import source
from zs_risk_pipeline_tests.conftest import drop

PENALTY_HEADER = "case_no,uscc,decided_on,violation_type,amount,severity"
PENALTY_ROW = "中市监罚〔2024〕1号,91442000MA5L30P862,2024-03-05,无照经营,5000,一般"


def _read(home, src: str, month: str = "2024-03"):
    files = landing.list_files(home.landing, src, month)
    assert len(files) == 1
    return files[0], landing.read_file(files[0], source(src))


@pytest.mark.parametrize(
    "encoding,prefix,expected",
    [("utf-8", b"", "utf-8"), ("utf-8", codecs.BOM_UTF8, "utf-8-sig"), ("gb18030", b"", "gb18030")],
)
def test_csv_encodings_are_detected(home, encoding, prefix, expected):
    drop(home, "penalties", "2024-03", "p.csv", prefix + f"{PENALTY_HEADER}\n{PENALTY_ROW}\n".encode(encoding))
    _, result = _read(home, "penalties")
    assert result.encoding == expected
    assert result.table.column("case_no").to_pylist() == ["中市监罚〔2024〕1号"]
    assert result.table.column("violation_type").to_pylist() == ["无照经营"]


def test_chinese_headers_map_to_contract_names_and_extra_columns_are_kept(home):
    header = "决定书文号,统一社会信用代码,处罚决定日期,违法行为类型,备注"
    drop(
        home, "penalties", "2024-03", "p.csv", f"{header}\n中市监罚〔2024〕1号,91442000MA5L30P862,2024-03-05,x,备注一\n"
    )
    _, result = _read(home, "penalties")
    t = result.table
    assert t.column("uscc").to_pylist() == ["91442000MA5L30P862"]
    assert t.column("amount").to_pylist() == [None]  # optional column absent → NULL, not an error
    assert json.loads(t.column("_extra")[0].as_py()) == {"备注": "备注一"}


def test_missing_required_column_rejects_whole_file_naming_file_and_column(home):
    drop(home, "penalties", "2024-03", "p.csv", "case_no,decided_on,violation_type\nA,2024-03-05,x\n")
    f = landing.list_files(home.landing, "penalties", "2024-03")[0]
    with pytest.raises(landing.FileRejected) as e:
        landing.read_file(f, source("penalties"))
    assert e.value.code == "missing_column"
    assert "penalties/2024-03/p.csv" in e.value.message and "'uscc'" in e.value.message


def test_trailing_unnamed_columns_of_a_spreadsheet_are_kept_in_raw_not_a_rejection(home):
    # What a spreadsheet saves after the last named column: empty headers, empty cells.
    drop(home, "penalties", "2024-03", "p.csv", f"{PENALTY_HEADER},,,\n{PENALTY_ROW},,,\n{PENALTY_ROW},,x,\n")
    _, result = _read(home, "penalties")
    t = result.table
    assert t.column("uscc").to_pylist() == ["91442000MA5L30P862"] * 2  # every row loads
    extra = [json.loads(v) for v in t.column("_extra").to_pylist()]
    assert extra == [
        {"_unnamed_7": "", "_unnamed_8": "", "_unnamed_9": ""},
        {"_unnamed_7": "", "_unnamed_8": "x", "_unnamed_9": ""},
    ]


def test_a_header_that_really_repeats_a_contract_column_is_still_rejected(home):
    drop(home, "penalties", "2024-03", "p.csv", f"{PENALTY_HEADER},uscc\n{PENALTY_ROW},x\n")
    f = landing.list_files(home.landing, "penalties", "2024-03")[0]
    with pytest.raises(landing.FileRejected) as e:
        landing.read_file(f, source("penalties"))
    assert e.value.code == "duplicate_column" and "'uscc' appears twice" in e.value.message


def test_a_title_line_above_the_header_names_every_missing_required_column(home):
    title = "中山市市场监督管理局行政处罚信息（2024年3月）,,,,,"
    drop(home, "penalties", "2024-03", "p.csv", f"{title}\n{PENALTY_HEADER}\n{PENALTY_ROW}\n")
    f = landing.list_files(home.landing, "penalties", "2024-03")[0]
    with pytest.raises(landing.FileRejected) as e:
        landing.read_file(f, source("penalties"))
    assert e.value.code == "missing_column"
    required = [c.name for c in source("penalties").columns if c.required]
    assert len(required) > 1 and all(f"'{name}'" in e.value.message for name in required)
    assert "line 2 is a header: remove the title line above it" in e.value.message


@pytest.mark.parametrize(
    "content,code",
    [
        (b"", "empty_file"),
        (bytes(range(256)) * 4, "binary_file"),
        (b"\n\n", "empty_file"),
    ],
)
def test_unreadable_files_are_rejected_whole(home, content, code):
    drop(home, "penalties", "2024-03", "p.csv", content)
    f = landing.list_files(home.landing, "penalties", "2024-03")[0]
    with pytest.raises(landing.FileRejected) as e:
        landing.read_file(f, source("penalties"))
    assert e.value.code == code
    assert "penalties/2024-03/p.csv" in e.value.message


def test_malformed_rows_are_kept_with_their_line_numbers(home):
    body = f"{PENALTY_HEADER}\n{PENALTY_ROW}\nonly,three,fields\n\n{PENALTY_ROW.replace('1号', '2号')}\n"
    drop(home, "penalties", "2024-03", "p.csv", body)
    _, result = _read(home, "penalties")
    t = result.table.to_pydict()
    assert t["_row_number"] == [1, 2, 3]
    assert t["_line_number"] == [2, 3, 5]  # the blank line 4 is not a data row
    assert t["_raw_line"] == [None, "only,three,fields", None]


def test_parquet_and_json_lines(home):
    table = pa.table(
        {
            "license_no": ["L1"],
            "uscc": ["91442000MA5L30P862"],
            "domain": ["food"],
            "issued_on": pa.array([19000], pa.date32()),
            "expires_on": [None],
        }
    )
    path = home.landing / "licenses" / "2024-03"
    path.mkdir(parents=True)
    pq.write_table(table, path / "l.parquet")
    _, result = _read(home, "licenses")
    assert result.table.column("issued_on").to_pylist() == ["2022-01-08"]

    lines = [
        json.dumps(
            {"complaint_id": "C1", "uscc": "91442000MA5L30P862", "received_on": "2024-03-02", "substantiated": True},
            ensure_ascii=False,
        ),
        "{broken",
        "",
    ]
    drop(home, "complaints", "2024-03", "c.jsonl", "\n".join(lines))
    _, result = _read(home, "complaints")
    t = result.table.to_pydict()
    assert t["complaint_id"] == ["C1", None]
    assert t["substantiated"] == ["true", None]
    assert t["_raw_line"] == [None, "{broken"]
    assert t["_line_number"] == [1, 2]


def test_an_empty_json_lines_file_is_a_delivery_without_rows(home):
    # JSON Lines has no header, so a source reporting "nothing this month" sends an empty file (config/deliveries)
    drop(home, "complaints", "2024-03", "c.jsonl", b"")
    f = landing.list_files(home.landing, "complaints", "2024-03")[0]
    result = landing.read_file(f, source("complaints"))
    assert result.table.num_rows == 0
    assert {c.name for c in source("complaints").columns} <= set(result.table.column_names)
