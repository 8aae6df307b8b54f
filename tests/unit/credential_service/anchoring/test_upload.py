"""Uploaded files hashed as they stream, without HTTP: parts split anywhere, limits, errors."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator

import pytest

from credential_service.anchoring.upload import (
    MAX_FILES_PER_UPLOAD,
    HashedUpload,
    UploadedFile,
    hash_upload,
)
from credential_service.errors import InvalidInput
from wallet_sdk.merkle import HashAlgorithm

BOUNDARY = "hrss-test-boundary"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def _body(*parts: tuple[str, str | None, bytes]) -> bytes:
    out = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        out += data + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


def _hash(body: bytes, *, chunk: int = 7, default: str = "sha-256") -> HashedUpload:
    async def stream() -> AsyncIterator[bytes]:
        for start in range(0, len(body), chunk):
            yield body[start : start + chunk]

    return asyncio.run(hash_upload(stream(), CONTENT_TYPE, default_algorithm=default))


def test_files_are_hashed_in_order_whatever_the_chunking() -> None:
    first, second = b"contract one" * 1000, b"contract two"
    body = _body(
        ("document_type", None, b"labour-contract"),
        ("file", "a.pdf", first),
        ("file", "b.pdf", second),
    )
    expected = HashedUpload(
        "sha-256",
        "labour-contract",
        (
            UploadedFile("a.pdf", len(first), hashlib.sha256(first).digest()),
            UploadedFile("b.pdf", len(second), hashlib.sha256(second).digest()),
        ),
    )
    assert _hash(body, chunk=1) == _hash(body, chunk=4096) == expected


def test_the_algorithm_field_before_the_files_chooses_the_hash() -> None:
    data = b"payroll"
    body = _body(
        ("algorithm", None, b"sm3"), ("document_type", None, b"payroll"), ("file", "p", data)
    )
    upload = _hash(body)
    assert upload.algorithm == "sm3"
    assert upload.files[0].digest == HashAlgorithm.SM3.digest(data)


def test_without_an_algorithm_field_the_default_is_used() -> None:
    data = b"payroll"
    upload = _hash(_body(("document_type", None, b"payroll"), ("file", "p", data)), default="sm3")
    assert (upload.algorithm, upload.files[0].digest) == ("sm3", HashAlgorithm.SM3.digest(data))


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ((("document_type", None, b"x"),), "no file in the upload"),
        (
            (("document_type", None, b"x"), ("file", "a", b"1"), ("algorithm", None, b"sm3")),
            "the algorithm field must come before the files",
        ),
        (
            (("algorithm", None, b"sm3"), ("algorithm", None, b"sm3"), ("file", "a", b"1")),
            "the algorithm field is given twice",
        ),
        ((("document_type", None, b"x" * 5000), ("file", "a", b"1")), "form field too long"),
        (
            (("document_type", None, b"x"),) + (("file", "f", b"1"),) * (MAX_FILES_PER_UPLOAD + 1),
            f"at most {MAX_FILES_PER_UPLOAD} files per upload",
        ),
    ],
)
def test_a_bad_upload_is_refused_as_invalid_input(
    parts: tuple[tuple[str, str | None, bytes], ...], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message) as err:
        _hash(_body(*parts), chunk=4096)
    assert err.value.code == "validation_failed"


def test_a_body_without_boundary_or_malformed_is_refused() -> None:
    async def stream() -> AsyncIterator[bytes]:
        yield b"not multipart at all"

    with pytest.raises(InvalidInput, match="without boundary"):
        asyncio.run(hash_upload(stream(), "multipart/form-data", default_algorithm="sha-256"))
    with pytest.raises(InvalidInput, match="malformed multipart body"):
        asyncio.run(hash_upload(stream(), CONTENT_TYPE, default_algorithm="sha-256"))
