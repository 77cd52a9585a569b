"""HTTP Signatures: published test vectors for both schemes, round trips, and refusals."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from siarkan.federation.signatures import (
    RequestView,
    SignatureError,
    check_content_digest,
    check_digest,
    check_signed_request,
    content_digest_header,
    digest_header,
    header_map,
    http_date,
    load_public_key,
    parse_dictionary,
    parse_signed_request,
    sign_cavage,
    sign_rfc9421,
    verify_signature,
)
from tests.federation.remote_server import rsa_key

# --- draft-cavage-http-signatures-12, appendix C (test key, request, signatures) --------------

CAVAGE_PUBLIC = """-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDCFENGw33yGihy92pDjZQhl0C3
6rPJj+CvfSC8+q28hxA161QFNUd13wuCTUcq0Qd2qsBe/2hFyc2DCJJg0h1L78+6
Z4UMR7EOcpfdUE9Hf3m/hs+FUR45uBJeDK1HSFHD8bHKD6kv8FPGfJTotc+2xjJw
oYi+1hqp1fIekaxsyQIDAQAB
-----END PUBLIC KEY-----"""

CAVAGE_PRIVATE = """-----BEGIN RSA PRIVATE KEY-----
MIICXgIBAAKBgQDCFENGw33yGihy92pDjZQhl0C36rPJj+CvfSC8+q28hxA161QF
NUd13wuCTUcq0Qd2qsBe/2hFyc2DCJJg0h1L78+6Z4UMR7EOcpfdUE9Hf3m/hs+F
UR45uBJeDK1HSFHD8bHKD6kv8FPGfJTotc+2xjJwoYi+1hqp1fIekaxsyQIDAQAB
AoGBAJR8ZkCUvx5kzv+utdl7T5MnordT1TvoXXJGXK7ZZ+UuvMNUCdN2QPc4sBiA
QWvLw1cSKt5DsKZ8UETpYPy8pPYnnDEz2dDYiaew9+xEpubyeW2oH4Zx71wqBtOK
kqwrXa/pzdpiucRRjk6vE6YY7EBBs/g7uanVpGibOVAEsqH1AkEA7DkjVH28WDUg
f1nqvfn2Kj6CT7nIcE3jGJsZZ7zlZmBmHFDONMLUrXR/Zm3pR5m0tCmBqa5RK95u
412jt1dPIwJBANJT3v8pnkth48bQo/fKel6uEYyboRtA5/uHuHkZ6FQF7OUkGogc
mSJluOdc5t6hI1VsLn0QZEjQZMEOWr+wKSMCQQCC4kXJEsHAve77oP6HtG/IiEn7
kpyUXRNvFsDE0czpJJBvL/aRFUJxuRK91jhjC68sA7NsKMGg5OXb5I5Jj36xAkEA
gIT7aFOYBFwGgQAQkWNKLvySgKbAZRTeLBacpHMuQdl1DfdntvAyqpAZ0lY0RKmW
G6aFKaqQfOXKCyWoUiVknQJAXrlgySFci/2ueKlIE1QqIiLSZ8V8OlpFLRnb1pzI
7U1yQXnTAEFYM560yJlzUpOb1V4cScGd365tiSMvxLOvTA==
-----END RSA PRIVATE KEY-----"""

CAVAGE_HEADERS = [
    ("Host", "example.com"),
    ("Date", "Sun, 05 Jan 2014 21:31:40 GMT"),
    ("Content-Type", "application/json"),
    ("Digest", "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="),
    ("Content-Length", "18"),
]
CAVAGE_URL = "http://example.com/foo?param=value&pet=dog"
BODY = b'{"hello": "world"}'

# C.2 Basic Test and C.3 All Headers Test.
CAVAGE_VECTORS = [
    (
        "(request-target) host date",
        "(request-target): post /foo?param=value&pet=dog\n"
        "host: example.com\n"
        "date: Sun, 05 Jan 2014 21:31:40 GMT",
        "qdx+H7PHHDZgy4y/Ahn9Tny9V3GP6YgBPyUXMmoxWtLbHpUnXS2mg2+SbrQDMCJypxBLSPQR2aAjn7ndmw2iicw3"
        "HMbe8VfEdKFYRqzic+efkb3nndiv/x1xSHDJWeSWkx3ButlYSuBskLu6kd9Fswtemr3lgdDEmn04swr2Os0=",
    ),
    (
        "(request-target) host date content-type digest content-length",
        "(request-target): post /foo?param=value&pet=dog\n"
        "host: example.com\n"
        "date: Sun, 05 Jan 2014 21:31:40 GMT\n"
        "content-type: application/json\n"
        "digest: SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=\n"
        "content-length: 18",
        "vSdrb+dS3EceC9bcwHSo4MlyKS59iFIrhgYkz8+oVLEEzmYZZvRs8rgOp+63LEM3v+MFHB32NfpB2bEKBIvB1q52"
        "LaEUHFv120V01IL+TAD48XaERZFukWgHoBTLMhYS2Gb51gWxpeIq8knRmPnYePbF5MOkR0Zkly4zKH7s1dE=",
    ),
]


def _cavage_request(covered: str, signature: str) -> RequestView:
    headers = header_map(
        [
            *CAVAGE_HEADERS,
            (
                "Signature",
                f'keyId="Test",algorithm="rsa-sha256",headers="{covered}",signature="{signature}"',
            ),
        ]
    )
    return RequestView("POST", CAVAGE_URL, headers)


@pytest.mark.parametrize(("covered", "string", "signature"), CAVAGE_VECTORS)
def test_cavage_vectors_signing_string_and_signature(
    covered: str, string: str, signature: str
) -> None:
    signed = parse_signed_request(_cavage_request(covered, signature))
    assert signed.scheme == "draft-cavage"
    assert signed.base.decode() == string
    assert verify_signature(load_public_key(CAVAGE_PUBLIC), signed)
    # PKCS#1 v1.5 is deterministic: signing the same string reproduces the published value.
    key = serialization.load_pem_private_key(CAVAGE_PRIVATE.encode(), None)
    assert isinstance(key, RSAPrivateKey)
    ours = key.sign(string.encode(), padding.PKCS1v15(), hashes.SHA256())
    assert base64.b64encode(ours).decode() == signature


def test_cavage_vector_refuses_a_changed_header() -> None:
    covered, _, signature = CAVAGE_VECTORS[0]
    request = _cavage_request(covered, signature)
    tampered = RequestView(request.method, request.target_uri, {**request.headers, "host": "x.org"})
    assert not verify_signature(load_public_key(CAVAGE_PUBLIC), parse_signed_request(tampered))


# --- RFC 9421 appendix B (test request, keys B.1.2 / B.1.4, signatures B.2.1, B.2.3, B.2.6) ---

RFC_HEADERS = [
    ("Host", "example.com"),
    ("Date", "Tue, 20 Apr 2021 02:07:55 GMT"),
    ("Content-Type", "application/json"),
    (
        "Content-Digest",
        "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHW"
        "XvJwew==:",
    ),
    ("Content-Length", "18"),
]
RFC_URL = "http://example.com/foo?param=Value&Pet=dog"

RSA_PSS_PUBLIC = """-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAr4tmm3r20Wd/PbqvP1s2
+QEtvpuRaV8Yq40gjUR8y2Rjxa6dpG2GXHbPfvMs8ct+Lh1GH45x28Rw3Ry53mm+
oAXjyQ86OnDkZ5N8lYbggD4O3w6M6pAvLkhk95AndTrifbIFPNU8PPMO7OyrFAHq
gDsznjPFmTOtCEcN2Z1FpWgchwuYLPL+Wokqltd11nqqzi+bJ9cvSKADYdUAAN5W
Utzdpiy6LbTgSxP7ociU4Tn0g5I6aDZJ7A8Lzo0KSyZYoA485mqcO0GVAdVw9lq4
aOT9v6d+nb4bnNkQVklLQ3fVAvJm+xdDOp9LCNCN48V2pnDOkFV6+U9nV5oyc6XI
2wIDAQAB
-----END PUBLIC KEY-----"""

# B.1.1 test-key-rsa (PKCS#1 v1.5), used by section 4.3's proxy signature.
RSA_PRIVATE = """-----BEGIN RSA PRIVATE KEY-----
MIIEqAIBAAKCAQEAhAKYdtoeoy8zcAcR874L8cnZxKzAGwd7v36APp7Pv6Q2jdsP
BRrwWEBnez6d0UDKDwGbc6nxfEXAy5mbhgajzrw3MOEt8uA5txSKobBpKDeBLOsd
JKFqMGmXCQvEG7YemcxDTRPxAleIAgYYRjTSd/QBwVW9OwNFhekro3RtlinV0a75
jfZgkne/YiktSvLG34lw2zqXBDTC5NHROUqGTlML4PlNZS5Ri2U4aCNx2rUPRcKI
lE0PuKxI4T+HIaFpv8+rdV6eUgOrB2xeI1dSFFn/nnv5OoZJEIB+VmuKn3DCUcCZ
SFlQPSXSfBDiUGhwOw76WuSSsf1D4b/vLoJ10wIDAQABAoIBAG/JZuSWdoVHbi56
vjgCgkjg3lkO1KrO3nrdm6nrgA9P9qaPjxuKoWaKO1cBQlE1pSWp/cKncYgD5WxE
CpAnRUXG2pG4zdkzCYzAh1i+c34L6oZoHsirK6oNcEnHveydfzJL5934egm6p8DW
+m1RQ70yUt4uRc0YSor+q1LGJvGQHReF0WmJBZHrhz5e63Pq7lE0gIwuBqL8SMaA
yRXtK+JGxZpImTq+NHvEWWCu09SCq0r838ceQI55SvzmTkwqtC+8AT2zFviMZkKR
Qo6SPsrqItxZWRty2izawTF0Bf5S2VAx7O+6t3wBsQ1sLptoSgX3QblELY5asI0J
YFz7LJECgYkAsqeUJmqXE3LP8tYoIjMIAKiTm9o6psPlc8CrLI9CH0UbuaA2JCOM
cCNq8SyYbTqgnWlB9ZfcAm/cFpA8tYci9m5vYK8HNxQr+8FS3Qo8N9RJ8d0U5Csw
DzMYfRghAfUGwmlWj5hp1pQzAuhwbOXFtxKHVsMPhz1IBtF9Y8jvgqgYHLbmyiu1
mwJ5AL0pYF0G7x81prlARURwHo0Yf52kEw1dxpx+JXER7hQRWQki5/NsUEtv+8RT
qn2m6qte5DXLyn83b1qRscSdnCCwKtKWUug5q2ZbwVOCJCtmRwmnP131lWRYfj67
B/xJ1ZA6X3GEf4sNReNAtaucPEelgR2nsN0gKQKBiGoqHWbK1qYvBxX2X3kbPDkv
9C+celgZd2PW7aGYLCHq7nPbmfDV0yHcWjOhXZ8jRMjmANVR/eLQ2EfsRLdW69bn
f3ZD7JS1fwGnO3exGmHO3HZG+6AvberKYVYNHahNFEw5TsAcQWDLRpkGybBcxqZo
81YCqlqidwfeO5YtlO7etx1xLyqa2NsCeG9A86UjG+aeNnXEIDk1PDK+EuiThIUa
/2IxKzJKWl1BKr2d4xAfR0ZnEYuRrbeDQYgTImOlfW6/GuYIxKYgEKCFHFqJATAG
IxHrq1PDOiSwXd2GmVVYyEmhZnbcp8CxaEMQoevxAta0ssMK3w6UsDtvUvYvF22m
qQKBiD5GwESzsFPy3Ga0MvZpn3D6EJQLgsnrtUPZx+z2Ep2x0xc5orneB5fGyF1P
WtP+fG5Q6Dpdz3LRfm+KwBCWFKQjg7uTxcjerhBWEYPmEMKYwTJF5PBG9/ddvHLQ
EQeNC8fHGg4UXU8mhHnSBt3EA10qQJfRDs15M38eG2cYwB1PZpDHScDnDA0=
-----END RSA PRIVATE KEY-----"""

ED25519_SEED = "n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU"


def _rfc_request(signature_input: str, signature: str, url: str = RFC_URL) -> RequestView:
    extra = [("Signature-Input", signature_input), ("Signature", signature)]
    return RequestView("POST", url, header_map([*RFC_HEADERS, *extra]))


def test_rfc9421_b26_ed25519_base_and_signature_reproduced() -> None:
    request = _rfc_request(
        'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length")'
        ';created=1618884473;keyid="test-key-ed25519"',
        "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPp"
        "BKRCw==:",
    )
    signed = parse_signed_request(request)
    assert signed.base.decode() == (
        '"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
        '"@method": POST\n'
        '"@path": /foo\n'
        '"@authority": example.com\n'
        '"content-type": application/json\n'
        '"content-length": 18\n'
        '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" '
        '"content-length");created=1618884473;keyid="test-key-ed25519"'
    )
    key = Ed25519PrivateKey.from_private_bytes(base64.urlsafe_b64decode(ED25519_SEED + "="))
    assert key.sign(signed.base) == signed.signature  # Ed25519 is deterministic
    assert verify_signature(key.public_key(), replace(signed, algorithm="ed25519"))


@pytest.mark.parametrize(
    ("signature_input", "signature", "base_lines"),
    [
        (
            'sig-b21=();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd"',
            "sig-b21=:d2pmTvmbncD3xQm8E9ZV2828BjQWGgiwAaw5bAkgibUopemLJcWDy/lkbbHAve4cRAtx31Iq786U"
            "7it++wgGxbtRxf8Udx7zFZsckzXaJMkA7ChG52eSkFxykJeNqsrWH5S+oxNFlD4dzVuwe8DhTSja8xxbR/Z2"
            "cOGdCbzR72rgFWhzx2VjBqJzsPLMIQKhO4DGezXehhWwE56YCE+O6c0mKZsfxVrogUvA4HELjVKWmAvtl6Un"
            "Ch8jYzuVG5WSb/QEVPnP5TmcAnLH1g+s++v6d4s8m0gCw1fV5/SITLq9mhho8K3+7EPYTU8IU1bLhdxO5Nyt"
            "8C8ssinQ98Xw9Q==:",
            [
                '"@signature-params": ();created=1618884473;keyid="test-key-rsa-pss"'
                ';nonce="b3k2pp5k7z-50gnwp.yemd"'
            ],
        ),
        (
            'sig-b23=("date" "@method" "@path" "@query" "@authority" "content-type" '
            '"content-digest" "content-length");created=1618884473;keyid="test-key-rsa-pss"',
            "sig-b23=:bbN8oArOxYoyylQQUU6QYwrTuaxLwjAC9fbY2F6SVWvh0yBiMIRGOnMYwZ/5MR6fb0Kh1rIRASVx"
            "FkeGt683+qRpRRU5p2voTp768ZrCUb38K0fUxN0O0iC59DzYx8DFll5GmydPxSmme9v6ULbMFkl+V5B1TP/y"
            "PViV7KsLNmvKiLJH1pFkh/aYA2HXXZzNBXmIkoQoLd7YfW91kE9o/CCoC1xMy7JA1ipwvKvfrs65ldmlu9bp"
            "G6A9BmzhuzF8Eim5f8ui9eH8LZH896+QIF61ka39VBrohr9iyMUJpvRX2Zbhl5ZJzSRxpJyoEZAFL2FUo5fT"
            "IztsDZKEgM4cUA==:",
            [
                '"date": Tue, 20 Apr 2021 02:07:55 GMT',
                '"@method": POST',
                '"@path": /foo',
                '"@query": ?param=Value&Pet=dog',
                '"@authority": example.com',
                '"content-type": application/json',
                '"content-digest": sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnr'
                "IiYllu7BNNyealdVLvRwEmTHWXvJwew==:",
                '"content-length": 18',
                '"@signature-params": ("date" "@method" "@path" "@query" "@authority" '
                '"content-type" "content-digest" "content-length");created=1618884473'
                ';keyid="test-key-rsa-pss"',
            ],
        ),
    ],
)
def test_rfc9421_b2_rsa_pss_vectors(
    signature_input: str, signature: str, base_lines: list[str]
) -> None:
    signed = parse_signed_request(_rfc_request(signature_input, signature))
    assert signed.base.decode() == "\n".join(base_lines)
    key = load_public_key(RSA_PSS_PUBLIC)
    assert verify_signature(key, replace(signed, algorithm="rsa-pss-sha512"))
    assert not verify_signature(key, replace(signed, base=signed.base + b" "))


def test_rfc9421_section_4_3_rsa_v1_5_proxy_signature_reproduced() -> None:
    """The one rsa-v1_5-sha256 signature the RFC publishes (what Fedify and we use)."""
    headers = header_map(
        [
            ("Host", "origin.host.internal.example"),
            ("Date", "Tue, 20 Apr 2021 02:07:56 GMT"),
            ("Content-Type", "application/json"),
            ("Content-Length", "18"),
            ("Forwarded", "for=192.0.2.123;host=example.com;proto=https"),
            RFC_HEADERS[3],
            (
                "Signature-Input",
                'proxy_sig=("@method" "@authority" "@path" "content-digest" "content-type" '
                '"content-length" "forwarded");created=1618884480;keyid="test-key-rsa"'
                ';alg="rsa-v1_5-sha256";expires=1618884540',
            ),
            (
                "Signature",
                "proxy_sig=:S6ZzPXSdAMOPjN/6KXfXWNO/f7V6cHm7BXYUh3YD/fRad4BCaRZxP+JH+8XY1I6+8Cy+CM5g9"
                "2iHgxtRPz+MjniOaYmdkDcnL9cCpXJleXsOckpURl49GwiyUpZ10KHgOEe11sx3G2gxI8S0jnxQB+Pu68U9"
                "vVcasqOWAEObtNKKZd8tSFu7LB5YAv0RAGhB8tmpv7sFnIm9y+7X5kXQfi8NMaZaA8i2ZHwpBdg7a6CMfwn"
                "nrtflzvZdXAsD3LH2TwevU+/PBPv0B6NMNk93wUs/vfJvye+YuI87HU38lZHowtznbLVdp770I6VHR6WfgS9"
                "ddzirrswsE1w5o0LV/g==:",
            ),
        ]
    )
    request = RequestView(
        "POST", "https://origin.host.internal.example/foo?param=Value&Pet=dog", headers
    )
    signed = parse_signed_request(request)
    assert signed.algorithm == "rsa-v1_5-sha256" and signed.expires == 1618884540
    key = serialization.load_pem_private_key(RSA_PRIVATE.encode(), None)
    assert isinstance(key, RSAPrivateKey)
    assert verify_signature(key.public_key(), signed)
    assert key.sign(signed.base, padding.PKCS1v15(), hashes.SHA256()) == signed.signature


# --- our signers, verified by our verifier (both also checked by Fedify in tests/interop) ------

NOW = datetime(2026, 11, 28, 5, 0, tzinfo=UTC)
INBOX = "https://mastodon.example/users/ani/inbox"


def _as_received(url: str, headers: dict[str, str]) -> RequestView:
    return RequestView("POST", url, header_map(headers.items()))


@pytest.mark.parametrize("sign", [sign_cavage, sign_rfc9421])
def test_signed_request_round_trip(sign: object) -> None:
    key = rsa_key(0)
    base = {"Content-Type": "application/activity+json"}
    added = sign(
        "POST",
        INBOX,
        base,
        BODY,
        "https://news.example/ap/actors/utama#main-key",  # type: ignore[operator]
        key,
        NOW,
    )
    request = _as_received(INBOX, {**base, **added})
    signed = parse_signed_request(request)
    assert signed.key_id == "https://news.example/ap/actors/utama#main-key"
    check_signed_request(signed, request, BODY, now=NOW + timedelta(seconds=30), window=3600)
    assert verify_signature(key.public_key(), signed)
    assert not verify_signature(rsa_key(1).public_key(), signed)


def test_cavage_covers_what_mastodon_requires() -> None:
    added = sign_cavage(
        "POST", INBOX, {"Content-Type": "application/activity+json"}, BODY, "k", rsa_key(0), NOW
    )
    assert added["Host"] == "mastodon.example"
    assert added["Date"] == "Sat, 28 Nov 2026 05:00:00 GMT"
    assert added["Digest"] == digest_header(BODY)
    assert 'headers="(request-target) host date digest content-type"' in added["Signature"]
    assert 'algorithm="rsa-sha256"' in added["Signature"]


def test_rfc9421_covers_method_target_authority_and_digest() -> None:
    added = sign_rfc9421("POST", INBOX, {}, BODY, "https://n.example/a#main-key", rsa_key(0), NOW)
    assert added["Content-Digest"] == content_digest_header(BODY)
    assert added["Signature-Input"] == (
        'sig1=("@method" "@target-uri" "@authority" "content-digest")'
        f';created={int(NOW.timestamp())};keyid="https://n.example/a#main-key"'
        ';alg="rsa-v1_5-sha256"'
    )


def _signed(sign: object = sign_cavage, body: bytes = BODY, when: datetime = NOW) -> RequestView:
    base = {"Content-Type": "application/activity+json"}
    added = sign("POST", INBOX, base, body, "k", rsa_key(0), when)  # type: ignore[operator]
    return _as_received(INBOX, {**base, **added})


@pytest.mark.parametrize("sign", [sign_cavage, sign_rfc9421])
def test_a_changed_body_fails_the_digest(sign: object) -> None:
    request = _signed(sign)
    with pytest.raises(SignatureError, match="does not match"):
        check_signed_request(
            parse_signed_request(request), request, BODY + b" ", now=NOW, window=3600
        )


@pytest.mark.parametrize("sign", [sign_cavage, sign_rfc9421])
@pytest.mark.parametrize("skew", [timedelta(hours=-2), timedelta(hours=2)])
def test_stale_or_future_signatures_are_refused(sign: object, skew: timedelta) -> None:
    request = _signed(sign, when=NOW + skew)
    with pytest.raises(SignatureError, match="window"):
        check_signed_request(parse_signed_request(request), request, BODY, now=NOW, window=3600)


def test_cavage_without_digest_coverage_is_refused() -> None:
    key = rsa_key(0)
    string = f"(request-target): post /users/ani/inbox\ndate: {http_date(NOW)}"
    signature = base64.b64encode(key.sign(string.encode(), padding.PKCS1v15(), hashes.SHA256()))
    request = _as_received(
        INBOX,
        {
            "Date": http_date(NOW),
            "Signature": (
                f'keyId="k",headers="(request-target) date",signature="{signature.decode()}"'
            ),
        },
    )
    signed = parse_signed_request(request)
    assert verify_signature(key.public_key(), signed)  # a valid signature...
    with pytest.raises(SignatureError, match="Digest is not signed"):  # ...over too little
        check_signed_request(signed, request, BODY, now=NOW, window=3600)


def test_unsigned_and_malformed_headers_are_refused() -> None:
    with pytest.raises(SignatureError, match="not signed"):
        parse_signed_request(_as_received(INBOX, {"Date": http_date(NOW)}))
    with pytest.raises(SignatureError):
        parse_signed_request(_as_received(INBOX, {"Signature": 'keyId="k",signature=@@@'}))
    with pytest.raises(SignatureError):
        parse_signed_request(
            _as_received(INBOX, {"Signature-Input": "sig1=(", "Signature": "sig1=:AA==:"})
        )


def test_digest_helpers() -> None:
    check_digest(digest_header(BODY), BODY)
    check_digest(
        "SHA-512="
        + base64.b64encode(__import__("hashlib").sha512(BODY).digest()).decode()
        + ", MD5=xyz",
        BODY,
    )
    check_content_digest(content_digest_header(BODY), BODY)
    check_content_digest(RFC_HEADERS[3][1], BODY)  # the RFC's sha-512 example
    with pytest.raises(SignatureError):
        check_digest("MD5=Sd/dVLAcvNLSq16eXua5uQ==", BODY)
    with pytest.raises(SignatureError):
        check_content_digest("sha-256=:AAAA:", BODY)


@pytest.mark.parametrize("inside", ["AA!A", "AA A", "AA\tA", "AAAA=AA=", "AA==AA"])
def test_byte_sequences_that_are_not_base64_are_refused(inside: str) -> None:
    """A lone Signature or Content-Digest member is read by a quick pattern, several by the
    RFC 8941 parser: either way, anything but strict base64 between the colons is refused."""
    key = rsa_key(0)
    base = {"Content-Type": "application/activity+json"}
    added = sign_rfc9421("POST", INBOX, base, BODY, "https://news.example/k", key, NOW)
    for signature in (f"sig1=:{inside}:", f"sig1=:{inside}:, sig2=:AA==:"):
        request = _as_received(INBOX, {**base, **added, "Signature": signature})
        with pytest.raises(SignatureError, match="malformed base64"):
            parse_signed_request(request)
    for digest in (f"sha-256=:{inside}:", f"sha-256=:{inside}:, sha-512=:AA==:"):
        with pytest.raises(SignatureError, match="malformed base64"):
            check_content_digest(digest, BODY)


def test_structured_dictionary_parsing() -> None:
    parsed = parse_dictionary('a=("x" "y";p=1);k="v";n=12, b=:AQI=:, c')
    a = parsed["a"]
    assert [i.value for i in a.items] == ["x", "y"]  # type: ignore[union-attr]
    assert a.params == (("k", "v"), ("n", 12))
    assert parsed["b"].value == b"\x01\x02"  # type: ignore[union-attr]
    assert parsed["c"].value is True  # type: ignore[union-attr]


def test_an_unusable_signature_input_matters_only_when_it_is_the_one_used() -> None:
    """A proxy's signature with components we cannot check does not spoil the sender's; used
    alone, it is refused with the reason (the prepared inputs are cached per header text)."""
    added = sign_rfc9421("POST", INBOX, {}, BODY, "k", rsa_key(0), NOW)
    proxy_input = 'proxy=("@status");keyid="p"'
    both = _as_received(
        INBOX,
        {
            **added,
            "Signature-Input": f"{proxy_input}, {added['Signature-Input']}",
            "Signature": f"{added['Signature']}, proxy=:AA==:",
        },
    )
    signed = parse_signed_request(both)
    assert (signed.key_id, signed.covered) == (
        "k",
        frozenset({"@method", "@target-uri", "@authority", "content-digest"}),
    )
    assert verify_signature(rsa_key(0).public_key(), signed)
    for _ in range(2):  # the second parse comes from the cache and says the same
        with pytest.raises(SignatureError, match="not supported"):
            parse_signed_request(
                _as_received(INBOX, {"Signature-Input": proxy_input, "Signature": "proxy=:AA==:"})
            )


def test_cavage_parses_an_inbox_url_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fan-out signs for the same inboxes again and again: the URL is split once, not
    twice a request (once for Host, once for the request target)."""
    from siarkan.federation import signatures

    calls: list[str] = []
    real = signatures.urlsplit

    def counting(url: str, *args: object) -> object:
        calls.append(url)
        return real(url)

    monkeypatch.setattr(signatures, "urlsplit", counting)
    url = "https://split-once.example/users/ani/inbox?x=1"
    for _ in range(3):
        added = sign_cavage("POST", url, {}, BODY, "k", rsa_key(0), NOW)
    assert calls == [url]
    request = _as_received(url, added)
    assert verify_signature(rsa_key(0).public_key(), parse_signed_request(request))


def test_cavage_covers_content_type_as_a_receiver_reads_it() -> None:
    """Any case, surrounding spaces: the signed value is header_map's, as verifiers see it."""
    base = {"content-TYPE": "  application/activity+json "}
    added = sign_cavage("POST", INBOX, base, BODY, "k", rsa_key(0), NOW)
    assert 'headers="(request-target) host date digest content-type"' in added["Signature"]
    signed = parse_signed_request(_as_received(INBOX, {**base, **added}))
    assert b"\ncontent-type: application/activity+json" in signed.base
    assert verify_signature(rsa_key(0).public_key(), signed)
    without = sign_cavage("GET", INBOX, {}, None, "k", rsa_key(0), NOW)
    assert 'headers="(request-target) host date"' in without["Signature"]
    assert "Digest" not in without
