"""Signed evidence (签名留痕, design.md §5): what someone who can write the files cannot forge.

A hash chain proves only consistency: whoever can write the home can recompute every hash. The pipeline
therefore signs, with an Ed25519 key held outside the home (`ZS_RISK_SIGNING_KEY`, like the PII key):

- every publish-log entry (its entry hash), in the same transaction that appends it;
- the log's head after every publish, appended to `evidence/heads.jsonl`: an append-only file in which each
  line also carries the SHA-256 of the line before, so a log shorter than its last signed head (entries
  deleted, the log table emptied or dropped, the warehouse deleted) is detected;
- every seed commitment, before its draw, together with the SHA-256 of the frame the draw will use
  (`commitment.json` in the plan package, and sampling.commitments).

Checking needs only the public half (`ZS_RISK_VERIFY_KEY`, or derived from the signing key where the pipeline
runs), so an auditor holds no secret. An external copy of the latest head (every month's run prints it) lets
anyone detect a truncated log even when the heads file was truncated with it.

Keys are 64 hex digits: the raw 32-byte Ed25519 private key, and the raw public key. Plain Python (cryptography),
no Dagster, no DuckDB.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from zs_risk_pipeline.lib.core import files
from zs_risk_pipeline.lib.core.settings import MissingSecretError

SIGNING_KEY_ENV = "ZS_RISK_SIGNING_KEY"
VERIFY_KEY_ENV = "ZS_RISK_VERIFY_KEY"
HEADS_FILE = "heads.jsonl"
GENESIS = "0" * 64
# Domain separation: a signature made for one kind of record never verifies as another.
ENTRY_DOMAIN = "zs-risk publish-log entry v1\n"
HEAD_DOMAIN = "zs-risk signed head v1\n"
COMMITMENT_DOMAIN = "zs-risk seed commitment v1\n"


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _key_id(public: bytes) -> str:
    return hashlib.sha256(public).hexdigest()[:16]


def canonical(doc: Mapping[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class Verifier:
    """The public half: checks signatures, holds no secret."""

    key: Ed25519PublicKey

    @classmethod
    def from_hex(cls, text: str) -> Verifier:
        try:
            raw = bytes.fromhex(text.strip())
            return cls(Ed25519PublicKey.from_public_bytes(raw))
        except ValueError as e:
            raise MissingSecretError(f"{VERIFY_KEY_ENV} must be 64 hex digits (a raw Ed25519 public key): {e}") from e

    @property
    def public_hex(self) -> str:
        return _raw_public(self.key).hex()

    @property
    def key_id(self) -> str:
        return _key_id(_raw_public(self.key))

    def valid(self, domain: str, message: bytes, signature: str | None) -> bool:
        if not signature:
            return False
        try:
            self.key.verify(base64.b64decode(signature, validate=True), domain.encode("utf-8") + message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True)
class Signer:
    """The private half, from the environment only; never written into the home."""

    key: Ed25519PrivateKey

    @classmethod
    def from_hex(cls, text: str) -> Signer:
        try:
            return cls(Ed25519PrivateKey.from_private_bytes(bytes.fromhex(text.strip())))
        except ValueError as e:
            raise MissingSecretError(f"{SIGNING_KEY_ENV} must be 64 hex digits (a raw Ed25519 key): {e}") from e

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.key.public_key())

    @property
    def key_id(self) -> str:
        return self.verifier.key_id

    def sign(self, domain: str, message: bytes) -> str:
        return base64.b64encode(self.key.sign(domain.encode("utf-8") + message)).decode("ascii")


def new_key() -> tuple[str, str]:
    """A fresh key pair as (private hex, public hex), e.g. the demo's throw-away key."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return private.hex(), _raw_public(key.public_key()).hex()


def signer_from_env(value: str | None = None) -> Signer:
    text = os.environ.get(SIGNING_KEY_ENV) if value is None else value
    if not text:
        raise MissingSecretError(
            f"{SIGNING_KEY_ENV} is not set: publish-log heads and seed commitments are signed with this Ed25519 key "
            "(64 hex digits, kept outside the home) and the pipeline refuses to publish or draw without it. Set it "
            "from your secret store (zs-risk demo generates a throw-away key)."
        )
    return Signer.from_hex(text)


def verifier_from_env() -> Verifier | None:
    """The public key: ZS_RISK_VERIFY_KEY, else the public half of ZS_RISK_SIGNING_KEY; None when neither is set."""
    if os.environ.get(VERIFY_KEY_ENV):
        return Verifier.from_hex(os.environ[VERIFY_KEY_ENV])
    if os.environ.get(SIGNING_KEY_ENV):
        return signer_from_env().verifier
    return None


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")


