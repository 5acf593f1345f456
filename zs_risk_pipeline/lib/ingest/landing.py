"""Reading landing files as the source systems deliver them (落地文件读取).

Every file becomes an Arrow table of strings, one row per data row, with the canonical column names of
the contract, a struct of any extra columns, the text of rows that could not be split into fields, and
the row's position in the file. Typing and judging happen later, in SQL. A file that cannot be read at
all raises FileRejected naming the file and, where there is one, the column.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from zs_risk_pipeline.lib.ingest.contract import Source

FORMATS = {".csv": "csv", ".txt": "csv", ".parquet": "parquet", ".jsonl": "jsonl", ".json": "jsonl"}
ROW_COLUMNS = ("_row_number", "_line_number", "_raw_line", "_extra")


class FileRejected(Exception):
    """The whole file is unusable; code is a machine reason, message names the file and column."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class LandingFile:
    path: Path
    relative: str  # path below landing/, as recorded in lineage and messages
    sha256: str
    size_bytes: int
    format: str | None


@dataclass
class ReadResult:
    table: pa.Table
    encoding: str | None


def list_files(landing_dir: Path, source: str, month: str) -> list[LandingFile]:
    """Files delivered for one source and month, in a stable order."""
    folder = landing_dir / source / month
    if not folder.is_dir():
        return []
    out = []
    for p in sorted(folder.iterdir()):
        if not p.is_file() or p.name.startswith("."):
            continue
        data = p.read_bytes()
        out.append(
            LandingFile(
                path=p,
                relative=p.relative_to(landing_dir).as_posix(),
                sha256=hashlib.sha256(data).hexdigest(),
                size_bytes=len(data),
                format=FORMATS.get(p.suffix.lower()),
            )
        )
    return out


def read_file(f: LandingFile, source: Source) -> ReadResult:
    if f.format is None:
        raise FileRejected("unsupported_format", f"{f.relative}: unsupported file type {f.path.suffix!r}")
    if f.size_bytes == 0 and f.format == "jsonl":
        return ReadResult(empty_table(source), "utf-8")  # JSON Lines has no header: no line is no row
    if f.size_bytes == 0:
        raise FileRejected("empty_file", f"{f.relative}: the file is empty (no header row)")
    if f.format == "csv":
        return _read_csv(f, source)
    if f.format == "parquet":
        return _read_parquet(f, source)
    return _read_jsonl(f, source)


# --- CSV --------------------------------------------------------------------------------------------


def _decode(f: LandingFile, data: bytes) -> tuple[bytes, str]:
    """UTF-8 bytes of the file and the encoding it came in (UTF-8, UTF-8 with BOM, GB18030/GBK)."""
    if b"\x00" in data:
        raise FileRejected("binary_file", f"{f.relative}: contains NUL bytes; not a text CSV file")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
        enc = "utf-8-sig"
    else:
        enc = "utf-8"
    try:
        data.decode("utf-8")
        return data, enc
    except UnicodeDecodeError:
        pass
    try:
        # GB18030 is a superset of GBK and GB2312, the encodings of most government exports.
        return data.decode("gb18030").encode("utf-8"), "gb18030"
    except UnicodeDecodeError as e:
        raise FileRejected("unreadable_encoding", f"{f.relative}: neither UTF-8 nor GB18030 (byte {e.start})") from None


def _map_header(f: LandingFile, source: Source, header: list[str]) -> list[str]:
    """Contract names for a file's header. A column without a name (spreadsheets save trailing empty columns as
    `,,,`) is kept in raw as `_unnamed_<position>` among the extra columns, never a reason to reject the file; a
    named column that appears twice is."""
    mapping = source.header_map()
    names = [mapping.get(h.strip().lstrip("\ufeff"), h.strip()) for h in header]
    names = [n or f"_unnamed_{i}" for i, n in enumerate(names, start=1)]
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise FileRejected("duplicate_column", f"{f.relative}: column '{n}' appears twice in the header")
        seen.add(n)
    missing = [c for c in source.columns if c.required and c.name not in seen]
    if missing:
        named = ", ".join(f"'{c.name}' ({c.alias})" for c in missing)
        raise FileRejected(
            "missing_column",
            f"{f.relative}: required column{'s' if len(missing) > 1 else ''} {named} "
            f"{'are' if len(missing) > 1 else 'is'} missing; header is {header}",
        )
    return names


