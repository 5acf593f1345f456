"""Draw protocol v1 (双随机抽取, design.md §6): the SQL draw agrees bit for bit with the hashlib reference,
sizes are exact decimals, inspector pairs respect eligibility and the workload cap in (k, uscc) order, and
a verification package is written once and recomputed by anyone."""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from zs_risk_pipeline.lib.ingest.uscc import CHARSET, generate
from zs_risk_pipeline.lib.sampling import package as sampling_package
from zs_risk_pipeline.lib.sampling import protocol

SEED = "0123456789abcdef" * 4
PLAN = "MR-GENERAL-2024-04"
RATES = {"A": "0.02", "B": "0.05", "C": "0.1", "D": "0.3"}


@pytest.fixture
def conn() -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect()
    yield c
    c.close()


def make_frame(n: int, seed: int = 0, strata: tuple[str, ...] = ("A", "B", "C", "D")) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {"uscc": generate(rng, n).astype(object), "stratum": rng.choice(list(strata), n).astype(object)}
    )


def reference_selection(frame: pd.DataFrame, rates: dict[str, str], seed: str, plan_id: str) -> list[str]:
    """The protocol text, literally: per stratum sort by (k, uscc), take n_h; list by (k, uscc)."""
    sizes = protocol.stratum_sizes(frame["stratum"].value_counts().to_dict(), rates)
    chosen: list[tuple[int, str]] = []
    for stratum, group in frame.groupby("stratum"):
        keyed = sorted((protocol.key(seed, plan_id, u), u) for u in group["uscc"])
        chosen.extend(keyed[: sizes[str(stratum)]])
    return [u for _, u in sorted(chosen)]


# --- keys: SQL and the hashlib reference agree ---------------------------------------------------------


def test_key_is_the_protocol_formula() -> None:
    uscc = "91442000MA4UH5L37X"
    digest = hashlib.sha256(f"{SEED}|{PLAN}|{uscc}".encode()).digest()
    assert protocol.key(SEED, PLAN, uscc) == int.from_bytes(digest[:8], "big")
    assert protocol.key(SEED, PLAN, uscc) == 13439044237492899443  # known answer: pins the formula
    assert protocol.commitment(SEED) == hashlib.sha256(SEED.encode("ascii")).hexdigest()
    assert protocol.format_u(2**63) == "0.5"


@pytest.mark.parametrize("plan_id", [PLAN, "中山-双随机-2024-04"])  # non-ASCII: both sides hash UTF-8
def test_sql_k_equals_python_k_bit_for_bit(conn: duckdb.DuckDBPyConnection, plan_id: str) -> None:
    rnd = random.Random(7)
    usccs = sorted({"".join(rnd.choice(CHARSET) for _ in range(18)) for _ in range(1000)})
    frame = pd.DataFrame({"uscc": usccs, "stratum": "all"})
    got = protocol.draw(conn, frame, {"all": "1"}, SEED, plan_id)

    expected = sorted((protocol.key(SEED, plan_id, u), u) for u in usccs)
    assert len(got) == len(usccs)
    assert [(int(k), u) for k, u in zip(got["k"].tolist(), got["uscc"], strict=True)] == expected
    assert got["k"].dtype == np.uint64
    assert (got["k"] >= 2**63).any()  # the high bit set: the unsigned cast is exercised
    # u is the same double on both sides: k / 2**64, correctly rounded.
    assert got["u"].tolist() == [k / 2**64 for k, _ in expected]


# --- sizes: exact decimal ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "count", "n"),
    [
        ("0.03", 100, 3),
        ("0.05", 21, 2),  # ceil(1.05)
        ("0.1", 30, 3),  # 0.1 * 30 = 3.0000000000000004 in binary floats: ceil would give 4
        ("0.07", 100, 7),  # 7.000000000000001 in floats
        ("1", 7, 7),
        ("1.000", 7, 7),
        ("0", 7, 0),
        ("0.5", 0, 0),
        ("0.333333333333333333333333333333333", 300_000, 100_000),  # beyond the default 28 digits
        ("0.0000001", 5, 1),
    ],
)
def test_stratum_sizes_are_exact(rate: str, count: int, n: int) -> None:
    assert protocol.stratum_sizes({"h": count}, {"h": rate}) == {"h": n}


