"""What every policy file model shares (政策文件模型的公共部分): strict pydantic models and one-line errors.

Each config/*.yaml has one pydantic model (lib/policy/<file>.py). The models are strict (a YAML float is no
integer, `yes` is no number, a list is no mapping), forbid unknown keys and validate every rule the file's
comments document. A file that breaks a rule raises PolicyError with one line naming the file, the field path
and the problem, e.g.

    tier_policy.yaml: target_shares: must be non-negative and sum to 1, got {'A': 0.5, ...}
    sampling_plans.yaml: plan 2 (MR-FOOD) tiers.C.ratio: rate must be a decimal string such as "0.05", got 0.2 ...

Positions in a list count from 1 and carry the entry's id, name or indicator, as an operator reads the file.

Plain Python, no Dagster.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, TypeVar

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator

if TYPE_CHECKING:
    from zs_risk_pipeline.lib.features.enterprise_monthly import Indicator

# How a list entry is named in an error: "plan 2 (MR-FOOD)" rather than "plans 2".
NOUNS = {"plans": "plan", "rules": "rule", "overrides": "override", "items": "item"}
LABEL_KEYS = ("id", "name", "indicator")


class PolicyError(ValueError):
    """A policy file is not valid: one line with the file, the field path and the problem."""

    def __init__(self, file: str, path: str, problem: str) -> None:
        self.file, self.path, self.problem = file, path, problem
        super().__init__(f"{file}: {path}: {problem}" if path else f"{file}: {problem}")


class FieldError(ValueError):
    """Raised inside a validator for a field below the one being validated: `loc` goes on the error's path."""

    def __init__(self, loc: str | int | Sequence[str | int], problem: str) -> None:
        self.loc = (loc,) if isinstance(loc, str | int) else tuple(loc)
        super().__init__(problem)


class StrictModel(BaseModel):
    """A policy file or one of its sections: strict types, no unknown keys, immutable once validated."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)
    error: ClassVar[type[PolicyError]] = PolicyError  # what a file of this model raises

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            allowed = sorted(cls.model_fields)
            unknown = [k for k in data if k not in cls.model_fields]
            if unknown:
                raise FieldError(str(unknown[0]), f"unknown key (allowed: {', '.join(allowed)})")
        return data


# --- reusable field types ----------------------------------------------------------------------------------

T = TypeVar("T")


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("must be a non-empty text")
    return value.strip()


Text = Annotated[str, AfterValidator(_text)]


def _positive_int(value: int) -> int:
    if value < 1:
        raise ValueError(f"must be a positive integer, got {value!r}")
    return value


PositiveInt = Annotated[int, AfterValidator(_positive_int)]


def in_range(lo: float, hi: float, *, integer: bool = False, open_lo: bool = False, open_hi: bool = False) -> Any:
    """An AfterValidator for a number in [lo, hi] (either end open): the error states the range."""
    what = "an integer" if integer else "a number"
    span = f"{'(' if open_lo else '['}{lo:g}, {hi:g}{')' if open_hi else ']'}"

    def check(value: float) -> float:
        above = value > lo if open_lo else value >= lo
        below = value < hi if open_hi else value <= hi
        if not (above and below):
            raise ValueError(f"must be {what} in {span}, got {value!r}")
        return value

    return AfterValidator(check)


def none_as(empty: Any) -> BeforeValidator:
    """A key written with no value (`towns:`) means the empty list or mapping."""
    return BeforeValidator(lambda v: empty if v is None else v)


def one_of(allowed: Sequence[str]) -> AfterValidator:
    """A text from a fixed list, the list named in the error."""

    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"{value!r} not in {list(allowed)}")
        return value

    return AfterValidator(check)


def unique(values: Sequence[T], what: str = "a value") -> None:
    repeated = sorted({str(v) for v in values if list(values).count(v) > 1})
    if repeated:
        raise ValueError(f"lists {what} twice: {repeated}")


# --- the reference data some rules are checked against (read when asked: the catalogue's module reads policy) --


def indicator_catalogue() -> dict[str, Indicator]:
    """reference/indicators.csv by indicator name."""
    from zs_risk_pipeline.lib.features.enterprise_monthly import indicators

    return {i.name: i for i in indicators()}


# --- reading a file, and its errors in one line ------------------------------------------------------------


def yaml_document(data: bytes, file: str, error: type[PolicyError] = PolicyError) -> Any:
    """A YAML policy file's parsed content (None for an empty file)."""
    try:
        return yaml.safe_load(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise error(file, "", f"is not UTF-8 text ({e})") from None
    except yaml.YAMLError as e:
        raise error(file, "", f"is not valid YAML: {' '.join(str(e).split())}") from None


def canonical_hash(doc: Any) -> str:
    """SHA-256 of a parsed policy file in canonical JSON (sorted keys): comments and layout do not count."""
    canonical = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


M = TypeVar("M", bound=StrictModel)


def validate(model: type[M], doc: Any, file: str) -> M:
    """The document validated by `model`; PolicyError (model.error) in one line when it breaks a rule."""
    try:
        return model.model_validate(doc)
    except ValidationError as e:
        errors = e.errors(include_url=False)
        first = errors[0]
        loc, problem = _problem(first)
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise model.error(file, field_path(loc, doc), problem + more) from None


def load_file(model: type[M], path: Path) -> M:
    """One policy file read and validated by its model (as load_policy_folder validates it in its folder)."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise model.error(Path(path).name, "", f"cannot be read ({e})") from None
    doc = yaml_document(data, Path(path).name, model.error)
    return validate(model, {} if doc is None else doc, Path(path).name)


_KINDS = {
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "string_type": "must be a text",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "extra_forbidden": "unknown key",
    "too_short": "must not be empty",
}


def _problem(error: Any) -> tuple[tuple[Any, ...], str]:
    loc = tuple(error["loc"])
    kind = error["type"]
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, FieldError):
        return loc + cause.loc, str(cause)
    if kind in ("value_error", "assertion_error") and cause is not None:
        return loc, str(cause)
    if kind == "missing":
        return loc, "is required"
    if kind == "literal_error":
        return loc, f"must be one of {error['ctx']['expected']}, got {error['input']!r}"
    text = _KINDS.get(kind) or error["msg"].replace("Input should", "must").replace("Value error, ", "")
    value = error.get("input")
    got = "" if isinstance(value, dict | list) and len(repr(value)) > 80 else f", got {value!r}"
    return loc, f"{text}{got}"


def field_path(loc: Sequence[Any], doc: Any) -> str:
    """The field path of an error as an operator reads it: keys joined by dots, list entries as "plan 2 (MR-FOOD)"
    (counted from 1, with the entry's id, name or indicator when it has one)."""
    out = ""
    last = ""  # "key" or "entry"
    node = doc
    keys: list[str] = []
    for part in loc:
        if isinstance(part, int) and isinstance(node, list):
            field = keys.pop() if keys and last == "key" else ""
            if field:
                out = out[: -len(field)].rstrip(".").rstrip()
            entry = node[part] if 0 <= part < len(node) else None
            label = next((entry[k] for k in LABEL_KEYS if isinstance(entry, dict) and entry.get(k)), None)
            name = NOUNS.get(field) or (f"{field} item" if field else "item")
            text = f"{name} {part + 1}" + (f" ({label})" if label is not None else "")
            out = f"{out} {text}" if out else text
            last, node = "entry", entry
            continue
        key = str(part)
        if key == "[key]":
            continue
        out = f"{out}.{key}" if last == "key" else (f"{out} {key}" if out else key)
        keys.append(key)
        last = "key"
        node = node.get(part) if isinstance(node, dict) else None
    return out
