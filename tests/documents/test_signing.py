"""Certificate signatures and the QR payload, without a database."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from tongban.documents import signing
from tongban.documents.signing import Keyring, Signed

FIELDS = Signed.of(
    "苏相建占〔2026〕00001",
    "road_occupation",
    "张三",
    date(2026, 12, 1),
    date(2026, 12, 10),
    datetime(2026, 11, 30, 10, 0, 0, 123456, tzinfo=timezone(timedelta(hours=8))),
)


def keys(*ids: str) -> str:
    return ",".join(f"{k}:{signing.generate()[0]}" for k in ids)


def signed_payload(keyring: Keyring, fields: Signed = FIELDS) -> str:
    key_id, sig = keyring.sign(fields)
    return signing.encode_payload(fields, key_id, sig)


def test_canonical_payload_is_sorted_compact_utf8_json():
    raw = FIELDS.canonical()
    assert raw.decode("utf-8") == (
        '{"holder":"张三","issued_at":"2026-11-30T02:00:00Z","matter":"road_occupation",'
        '"number":"苏相建占〔2026〕00001","valid_from":"2026-12-01","valid_to":"2026-12-10"}'
    )
    assert json.loads(raw) == {n: getattr(FIELDS, n) for n in signing.SIGNED_FIELDS}


def test_issued_at_is_utc_to_the_second_and_must_be_aware():
    assert FIELDS.issued_at == "2026-11-30T02:00:00Z"
    with pytest.raises(ValueError):
        Signed.of("n", "m", "h", None, None, datetime(2026, 1, 1))
    open_ended = Signed.of("n", "m", "", None, None, datetime(2026, 1, 1, tzinfo=UTC))
    assert (open_ended.valid_from, open_ended.valid_to, open_ended.holder) == ("", "", "")


def test_payload_round_trip_verifies():
    ring = Keyring.build(keys("k1"))
    payload = signed_payload(ring)
    assert payload.startswith("TB1|苏相建占〔2026〕00001|road_occupation|张三|2026-12-01|")
    result = signing.verify_payload(payload, ring.public_only())
    assert result.ok and result.key_id == "k1" and result.signed == FIELDS
    assert result.message == "签名有效"


def test_separator_inside_a_field_is_escaped():
    ring = Keyring.build(keys("k1"))
    odd = Signed.of("A|1%", "m", "某|公司%7C", None, None, datetime(2026, 1, 1, tzinfo=UTC))
    payload = signed_payload(ring, odd)
    assert payload.count("|") == 8
    result = signing.verify_payload(payload, ring)
    assert result.ok and result.signed == odd


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: p.replace("00001", "00002"),  # another number
        lambda p: p.replace("张三", "李四"),  # another holder
        lambda p: p.replace("2026-12-10", "2027-12-10"),  # longer validity
        lambda p: p.replace("road_occupation", "other"),
    ],
)
def test_changed_field_is_rejected(tamper):
    ring = Keyring.build(keys("k1"))
    result = signing.verify_payload(tamper(signed_payload(ring)), ring)
    assert result.code == signing.BAD_SIGNATURE
    assert result.message == "签名无效，证照可能被篡改"


def test_changed_signature_or_key_id_is_rejected():
    ring = Keyring.build(keys("k1", "k2"))
    payload = signed_payload(ring)
    head, sig = payload.rsplit("|", 1)
    flipped = sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]
    assert signing.verify_payload(f"{head}|{flipped}", ring).code == signing.BAD_SIGNATURE
    assert signing.verify_payload(f"{head}|{sig[:-4]}", ring).code == signing.BAD_SIGNATURE
    other = payload.replace("|k1|", "|k2|")  # a known key that did not sign it
    assert signing.verify_payload(other, ring).code == signing.BAD_SIGNATURE
    unknown = payload.replace("|k1|", "|k9|")
    assert signing.verify_payload(unknown, ring).code == signing.UNKNOWN_KEY


def test_signature_by_a_foreign_key_under_a_known_id_is_rejected():
    ring = Keyring.build(keys("k1"))
    forger = Keyring.build(keys("k1"))  # same id, different key
    assert signing.verify_payload(signed_payload(forger), ring).code == signing.BAD_SIGNATURE


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "hello",
        "TB1|a|b",
        "TB9|a|b|c|d|e|f|k1|sig",
        "TB1||m|h|||t|k1|sig",
        "TB1|n|m|h|||t|k 1|s",
    ],
)
def test_malformed_payload(payload):
    assert signing.verify_payload(payload, Keyring.build(keys("k1"))).code == signing.MALFORMED


def test_rotation_keeps_old_signatures_valid():
    a, b = keys("a"), keys("b")
    old = signed_payload(Keyring.build(a))
    rotated = Keyring.build(f"{b},{a}")
    assert rotated.active_key_id == "b"
    assert signing.verify_payload(old, rotated).ok
    assert signing.verify_payload(signed_payload(rotated), rotated).key_id == "b"
    # Without the retired key the old certificate no longer verifies.
    assert signing.verify_payload(old, Keyring.build(b)).code == signing.UNKNOWN_KEY


def test_public_only_keys_verify_but_cannot_sign():
    a = keys("a")
    priv = Keyring.build(a)
    pub = signing.public_b64(priv.signer[1])
    verifier = Keyring.build(public=f"a:{pub}")
    assert signing.verify_payload(signed_payload(priv), verifier).ok
    with pytest.raises(signing.KeyConfigError, match="TONGBAN_CERT_KEYS"):
        verifier.sign(FIELDS)


def test_dev_key_is_deterministic_per_secret_and_only_a_fallback():
    one, again, other = (Keyring.build(dev_secret=s) for s in ("s1", "s1", "s2"))
    assert one.dev and one.active_key_id == again.active_key_id != other.active_key_id
    assert one.active_key_id.startswith("dev-")
    assert signing.verify_payload(signed_payload(one), again).ok
    real = Keyring.build(keys("prod"), dev_secret="s1")
    assert real.active_key_id == "prod" and not real.dev
    assert Keyring.build().signer is None


@pytest.mark.parametrize(
    "text, message",
    [
        ("nokey", "格式不对"),
        ("k 1:AAAA", "格式不对"),
        ("k1:not-base64!", "32 字节"),
        ("k1:" + base64.b64encode(b"short").decode(), "32 字节"),
    ],
)
def test_bad_key_settings_are_explained_without_echoing_the_key(text, message):
    with pytest.raises(signing.KeyConfigError, match=message) as exc:
        Keyring.build(text)
    assert "not-base64" not in str(exc.value)


def test_duplicate_key_id_is_refused():
    with pytest.raises(signing.KeyConfigError, match="重复"):
        Keyring.build(keys("a", "a"))


# --- TB2: a validity with times ---------------------------------------------------------------

BEIJING = timezone(timedelta(hours=8))
WINDOW = Signed.of(
    "HF32050726030100001",
    "freight_return",
    "李四",
    datetime(2026, 3, 1, 8, 30, tzinfo=BEIJING),
    datetime(2026, 3, 1, 10, 0, tzinfo=UTC),  # 18:00 in Beijing
    datetime(2026, 3, 1, 0, 5, 0, 999, tzinfo=UTC),
)
WINDOW_END = datetime(2026, 3, 1, 18, 0, tzinfo=BEIJING)


def test_datetimes_give_a_tb2_record_in_beijing_time_to_the_second():
    assert WINDOW.format == "TB2" and FIELDS.format == "TB1"
    assert (WINDOW.valid_from, WINDOW.valid_to) == (
        "2026-03-01T08:30:00+08:00",
        "2026-03-01T18:00:00+08:00",
    )
    assert WINDOW.canonical().decode("utf-8") == (
        '{"format":"TB2","holder":"李四","issued_at":"2026-03-01T00:05:00Z",'
        '"matter":"freight_return","number":"HF32050726030100001",'
        '"valid_from":"2026-03-01T08:30:00+08:00","valid_to":"2026-03-01T18:00:00+08:00"}'
    )
    # A date beside a datetime is that whole day; naive datetimes are refused.
    mixed = Signed.of("n", "m", "", date(2026, 3, 1), WINDOW_END, datetime(2026, 1, 1, tzinfo=UTC))
    assert (mixed.format, mixed.valid_from) == ("TB2", "2026-03-01T00:00:00+08:00")
    end_of_day = Signed.of("n", "m", "", WINDOW_END, date(2026, 3, 2), datetime.now(UTC))
    assert end_of_day.valid_to == "2026-03-02T23:59:59+08:00"
    with pytest.raises(ValueError):
        Signed.of("n", "m", "", datetime(2026, 3, 1, 8), None, datetime.now(UTC))


def test_tb2_payload_round_trip_and_tampered_window():
    ring = Keyring.build(keys("k1"))
    payload = signed_payload(ring, WINDOW)
    assert payload.startswith(
        "TB2|HF32050726030100001|freight_return|李四|2026-03-01T08:30:00+08:00|"
    )
    result = signing.verify_payload(payload, ring.public_only())
    assert result.ok and result.signed == WINDOW
    later = payload.replace("T18:00:00", "T23:00:00")  # a longer window
    assert signing.verify_payload(later, ring).code == signing.BAD_SIGNATURE


def test_a_signature_does_not_change_format():
    """TB1 over dates and TB2 over the same strings are different statements: the `format`
    member in the TB2 canonical form keeps one from passing for the other."""
    ring = Keyring.build(keys("k1"))
    tb1 = signed_payload(ring)
    assert signing.verify_payload("TB2" + tb1[3:], ring).code == signing.BAD_SIGNATURE
    tb2 = signed_payload(ring, WINDOW)
    assert signing.verify_payload("TB1" + tb2[3:], ring).code == signing.BAD_SIGNATURE
    # Without a validity both formats carry the same fields, still told apart.
    bare = Signed(number="n", matter="m", holder="h", issued_at="2026-01-01T00:00:00Z")
    relabelled = Signed(**{**bare.__dict__, "format": "TB2"})
    assert bare.canonical() != relabelled.canonical()
