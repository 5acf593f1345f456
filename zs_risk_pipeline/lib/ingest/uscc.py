"""Unified social credit code (统一社会信用代码, GB 32100-2015) and resident ID numbers (GB 11643).

Validation works on single strings; the generators are vectorised (numpy arithmetic on arrays of
character indices) so that a synthetic city of a million entities gets its codes in well under a second.

Layout of a USCC (18 characters)::

    1      registration authority (登记管理部门), 9 = market regulation
    2      organisation category (机构类别), under 9: 1 enterprise, 2 individual business, 3 co-operative
    3-8    administrative division of the registering authority (GB/T 2260), 442000 = 中山市
    9-17   organisation code (组织机构代码, GB 11714); position 17 is its own check character
    18     check character over positions 1-17 (weights 3^(i-1) mod 31)
"""

from __future__ import annotations

import re

import numpy as np

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, S, V, Z
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714 organisation-code weights
FORMAT_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")

# GB 11643 resident ID: weights 2^(17-i) mod 11, check = (12 - sum mod 11) mod 11, 10 -> X.
ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
ID_CHECK = "10X98765432"  # indexed by (sum mod 11)
ID_RE = re.compile(r"^\d{17}[\dX]$")

_VALUE = {c: i for i, c in enumerate(CHARSET)}
# Full-width ASCII (U+FF01..U+FF5E) and the ideographic space map onto plain ASCII.
_HALF_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}

# Lookup tables over code points for the vectorised paths.
_CHAR_VALUE = np.full(128, -1, dtype=np.int64)
_CHAR_VALUE[[ord(c) for c in CHARSET]] = np.arange(31)
_CHARSET_CODES = np.array([ord(c) for c in CHARSET], dtype=np.uint32)
# GB 11714 values: digits 0-9, letters A-Z 10-35 (by alphabet position, not charset position).
_ORG_VALUE = np.full(128, -1, dtype=np.int64)
_ORG_VALUE[48:58] = np.arange(10)
_ORG_VALUE[65:91] = np.arange(10, 36)
_ORG_CHECK = np.array([ord(c) for c in "0123456789X0"], dtype=np.uint32)  # index = 11 - (sum mod 11)


def normalise(s: str) -> str:
    """Trim, full-width → half-width, upper case: the forms government exports commonly carry."""
    return s.translate(_HALF_WIDTH).strip().upper()


