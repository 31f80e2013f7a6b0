"""Certificate signatures: the signed fields, signing, the QR payload and its checks.

Split from tongban.services.certificates (which re-exports every name); see its docstring."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import parse_qsl, quote, unquote, urlsplit
from zoneinfo import ZoneInfo

from tongban.documents import signing
from tongban.services.errors import Invalid, Unavailable
from tongban.store.models import Certificate

TZ = ZoneInfo("Asia/Shanghai")
MAX_SIG = 2000  # longer `?sig=` values are not even parsed
MAX_SCAN = 4000  # longer pasted scanner text is refused unread
VERIFY_PATH = "/verify/"  # printed in every QR code: never move it


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
    """The signed, self-contained payload (`TB1|…`): the `sig` of the QR code's address."""
    return signing.encode_payload(signed_fields(cert), cert.key_id, cert.signature)


def verify_url(number: str, payload: str = "") -> str:
    """The public verification address, `<TONGBAN_PUBLIC_URL>/verify/<number>`, with
    `?sig=<payload>` (percent-encoded) when a payload is given."""
    from django.conf import settings

    url = f"{settings.TONGBAN_PUBLIC_URL}{VERIFY_PATH}{quote(number, safe='')}"
    return f"{url}?sig={quote(payload, safe='')}" if payload else url


def qr_text(cert: Certificate) -> str:
    """What the certificate's QR code says: its verification address carrying the signed
    payload, so a phone camera opens the verify page, and `tongban cert verify` can still
    check the signature offline from the same text."""
    return verify_url(cert.number, qr_payload(cert))


@dataclass(frozen=True)
class Scan:
    """What a scanner app gave: the certificate number, and the signed payload if any."""

    number: str
    payload: str = ""


def read_scan(text: str) -> Scan:
    """Make sense of what someone pasted or scanned: a verification address (ours or any
    host: the signature, checked later, is what counts), a bare `TB1|…`/`TB2|…` payload (the
    QR of certificates printed before the QR held an address), or a certificate number.

    Raises Invalid with a message for people when it is none of these."""
    text = (text or "").strip()
    if text.startswith("QR-Code:"):  # zbarimg's output without --raw
        text = text[len("QR-Code:") :].strip()
    if not text:
        raise Invalid("请粘贴扫码得到的内容或输入证照编号", {"q": "必填"})
    if len(text) > MAX_SCAN:
        raise Invalid("内容太长，不是通办证照的二维码", {"q": "内容太长"})
    if text.lower().startswith(("http://", "https://", VERIFY_PATH)):
        return _scan_url(text)
    if text.startswith(tuple(p + "|" for p in signing.PREFIXES)):
        decoded = signing.decode_payload(text)
        if decoded is None:
            raise Invalid(
                "二维码内容不完整或已损坏，请重新扫码", {"q": signing.MESSAGES[signing.MALFORMED]}
            )
        return Scan(decoded[0].number, text)
    if len(text) > 64 or any(c.isspace() or c in "/?#|%\\" or ord(c) < 32 for c in text):
        raise Invalid(
            "无法识别：请粘贴证照二维码的完整内容（以 http 或 TB 开头），或只输入证照编号",
            {"q": "不是证照编号或二维码内容"},
        )
    return Scan(text)


def _scan_url(text: str) -> Scan:
    parts = urlsplit(text)
    _, sep, tail = parts.path.rpartition(VERIFY_PATH)
    number = unquote(tail).strip().rstrip("/") if sep else ""
    if not number or "/" in number or len(number) > 64:
        raise Invalid(
            "这个网址不是证照核验地址（应为 …/verify/证照编号?sig=…）",
            {"q": "不是证照核验地址"},
        )
    sig = dict(parse_qsl(parts.query, keep_blank_values=True)).get("sig", "").strip()
    return Scan(number, sig)


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
