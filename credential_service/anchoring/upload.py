"""Files to anchor, hashed while a ``multipart/form-data`` upload streams in.

Nothing is buffered, whatever a file's size: each file part goes through one
`StreamingDigest` as its bytes arrive, and only form fields (small, limited) are kept. Every
file is hashed with the algorithm of the ``algorithm`` field, which therefore has to arrive
before the first file; the ``document_type`` field names what the files are.
"""

from __future__ import annotations

from collections.abc import AsyncIterable
from dataclasses import dataclass

from python_multipart.multipart import MultipartParser, parse_options_header

from credential_service.anchoring.service import (
    StreamingDigest,
    check_algorithm,
    check_document_type,
)
from credential_service.errors import ErrorCode, InvalidInput

__all__ = ["MAX_FILES_PER_UPLOAD", "HashedUpload", "UploadedFile", "hash_upload"]

MAX_FILES_PER_UPLOAD = 1_000
_MAX_FIELD_BYTES = 4_096


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """One file of an upload: its name as the client gave it, its size and its digest."""

    filename: str
    size: int
    digest: bytes


@dataclass(frozen=True, slots=True)
class HashedUpload:
    """An upload's files, in order, hashed with `algorithm`, all of `document_type`."""

    algorithm: str
    document_type: str
    files: tuple[UploadedFile, ...]


async def hash_upload(
    body: AsyncIterable[bytes], content_type: str, *, default_algorithm: str
) -> HashedUpload:
    """Hash every file part of the multipart `body` as it streams.

    Every file is hashed once, with the algorithm of the ``algorithm`` field, which therefore
    has to arrive before the first file (`default_algorithm`, the profile's: ``sha-256``, or
    ``sm3`` in the national profile, when no such field precedes it). Raises
    `InvalidInput` for a malformed body, no file, an unsupported algorithm, or an
    ``algorithm`` field given twice or after a file.
    """
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise InvalidInput("multipart body without boundary", code=ErrorCode.VALIDATION_FAILED)
    parts = _Parts(default_algorithm)
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": parts.on_part_begin,
            "on_header_field": parts.on_header_field,
            "on_header_value": parts.on_header_value,
            "on_header_end": parts.on_header_end,
            "on_headers_finished": parts.on_headers_finished,
            "on_part_data": parts.on_part_data,
            "on_part_end": parts.on_part_end,
        },
    )
    try:
        async for chunk in body:
            parser.write(chunk)
        parser.finalize()
    except InvalidInput:
        raise
    except Exception as err:  # python-multipart's parse errors have no common root
        raise InvalidInput(
            f"malformed multipart body: {err}", code=ErrorCode.VALIDATION_FAILED
        ) from err
    if not parts.files:
        raise InvalidInput("no file in the upload", code=ErrorCode.VALIDATION_FAILED)
    fields = parts.fields
    return HashedUpload(
        algorithm=check_algorithm(fields.get("algorithm", default_algorithm)),
        document_type=check_document_type(fields.get("document_type", "")),
        files=tuple(parts.files),
    )


class _Parts:
    """The parser's callbacks: the part being read, the form fields and the files so far."""

    def __init__(self, default_algorithm: str) -> None:
        self.default_algorithm = default_algorithm
        self.fields: dict[str, str] = {}
        self.files: list[UploadedFile] = []
        self._headers: dict[str, bytes] = {}
        self._header_field = b""
        self._header_value = b""
        self._name = ""
        self._filename = ""
        self._hasher: StreamingDigest | None = None  # set while a file part streams
        self._data = b""  # a form field's value

    def on_part_begin(self) -> None:
        self._headers = {}
        self._header_field = self._header_value = self._data = b""
        self._hasher = None
        self._name = ""

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_field.decode("latin-1").lower()] = self._header_value
        self._header_field = self._header_value = b""

    def on_headers_finished(self) -> None:
        disposition = self._headers.get("content-disposition", b"")
        _, params = parse_options_header(disposition)
        self._name = params.get(b"name", b"").decode("utf-8", "replace")
        filename = params.get(b"filename")
        if filename is not None:
            if len(self.files) >= MAX_FILES_PER_UPLOAD:
                raise InvalidInput(
                    f"at most {MAX_FILES_PER_UPLOAD} files per upload",
                    code=ErrorCode.VALIDATION_FAILED,
                )
            # The first file settles the algorithm: a field naming it later is refused.
            algorithm = self.fields.setdefault("algorithm", self.default_algorithm)
            self._hasher = StreamingDigest(algorithm)
            self._filename = filename.decode("utf-8", "replace")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._hasher is not None:
            self._hasher.update(data[start:end])
            return
        self._data += data[start:end]
        if len(self._data) > _MAX_FIELD_BYTES:
            raise InvalidInput("form field too long", code=ErrorCode.VALIDATION_FAILED)

    def on_part_end(self) -> None:
        hasher = self._hasher
        if hasher is not None:
            self.files.append(UploadedFile(self._filename, hasher.size, hasher.digest()))
            return
        if self._name == "algorithm" and "algorithm" in self.fields:
            raise InvalidInput(
                "the algorithm field must come before the files: each file is hashed as it "
                "streams in, with one algorithm"
                if self.files
                else "the algorithm field is given twice",
                code=ErrorCode.VALIDATION_FAILED,
                detail={"field": "algorithm"},
            )
        self.fields[self._name] = self._data.decode("utf-8", "replace")
