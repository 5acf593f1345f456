"""The synthetic Zhongshan: layout, determinism, realism, ground truth, encodings and injected defects."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import zs_risk_synth as synth
from zs_risk_pipeline.lib.core import workdays
from zs_risk_pipeline.lib.ingest import uscc
from zs_risk_pipeline.lib.ingest.contract import REFERENCE_DIR, sources
from zs_risk_synth import late

START = "2023-01"
LIGHTING = ("C3871", "C3872", "C3873", "C3874", "C3879")
FORMAT = {"complaints": "jsonl", "licenses": "parquet"}


def _run(root: Path, **kw) -> dict:
    args = {"enterprises": 3000, "months": 6, "start": START, "seed": 11} | kw
    return synth.generate(root / "landing", root / "truth", **args)


def _read(path: Path, encoding: str = "utf-8") -> pd.DataFrame:
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
    if path.suffix == ".jsonl":
        return pd.DataFrame([json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()])
    return pq.read_table(path).to_pandas()


def _all(landing: Path, name: str, encoding: str = "utf-8") -> pd.DataFrame:
    frames = []
    for f in sorted(landing.glob(f"{name}/*/*")):
        df = _read(f, encoding)
        df["_month"] = f.parent.name
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def _hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("small")
    _run(root)
    return root


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A larger city for the statistical checks (a year, 20,000 entities)."""
    root = tmp_path_factory.mktemp("city")
    summary = _run(root, enterprises=20_000, months=12, seed=5)
    return root, summary


@pytest.fixture(scope="module")
def registry(city: tuple[Path, dict]) -> pd.DataFrame:
    return _all(city[0] / "landing", "registry")


@pytest.fixture(scope="module")
def snapshot(registry: pd.DataFrame) -> pd.DataFrame:
    return registry[(registry["_month"] == START) & (registry["record_date"] == f"{START}-01")]


# --- layout and determinism ------------------------------------------------------------------------------


def test_same_arguments_give_byte_identical_files(small: Path, tmp_path: Path) -> None:
    _run(tmp_path)
    first, second = _hashes(small), _hashes(tmp_path)
    assert first == second
    assert len(first) > 40


def test_a_different_seed_gives_different_files(small: Path, tmp_path: Path) -> None:
    _run(tmp_path, seed=12)
    assert _hashes(small) != _hashes(tmp_path)


def test_layout_of_landing_files(small: Path) -> None:
    landing = small / "landing"
    months = {str(np.datetime64(START, "M") + i) for i in range(6)}
    seen = set()
    for f in landing.rglob("*"):
        if f.is_dir():
            continue
        rel = f.relative_to(landing).as_posix()
        m = re.fullmatch(r"([a-z_]+)/(\d{4}-\d{2})/([a-z_]+)_(\d{6}|\d{8})\.(csv|jsonl|parquet)", rel)
        assert m, rel
        source, month, source2, stamp, ext = m.groups()
        assert source == source2 and source in sources() and month in months
        assert ext == FORMAT.get(source, "csv")
        # one file per month, except the inspectorate's weekly deliveries dated within their month
        assert stamp[:6] == month.replace("-", "") and len(stamp) == (8 if source == "inspections" else 6), rel
        # a week without results sends no weekly file; a monthly source with nothing to report sends a file
        # without rows, so that silence is never mistaken for a missing delivery (config/deliveries.yaml)
        assert len(_read(f)) > 0 or source != "inspections", rel
        seen.add(source)
    assert seen == set(sources())
    for source in sources():
        if source != "inspections":
            assert {p.parent.name for p in landing.glob(f"{source}/*/*")} == months, source


def test_summary_counts_rows_per_source(small: Path, tmp_path: Path) -> None:
    summary = _run(tmp_path, months=2)
    for name, n in summary["rows"].items():
        assert n == sum(len(_read(f)) for f in (tmp_path / "landing").glob(f"{name}/*/*"))
    assert summary["files"] == sum(1 for f in (tmp_path / "landing").rglob("*") if f.is_file())


