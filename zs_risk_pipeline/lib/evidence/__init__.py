"""Signed evidence (签名留痕): signing and verifying what the pipeline commits to, and verifying a whole home against
tampering."""
