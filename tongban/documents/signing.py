"""Ed25519 signatures over certificates (电子证照签名) and the QR payload that carries them.

What is signed
    The canonical JSON (sorted keys, no spaces, UTF-8, non-ASCII kept as is) of six fields,
    all strings:

        {"holder": "张三", "issued_at": "2026-11-30T02:00:00Z", "matter": "road_occupation",
         "number": "苏相建占〔2026〕00001", "valid_from": "2026-12-01", "valid_to": "2026-12-10"}

    Dates are ISO `YYYY-MM-DD` or "" when absent; `issued_at` is UTC to the second, so the
    signature survives any database's timestamp precision.

    That is format TB1: a validity of whole days (Asia/Shanghai), as every certificate had
    before validities could carry times. A validity with times (e.g. a return window
    2026-03-01 08:30 to 18:00) is format TB2: the same six fields plus `"format":"TB2"`,
    with `valid_from`/`valid_to` in Beijing time to the second:

        {"format": "TB2", "holder": "李四", "issued_at": "2026-03-01T00:05:00Z", …,
         "valid_from": "2026-03-01T08:30:00+08:00", "valid_to": "2026-03-01T18:00:00+08:00"}

    A TB1 canonical form never changes, so certificates signed before TB2 existed verify
    as they always did; the `format` member keeps a TB1 signature from passing as TB2.

The QR payload (one line, self-contained, so it verifies offline with a public key only)

        TB1|<number>|<matter>|<holder>|<valid_from>|<valid_to>|<issued_at>|<key_id>|<signature>

    (or `TB2|…` with the same fields). `signature` is base64url without padding (86
    characters); `%` and `|` inside a field are written `%25` and `%7C`. The payload carries
    the signed fields themselves: `tongban cert verify` needs them to check the signature
    without the database. The QR code printed on a certificate is the verify address with
    this payload URL-encoded as `sig` (`<TONGBAN_PUBLIC_URL>/verify/<number>?sig=TB1%7C…`,
    see `tongban.services.certificates_signing.qr_text`), so a phone camera opens the
    public page; that page accepts either this payload or the bare signature, and QR codes
    printed before held the bare payload.

Keys
    `TONGBAN_CERT_KEYS` = `key_id:base64-private-key,...` (the 32-byte Ed25519 seed). The
    first key signs; the others are retired keys kept so certificates they signed still
    verify. `TONGBAN_CERT_PUBLIC_KEYS` = `key_id:base64-public-key,...` verifies only (for an
    offline verifier, or for keys whose private half has been destroyed).
    Without `TONGBAN_CERT_KEYS`, development, demo and the test suite use a key derived from
    SECRET_KEY (`dev_key`): it is for development only — whoever knows SECRET_KEY can sign
    with it, and it changes with SECRET_KEY. `tongban cert keygen` prints a real key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PREFIX = "TB1"  # validity in whole days (dates)
PREFIX_TIMED = "TB2"  # validity with times (datetimes, Beijing time to the second)
PREFIXES = (PREFIX, PREFIX_TIMED)
TZ = ZoneInfo("Asia/Shanghai")
KEY_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,40}$")
SIGNED_FIELDS = ("number", "matter", "holder", "valid_from", "valid_to", "issued_at")
_DEV_CONTEXT = b"tongban certificate signing key for development only\x00"

# Verification results: a code the program checks and the sentence people read.
OK = "ok"
MALFORMED = "malformed"
UNKNOWN_KEY = "unknown_key"
BAD_SIGNATURE = "bad_signature"
MESSAGES = {
    OK: "签名有效",
    MALFORMED: "不是通办证照二维码，或内容不完整",
    UNKNOWN_KEY: "签名密钥未知（可能是伪造的证照，或本机未配置该密钥的公钥）",
    BAD_SIGNATURE: "签名无效，证照可能被篡改",
}


class KeyConfigError(ValueError):
    """The key settings cannot be used (never echoes key material)."""


@dataclass(frozen=True)
class Signed:
    """The fields a signature covers, already in their canonical string form."""

    number: str
    matter: str
    holder: str
    valid_from: str = ""
    valid_to: str = ""
    issued_at: str = ""
    format: str = PREFIX  # TB1: validity as dates; TB2: as datetimes

    @classmethod
    def of(
        cls,
        number: str,
        matter: str,
        holder: str,
        valid_from: date | datetime | None,
        valid_to: date | datetime | None,
        issued_at: datetime,
    ) -> Signed:
        """Dates give a TB1 record; a datetime on either side gives TB2 (a date beside it
        then means that day's 00:00:00 / 23:59:59 in Beijing)."""
        if issued_at.tzinfo is None:
            raise ValueError("issued_at must be timezone-aware")
        timed = isinstance(valid_from, datetime) or isinstance(valid_to, datetime)
        return cls(
            number=str(number),
            matter=str(matter),
            holder=str(holder or ""),
            valid_from=_instant(valid_from, start=True) if timed else _day(valid_from),
            valid_to=_instant(valid_to, start=False) if timed else _day(valid_to),
            issued_at=issued_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            format=PREFIX_TIMED if timed else PREFIX,
        )

    def canonical(self) -> bytes:
        record = {name: getattr(self, name) for name in SIGNED_FIELDS}
        if self.format != PREFIX:
            record["format"] = self.format  # TB1 stays byte-for-byte what it always was
        return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
            "utf-8"
        )


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def _instant(value: date | datetime | None, *, start: bool) -> str:
    """A validity bound as Beijing time to the second: 2026-03-01T08:30:00+08:00."""
    if value is None:
        return ""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.min if start else time(23, 59, 59), tzinfo=TZ)
    if value.tzinfo is None:
        raise ValueError("validity datetimes must be timezone-aware")
    return value.astimezone(TZ).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class Keyring:
    """The key that signs (if any) and every public key that verifies, by key id."""

    signer: tuple[str, Ed25519PrivateKey] | None = None
    public: dict[str, Ed25519PublicKey] = field(default_factory=dict)
    dev: bool = False  # the signer is the development key derived from SECRET_KEY

    @property
    def active_key_id(self) -> str | None:
        return self.signer[0] if self.signer else None

    @classmethod
    def build(cls, private: str = "", public: str = "", dev_secret: str | None = None) -> Keyring:
        """From the two settings strings; `dev_secret` (SECRET_KEY) enables the dev key."""
        pairs = parse_private_keys(private)
        keys: dict[str, Ed25519PublicKey] = {}
        for kid, pub in parse_public_keys(public):
            keys[kid] = pub
        for kid, priv in pairs:
            keys[kid] = priv.public_key()
        dev = False
        if dev_secret is not None:
            kid, priv = dev_key(dev_secret)
            keys.setdefault(kid, priv.public_key())
            if not pairs:
                pairs, dev = [(kid, priv)], True
        return cls(pairs[0] if pairs else None, keys, dev)

    def public_only(self) -> Keyring:
        return Keyring(None, dict(self.public), self.dev)

    def sign(self, signed: Signed) -> tuple[str, str]:
        """(key_id, base64url signature) with the active key."""
        if self.signer is None:
            raise KeyConfigError(
                "未配置证照签名密钥：请设置 TONGBAN_CERT_KEYS（用 tongban cert keygen 生成）"
            )
        kid, priv = self.signer
        return kid, _b64url(priv.sign(signed.canonical()))

    def check(self, signed: Signed, key_id: str, signature: str) -> str:
        """OK, UNKNOWN_KEY or BAD_SIGNATURE (a malformed signature is a bad one)."""
        pub = self.public.get(key_id)
        if pub is None:
            return UNKNOWN_KEY
        raw = _unb64(signature)
        if raw is None or len(raw) != 64:
            return BAD_SIGNATURE
        try:
            pub.verify(raw, signed.canonical())
        except InvalidSignature:
            return BAD_SIGNATURE
        return OK


