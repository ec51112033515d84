"""RFC 9285 base45 (its own examples) and strict unpadded base64url."""

from __future__ import annotations

import pytest

import crypto


@pytest.mark.parametrize("raw,text", [(b"AB", "BB8"), (b"Hello!!", "%69 VD92EX0"), (b"base-45", "UJCLQE7W581"),
                                      (b"ietf!", "QED8WEX0"), (b"", "")])
def test_rfc9285_examples(raw: bytes, text: str) -> None:
    assert crypto.b45encode(raw) == text
    assert crypto.b45decode(text) == raw


def test_rfc9285_decode_example() -> None:
    assert crypto.b45decode("QED8WEX0") == b"ietf!"


@pytest.mark.parametrize("bad", [
    "GGW",      # RFC 9285 section 6: 65535 + 1, a triple out of range
    "ZZZ",      # far out of range
    ":::",      # the largest triple, 91124
    "A",        # a lone character
    "BB8B",     # 3n + 1 characters
    "::",       # a pair above 255
    "abc",      # lower case is not the alphabet
    "BB8\n",    # a newline
    "BB8=",     # padding
    "ÄÄ",       # outside ASCII
])
def test_base45_rejects(bad: str) -> None:
    with pytest.raises(crypto.Malformed):
        crypto.b45decode(bad)


def test_base45_rejects_non_text() -> None:
    with pytest.raises(crypto.Malformed):
        crypto.b45decode(b"BB8")  # type: ignore[arg-type]


@pytest.mark.parametrize("n", range(0, 40))
def test_base45_roundtrip_every_length(n: int) -> None:
    data = bytes((i * 37 + n) % 256 for i in range(n)) + b"\xff" * (n % 3)
    assert crypto.b45decode(crypto.b45encode(data)) == data


def test_b64u() -> None:
    assert crypto.b64u_encode(b"\xfb\xff") == "-_8"
    assert crypto.b64u_decode("-_8") == b"\xfb\xff"
    assert crypto.b64u_decode("") == b""
    key = bytes(range(32))
    assert crypto.b64u_decode(crypto.b64u_encode(key)) == key


@pytest.mark.parametrize("bad", ["a", "+/8", "a b", "AA==", "AA=", "-_9", "AAA\n", "AAAAA", "é"])
def test_b64u_rejects(bad: str) -> None:
    """Unpadded, URL alphabet only, canonical last character: one accepted text per byte string."""
    with pytest.raises(crypto.Malformed):
        crypto.b64u_decode(bad)
