"""Writing the synthetic city's landing files (落地文件写出): injected defects, CSV / JSONL / Parquet bytes.

The defects a real delivery has (bad codes, wrong dates, mojibake, spreadsheet exports) injected on purpose, and
the writers of every format and encoding the contract allows.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from zs_risk_pipeline.lib.ingest import uscc as uscc_lib
from zs_risk_pipeline.lib.ingest.contract import Source
from zs_risk_synth import output
from zs_risk_synth._util import Calendar, int_str, iso_dates, join

FORMATS = {"complaints": "jsonl", "licenses": "parquet"}  # everything else is CSV


DEFECT_CLASSES = (
    "bad_check_digit",
    "fullwidth",
    "lowercase",
    "chinese_date",
    "duplicate",
    "unknown_town",
    "future_date",
    "missing_value",
)


# A required column whose emptiness the ingestion can repair must not carry a missing_value defect:
# result codes are recovered from the Chinese result text.
NOT_EMPTIED = {"inspections": ("result_codes",)}


def inject_defects(
    table: pa.Table, source: Source, rng: np.random.Generator, rate: float, month_end: int
) -> tuple[pa.Table, dict[str, np.ndarray]]:
    """Give each data row, with probability `rate`, one defect of a class drawn uniformly; classes that
    cannot apply to this source (or row) fall back to one that can. Returns the table as it is to be
    written and the defects with their 1-based data-row numbers in that table."""
    n = table.num_rows
    hit = np.flatnonzero(rng.random(n) < rate)
    cls = rng.integers(0, len(DEFECT_CLASSES), len(hit))
    cols = {c.name: c for c in source.columns}
    has_uscc = "uscc" in cols
    date_cols = [c.name for c in source.columns if c.type == "date" and c.required]
    future_cols = [c for c in date_cols if not cols[c].future_ok]
    empty_cols = [c.name for c in source.columns if c.required and c.name not in NOT_EMPTIED.get(source.name, ())]
    ok = {
        "bad_check_digit": has_uscc,
        "fullwidth": has_uscc,
        "lowercase": has_uscc,
        "chinese_date": bool(date_cols),
        "duplicate": True,
        "unknown_town": source.name == "registry",
        "future_date": bool(future_cols),
        "missing_value": bool(empty_cols),
    }
    allowed = np.array([i for i, c in enumerate(DEFECT_CLASSES) if ok[c]])
    bad = ~np.isin(cls, allowed)
    cls[bad] = allowed[rng.integers(0, len(allowed), int(bad.sum()))]
    if has_uscc:  # lower-casing a code without letters changes nothing: make it full-width instead
        lower = hit[cls == DEFECT_CLASSES.index("lowercase")]
        vals = np.asarray(table.column("uscc").take(pa.array(lower)).to_numpy(zero_copy_only=False), dtype="U18")
        no_letter = np.char.upper(vals) == np.char.lower(vals)
        cls[np.flatnonzero(cls == DEFECT_CLASSES.index("lowercase"))[no_letter]] = DEFECT_CLASSES.index("fullwidth")

    edits: dict[str, list[tuple[np.ndarray, pa.Array]]] = {}
    column_of = np.full(len(hit), "", dtype=object)

    def edit(col: str, rows: np.ndarray, values: pa.Array, which: np.ndarray) -> None:
        edits.setdefault(col, []).append((rows, values))
        column_of[which] = col

    for k, name in enumerate(DEFECT_CLASSES):
        which = np.flatnonzero(cls == k)
        rows = hit[which]
        if not len(rows):
            continue
        if name in ("bad_check_digit", "fullwidth", "lowercase"):
            vals = np.asarray(table.column("uscc").take(pa.array(rows)).to_numpy(zero_copy_only=False), dtype="U18")
            edit("uscc", rows, pa.array(_uscc_defect(rng, name, vals)), which)
        elif name in ("chinese_date", "future_date"):
            choices = date_cols if name == "chinese_date" else future_cols
            pick = rng.integers(0, len(choices), len(rows))
            for j, col in enumerate(choices):
                sel = pick == j
                if not sel.any():
                    continue
                iso = np.asarray(
                    table.column(col).take(pa.array(rows[sel])).to_numpy(zero_copy_only=False), dtype="U10"
                )
                days = iso.astype("datetime64[D]")
                if name == "chinese_date":
                    month = days.astype("datetime64[M]")
                    y = month.astype("datetime64[Y]").astype(np.int64) + 1970
                    new = join(
                        int_str(y),
                        "年",
                        int_str(month.astype(np.int64) % 12 + 1),
                        "月",
                        int_str((days - month).astype(np.int64) + 1),
                        "日",
                    )
                else:
                    new = iso_dates(month_end + rng.integers(90, 500, int(sel.sum())))
                edit(col, rows[sel], new, which[sel])
        elif name == "unknown_town":
            edit("town_code", rows, pa.array([output.UNKNOWN_TOWN] * len(rows), pa.string()), which)
        elif name == "missing_value":
            pick = rng.integers(0, len(empty_cols), len(rows))
            for j, col in enumerate(empty_cols):
                sel = pick == j
                if sel.any():
                    edit(col, rows[sel], pa.nulls(int(sel.sum()), pa.string()), which[sel])

    for col, changes in edits.items():
        rows = np.concatenate([c[0] for c in changes])
        values = pa.concat_arrays([c[1].cast(pa.string()) for c in changes])
        order = np.argsort(rows, kind="stable")
        mask = np.zeros(n, dtype=bool)
        mask[rows] = True
        i = table.column_names.index(col)
        new_col = pc.replace_with_mask(table.column(col).combine_chunks(), pa.array(mask), values.take(pa.array(order)))
        table = table.set_column(i, col, new_col)

    dup = np.zeros(n, dtype=bool)
    dup[hit[cls == DEFECT_CLASSES.index("duplicate")]] = True
    before = np.cumsum(dup) - dup  # copies inserted above each row
    position = np.arange(n) + before + 1  # 1-based row number as written
    if dup.any():
        table = table.take(pa.array(np.repeat(np.arange(n), 1 + dup)))
    row_number = position[hit] + (cls == DEFECT_CLASSES.index("duplicate"))  # the copy follows the original
    order = np.argsort(row_number, kind="stable")
    return table, {
        "row_number": row_number[order],
        "column": column_of[order].astype(str),
        "defect_class": np.array(DEFECT_CLASSES)[cls][order],
    }


def _uscc_defect(rng: np.random.Generator, kind: str, vals: np.ndarray) -> np.ndarray:
    if kind == "lowercase":
        return np.char.lower(vals)
    codes = vals.view(np.uint32).reshape(len(vals), 18).copy()
    if kind == "fullwidth":
        return (codes + 0xFEE0).view("<U18").ravel()
    # bad check character: another character of the USCC set, so only the checksum fails
    charset = np.array([ord(c) for c in uscc_lib.CHARSET], dtype=np.uint32)
    pos = np.searchsorted(charset, codes[:, 17])
    codes[:, 17] = charset[(pos + rng.integers(1, 31, len(vals))) % 31]
    return codes.view("<U18").ravel()


def _headers(table: pa.Table, source: Source, chinese: bool) -> pa.Table:
    if not chinese:
        return table
    alias = {c.name: c.alias for c in source.columns}
    return table.rename_columns([alias[n] for n in table.column_names])


def csv_bytes(table: pa.Table, encoding: str) -> bytes:
    """CSV with a header row, values quoted only where needed."""
    special = any(_has_special(col) for col in table.columns if pa.types.is_string(col.type))
    if special:  # pyarrow quotes every string or none: let the csv module quote just the fields that need it
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(table.column_names)
        writer.writerows(zip(*[["" if v is None else v for v in c.to_pylist()] for c in table.columns], strict=True))
        text = buf.getvalue()
        return text.encode(encoding)
    buf = io.BytesIO()
    buf.write((",".join(table.column_names) + "\n").encode("utf-8"))  # pyarrow would quote the header
    pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False, quoting_style="none"))
    data = buf.getvalue()
    if encoding.replace("_", "-").lower() not in ("utf-8", "utf8"):
        data = data.decode("utf-8").encode(encoding)
    return data


def _has_special(col: pa.ChunkedArray) -> bool:
    """Whether any value holds a comma, quote or line break (scans the raw bytes: memchr speed)."""
    for chunk in col.chunks:
        data = chunk.buffers()[2]
        if data is not None and any(c in memoryview(data).tobytes() for c in (b",", b'"', b"\r", b"\n")):
            return True
    return False


def jsonl_bytes(table: pa.Table) -> bytes:
    """One JSON object per line: strings quoted, booleans as JSON booleans, nulls as null."""
    parts: list[pa.Array | str] = []
    for i, name in enumerate(table.column_names):
        col = table.column(i).combine_chunks()
        parts.append(("{" if i == 0 else ",") + json.dumps(name, ensure_ascii=False) + ":")
        if pa.types.is_boolean(col.type):
            text = pc.if_else(col, "true", "false")
        else:
            text = pc.replace_substring(pc.replace_substring(col.cast(pa.string()), "\\", "\\\\"), '"', '\\"')
            text = join('"', text, '"')
        parts.append(pc.fill_null(text, "null"))
    parts.append("}\n")
    lines = join(*parts) if table.num_rows else pa.array([], pa.string())
    return _concat_strings(lines)


def _concat_strings(arr: pa.Array) -> bytes:
    if not len(arr):
        return b""
    arr = pa.concat_arrays([arr]) if isinstance(arr, pa.ChunkedArray) else arr
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset : arr.offset + len(arr) + 1]
    return arr.buffers()[2].to_pybytes()[offsets[0] : offsets[-1]]


def write_table(table: pa.Table, path: Path, source: Source, *, encoding: str, chinese: bool) -> None:
    table = _headers(table, source, chinese)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = FORMATS.get(source.name, "csv")
    if fmt == "parquet":
        pq.write_table(
            table,
            path,
            compression="zstd",
            compression_level=3,
            use_dictionary=True,
            write_statistics=True,
            data_page_version="1.0",
        )
    elif fmt == "jsonl":
        path.write_bytes(jsonl_bytes(table))
    else:
        path.write_bytes(csv_bytes(table, encoding))


def deliveries(w: output.World, source: str, m: int) -> list[tuple[str, pa.Table]]:
    """The landing files (path below landing/, table) of one source and delivery month: one monthly file, or
    the weekly results files of the inspectorate."""
    if source == "inspections":
        return output.inspection_deliveries(w, m)
    return [(file_name(source, w.cal, m), output.TABLES[source](w, m))]


def file_name(source: str, cal: Calendar, m: int) -> str:
    label = cal.label(m)
    ext = FORMATS.get(source, "csv")
    return f"{source}/{label}/{source}_{label.replace('-', '')}.{ext}"