# --- publish-log entries ---------------------------------------------------------------------------------


def sign_entry(signer: Signer, entry_hash: str) -> str:
    return signer.sign(ENTRY_DOMAIN, entry_hash.encode("ascii"))


def entry_signed(verifier: Verifier, entry_hash: str, signature: str | None) -> bool:
    return verifier.valid(ENTRY_DOMAIN, entry_hash.encode("ascii"), signature)


# --- signed heads ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Head:
    seq: int
    entry_hash: str
    line: int  # 1-based line of heads.jsonl
    signed: bool = True  # False: the line does not verify (it vouches for nothing)


def repair_heads(path: Path) -> bool:
    """Remove a last line that a crash cut short (no newline at the end); True when something was removed."""
    if not path.is_file():
        return False
    data = path.read_bytes()
    if not data or data.endswith(b"\n"):
        return False
    keep = data[: data.rfind(b"\n") + 1]
    tmp = path.with_name(f".{path.name}.repair")
    tmp.write_bytes(keep)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return True


def _lines(path: Path) -> list[str]:
    if not path.is_file():
        return []
    return path.read_text(encoding="utf-8").splitlines()


def append_head(path: Path, signer: Signer, seq: int, entry_hash: str) -> Head | None:
    """Sign the log's head (seq, entry hash) onto the heads file unless it is already the last signed head."""
    repair_heads(path)
    lines = _lines(path)
    if lines:
        last = json.loads(lines[-1])
        if last.get("seq") == seq and last.get("entry_hash") == entry_hash:
            return None
    prev = hashlib.sha256(lines[-1].encode("utf-8")).hexdigest() if lines else GENESIS
    doc = {"seq": seq, "entry_hash": entry_hash, "prev": prev, "signed_at": _now(), "key_id": signer.key_id}
    doc["signature"] = signer.sign(HEAD_DOMAIN, canonical(doc))
    # A line cut short by a crash never verified, so it vouches for nothing: repair_heads drops it first.
    files.append_private(path, json.dumps(doc, sort_keys=True) + "\n")
    return Head(seq, entry_hash, len(lines) + 1)


def read_heads(path: Path, verifier: Verifier) -> tuple[list[Head], list[str]]:
    """The signed heads in order, and what is wrong with the file (forged, reordered or removed lines)."""
    heads: list[Head] = []
    problems: list[str] = []
    prev, last_seq = GENESIS, 0
    for n, line in enumerate(_lines(path), start=1):
        where = f"{path.name} line {n}"
        try:
            doc = json.loads(line)
            body = {k: doc[k] for k in ("seq", "entry_hash", "prev", "signed_at", "key_id")}
            seq, entry_hash = int(body["seq"]), str(body["entry_hash"])
        except (ValueError, KeyError, TypeError):
            problems.append(f"{where}: not a signed head")
            prev = hashlib.sha256(line.encode("utf-8")).hexdigest()
            continue
        signed = verifier.valid(HEAD_DOMAIN, canonical(body), doc.get("signature"))
        if not signed:
            problems.append(f"{where}: signature does not verify with key {verifier.key_id} (forged or altered head)")
        if body["prev"] != prev:
            problems.append(f"{where}: does not follow line {n - 1} (heads removed, inserted or reordered)")
        if seq < last_seq:
            problems.append(f"{where}: head seq {seq} after seq {last_seq} (signed heads only move forward)")
        last_seq = max(last_seq, seq)
        heads.append(Head(seq, entry_hash, n, signed))
        prev = hashlib.sha256(line.encode("utf-8")).hexdigest()
    return heads, problems


# --- seed commitments ------------------------------------------------------------------------------------


def commitment_record(
    signer: Signer, plan_id: str, month: str, seed_commitment: str, algorithm: str, frame_sha256: str, frame_rows: int
) -> dict[str, Any]:
    """The signed record of a draw's seed commitment and frame, made before the draw."""
    doc: dict[str, Any] = {
        "plan_id": plan_id,
        "month": month,
        "seed_commitment": seed_commitment,
        "algorithm": algorithm,
        "frame_sha256": frame_sha256,
        "frame_rows": frame_rows,
        "committed_at": _now(),
        "key_id": signer.key_id,
    }
    doc["signature"] = signer.sign(COMMITMENT_DOMAIN, canonical(doc))
    return doc


def commitment_problems(record: Mapping[str, Any], verifier: Verifier) -> list[str]:
    body = {k: v for k, v in record.items() if k != "signature"}
    if not verifier.valid(COMMITMENT_DOMAIN, canonical(body), record.get("signature")):
        return [f"commitment of {record.get('plan_id')}: signature does not verify with key {verifier.key_id}"]
    return []