def _line_numbers(utf8: bytes, bad_texts: list[str], n_good: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """1-based line numbers of the good rows and of the malformed rows, found without a per-row loop."""
    arr = np.frombuffer(utf8, dtype=np.uint8)
    nl = np.flatnonzero(arr == 10)
    starts = np.concatenate([[0], nl + 1])
    ends = np.concatenate([nl, [len(arr)]])
    lengths = ends - starts
    cr = np.zeros(len(ends), dtype=bool)
    has = lengths > 0
    cr[has] = arr[ends[has] - 1] == 13
    nonempty = (lengths - cr) > 0
    line_no = np.arange(1, len(starts) + 1)
    data_lines = line_no[nonempty][1:]  # the first non-empty line is the header
    bad_lines = []
    pos = int(ends[np.flatnonzero(nonempty)[0]]) if nonempty.any() else 0
    for text in bad_texts:  # only the malformed rows, normally none
        p = utf8.find(text.encode("utf-8"), pos)
        if p < 0:
            bad_lines = []
            break
        bad_lines.append(int(np.searchsorted(starts, p, side="right")))
        pos = p + 1
    bad = np.asarray(bad_lines, dtype=np.int64)
    good = data_lines[~np.isin(data_lines, bad)]
    if len(good) != n_good or len(bad) != len(bad_texts):
        # Quoted line breaks make lines and rows differ: fall back to row order, lines unknown.
        total = n_good + len(bad_texts)
        return np.arange(1, n_good + 1), np.arange(n_good + 1, total + 1), np.full(total, -1)
    rows_good = np.searchsorted(data_lines, good) + 1
    rows_bad = np.searchsorted(data_lines, bad) + 1
    return rows_good, rows_bad, np.concatenate([good, bad])


def _is_header(f: LandingFile, source: Source, line: list[bytes]) -> bool:
    """Whether `line` (the file's second line, if any) is a header with every required column."""
    if not line:
        return False
    try:
        _map_header(f, source, next(csv.reader([line[0].decode("utf-8").rstrip("\r")]), []))
    except (FileRejected, UnicodeDecodeError):
        return False
    return True


def _read_csv(f: LandingFile, source: Source) -> ReadResult:
    utf8, enc = _decode(f, f.path.read_bytes())
    first = utf8.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
    if not first.strip():
        raise FileRejected("empty_file", f"{f.relative}: no header row")
    header = next(csv.reader([first]))
    try:
        names = _map_header(f, source, header)
    except FileRejected as e:
        if e.code == "missing_column" and _is_header(f, source, utf8.split(b"\n", 2)[1:2]):
            raise FileRejected(e.code, f"{e.message}; line 2 is a header: remove the title line above it") from None
        raise
    bad: list[str] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad.append(row.text)
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(utf8),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as e:
        raise FileRejected("unparseable_file", f"{f.relative}: cannot be parsed as CSV ({e})") from None
    rows_good, rows_bad, lines = _line_numbers(utf8, bad, table.num_rows)
    good = _canonical(table, source, rows_good, lines[: table.num_rows], None)
    if not bad:
        return ReadResult(good, enc)
    malformed = _malformed_rows(source, good.schema, rows_bad, lines[table.num_rows :], bad)
    return ReadResult(pa.concat_tables([good, malformed]).sort_by("_row_number"), enc)


# --- Parquet and JSON Lines -------------------------------------------------------------------------


def _as_strings(table: pa.Table) -> pa.Table:
    cols = []
    for col in table.columns:
        if pa.types.is_timestamp(col.type):
            col = col.cast(pa.date32())
        if not pa.types.is_string(col.type):
            col = col.cast(pa.string())
        cols.append(col)
    return pa.table(cols, names=table.column_names)


def _read_parquet(f: LandingFile, source: Source) -> ReadResult:
    try:
        table = pq.read_table(f.path)
        table = _as_strings(table)
    except (pa.ArrowException, OSError) as e:
        raise FileRejected("unparseable_file", f"{f.relative}: cannot be read as Parquet ({e})") from None
    table = table.rename_columns(_map_header(f, source, table.column_names))
    rows = np.arange(1, table.num_rows + 1)
    return ReadResult(_canonical(table, source, rows, np.full(table.num_rows, -1), None), None)


def _read_jsonl(f: LandingFile, source: Source) -> ReadResult:
    data = f.path.read_bytes()
    try:
        table = _as_strings(pajson.read_json(io.BytesIO(data)))
    except (pa.ArrowException, ValueError):
        return _read_jsonl_slowly(f, source, data)
    table = table.rename_columns(_map_header(f, source, table.column_names))
    rows = np.arange(1, table.num_rows + 1)
    return ReadResult(_canonical(table, source, rows, rows.copy(), None), "utf-8")


def _read_jsonl_slowly(f: LandingFile, source: Source, data: bytes) -> ReadResult:
    """Only for a file with broken lines: keep every good object and every broken line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileRejected("unreadable_encoding", f"{f.relative}: JSON Lines must be UTF-8") from None
    good, good_lines, bad, bad_lines = [], [], [], []
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError
            good.append(
                {k: None if v is None else (v if isinstance(v, str) else json.dumps(v)) for k, v in obj.items()}
            )
            good_lines.append(i)
        except ValueError:
            bad.append(line)
            bad_lines.append(i)
    keys = sorted({k for o in good for k in o}) if good else [c.name for c in source.columns if c.required]
    names = _map_header(f, source, keys)
    table = pa.table({n: pa.array([o.get(k) for o in good], pa.string()) for k, n in zip(keys, names, strict=True)})
    order = np.argsort(np.array(good_lines + bad_lines))
    row_of = np.empty(len(order), dtype=np.int64)
    row_of[order] = np.arange(1, len(order) + 1)
    gl, bl = np.array(good_lines, dtype=np.int64), np.array(bad_lines, dtype=np.int64)
    canon = _canonical(table, source, row_of[: len(good)], gl, None)
    malformed = _malformed_rows(source, canon.schema, row_of[len(good) :], bl, bad)
    return ReadResult(pa.concat_tables([canon, malformed]).sort_by("_row_number"), "utf-8")


# --- shaping ----------------------------------------------------------------------------------------


def _canonical(
    table: pa.Table, source: Source, rows: np.ndarray, lines: np.ndarray, raw_lines: list[str] | None
) -> pa.Table:
    n = table.num_rows
    cols: dict[str, pa.Array] = {}
    for c in source.columns:
        cols[c.name] = (
            table.column(c.name).combine_chunks() if c.name in table.column_names else pa.nulls(n, pa.string())
        )
    extra = [name for name in table.column_names if name not in cols]
    if extra:
        struct = pa.StructArray.from_arrays([table.column(x).combine_chunks() for x in extra], names=extra)
        cols["_extra"] = pa.array(_struct_to_json(struct), pa.string())
    else:
        cols["_extra"] = pa.nulls(n, pa.string())
    cols["_raw_line"] = pa.array(raw_lines, pa.string()) if raw_lines else pa.nulls(n, pa.string())
    cols["_row_number"] = pa.array(rows.astype(np.int64))
    cols["_line_number"] = pa.array(lines.astype(np.int64))
    return pa.table(cols)


def empty_table(source: Source) -> pa.Table:
    """A table of no rows shaped like a landed file of this source."""
    return _canonical(pa.table({}), source, np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), None)


def _struct_to_json(struct: pa.StructArray) -> list[str]:
    # Extra columns are rare and small; DuckDB would be no faster for the handful of files that have them.
    return [json.dumps(v, ensure_ascii=False) for v in struct.to_pylist()]


def _malformed_rows(
    source: Source, schema: pa.Schema, rows: np.ndarray, lines: np.ndarray, texts: list[str]
) -> pa.Table:
    n = len(texts)
    cols = {c.name: pa.nulls(n, pa.string()) for c in source.columns}
    cols["_extra"] = pa.nulls(n, pa.string())
    cols["_raw_line"] = pa.array(texts, pa.string())
    cols["_row_number"] = pa.array(np.asarray(rows, dtype=np.int64))
    cols["_line_number"] = pa.array(np.asarray(lines, dtype=np.int64))
    return pa.table(cols).cast(schema)
