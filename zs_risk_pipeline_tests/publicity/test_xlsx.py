"""Excel copies of the exports for people: read back with openpyxl, every USCC (all-digit ones too) is the CSV's
text in a text cell, the header is frozen and filterable, and the same table gives the same bytes."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest

from zs_risk_pipeline.lib.core import xlsx
from zs_risk_pipeline.lib.ingest import uscc
from zs_risk_pipeline.lib.publicity import batches as publicity_batches
from zs_risk_pipeline.lib.publicity import export_files, export_rules
from zs_risk_pipeline.lib.sampling import frames, plan_policy, task_lists
from zs_risk_pipeline_tests.publicity import test_publicity as pub

ALL_DIGITS = "914420006627069697"  # Excel shows it as 9.1442000662707E+17 and keeps 15 digits
LETTERS = "91442000MA4UPQ7T2A"


def _sheet(path: Path | bytes) -> openpyxl.worksheet.worksheet.Worksheet:
    book = openpyxl.load_workbook(io.BytesIO(path) if isinstance(path, bytes) else path)
    assert len(book.worksheets) == 1
    return book.worksheets[0]


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _assert_like_csv(ws, csv: pd.DataFrame, counts: tuple[str, ...] = ()) -> None:
    """The sheet holds the CSV's table: same header, every cell the CSV's text in a text cell (counts: numbers)."""
    rows = list(ws.iter_rows())
    assert [c.value for c in rows[0]] == list(csv.columns)
    assert len(rows) == len(csv) + 1
    for j, name in enumerate(csv.columns):
        for i, cell in enumerate(r[j] for r in rows[1:]):
            expected = csv.iloc[i, j]
            if name in counts:
                assert (cell.data_type, cell.value) == ("n", int(expected)), (name, i)
            else:
                assert _text(cell.value) == expected, (name, i)
                assert cell.number_format == "@", (name, i)
                assert cell.data_type == "s" or (cell.value is None and expected == ""), (name, i)
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(csv.columns))}{len(csv) + 1}"


# --- the writer --------------------------------------------------------------------------------------------


def test_every_cell_is_text_and_the_header_frozen_and_filterable() -> None:
    assert uscc.is_valid(ALL_DIGITS)
    table = pd.DataFrame(
        {
            "任务序号": ["1", "2", "10"],
            "统一社会信用代码": [ALL_DIGITS, LETTERS, ""],
            "代码": ["0012", "2024-01-02", "=1+1"],  # leading zeros, a date as written, what looks like a formula
        }
    )
    data = xlsx.workbook_bytes(table, "任务清单 2023-04 石岐分局", dt.datetime(2023, 4, 1), counts={"任务序号"})
    ws = _sheet(data)
    assert ws.title == "任务清单 2023-04 石岐分局"
    _assert_like_csv(ws, table, counts=("任务序号",))
    assert ws["B2"].value == ALL_DIGITS and ws["C4"].value == "=1+1"  # text, never a formula
    widths = {k: v.width for k, v in ws.column_dimensions.items()}
    assert widths["B"] > widths["A"]  # sized to the codes


def test_the_same_table_gives_the_same_bytes() -> None:
    table = pd.DataFrame({"统一社会信用代码": [ALL_DIGITS, LETTERS]})
    day = dt.datetime(2024, 9, 1)
    assert xlsx.workbook_bytes(table, "s", day) == xlsx.workbook_bytes(table, "s", day)
    assert xlsx.workbook_bytes(table, "s", day) != xlsx.workbook_bytes(table, "s", dt.datetime(2024, 10, 1))
    assert _sheet(xlsx.workbook_bytes(table, "s", day)).parent.properties.created == day


def test_an_empty_table_keeps_its_header() -> None:
    ws = _sheet(xlsx.workbook_bytes(pd.DataFrame({"统一社会信用代码": []}, dtype=str), "s", dt.datetime(2024, 1, 1)))
    assert [c.value for c in next(ws.iter_rows())] == ["统一社会信用代码"] and ws.freeze_panes == "A2"


def test_names_and_writing_in_place(tmp_path: Path) -> None:
    assert xlsx.path_for(Path("a/石岐分局.utf8.csv")) == Path("a/石岐分局.xlsx")
    assert xlsx.path_for(Path("b/2024-09-14_inspections_20240913.gb18030.csv")).name == (
        "2024-09-14_inspections_20240913.xlsx"
    )
    assert xlsx.sheet_name("a/b:c*d?[e]" + "x" * 40) == ("a-b-c-d--e-" + "x" * 40)[:31]
    table = pd.DataFrame({"统一社会信用代码": [ALL_DIGITS]})
    target = tmp_path / "t.xlsx"
    xlsx.write(table, target, "s", dt.datetime(2024, 1, 1))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.xlsx"]  # no hidden file left
    assert target.read_bytes() == xlsx.workbook_bytes(table, "s", dt.datetime(2024, 1, 1))


# --- the branches' task lists ------------------------------------------------------------------------------

TIER_MONTH = "2023-03"  # the plans carried out in April 2023
TOWNS = ("442000001", "442000002")  # 石岐街道 → 石岐分局, 东区街道 → 东区分局


@pytest.fixture
def lists_conn() -> Iterator[duckdb.DuckDBPyConnection]:
    """The tables sql/intermediate/task_list.sql reads, with one all-digit USCC on each branch's list."""
    ids = [frames.plan_id(p, TIER_MONTH) for p in frames.plans_active(plan_policy.load_plans(), TIER_MONTH)]
    c = duckdb.connect()
    c.execute(
        "CREATE SCHEMA staging; CREATE TABLE staging.registry (uscc VARCHAR, name VARCHAR, address VARCHAR, "
        "town_code VARCHAR, _delivery_month DATE, record_date DATE, _source_file VARCHAR, _row_number BIGINT);"
        "CREATE SCHEMA sampling; CREATE TABLE sampling.plan (month DATE, plan_id VARCHAR, uscc VARCHAR, "
        "inspector_1 VARCHAR, inspector_2 VARCHAR, unassigned_reason VARCHAR, amendment VARCHAR)"
    )
    firms = [(ALL_DIGITS, TOWNS[0]), (LETTERS, TOWNS[0]), ("914420007000000007", TOWNS[1]), (pub.B, TOWNS[1])]
    for k, (code, town) in enumerate(firms):
        c.execute(
            "INSERT INTO staging.registry VALUES (?, ?, '中山市某路1号', ?, DATE '2023-01-01', DATE '2022-01-01', "
            "'r.csv', ?)",
            [code, f"中山市示例{k}有限公司", town, k],
        )
        c.execute(
            "INSERT INTO sampling.plan VALUES (DATE '2023-03-01', ?, ?, 'I0001', 'I0002', NULL, NULL)",
            [ids[k % len(ids)], code],
        )
    yield c
    c.close()