def test_csv_is_plain_and_json_lines_are_typed(small: Path) -> None:
    text = (small / "landing" / "registry" / "2023-01" / "registry_202301.csv").read_text(encoding="utf-8")
    header = text.split("\n", 1)[0]
    assert header == ",".join(sources()["registry"].column_names)  # header row, nothing quoted
    assert '"' not in text
    line = next((small / "landing" / "complaints").glob("*/*.jsonl")).read_text(encoding="utf-8").splitlines()[0]
    obj = json.loads(line)
    assert list(obj) == sources()["complaints"].column_names
    assert obj["substantiated"] in (True, False, None)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", obj["received_on"])
    table = pq.read_table(next((small / "landing" / "licenses").glob("*/*.parquet")))
    assert str(table.schema.field("issued_on").type) == "date32[day]"


# --- ground truth ----------------------------------------------------------------------------------------


def test_ground_truth_is_outside_landing(small: Path, tmp_path: Path) -> None:
    truth = pq.read_table(small / "truth" / "latent_risk.parquet").to_pandas()
    assert list(truth.columns) == [
        "uscc",
        "latent_risk",
        "p_problem",
        "risk_moved_on",
        "risk_shift",
        "p_problem_after",
    ]
    assert truth["uscc"].is_unique
    assert truth["latent_risk"].between(0, 1).all() and truth["p_problem"].between(0, 1).all()
    assert truth["p_problem_after"].between(0, 1).all()
    moved = truth["risk_moved_on"].notna()
    assert (truth.loc[~moved, "risk_shift"] == 0).all() and (truth.loc[moved, "risk_shift"] != 0).all()
    assert (small / "truth" / "defects.csv").exists()
    hidden = ("latent_risk.parquet", "defects.csv", "world.parquet", "report_seasons.parquet", "world.json")
    assert all((small / "truth" / name).exists() for name in hidden)
    assert not any(p.name in hidden for p in (small / "landing").rglob("*"))
    reg = _all(small / "landing", "registry")
    assert set(reg["uscc"]) <= set(truth["uscc"])
    with pytest.raises(ValueError, match="outside"):
        synth.generate(
            tmp_path / "landing",
            tmp_path / "landing" / "truth",
            enterprises=100,
            months=1,
            start=START,
            seed=1,
        )


def test_every_uscc_in_every_file_is_valid(city: tuple[Path, dict]) -> None:
    landing = city[0] / "landing"
    checked = 0
    for name, src in sources().items():
        if "uscc" not in src.column_names:
            continue
        df = _all(landing, name)
        assert df["uscc"].map(uscc.is_valid).all(), name
        checked += len(df)
    assert checked > 50_000


# --- realism -----------------------------------------------------------------------------------------------


def test_towns_types_and_code_categories(snapshot: pd.DataFrame) -> None:
    assert len(snapshot) == 20_000 and snapshot["uscc"].is_unique
    towns = pd.read_csv(REFERENCE_DIR / "towns.csv", dtype=str)
    assert set(snapshot["town_code"]) == set(towns["town_code"])  # all 23 towns and streets
    share = snapshot["entity_type"].value_counts(normalize=True)
    assert 0.52 < share["个体工商户"] < 0.62
    enterprises = share.drop(["个体工商户", "农民专业合作社"], errors="ignore").sum()
    assert 0.33 < enterprises < 0.49  # Zhongshan: 40.91 %
    assert share["有限责任公司"] > 0.25 and share["分支机构"] > 0.01
    expected = snapshot["entity_type"].map({"个体工商户": "92", "农民专业合作社": "93"}).fillna("91")
    assert (snapshot["uscc"].str[:2] == expected).all()
    large = snapshot["town_code"].value_counts(normalize=True)
    assert large["442000118"] > large["442000117"] * 5  # 小榄 much larger than 神湾