def check_char(first17: str) -> str:
    """The 18th character for the first 17 characters of a USCC."""
    if len(first17) != 17:
        raise ValueError(f"need 17 characters, got {len(first17)}")
    try:
        total = sum(_VALUE[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    except KeyError as e:
        raise ValueError(f"character {e.args[0]!r} is not in the USCC character set") from None
    return CHARSET[(31 - total % 31) % 31]


def org_check_char(first8: str) -> str:
    """GB 11714 check character of a 9-character organisation code, given its first 8 characters."""
    if len(first8) != 8:
        raise ValueError(f"need 8 characters, got {len(first8)}")
    vals = []
    for c in first8:
        if c.isdigit():
            vals.append(int(c))
        elif "A" <= c <= "Z":
            vals.append(ord(c) - 55)
        else:
            raise ValueError(f"character {c!r} is not allowed in an organisation code")
    c9 = 11 - sum(v * w for v, w in zip(vals, ORG_WEIGHTS, strict=True)) % 11
    return "X" if c9 == 10 else "0" if c9 == 11 else str(c9)


def is_valid(s: str) -> bool:
    """Format and check character on the string exactly as given (no normalisation)."""
    if not isinstance(s, str) or not FORMAT_RE.match(s):
        return False
    return check_char(s[:17]) == s[17]


def validate(s: str | None) -> str | None:
    """None when the normalised code is valid, else the quarantine reason: uscc_format / uscc_checksum."""
    if not isinstance(s, str):
        return "uscc_format"
    n = normalise(s)
    if not FORMAT_RE.match(n):
        return "uscc_format"
    return None if check_char(n[:17]) == n[17] else "uscc_checksum"


# --- vectorised generation --------------------------------------------------------------------------


def _broadcast_chars(value: np.ndarray | str, n: int, name: str) -> np.ndarray:
    """One code point per row from a single character or an array of single characters."""
    arr = np.asarray(value)
    if arr.ndim == 0:
        arr = np.full(n, str(arr))
    if arr.shape != (n,):
        raise ValueError(f"{name} must be one character or an array of {n} characters")
    if n and (np.char.str_len(arr.astype(str)) != 1).any():
        raise ValueError(f"{name} must be single characters")
    return np.asarray(arr, dtype="U1").view(np.uint32)


def _strings(codes: np.ndarray) -> np.ndarray:
    """(n, k) uint32 code points → array of str of width k."""
    k = codes.shape[1]
    return np.ascontiguousarray(codes, dtype=np.uint32).view(f"<U{k}").ravel()


def check_chars(first17: np.ndarray) -> np.ndarray:
    """Vectorised 18th characters for an (n, 17) array of code points."""
    vals = _CHAR_VALUE[first17]
    if (vals < 0).any():
        raise ValueError("character outside the USCC character set")
    # Float BLAS product: exact here (sums stay far below 2**53) and much faster than integer matmul.
    total = (vals.astype(np.float64) @ np.array(WEIGHTS, dtype=np.float64)).astype(np.int64)
    return _CHARSET_CODES[(31 - total % 31) % 31]


def generate(
    rng: np.random.Generator,
    n: int,
    *,
    registration: str = "9",
    category: np.ndarray | str = "1",
    division: np.ndarray | str = "442000",
    legacy: np.ndarray | bool = False,
) -> np.ndarray:
    """`n` distinct valid USCCs.

    Positions 9-17 are a valid organisation code. New-style codes look like real ones issued since
    2015: ``MA`` + 6 characters of the USCC set + GB 11714 check. Rows flagged ``legacy`` (entities that
    existed before the USCC reform and kept their old organisation code) get 8 digits + check instead.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    if len(registration) != 1 or registration not in CHARSET:
        raise ValueError(f"registration authority {registration!r} is not one USCC character")
    cat = _broadcast_chars(category, n, "category")
    div = np.asarray(division)
    if div.ndim == 0:
        div = np.full(n, str(div))
    div_codes = np.asarray(div, dtype="U6").view(np.uint32).reshape(n, 6)
    if n and not ((div_codes >= 48) & (div_codes <= 57)).all():
        raise ValueError("division must be 6 digits")
    leg = np.broadcast_to(np.asarray(legacy, dtype=bool), (n,))

    codes = np.empty((n, 18), dtype=np.uint32)
    codes[:, 0] = ord(registration)
    codes[:, 1] = cat
    codes[:, 2:8] = div_codes
    # Organisation code bodies are drawn without replacement, so codes are unique by construction.
    new_rows = np.flatnonzero(~leg)
    old_rows = np.flatnonzero(leg)
    if len(new_rows):
        if len(new_rows) > 31**6 // 2:
            raise ValueError("too many codes requested for the MA-style code space")
        k = rng.choice(31**6, size=len(new_rows), replace=False)
        digits = (k[:, None] // 31 ** np.arange(5, -1, -1)) % 31
        codes[new_rows, 8] = ord("M")
        codes[new_rows, 9] = ord("A")
        codes[new_rows, 10:16] = _CHARSET_CODES[digits]
    if len(old_rows):
        if len(old_rows) > 10**8 // 2:
            raise ValueError("too many legacy codes requested")
        k = rng.choice(10**8, size=len(old_rows), replace=False)
        digits = (k[:, None] // 10 ** np.arange(7, -1, -1)) % 10
        codes[old_rows, 8:16] = 48 + digits
    org_vals = _ORG_VALUE[codes[:, 8:16]].astype(np.float64)
    c9 = 11 - (org_vals @ np.array(ORG_WEIGHTS, dtype=np.float64)).astype(np.int64) % 11
    codes[:, 16] = _ORG_CHECK[c9]
    codes[:, 17] = check_chars(codes[:, :17])
    return _strings(codes)


# --- resident identity numbers (居民身份证号码) --------------------------------------------------------

# Zhongshan has no districts, so its residents carry 442000; the rest are other Guangdong counties
# (migration within the province is the bulk of Zhongshan's non-local entrepreneurs).
RESIDENT_REGIONS = (
    ("442000", 0.62),  # 中山市
    ("440103", 0.015),
    ("440104", 0.015),
    ("440106", 0.02),
    ("440111", 0.015),  # 广州 荔湾 越秀 天河 白云
    ("440303", 0.01),
    ("440304", 0.01),
    ("440305", 0.01),  # 深圳 罗湖 福田 南山
    ("440402", 0.02),  # 珠海 香洲
    ("440604", 0.02),
    ("440605", 0.02),
    ("440606", 0.03),  # 佛山 禅城 南海 顺德
    ("440703", 0.02),
    ("440781", 0.02),  # 江门 蓬江 台山
    ("441302", 0.01),
    ("441900", 0.01),
    ("441202", 0.01),  # 惠城, 东莞, 肇庆 端州
    ("440881", 0.02),
    ("440882", 0.02),
    ("440823", 0.015),  # 廉江 雷州 遂溪
    ("440981", 0.025),
    ("441781", 0.02),  # 高州 阳春
    ("445281", 0.015),
    ("445122", 0.01),
    ("441622", 0.01),
    ("441424", 0.01),  # 普宁 饶平 龙川 五华
)


def id_check_chars(first17: np.ndarray) -> np.ndarray:
    """Vectorised ISO 7064 MOD 11-2 check characters for an (n, 17) array of digit values."""
    total = (first17.astype(np.float64) @ np.array(ID_WEIGHTS, dtype=np.float64)).astype(np.int64)
    return np.array([ord(c) for c in ID_CHECK], dtype=np.uint32)[total % 11]


def generate_resident_ids(
    rng: np.random.Generator,
    n: int,
    *,
    reference_date: str = "2023-01-01",
    age_mean: float = 42.0,
    age_sd: float = 10.0,
    min_age: int = 20,
    max_age: int = 75,
    male_share: float = 0.62,
) -> np.ndarray:
    """`n` distinct synthetic 18-character resident ID numbers (GB 11643) of adults.

    Region (weighted towards 442000), birth date (age on `reference_date` roughly normal), a 3-digit
    sequence whose parity carries the sex (odd = male) and the MOD 11-2 check character.
    """
    regions = np.array([r for r, _ in RESIDENT_REGIONS])
    weights = np.array([w for _, w in RESIDENT_REGIONS], dtype=float)
    ref = np.datetime64(reference_date, "D")
    out_region = np.empty(n, dtype=np.int64)
    out_birth = np.empty(n, dtype="datetime64[D]")
    out_seq = np.empty(n, dtype=np.int64)
    todo = np.arange(n)
    while len(todo):
        m = len(todo)
        out_region[todo] = rng.choice(len(regions), size=m, p=weights / weights.sum())
        age_days = np.clip(rng.normal(age_mean, age_sd, m), min_age, max_age) * 365.25
        out_birth[todo] = ref - age_days.astype(np.int64)
        male = rng.random(m) < male_share
        out_seq[todo] = rng.integers(0, 500, m) * 2 + male  # odd sequence = male
        # Redraw only the rows whose (region, birth, sequence) collides with an earlier row.
        key = (out_region * 40_000 + (out_birth.astype(np.int64) + 20_000)) * 1000 + out_seq
        _, first = np.unique(key, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        todo = np.flatnonzero(dup)
    codes = np.empty((n, 18), dtype=np.uint32)
    codes[:, :6] = np.asarray(regions[out_region], dtype="U6").view(np.uint32).reshape(n, 6)
    month = out_birth.astype("datetime64[M]")
    year = month.astype("datetime64[Y]").astype(np.int64) + 1970
    ymd = (year * 100 + month.astype(np.int64) % 12 + 1) * 100 + (out_birth - month).astype(np.int64) + 1
    codes[:, 6:14] = 48 + (ymd[:, None] // 10 ** np.arange(7, -1, -1)) % 10  # YYYYMMDD
    codes[:, 14:17] = 48 + (out_seq[:, None] // np.array([100, 10, 1])) % 10
    codes[:, 17] = id_check_chars(codes[:, :17] - 48)
    return _strings(codes)


def is_valid_resident_id(s: str) -> bool:
    """Format, a real calendar birth date and the MOD 11-2 check character."""
    if not isinstance(s, str) or not ID_RE.match(s):
        return False
    try:
        np.datetime64(f"{s[6:10]}-{s[10:12]}-{s[12:14]}", "D")
    except ValueError:
        return False
    total = sum(int(c) * w for c, w in zip(s[:17], ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11] == s[17]