def test_strata_without_enterprises_get_zero() -> None:
    assert protocol.stratum_sizes({"A": 10}, {"A": "0.5", "D": "1"}) == {"A": 5, "D": 0}


@pytest.mark.parametrize("rate", [0.05, 1, "5%", "1.5", "-0.1", "5e-2", "", " 0.05", "NaN", ".5", None])
def test_bad_rates_are_refused_naming_the_stratum(rate: object) -> None:
    with pytest.raises(ValueError, match="stratum 'C'"):
        protocol.stratum_sizes({"C": 10}, {"C": rate})  # type: ignore[dict-item]


def test_a_frame_stratum_without_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="'X' is in the frame but has no rate"):
        protocol.stratum_sizes({"A": 3, "X": 1}, {"A": "0.1"})


# --- the draw ---------------------------------------------------------------------------------------------


def test_draw_takes_the_n_smallest_k_per_stratum(conn: duckdb.DuckDBPyConnection) -> None:
    frame = make_frame(3000)
    got = protocol.draw(conn, frame, RATES, SEED, PLAN)

    sizes = protocol.stratum_sizes(frame["stratum"].value_counts().to_dict(), RATES)
    assert got["stratum"].value_counts().to_dict() == {s: n for s, n in sizes.items() if n}
    assert got["uscc"].tolist() == reference_selection(frame, RATES, SEED, PLAN)
    assert list(got.columns) == ["uscc", "stratum", "k", "u"]
    assert got[["k", "uscc"]].apply(tuple, axis=1).is_monotonic_increasing


def test_draw_is_reproducible_and_independent_of_row_order(conn: duckdb.DuckDBPyConnection) -> None:
    frame = make_frame(2000)
    first = protocol.draw(conn, frame, RATES, SEED, PLAN)
    pd.testing.assert_frame_equal(first, protocol.draw(conn, frame, RATES, SEED, PLAN))
    shuffled = frame.sample(frac=1, random_state=3).reset_index(drop=True)
    pd.testing.assert_frame_equal(first, protocol.draw(conn, shuffled, RATES, SEED, PLAN))

    other_seed = protocol.draw(conn, frame, RATES, protocol.new_seed(), PLAN)
    other_plan = protocol.draw(conn, frame, RATES, SEED, "MR-GENERAL-2024-05")
    assert len(other_seed) == len(first) == len(other_plan)
    assert set(other_seed["uscc"]) != set(first["uscc"])
    assert set(other_plan["uscc"]) != set(first["uscc"])


def test_draw_compares_bytes_whatever_the_connection_collation(conn: duckdb.DuckDBPyConnection) -> None:
    # Strata and usccs differing only by case: a NOCASE default would merge strata and reorder ties.
    frame = pd.DataFrame({"uscc": [f"{c}{i:03d}" for i in range(200) for c in "aB"], "stratum": ["a", "A"] * 200})
    rates = {"a": "0.25", "A": "0.1"}
    conn.execute("SET default_collation = 'nocase'")
    got = protocol.draw(conn, frame, rates, SEED, PLAN)
    assert got["uscc"].tolist() == reference_selection(frame, rates, SEED, PLAN)
    assert got["stratum"].value_counts().to_dict() == {"a": 50, "A": 20}