def test_task_lists_have_excel_copies_with_every_uscc_intact(
    lists_conn: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    configured = plan_policy.load_plans()
    counts = task_lists.write_task_lists(lists_conn, configured, TIER_MONTH, tmp_path)
    folder = tmp_path / "2023-04"
    assert counts == {"东区分局": 2, "石岐分局": 2}
    seen: set[str] = set()
    for branch in counts:
        csv = xlsx.read_text(folder / f"{branch}.utf8.csv", "utf-8-sig")
        ws = _sheet(folder / f"{branch}.xlsx")
        assert ws.title == f"任务清单 2023-04 {branch}"
        _assert_like_csv(ws, csv, counts=("任务序号",))
        seen |= {c.value for c in ws["D"][1:]}  # 统一社会信用代码
        # readable like the CSVs beside it: the exports keep the process's default modes
        assert (folder / f"{branch}.xlsx").stat().st_mode == (folder / f"{branch}.utf8.csv").stat().st_mode
    assert {ALL_DIGITS, "914420007000000007"} <= seen and len(seen) == 4
    before = {p.name: p.read_bytes() for p in folder.glob("*.xlsx")}
    task_lists.write_task_lists(lists_conn, configured, TIER_MONTH, tmp_path)  # a rerun: the same bytes
    assert {p.name: p.read_bytes() for p in folder.glob("*.xlsx")} == before
    assert not (folder / "superseded").exists()


def test_a_reissued_list_keeps_the_workbooks_issued_before(
    lists_conn: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    configured = plan_policy.load_plans()
    task_lists.write_task_lists(lists_conn, configured, TIER_MONTH, tmp_path)
    folder = tmp_path / "2023-04"
    issued = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    assert len([n for n in issued if n.endswith(".xlsx")]) == 2
    lists_conn.execute(
        "UPDATE sampling.plan SET inspector_2 = 'I0003', amendment = '回避' WHERE uscc = ?", [ALL_DIGITS]
    )
    task_lists.write_task_lists(lists_conn, configured, TIER_MONTH, tmp_path)
    kept = folder / "superseded" / "v1"
    assert {p.name: p.read_bytes() for p in kept.iterdir()} == issued  # the CSVs and the workbooks as issued
    ws = _sheet(folder / "石岐分局.xlsx")
    row = next(r for r in ws.iter_rows(min_row=2, values_only=True) if r[3] == ALL_DIGITS)
    assert "I0003" in row and "回避" in row


# --- the one-public export ---------------------------------------------------------------------------------


def _pub_warehouse(reverse: bool = False) -> duckdb.DuckDBPyConnection:
    """The one-public test warehouse, plus a result for an enterprise whose USCC is all digits."""
    c = duckdb.connect()
    pub.build(c, reverse=reverse)
    c.execute(
        "INSERT INTO staging.registry VALUES (?, '中山市全数字代码有限公司', DATE '2020-01-01', DATE '2024-01-01', "
        "'r.csv', 99)",
        [ALL_DIGITS],
    )
    row = ("MR-GENERAL-2024-09-00009", "MR-GENERAL-2024-09", ALL_DIGITS, "2024-09-04", "random", "未发现问题", "SCJGJ")
    file = "inspections/2024-09/inspections_20240906.csv"
    pub.deliver(c, file, [(*row, "2024-09-06")], ingested_at="2024-09-06 09:00:00")
    return c


@pytest.fixture
def pub_conn() -> Iterator[duckdb.DuckDBPyConnection]:
    c = _pub_warehouse()
    yield c
    c.close()


def _published_pairs(exports: Path) -> list[tuple[Path, Path]]:
    """(UTF-8 CSV, workbook) of the month's record and of every batch."""
    batches = sorted((export_files.folder_of(exports, pub.M) / export_rules.BATCH_DIR).glob("*.utf8.csv"))
    files = [export_files.file_paths(exports, pub.M)["utf8"], *batches]
    return [(f, xlsx.path_for(f)) for f in files]


def test_the_public_results_have_excel_copies_with_every_uscc_intact(
    pub_conn: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    pub.publish(pub_conn, pub.M, tmp_path)
    pairs = _published_pairs(tmp_path)
    assert len(pairs) == 1 + 4  # the month's record and its four batches
    for csv_path, book in pairs:
        csv = export_rules.read_export(csv_path, "utf8")
        ws = _sheet(book)
        _assert_like_csv(ws, csv)  # the contract's columns only: no tier, score or stratum
        assert tuple(c.value for c in ws[1]) == export_rules.EXPORT_COLUMNS
        values = {_text(c.value) for r in ws.iter_rows() for c in r}
        for secret in ("0.987654", "0.876543", "777", "机密原因XYZ", "D"):
            assert secret not in values
    month = _sheet(pairs[0][1])
    assert month.title == "检查结果公示 2024-09"
    assert ALL_DIGITS in {c.value for c in month["B"]}  # 统一社会信用代码, 18 digits as text
    assert month["B"][1:][0].data_type == "s"


def test_the_public_workbooks_are_byte_identical_on_rerun_and_follow_a_restated_month(
    pub_conn: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    pub.publish(pub_conn, pub.M, tmp_path / "a")
    first = {b: b.read_bytes() for _, b in _published_pairs(tmp_path / "a")}
    pub.publish(pub_conn, pub.M, tmp_path / "a")
    assert {b: b.read_bytes() for b in first} == first
    other = _pub_warehouse(reverse=True)  # another warehouse, the same deliveries in another order
    pub.publish(other, pub.M, tmp_path / "b")
    other.close()
    assert {b.relative_to(tmp_path / "b"): b.read_bytes() for _, b in _published_pairs(tmp_path / "b")} == {
        b.relative_to(tmp_path / "a"): data for b, data in first.items()
    }
    # a batch published before there were Excel copies gets one from its CSV, and only that one is written
    batch = sorted((export_files.folder_of(tmp_path / "a", pub.M) / export_rules.BATCH_DIR).glob("*.xlsx"))[0]
    untouched = {b: b.stat().st_mtime_ns for b in first if b != batch}
    batch.unlink()
    publicity_batches.publish_batches(pub_conn, pub.M, tmp_path / "a", now=pub.NOW)
    assert batch.read_bytes() == first[batch]
    assert {b: b.stat().st_mtime_ns for b in untouched} == untouched
    # late results restate the month: the workbook as published goes to superseded/ with its CSVs
    record = export_files.workbook_path(export_files.file_paths(tmp_path / "a", pub.M))
    row = ("MR-GENERAL-2024-09-00002", "MR-GENERAL-2024-09", pub.B, "2024-09-03", "random", "未发现问题", "SCJGJ")
    pub.deliver(pub_conn, "inspections/2024-09/i2.csv", [(*row, "2024-10-09")])
    pub.publish(pub_conn, pub.M, tmp_path / "a")
    kept = export_files.folder_of(tmp_path / "a", pub.M) / "superseded" / "v1"
    assert (kept / record.name).read_bytes() == first[record]
    assert record.read_bytes() != first[record]
    assert len(list(_sheet(record).iter_rows())) == len(list(_sheet(first[record]).iter_rows())) + 1
