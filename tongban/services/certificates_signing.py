"""Certificate signatures: the signed fields, signing, the QR payload and its checks.

Split from tongban.services.certificates (which re-exports every name); see its docstring."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from tongban.documents import signing
from tongban.services.errors import Invalid, Unavailable
from tongban.store.models import Certificate

TZ = ZoneInfo("Asia/Shanghai")
MAX_SIG = 2000  # longer `?sig=` values are not even parsed


# --- signatures -----------------------------------------------------------------------------


def _keyring() -> signing.Keyring:
    try:
        return signing.from_settings()
    except signing.KeyConfigError as exc:
        raise Unavailable(str(exc), code="cert_keys") from None


def _local_day(value: datetime | None) -> date | None:
    return value.astimezone(TZ).date() if value else None


def signed_fields(cert: Certificate) -> signing.Signed:
    """What the signature covers: a validity of whole days as dates (TB1, the format of
    every certificate issued before validities had times), a timed one as datetimes (TB2)."""
    if cert.validity_timed:
        valid_from, valid_to = cert.valid_from, cert.valid_to
    else:
        valid_from, valid_to = _local_day(cert.valid_from), _local_day(cert.valid_to)
    return signing.Signed.of(
        cert.number, cert.matter_code, cert.holder, valid_from, valid_to, cert.issued_at
    )


def sign(cert: Certificate) -> None:
    """Fill `signature` and `key_id` on a (possibly unsaved) row with the active key.

    Raises Unavailable when no signing key is configured: the issuing transaction then
    rolls back rather than hand out an unsigned certificate."""
    try:
        key_id, signature = _keyring().sign(signed_fields(cert))
    except signing.KeyConfigError as exc:
        raise Unavailable(str(exc), code="cert_keys") from None
    cert.key_id, cert.signature = key_id, signature


def qr_payload(cert: Certificate) -> str:
    """The signed, self-contained payload printed as the certificate's QR code."""
    return signing.encode_payload(signed_fields(cert), cert.key_id, cert.signature)


def verify_offline(payload: str, extra_public_keys: str = "") -> signing.Verification:
    """Check a QR payload with public keys only (settings plus `key_id:base64` pairs given
    here): no database, no private key needed."""
    keyring = _keyring().public_only()
    try:
        extra = signing.parse_public_keys(extra_public_keys)
    except signing.KeyConfigError as exc:
        raise Invalid(str(exc)) from None
    if extra:
        keyring = signing.Keyring(None, {**keyring.public, **dict(extra)}, keyring.dev)
    return signing.verify_payload(payload, keyring)


def _check_sig(cert: Certificate, sig: str, keyring: signing.Keyring) -> str:
    """Check a `?sig=` value — a whole QR payload or the bare signature — against the row."""
    sig = sig.strip()
    if len(sig) > MAX_SIG:
        return signing.MALFORMED
    record = signed_fields(cert)
    if sig.startswith(tuple(p + "|" for p in signing.PREFIXES)):
        result = signing.verify_payload(sig, keyring)
        if result.code != signing.OK:
            return result.code
        # A genuine signature over other facts (another certificate, or a row changed since)
        # does not vouch for this one.
        return signing.OK if result.signed == record else signing.BAD_SIGNATURE
    if not cert.key_id:
        return signing.UNKNOWN_KEY
    return keyring.check(record, cert.key_id, sig)