@pytest.mark.parametrize(
    ("frame", "seed", "message"),
    [
        (pd.DataFrame({"uscc": ["X", "X"], "stratum": ["A", "B"]}), SEED, "uscc X appears more than once"),
        (pd.DataFrame({"uscc": ["X", None], "stratum": ["A", "B"]}), SEED, "column uscc has empty values"),
        (pd.DataFrame({"uscc": [1, 2], "stratum": ["A", "B"]}), SEED, "column uscc must hold text"),
        (pd.DataFrame({"uscc": ["X"], "stratum": ["Z"]}), SEED, "'Z' is in the frame but has no rate"),
        (pd.DataFrame({"uscc": ["X"]}), SEED, "lacks column"),
        (pd.DataFrame({"uscc": ["X"], "stratum": ["A"]}), SEED.upper(), "64 lowercase hex"),
        (pd.DataFrame({"uscc": ["X"], "stratum": ["A"]}), SEED[:-1], "64 lowercase hex"),
    ],
)
def test_draw_refuses_bad_input(conn: duckdb.DuckDBPyConnection, frame: pd.DataFrame, seed: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        protocol.draw(conn, frame, RATES, seed, PLAN)


def test_draw_at_city_scale_is_set_based(conn: duckdb.DuckDBPyConnection) -> None:
    frame = make_frame(300_000, seed=5)
    got = protocol.draw(conn, frame, RATES, SEED, PLAN)
    sizes = protocol.stratum_sizes(frame["stratum"].value_counts().to_dict(), RATES)
    assert got["stratum"].value_counts().to_dict() == sizes
    assert got["uscc"].is_unique


# --- inspector assignment ---------------------------------------------------------------------------------


def _selection(conn: duckdb.DuckDBPyConnection, usccs: list[str]) -> pd.DataFrame:
    return protocol.draw(conn, pd.DataFrame({"uscc": usccs, "stratum": "all"}), {"all": "1"}, SEED, PLAN)


def test_assignment_respects_eligibility_pairs_and_cap(conn: duckdb.DuckDBPyConnection) -> None:
    selection = protocol.draw(conn, make_frame(2000), RATES, SEED, PLAN)
    rng = np.random.default_rng(11)
    inspectors = [f"INSP{i:02d}" for i in range(15)]
    per_task = rng.integers(0, 6, len(selection))  # 0 and 1 eligible happen too
    eligibility = pd.DataFrame(
        [(u, i) for u, m in zip(selection["uscc"], per_task, strict=True) for i in rng.choice(inspectors, m, False)],
        columns=["uscc", "inspector_id"],
    )
    cap = 12
    got = protocol.assign(conn, selection, eligibility, SEED, PLAN, cap)

    assert got["uscc"].tolist() == selection["uscc"].tolist()  # every task, in (k, uscc) order
    allowed = set(eligibility.itertuples(index=False, name=None))
    done = got[got["unassigned_reason"].isna()]
    assert len(done) > 0 and len(done) < len(got)
    assert (done["inspector_1"] != done["inspector_2"]).all()
    for uscc, a, b in done[["uscc", "inspector_1", "inspector_2"]].itertuples(index=False):
        assert (uscc, a) in allowed and (uscc, b) in allowed
        # inspector_1 comes first in the task's hash order
        assert protocol.inspector_key(SEED, PLAN, uscc, a) < protocol.inspector_key(SEED, PLAN, uscc, b)
    load = Counter(done["inspector_1"].tolist() + done["inspector_2"].tolist())
    assert max(load.values()) <= cap
    assert any(v == cap for v in load.values())  # the cap did bind
    open_ = got[got["unassigned_reason"].notna()]
    assert open_["inspector_1"].isna().all() and open_["inspector_2"].isna().all()
    assert set(open_["unassigned_reason"].str.split(" \\(").str[0]) == {
        "fewer than two eligible inspectors",
        "eligible inspectors at the workload cap",
    }


def test_cap_binds_in_k_order_and_a_half_fit_task_consumes_nobody(conn: duckdb.DuckDBPyConnection) -> None:
    selection = _selection(conn, ["T-one", "T-two", "T-three", "T-four", "T-five"])
    t1, t2, t3, t4, t5 = selection["uscc"].tolist()  # serving order: ascending (k, uscc)
    eligibility = pd.DataFrame(
        [
            (t1, "P1"), (t1, "P2"),  # first task: both free
            (t2, "P1"), (t2, "P2"),  # both at the cap of 1
            (t3, "P1"), (t3, "P3"),  # only P3 fits: unassigned, and P3 stays free
            (t4, "P3"), (t4, "P4"),  # so P3 can still serve here
            (t5, "P4"),  # one eligible inspector
        ],
        columns=["uscc", "inspector_id"],
    )  # fmt: skip
    got = protocol.assign(conn, selection, eligibility, SEED, PLAN, workload_cap=1).set_index("uscc")

    assert set(got.loc[t1, ["inspector_1", "inspector_2"]]) == {"P1", "P2"}
    assert got.loc[t2, "unassigned_reason"] == "eligible inspectors at the workload cap (0 of 2 below 1)"
    assert got.loc[t3, "unassigned_reason"] == "eligible inspectors at the workload cap (1 of 2 below 1)"
    assert set(got.loc[t4, ["inspector_1", "inspector_2"]]) == {"P3", "P4"}
    assert got.loc[t5, "unassigned_reason"] == "fewer than two eligible inspectors (1)"
    assert len(got) == 5


def test_assign_refuses_bad_input(conn: duckdb.DuckDBPyConnection) -> None:
    selection = _selection(conn, ["A1", "A2"])
    twice = pd.DataFrame({"uscc": ["A1", "A1"], "inspector_id": ["P1", "P1"]})
    with pytest.raises(ValueError, match="appears more than once"):
        protocol.assign(conn, selection, twice, SEED, PLAN, 2)
    with pytest.raises(ValueError, match="workload_cap"):
        protocol.assign(conn, selection, twice.head(1), SEED, PLAN, 0)


# --- the verification package -------------------------------------------------------------------------------


def build(conn: duckdb.DuckDBPyConnection, folder: Path) -> Path:
    frame = make_frame(600, seed=2)
    selection = protocol.draw(conn, frame, RATES, SEED, PLAN)
    rng = np.random.default_rng(4)
    inspectors = [f"INSP{i:02d}" for i in range(8)]
    eligibility = pd.DataFrame(
        [(u, i) for u in selection["uscc"] for i in rng.choice(inspectors, rng.integers(0, 5), False)],
        columns=["uscc", "inspector_id"],
    )
    assignments = protocol.assign(conn, selection, eligibility, SEED, PLAN, 6)
    plan = protocol.new_plan(PLAN, "2024-04", SEED, RATES, frame, 6, known_through="2024-03")
    return sampling_package.write_package(folder, plan, frame, selection, eligibility, assignments)


@pytest.fixture
def package(conn: duckdb.DuckDBPyConnection, tmp_path: Path) -> Path:
    return build(conn, tmp_path / "plans" / PLAN)


def rows(path: Path) -> list[list[str]]:
    return [line.split(",") for line in path.read_text(encoding="utf-8").split("\n")[:-1]]


def write_rows(path: Path, table: list[list[str]]) -> None:
    path.write_text("".join(",".join(r) + "\n" for r in table), encoding="utf-8")


def test_written_package_verifies_and_has_the_specified_layout(package: Path) -> None:
    assert sampling_package.verify_package(package) == []
    assert sorted(p.name for p in package.iterdir()) == sorted(protocol.PACKAGE_FILES)
    assert [p.name for p in package.parent.iterdir()] == [PLAN]  # no temporary folder left behind

    plan_text = (package / "plan.json").read_text(encoding="utf-8")
    plan = json.loads(plan_text)
    assert plan_text == json.dumps(plan, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    assert plan["algorithm"] == "draw-v1" and plan["seed_commitment"] == protocol.commitment(SEED)
    assert plan["strata"]["B"]["rate"] == "0.05"

    for name in protocol.PACKAGE_FILES[1:]:
        assert b"\r" not in (package / name).read_bytes()
    frame = rows(package / "frame.csv")
    assert frame[0] == ["uscc", "stratum"]
    assert frame[1:] == sorted(frame[1:], key=lambda r: (r[1], r[0]))
    assert sum(s["N"] for s in plan["strata"].values()) == len(frame) - 1
    selection = rows(package / "selection.csv")
    assert selection[0] == ["uscc", "stratum", "u"]
    assert [float(r[2]) for r in selection[1:]] == sorted(float(r[2]) for r in selection[1:])
    eligibility = rows(package / "eligibility.csv")
    assert eligibility[1:] == sorted(eligibility[1:])
    assignments = rows(package / "assignments.csv")
    assert assignments[0] == ["uscc", "inspector_1", "inspector_2", "unassigned_reason"]
    assert [r[0] for r in assignments[1:]] == [r[0] for r in selection[1:]]


def test_a_tampered_selection_row_is_named(package: Path) -> None:
    table = rows(package / "selection.csv")
    chosen = {r[0] for r in table[1:]}
    outsider = next(r[0] for r in rows(package / "frame.csv")[1:] if r[0] not in chosen)
    original = table[3][0]
    table[3][0] = outsider
    write_rows(package / "selection.csv", table)
    assert (
        sampling_package.verify_package(package)[0]
        == f"selection.csv row 3: expected uscc {original}, found {outsider}"
    )


def test_a_rewritten_u_is_named(package: Path) -> None:
    table = rows(package / "selection.csv")
    table[1][2] = "0.0"
    write_rows(package / "selection.csv", table)
    assert sampling_package.verify_package(package)[0].startswith("selection.csv row 1: expected u ")


def test_a_changed_seed_breaks_the_commitment(package: Path) -> None:
    plan = json.loads((package / "plan.json").read_text(encoding="utf-8"))
    plan["seed"] = protocol.new_seed()
    (package / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    problems = sampling_package.verify_package(package)
    assert problems[0].startswith("plan.json: seed_commitment")
    assert any(p.startswith("selection.csv row 1:") for p in problems)


def test_a_consistent_reseed_still_fails_on_the_selection(package: Path) -> None:
    plan = json.loads((package / "plan.json").read_text(encoding="utf-8"))
    plan["seed"] = protocol.new_seed()
    plan["seed_commitment"] = protocol.commitment(plan["seed"])
    (package / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    assert sampling_package.verify_package(package)[0].startswith("selection.csv row 1: expected uscc")


def test_a_tampered_assignment_is_named(package: Path) -> None:
    table = rows(package / "assignments.csv")
    i = next(i for i, r in enumerate(table) if i and r[1])
    original = table[i][1]
    table[i][1] = "INSP99"
    write_rows(package / "assignments.csv", table)
    assert sampling_package.verify_package(package) == [
        f"assignments.csv row {i}: expected inspector_1 {original}, found INSP99"
    ]


def test_a_tampered_eligibility_is_named_and_changes_the_walk(package: Path) -> None:
    table = rows(package / "eligibility.csv")
    del table[1]
    write_rows(package / "eligibility.csv", table)
    problems = sampling_package.verify_package(package)
    assert problems[0] == "eligibility.csv: SHA-256 differs from the eligibility_sha256 the draw recorded"
    assert any(p.startswith("assignments.csv row ") for p in problems)


def test_plan_records_what_the_draw_knew(package: Path) -> None:
    plan = json.loads((package / "plan.json").read_text(encoding="utf-8"))
    assert plan["known_through"] == "2024-03"
    assert plan["eligibility_sha256"] == hashlib.sha256((package / "eligibility.csv").read_bytes()).hexdigest()
    del plan["known_through"]
    (package / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    assert sampling_package.verify_package(package)[0].startswith("plan.json: known_through must be")


def test_a_tampered_frame_is_named(package: Path) -> None:
    table = rows(package / "frame.csv")
    removed = table.pop(5)
    write_rows(package / "frame.csv", table)
    problems = sampling_package.verify_package(package)
    plan = json.loads((package / "plan.json").read_text(encoding="utf-8"))
    n_before = plan["strata"][removed[1]]["N"]
    assert problems[0] == f"plan.json: stratum {removed[1]!r} has N={n_before}, frame.csv has {n_before - 1} rows"

    table.append(table[1])  # the same enterprise twice
    write_rows(package / "frame.csv", table)
    assert any(f"uscc {table[1][0]} appears more than once" in p for p in sampling_package.verify_package(package))


def test_a_changed_rate_is_named(package: Path) -> None:
    plan = json.loads((package / "plan.json").read_text(encoding="utf-8"))
    plan["strata"]["D"]["rate"] = "0.5"
    (package / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    assert sampling_package.verify_package(package)[0].startswith("plan.json: stratum 'D' has n=")


def test_a_missing_file_is_named(package: Path) -> None:
    (package / "eligibility.csv").unlink()
    assert sampling_package.verify_package(package) == [f"{package}: missing eligibility.csv"]


def test_a_published_package_is_never_overwritten(conn: duckdb.DuckDBPyConnection, package: Path) -> None:
    before = {p.name: p.read_bytes() for p in package.iterdir()}
    with pytest.raises(FileExistsError, match="immutable"):
        build(conn, package)
    assert {p.name: p.read_bytes() for p in package.iterdir()} == before
    assert [p.name for p in package.parent.iterdir()] == [PLAN]


def test_an_inconsistent_package_is_not_published(conn: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    frame = make_frame(300, seed=9)
    selection = protocol.draw(conn, frame, RATES, SEED, PLAN)
    eligibility = pd.DataFrame({"uscc": selection["uscc"].repeat(2), "inspector_id": ["P1", "P2"] * len(selection)})
    assignments = protocol.assign(conn, selection, eligibility, SEED, PLAN, 100)
    assignments.loc[0, "inspector_1"] = "P9"  # not what the protocol gives
    plan = protocol.new_plan(PLAN, "2024-04", SEED, RATES, frame, 100, known_through="2024-03")
    with pytest.raises(ValueError, match=r"assignments\.csv row 1: expected inspector_1"):
        sampling_package.write_package(tmp_path / PLAN, plan, frame, selection, eligibility, assignments)
    assert list(tmp_path.iterdir()) == []


def test_tiny_hand_computed_example(conn: duckdb.DuckDBPyConnection) -> None:
    """A pinned example anyone can redo with the protocol text: 100 firms in stratum B at rate "0.07"
    (binary floats give 0.07 × 100 = 7.000000000000001 and would draw 8; exact decimals draw 7) and 3 in D at
    rate "1". The expected firms were computed once with the formula of design.md §6 and written down here."""
    seed, plan_id = "0" * 63 + "1", "MR-TEST-2024-04"
    frame = pd.DataFrame(
        {"uscc": [f"E{i:03d}" for i in range(100)] + ["D1", "D2", "D3"], "stratum": ["B"] * 100 + ["D"] * 3}
    )
    got = protocol.draw(conn, frame, {"B": "0.07", "D": "1"}, seed, plan_id)
    assert sorted(got.loc[got["stratum"] == "B", "uscc"]) == sorted(
        ["E036", "E090", "E053", "E002", "E009", "E055", "E029"]
    )
    assert got.loc[got["stratum"] == "B", "uscc"].tolist()[:3] == ["E036", "E090", "E053"]  # ascending k
    assert sorted(got.loc[got["stratum"] == "D", "uscc"]) == ["D1", "D2", "D3"]