@dataclass(frozen=True)
class Verification:
    code: str
    signed: Signed | None = None
    key_id: str = ""

    @property
    def ok(self) -> bool:
        return self.code == OK

    @property
    def message(self) -> str:
        return MESSAGES[self.code]

    @property
    def number(self) -> str:
        return self.signed.number if self.signed else ""


# --- the QR payload -------------------------------------------------------------------------


def _esc(text: str) -> str:
    return text.replace("%", "%25").replace("|", "%7C")


def _unesc(text: str) -> str:
    return re.sub(r"%(25|7C)", lambda m: "%" if m.group(1) == "25" else "|", text)


def encode_payload(signed: Signed, key_id: str, signature: str) -> str:
    parts = [signed.format, *(getattr(signed, n) for n in SIGNED_FIELDS), key_id, signature]
    return "|".join(_esc(p) for p in parts)


def decode_payload(payload: str) -> tuple[Signed, str, str] | None:
    """(signed fields, key id, signature), or None when it is not a TB1/TB2 payload."""
    parts = (payload or "").strip().split("|")
    if len(parts) != 3 + len(SIGNED_FIELDS) or parts[0] not in PREFIXES:
        return None
    values = [_unesc(p) for p in parts[1:]]
    signed = Signed(
        **dict(zip(SIGNED_FIELDS, values[: len(SIGNED_FIELDS)], strict=True)), format=parts[0]
    )
    key_id, signature = values[len(SIGNED_FIELDS) :]
    if not signed.number or not KEY_ID_RE.match(key_id) or not signature:
        return None
    return signed, key_id, signature