def test_registry_snapshot_and_monthly_dynamics(registry: pd.DataFrame, snapshot: pd.DataFrame) -> None:
    exited = snapshot[snapshot["status"].isin(["注销", "吊销"])]
    assert 0.003 < len(exited) / len(snapshot) < 0.05  # a few already gone, with their dates
    assert (exited["status_changed_on"] < f"{START}-01").all()
    later = registry[registry["record_date"] > f"{START}-01"]
    new = later[later["established_on"] == later["record_date"]]
    per_month = new.groupby("_month").size()
    assert per_month.between(20_000 * 0.006, 20_000 * 0.03).all()  # ~7 %/yr growth plus replacement of exits
    exits = later[later["status"].isin(["注销", "吊销", "迁出", "撤销"])]
    assert (exits["status_changed_on"] == exits["record_date"]).all()
    assert (exits["record_date"].str[:7] == exits["_month"]).all()  # delivered in the month they happen
    changed = later[~later["uscc"].isin(new["uscc"]) & ~later["uscc"].isin(exits["uscc"])]
    assert len(changed) > 500
    assert (later["record_date"].str[:7] == later["_month"]).all()
    assert not registry.duplicated(["uscc", "record_date"]).any()
    capital = pd.to_numeric(snapshot["registered_capital"].replace("", np.nan))
    llc = snapshot["entity_type"] == "有限责任公司"
    assert capital[llc].notna().all() and 50 <= capital[llc].median() <= 300
    assert capital[snapshot["entity_type"] == "个体工商户"].isna().mean() > 0.7
    established = snapshot["established_on"].sort_values()
    assert established.iloc[0] < "2000-01-01" < established.iloc[len(established) // 2]  # decades, mostly young


def test_names_and_addresses_look_local(snapshot: pd.DataFrame) -> None:
    ind = snapshot[snapshot["entity_type"] == "个体工商户"]
    assert ind["name"].str.match(r"^中山市\S+?(镇|区|街道|五桂山)").mean() > 0.95
    llc = snapshot[snapshot["entity_type"] == "有限责任公司"]
    assert llc["name"].str.match(r"^中山市\S+有限公司$").all()
    assert snapshot["address"].str.startswith("中山市").all()
    assert snapshot["address"].str.contains("号").all()


def test_one_address_many_firms_and_one_person_many_firms(snapshot: pd.DataFrame) -> None:
    per_address = snapshot["address"].value_counts()
    assert per_address.iloc[0] >= 15 and (per_address >= 5).sum() >= 3
    assert per_address.mean() < 1.2  # most addresses are a single firm's
    per_rep = snapshot["legal_rep_id"].value_counts()
    assert per_rep.iloc[0] >= 8 and (per_rep >= 3).sum() > 50
    assert snapshot["legal_rep_id"].map(uscc.is_valid_resident_id).all()


def test_annual_reports_on_time_share(city: tuple[Path, dict], registry: pd.DataFrame, snapshot: pd.DataFrame) -> None:
    delivered = _all(city[0] / "landing", "annual_reports")
    # one season falls in a 2023 window; the first delivery also carries the two report years before it
    assert set(delivered["report_year"]) == {"2020", "2021", "2022"}
    history = delivered[delivered["report_year"] != "2022"]
    assert (history["_month"] == "2023-01").all() and (history["submitted_on"] < "2023-01-01").all()
    reports = delivered[delivered["report_year"] == "2022"]
    gone = registry.loc[registry["status_changed_on"].ne("") & (registry["status_changed_on"] <= "2023-06-30"), "uscc"]
    due = snapshot[(snapshot["established_on"] < "2023-01-01") & ~snapshot["uscc"].isin(gone)]
    on_time = reports.loc[reports["submitted_on"] <= "2023-06-30", "uscc"]
    share = due["uscc"].isin(on_time).mean()
    assert 0.90 <= share <= 0.98
    assert reports["submitted_on"].str[:7].eq(reports["_month"]).all()
    late = reports[reports["submitted_on"] > "2023-06-30"]
    assert 0 < len(late) < 0.05 * len(reports)
    emp = pd.to_numeric(reports["employees"])
    ins = pd.to_numeric(reports["social_insurance_count"].replace("", np.nan))
    assert (ins.dropna() <= emp[ins.notna()]).all()


def test_lighting_is_concentrated_in_guzhen_henglan_xiaolan(snapshot: pd.DataFrame) -> None:
    lighting = snapshot[snapshot["industry_code"].isin(LIGHTING)]
    assert len(lighting) > 300
    assert lighting["town_code"].isin(["442000105", "442000110", "442000118"]).mean() > 0.6
    guzhen = snapshot[snapshot["town_code"] == "442000105"]
    assert guzhen["industry_code"].isin(LIGHTING).mean() > 0.2
    dachong = snapshot[snapshot["town_code"] == "442000116"]
    assert dachong["industry_code"].isin(["C2110", "C2190", "C1819", "C1811", "C1821"]).mean() > 0.1


def test_latent_risk_drives_penalties_and_findings(city: tuple[Path, dict]) -> None:
    root = city[0]
    truth = pq.read_table(root / "truth" / "latent_risk.parquet").to_pandas().set_index("uscc")
    pen = _all(root / "landing", "penalties")
    penalised = truth.index.isin(pen["uscc"])
    assert penalised.sum() > 30
    assert np.corrcoef(truth["latent_risk"], penalised)[0, 1] > 0.02
    assert truth.loc[penalised, "latent_risk"].mean() > truth["latent_risk"].mean() * 1.2
    insp = _all(root / "landing", "inspections")
    rand = insp[insp["trigger"] == "random"]
    problem = ~rand["result_codes"].isin(["NO_ISSUE", "NO_RELEVANT_ACTIVITY", "CLOSED_OR_EXITED"])
    risk = truth.loc[rand["uscc"], "latent_risk"].to_numpy()
    assert len(rand) > 300 and 0.04 < problem.mean() < 0.25
    assert np.corrcoef(risk, problem)[0, 1] > 0.1
    comp = _all(root / "landing", "complaints")
    assert truth.loc[comp["uscc"], "latent_risk"].mean() > truth["latent_risk"].mean()


def test_lists_penalties_complaints_and_licences(city: tuple[Path, dict]) -> None:
    landing = city[0] / "landing"
    abn = _all(landing, "abnormal_list")
    assert set(abn["reason_code"]) >= {"late_annual_report", "unreachable"}
    late_in = abn[(abn["reason_code"] == "late_annual_report") & (abn["action"] == "in") & (abn["decided_on"] >= START)]
    assert len(late_in) > 100 and late_in["decided_on"].str[5:7].isin(["07", "08", "09"]).all()
    assert (abn.loc[abn["action"] == "out", "decided_on"] >= START).all()
    dis = _all(landing, "dishonest_list")
    assert "abnormal_3_years" in set(dis["reason_code"])
    pen = _all(landing, "penalties")
    assert pen["case_no"].is_unique and pen["case_no"].str.fullmatch(r"中市监罚〔\d{4}〕\d+号").all()
    assert set(pen["severity"]) <= {"一般", "较重", "严重"}
    comp = _all(landing, "complaints")
    assert comp["complaint_id"].is_unique and set(comp["channel"]) == {"12315", "12345", "来信", "来访"}
    lic = _all(landing, "licenses")
    assert {"food", "drug", "special_equipment"} <= set(lic["domain"])
    first = lic[lic["_month"] == START]
    assert (first["expires_on"].dropna() < pd.Timestamp(START).date()).any()  # some expired licences
    assert not lic.duplicated(["license_no", "_month"]).any()


def test_inspections_inspectors_and_conflicts(city: tuple[Path, dict]) -> None:
    landing = city[0] / "landing"
    insp = _all(landing, "inspections")
    assert insp["task_id"].is_unique
    rand = insp[insp["trigger"] == "random"]
    per_year = len(rand) / 20_000  # twelve months
    assert 0.03 <= per_year <= 0.06
    assert rand["plan_id"].str.fullmatch(r"[A-Z]+-[A-Z]+-\d{4}-\d{2}").all()
    assert (rand["plan_id"].str[-7:] == rand["inspected_on"].str[:7]).all()  # the plan of the inspection's month
    assert (insp.loc[insp["trigger"] == "triggered", "plan_id"] == "").all()
    order = {c: i for i, c in enumerate(pd.read_csv(REFERENCE_DIR / "result_codes.csv")["code"])}
    for codes in insp["result_codes"].unique():
        parts = codes.split(";")
        assert [order[p] for p in parts] == sorted(order[p] for p in parts)
    staff = _all(landing, "inspectors")
    month = staff[staff["_month"] == START]
    assert len(month) >= 60 and month["inspector_id"].is_unique
    words = {
        "general",
        "food",
        "special_equipment",
        "industrial_product",
        "drug",
        "medical_device",
        "cosmetics",
        "other",
    }
    assert month["qualifications"].str.split(";").map(lambda q: set(q) <= words and "general" in q).all()
    assert set(month["active"]) <= {"true", "false"}
    assigned = insp[insp["inspector_ids"] != ""]
    assert len(assigned) / len(insp) > 0.95
    pairs = assigned["inspector_ids"].str.split(";")
    assert pairs.map(lambda p: len(p) == 2 and p[0] != p[1]).all()
    dept_of = dict(zip(month["inspector_id"], month["department"], strict=True))
    first = assigned[assigned["_month"] == START]
    assert (first["inspector_ids"].str.split(";").str[0].map(dept_of) == first["department"]).all()
    conflicts = _all(landing, "conflicts")
    assert not conflicts.duplicated(["inspector_id", "uscc"]).any()
    clash = set(zip(conflicts["inspector_id"], conflicts["uscc"], strict=True))
    assert not any((i, u) in clash for p, u in zip(pairs, assigned["uscc"], strict=True) for i in p)


# --- weekly delivery of the results ----------------------------------------------------------------------


def test_results_are_delivered_weekly_in_the_folder_of_the_month_they_were_entered(small: Path) -> None:
    landing = small / "landing"
    insp = _all(landing, "inspections")
    files = sorted(landing.glob("inspections/*/*.csv"))
    assert len(files) >= 4 * 6  # about one a week
    for f in files:
        rows = _read(f)
        stamp = np.datetime64(f"{f.stem[-8:-4]}-{f.stem[-4:-2]}-{f.stem[-2:]}")
        recorded = rows["recorded_on"].to_numpy(dtype="datetime64[D]")
        # entered in the folder's month, in the week the file closes (never after its date)
        assert (recorded.astype("datetime64[M]") == np.datetime64(f.parent.name)).all(), f
        assert ((recorded <= stamp) & (stamp - recorded <= 6)).all(), f
        assert workdays.is_workday(stamp.astype(dt.date), workdays.Calendar()), f
    inspected = insp["inspected_on"].to_numpy(dtype="datetime64[D]")
    recorded = insp["recorded_on"].to_numpy(dtype="datetime64[D]")
    taken = workdays.workdays_after_until(inspected, recorded, workdays.Calendar())
    assert taken.min() == 1 and taken.max() == 8  # one to eight working days after the inspection
    # a result of the month's last days arrives in the next month's folder: point-in-time correct
    crossed = insp[insp["inspected_on"].str[:7] < insp["_month"]]
    assert len(crossed) > 0 and (crossed["recorded_on"].str[:7] == crossed["_month"]).all()
    # the ground truth says where each result went; those entered after the window are still in transit
    truth = pq.read_table(small / "truth" / "inspections.parquet").to_pandas()
    assert truth["task_id"].is_unique and list(truth.columns) == ["task_id", "p_problem", "recorded_on", "landing_file"]
    delivered = truth.dropna(subset=["landing_file"])
    assert set(delivered["task_id"]) == set(insp["task_id"])
    where = insp.assign(file=[f"inspections/{m}/" for m in insp["_month"]]).set_index("task_id")
    assert (delivered.set_index("task_id")["landing_file"].str[:20] == where.loc[delivered["task_id"], "file"]).all()
    transit = truth[truth["landing_file"].isna()]
    assert (pd.to_datetime(transit["recorded_on"]) > pd.Timestamp("2023-06-30")).all()


def test_hold_back_and_deliver_across_the_weekly_files(small: Path, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(small / "landing" / "inspections", landing / "inspections")
    month = "2023-03"
    before = _all(landing, "inspections")
    mine = before[(before["_month"] == month) & (before["plan_id"].str.startswith("MR-GENERAL"))]
    plan = mine["plan_id"].mode()[0]
    spread = before[(before["_month"] == month) & (before["plan_id"] == plan)]
    assert spread.groupby("recorded_on").ngroups > 1  # the plan's results came in several weekly files
    held = late.hold_back(landing, tmp_path / "held", month, plan, dt.date(2023, 7, 3))
    after = _all(landing, "inspections")
    assert not ((after["_month"] == month) & (after["plan_id"] == plan)).any()  # gone from every file of the month
    assert len(after) == len(before) - len(spread)
    rows = _read(held)
    assert sorted(rows["task_id"]) == sorted(spread["task_id"]) and set(rows["recorded_on"]) == {"2023-07-03"}
    cols = [c for c in rows.columns if c != "recorded_on"]
    expected = spread.sort_values("task_id")[cols].reset_index(drop=True)
    assert rows.sort_values("task_id")[cols].reset_index(drop=True).equals(expected)  # only the entry date moved
    target = late.deliver(held, landing)
    assert target.parent == landing / "inspections" / month and target.read_bytes() == held.read_bytes()
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]  # no partial copy left behind
    assert len(_all(landing, "inspections")) == len(before)
    with pytest.raises(ValueError, match="no results of plan"):
        late.hold_back(landing, tmp_path / "held", month, "MR-NOSUCH-2023-03", dt.date(2023, 7, 3))


# --- encodings, headers, defects --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def defective(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same small city twice in GB18030 with Chinese headers: clean, and with 20 % defective rows."""
    clean = tmp_path_factory.mktemp("clean")
    dirty = tmp_path_factory.mktemp("dirty")
    kw = {"months": 3, "encoding": "gb18030", "chinese_headers": True}
    _run(clean, **kw)
    _run(dirty, defect_rate=0.2, **kw)
    return clean, dirty


def test_gb18030_with_chinese_headers_reads_with_the_aliases(defective: tuple[Path, Path]) -> None:
    landing = defective[0] / "landing"
    for name, src in sources().items():
        aliases = [c.alias for c in src.columns]
        for f in landing.glob(f"{name}/*/*"):
            if f.suffix == ".csv":
                raw = f.read_bytes()
                with pytest.raises(UnicodeDecodeError):
                    raw.decode("utf-8")
                assert raw.decode("gb18030").split("\n", 1)[0] == ",".join(aliases)
            elif f.suffix == ".jsonl":
                assert list(json.loads(f.read_text(encoding="utf-8").splitlines()[0])) == aliases
            else:
                assert pq.read_table(f).column_names == aliases
    staff = _read(next(landing.glob("inspectors/*/*.csv")), "gb18030")
    assert set(staff["在岗"]) <= {"是", "否"}
    reg = _read(next(landing.glob("registry/*/*.csv")), "gb18030")
    assert reg["企业名称"].str.startswith("中山").mean() > 0.9


def test_defects_are_recorded_and_really_present(defective: tuple[Path, Path]) -> None:
    clean_root, dirty_root = defective
    defects = pd.read_csv(dirty_root / "truth" / "defects.csv", dtype=str, keep_default_na=False)
    assert list(defects.columns) == ["source", "month", "file", "row_number", "column", "defect_class"]
    assert set(defects["defect_class"]) == set(synth.DEFECT_CLASSES)
    assert set(defects["file"].str.rsplit(".", n=1).str[1]) == {"csv"}  # never Parquet or JSON Lines
    defects["row_number"] = defects["row_number"].astype(int)
    for rel, mine in defects.groupby("file"):
        source = sources()[mine["source"].iloc[0]]
        alias = {c.alias: c.name for c in source.columns}
        dirty = _read(dirty_root / "landing" / rel, "gb18030").rename(columns=alias)
        clean = _read(clean_root / "landing" / rel, "gb18030").rename(columns=alias)
        month_end = (np.datetime64(mine["month"].iloc[0], "M") + 1).astype("datetime64[D]") - 1
        dup_rows = set(mine.loc[mine["defect_class"] == "duplicate", "row_number"])
        for _, d in mine.iterrows():
            row = dirty.iloc[d["row_number"] - 1]
            value = row[d["column"]] if d["column"] else None
            kind = d["defect_class"]
            if kind == "bad_check_digit":
                assert uscc.validate(value) == "uscc_checksum"
            elif kind == "fullwidth":
                assert not value.isascii() and uscc.validate(value) is None
            elif kind == "lowercase":
                assert value != value.upper() and not uscc.is_valid(value) and uscc.validate(value) is None
            elif kind == "chinese_date":
                assert re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", value)
            elif kind == "duplicate":
                assert row.equals(dirty.iloc[d["row_number"] - 2])
            elif kind == "unknown_town":
                assert d["column"] == "town_code" and value == "442000999"
            elif kind == "future_date":
                assert np.datetime64(value, "D") > month_end + 60
                assert not next(c for c in source.columns if c.name == d["column"]).future_ok
            elif kind == "missing_value":
                assert value == "" and next(c for c in source.columns if c.name == d["column"]).required
        # Apart from the recorded cells (and the inserted copies) the file equals the clean one.
        originals = dirty.drop(index=[r - 1 for r in dup_rows]).reset_index(drop=True)
        assert originals.shape == clean.shape
        diff = originals.ne(clean)
        changed = {(int(i), c) for i, c in zip(*np.nonzero(diff.to_numpy()), strict=True)}
        shift = np.zeros(len(dirty) + 2, dtype=int)
        for r in sorted(dup_rows):
            shift[r:] += 1  # rows after an inserted copy move down by one
        recorded = {
            (int(r - 1 - shift[r - 1]), list(clean.columns).index(c))
            for r, c in zip(mine["row_number"], mine["column"], strict=True)
            if c
        }
        assert changed == recorded, rel


def test_chinese_dates_keep_the_date(defective: tuple[Path, Path]) -> None:
    clean_root, dirty_root = defective
    defects = pd.read_csv(dirty_root / "truth" / "defects.csv", dtype=str, keep_default_na=False)
    rows = defects[defects["defect_class"] == "chinese_date"].head(50)
    assert len(rows)
    for _, d in rows.iterrows():
        source = sources()[d["source"]]
        alias = {c.alias: c.name for c in source.columns}
        dirty = _read(dirty_root / "landing" / d["file"], "gb18030").rename(columns=alias)
        clean = _read(clean_root / "landing" / d["file"], "gb18030").rename(columns=alias)
        dups = defects[(defects["file"] == d["file"]) & (defects["defect_class"] == "duplicate")]
        before = (dups["row_number"].astype(int) < int(d["row_number"])).sum()
        y, m, day = (int(x) for x in re.findall(r"\d+", dirty.iloc[int(d["row_number"]) - 1][d["column"]]))
        assert f"{y:04d}-{m:02d}-{day:02d}" == clean.iloc[int(d["row_number"]) - 1 - before][d["column"]]


def test_defects_do_not_touch_parquet_or_json_lines(defective: tuple[Path, Path]) -> None:
    clean_root, dirty_root = defective
    for pattern in ("licenses/*/*", "complaints/*/*"):
        for f in (clean_root / "landing").glob(pattern):
            rel = f.relative_to(clean_root / "landing")
            assert f.read_bytes() == (dirty_root / "landing" / rel).read_bytes()
