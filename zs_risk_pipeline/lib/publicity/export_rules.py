"""What a one-public export may hold (公示字段与口径): its columns, values, policy and checks.

config/publicity.yaml (validated by lib/policy/publicity.py), the columns that may leave, the words a tier must
never appear as, and the checks every export file passes before and after it is written. Plain Python, no Dagster.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from zs_risk_pipeline.lib.core import workdays
from zs_risk_pipeline.lib.ingest import uscc
from zs_risk_pipeline.lib.policy import base, folder
from zs_risk_pipeline.lib.policy.publicity import PublicityConfig, PublicityFile

FILE_STEM = "inspection_results"


SOURCES = ("registry", "plans")  # read for names; a batch may come before either is staged


BATCH_DIR = "batches"  # exports/publicity/<YYYY-MM>/batches/: the batches published on arrival


SHANGHAI = dt.timedelta(hours=8)  # Asia/Shanghai is UTC+8 all year (no daylight saving since 1991)


ENCODINGS = {"utf8": "utf-8-sig", "gb18030": "gb18030"}  # BOM in the UTF-8 file: Excel opens it right


ENCODING_NAMES = {"utf8": "UTF-8 with BOM", "gb18030": "GB18030"}


TYPE_LABELS = {"random": "双随机抽查", "triggered": "触发式检查", "special": "专项检查"}


# The contract of the file the publicity system takes, in order.
EXPORT_COLUMNS = (
    "任务编号",
    "统一社会信用代码",
    "企业名称",
    "抽查计划编号",
    "抽查计划名称",
    "检查类型",
    "检查实施机关",
    "检查日期",
    "检查结果",
    "公示日期",
    "公示截止日期",
    "是否超期",
    "截止日期口径",
)


FORBIDDEN_NAME = re.compile(
    r"tier|grade|rating|rank|score|prob|point|strat|risk|inclusion|(?<![a-z])pi(?![a-z])|π"
    r"|分类|等级|评级|级别|分值|得分|评分|分数|概率|入选|层|风险|积分",
    re.IGNORECASE,
)


TIER_WORDING = re.compile(
    r"(?<![A-Za-z])[ABCD]\s*[类级档]|(?:低|中|一般|较高|高)风险|风险(?:分类|等级|分级|类别)|信用(?:风险|等级)|分层"
    r"|(?i:\btiers?\b|strat(?:um|a)\b|\bscore)"
)


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


_DOMAINS: dict[str, Any] = {
    "任务编号": lambda s: s.str.strip() != "",
    "统一社会信用代码": lambda s: s.str.fullmatch(uscc.FORMAT_RE.pattern),
    "检查类型": lambda s: s.isin(TYPE_LABELS.values()),
    "检查日期": lambda s: s.str.fullmatch(_ISO_DATE.pattern),
    "公示日期": lambda s: s.str.fullmatch(_ISO_DATE.pattern),
    "公示截止日期": lambda s: s.str.fullmatch(_ISO_DATE.pattern),
    "是否超期": lambda s: s.isin(["是", "否"]),
    "截止日期口径": lambda s: s.isin(workdays.BASIS_ZH.values()),
    "抽查计划编号": lambda s: ~s.str.contains(TIER_WORDING),
    "抽查计划名称": lambda s: ~s.str.contains(TIER_WORDING),
}


class ExportRefused(RuntimeError):
    """The export check failed on the files written aside: nothing was published, the previous files stand."""


def load_config(path: Path | None = None) -> PublicityConfig:
    """The publicity policy of the policy folder in use, or of the file `path` (validated the same way)."""
    return folder.current().publicity if path is None else base.load_file(PublicityFile, path).build()


def check_columns(columns: Sequence[str]) -> list[str]:
    """Problems with an export's header: columns outside the contract, missing or out of order, and any
    name that looks like internal risk data (tier, score, stratum, …)."""
    problems = []
    cols = [str(c) for c in columns]
    extra = [c for c in cols if c not in EXPORT_COLUMNS]
    missing = [c for c in EXPORT_COLUMNS if c not in cols]
    if extra:
        problems.append(f"columns not in the one-public contract: {extra}")
    if missing:
        problems.append(f"contract columns missing: {missing}")
    if not extra and not missing and tuple(cols) != EXPORT_COLUMNS:
        problems.append(f"columns out of the contract's order or repeated: {cols}")
    risky = [c for c in cols if FORBIDDEN_NAME.search(c)]
    if risky:
        problems.append(f"columns named like internal risk data (tier/score/stratum): {risky}")
    return problems


def check_values(frame: pd.DataFrame) -> list[str]:
    """Problems with the values of the code-like columns: each must hold only its domain."""
    problems = []
    for column, valid in _DOMAINS.items():
        if column not in frame.columns:
            continue
        values = frame[column].fillna("").astype(str)
        ok = valid(values).fillna(False).astype(bool)
        bad = values[~ok]
        if len(bad):
            problems.append(f"column {column}: {len(bad)} values outside its domain, e.g. {bad.unique()[:3].tolist()}")
    return problems


def check_export(frame: pd.DataFrame) -> list[str]:
    """Every problem of an export table: header first, then values."""
    return check_columns(list(frame.columns)) + check_values(frame)


def read_export(path: Path, label: str) -> pd.DataFrame:
    """An export file as the public reads it: every cell as text, empty cells as ''."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=ENCODINGS[label])


def verify_files(files: Mapping[str, Path]) -> tuple[list[str], int]:
    """Re-read export files (label → path) and check them: decoding, BOM, the export check, and the same
    table in every encoding. Problems name the file; also the rows read."""
    problems: list[str] = []
    frames: dict[str, pd.DataFrame] = {}
    for label, path in files.items():
        where = Path(path).name
        if not Path(path).is_file():
            problems.append(f"{where}: missing")
            continue
        with Path(path).open("rb") as f:
            head = f.read(3)
        if label == "utf8" and head != b"\xef\xbb\xbf":
            problems.append(f"{where}: no UTF-8 byte-order mark")
        try:
            frames[label] = read_export(path, label)
        except (UnicodeDecodeError, pd.errors.ParserError) as e:
            problems.append(f"{where}: does not read as {ENCODING_NAMES[label]} CSV ({e})")
            continue
        problems += [f"{where}: {p}" for p in check_export(frames[label])]
    tables = list(frames.values())
    if len(tables) > 1 and not all(t.equals(tables[0]) for t in tables[1:]):
        problems.append(f"the encodings {sorted(frames)} do not hold the same table")
    return problems, (len(tables[0]) if tables else 0)