def verify_payload(payload: str, keyring: Keyring) -> Verification:
    """Check a QR payload with public keys only: tampering with any field, the key id or the
    signature makes it fail."""
    decoded = decode_payload(payload)
    if decoded is None:
        return Verification(MALFORMED)
    signed, key_id, signature = decoded
    return Verification(keyring.check(signed, key_id, signature), signed, key_id)


# --- keys -----------------------------------------------------------------------------------


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes | None:
    """Standard or URL-safe base64, padded or not; None when it is not base64."""
    s = (text or "").strip().replace("-", "+").replace("_", "/")
    if not s or not re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", s):
        return None
    s = s.rstrip("=")
    try:
        return base64.b64decode(s + "=" * (-len(s) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def _pairs(text: str, setting: str) -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    seen: set[str] = set()
    for n, item in enumerate(p.strip() for p in (text or "").split(",")):
        if not item:
            continue
        kid, sep, b64 = item.partition(":")
        kid = kid.strip()
        if not sep or not KEY_ID_RE.match(kid):
            raise KeyConfigError(
                f"{setting} 第 {n + 1} 项格式不对：应为 key_id:base64密钥，"
                "key_id 由字母、数字和 . _ - 组成（至多 40 个字符）"
            )
        raw = _unb64(b64)
        if raw is None or len(raw) != 32:
            raise KeyConfigError(f"{setting} 中密钥 {kid} 不是 32 字节的 base64 Ed25519 密钥")
        if kid in seen:
            raise KeyConfigError(f"{setting} 中密钥编号 {kid} 重复")
        seen.add(kid)
        out.append((kid, raw))
    return out


def parse_private_keys(text: str) -> list[tuple[str, Ed25519PrivateKey]]:
    return [
        (kid, Ed25519PrivateKey.from_private_bytes(raw))
        for kid, raw in _pairs(text, "TONGBAN_CERT_KEYS")
    ]


def parse_public_keys(text: str) -> list[tuple[str, Ed25519PublicKey]]:
    out = []
    for kid, raw in _pairs(text, "TONGBAN_CERT_PUBLIC_KEYS"):
        try:
            out.append((kid, Ed25519PublicKey.from_public_bytes(raw)))
        except ValueError:
            raise KeyConfigError(f"TONGBAN_CERT_PUBLIC_KEYS 中密钥 {kid} 不是有效的公钥") from None
    return out


def public_b64(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def generate() -> tuple[str, str]:
    """(base64 private key, base64 public key) for a new signing key."""
    priv = Ed25519PrivateKey.generate()
    raw = priv.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return base64.b64encode(raw).decode("ascii"), public_b64(priv)


def dev_key(secret: str) -> tuple[str, Ed25519PrivateKey]:
    """A deterministic key derived from SECRET_KEY — for development and tests only.

    Its id names the key (`dev-` + a hash of the public key), so a certificate signed under
    another SECRET_KEY reads "unknown key", not "tampered"."""
    seed = hashlib.sha256(_DEV_CONTEXT + secret.encode("utf-8")).digest()
    priv = Ed25519PrivateKey.from_private_bytes(seed)
    tag = hashlib.sha256(_unb64(public_b64(priv)) or b"").hexdigest()[:8]
    return f"dev-{tag}", priv


@lru_cache(maxsize=8)
def _cached(private: str, public: str, dev_secret: str | None) -> Keyring:
    return Keyring.build(private, public, dev_secret)


def from_settings() -> Keyring:
    """The keyring the settings describe (cached per distinct settings)."""
    from django.conf import settings

    dev = bool(getattr(settings, "TONGBAN_CERT_DEV_KEY", False))
    return _cached(
        getattr(settings, "TONGBAN_CERT_KEYS", "") or "",
        getattr(settings, "TONGBAN_CERT_PUBLIC_KEYS", "") or "",
        settings.SECRET_KEY if dev else None,
    )
