"""GB 32100-2015 unified social credit codes and GB 11643 resident ID numbers."""

from __future__ import annotations

import numpy as np
import pytest

from zs_risk_pipeline.lib.ingest import uscc

VALID = [
    "91442000MA5L30P862",
    "91442000MA5774P354",
    "91442000MA5MPWH24B",
    "92442000960013386G",  # individual business
    "93442000MA5K0H6N7X",  # farmers' co-operative
    "91350200776049653A",  # real, Xiamen
    "91440101MA5CJQ4N59",  # real, Guangzhou
]
INVALID = {
    "91442000MA5L30P863": "uscc_checksum",  # wrong check character
    "91442000MA5L30PO62": "uscc_format",  # letter O is not in the character set
    "9144200MA5L30P862": "uscc_format",  # 17 characters
    "9I442000MA5L30P862": "uscc_format",  # letter I
}


@pytest.mark.parametrize("code", VALID)
def test_valid_codes(code: str) -> None:
    assert uscc.is_valid(code)
    assert uscc.validate(code) is None
    assert uscc.check_char(code[:17]) == code[17]
    assert uscc.org_check_char(code[8:16]) == code[16]  # the organisation code inside is valid too


@pytest.mark.parametrize(("code", "reason"), INVALID.items())
def test_invalid_codes(code: str, reason: str) -> None:
    assert not uscc.is_valid(code)
    assert uscc.validate(code) == reason


def test_lower_case_is_invalid_raw_but_valid_after_normalisation() -> None:
    assert not uscc.is_valid("91442000ma5l30p862")
    assert uscc.validate("91442000ma5l30p862") is None


def test_invalid_classes_and_odd_input() -> None:
    assert uscc.validate(None) == "uscc_format"
    assert uscc.validate("") == "uscc_format"
    assert uscc.validate("91442000MA5L30P86") == "uscc_format"  # too short
    assert uscc.validate("91442000MA5L30P8622") == "uscc_format"  # too long
    assert uscc.validate("91A42000MA5L30P862") == "uscc_format"  # letter in the division code
    assert uscc.validate("91442000MA5L30PS62") == "uscc_format"  # S, like I O V Z, is excluded
    assert uscc.validate("91442000MA5L30P86Z") == "uscc_format"
    assert not uscc.is_valid(12345)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        uscc.check_char("91442000MA5L30P8")  # 16 characters
    with pytest.raises(ValueError):
        uscc.check_char("91442000MA5L30PO6")  # O


def test_worked_example_of_domain_doc() -> None:
    body = "91442000MA5L30P86"
    total = sum(uscc.CHARSET.index(c) * w for c, w in zip(body, uscc.WEIGHTS, strict=True))
    assert total == 1951 and total % 31 == 29
    assert uscc.check_char(body) == "2"


def test_weights_and_charset() -> None:
    assert uscc.WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    assert len(uscc.CHARSET) == 31 and not set("IOSVZ") & set(uscc.CHARSET)


def test_normalise() -> None:
    assert uscc.normalise("  ９１４４２０００ＭＡ５Ｌ３０Ｐ８６２\u3000") == "91442000MA5L30P862"
    assert uscc.normalise("91442000ma5l30p862 ") == "91442000MA5L30P862"
    assert uscc.validate("９１４４２０００ｍａ５ｌ３０ｐ８６２") is None
    assert uscc.validate(" 91442000MA5L30P863 ") == "uscc_checksum"


def test_generator_is_valid_unique_and_shaped() -> None:
    rng = np.random.default_rng(7)
    n = 50_000
    category = rng.choice(np.array(["1", "2", "3"]), n)
    legacy = rng.random(n) < 0.3
    codes = uscc.generate(rng, n, category=category, legacy=legacy)
    assert codes.shape == (n,) and len(np.unique(codes)) == n
    assert all(uscc.is_valid(c) for c in codes)
    assert all(uscc.org_check_char(c[8:16]) == c[16] for c in codes[:5000])
    assert all(c[:2] == "9" + cat and c[2:8] == "442000" for c, cat in zip(codes, category, strict=True))
    new_style = np.array([c[8:10] == "MA" for c in codes])
    assert (new_style == ~legacy).all()
    assert all(c[8:16].isdigit() for c in codes[legacy])


def test_generator_is_deterministic_and_accepts_divisions() -> None:
    a = uscc.generate(np.random.default_rng(1), 1000, category="2", division="440000")
    b = uscc.generate(np.random.default_rng(1), 1000, category="2", division="440000")
    assert (a == b).all()
    assert all(c.startswith("92440000") for c in a)
    assert uscc.generate(np.random.default_rng(1), 0).shape == (0,)
    with pytest.raises(ValueError):
        uscc.generate(np.random.default_rng(1), 3, category="12")
    with pytest.raises(ValueError):
        uscc.generate(np.random.default_rng(1), 3, registration="I")
    with pytest.raises(ValueError):
        uscc.generate(np.random.default_rng(1), 3, division="44200A")


def test_resident_id_check_characters() -> None:
    assert uscc.is_valid_resident_id("11010519491231002X")  # the standard's own example
    assert not uscc.is_valid_resident_id("110105194912310021")  # wrong check character
    assert not uscc.is_valid_resident_id("11010519491331002X")  # month 13
    assert not uscc.is_valid_resident_id("11010519491231002x")  # lower-case x
    assert uscc.ID_WEIGHTS == (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def test_resident_id_generator() -> None:
    rng = np.random.default_rng(3)
    ids = uscc.generate_resident_ids(rng, 20_000, reference_date="2023-01-01")
    assert len(np.unique(ids)) == len(ids)
    assert all(uscc.is_valid_resident_id(s) for s in ids)
    regions = {r for r, _ in uscc.RESIDENT_REGIONS}
    assert {s[:6] for s in ids} <= regions
    assert np.mean([s.startswith("4420") for s in ids]) > 0.5  # mostly Zhongshan residents
    births = np.array([int(s[6:10]) for s in ids])
    assert births.min() >= 2023 - 76 and births.max() <= 2023 - 19  # adults
    male = np.array([int(s[16]) % 2 == 1 for s in ids])
    assert 0.5 < male.mean() < 0.75
