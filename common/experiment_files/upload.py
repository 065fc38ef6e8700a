"""An uploaded experiment file, streamed from the request body to a temporary file.

The bytes decide the format, not Content-Type (``curl --data-binary`` sends a form's type):
gzip's magic number 1f 8b means a gzip-compressed CSV, Parquet's ``PAR1`` a Parquet file,
anything else a CSV. A CSV, compressed or not, must be UTF-8: checked while it streams, so a
Latin-1 file is refused naming the first bad byte.

Two limits bound the work and the memory (Cloud Run's /tmp is memory):

- ``MAX_UPLOAD_BYTES``, 32 MiB, the body as sent (413): Cloud Run refuses larger HTTP/1
  requests anyway; a declared larger body is refused before a byte is read, a chunked one
  as soon as it passes the limit;
- ``MAX_CSV_BYTES``, 64 MiB, a gzip-compressed CSV once decompressed (400): counted while it
  is inflated a block at a time, so a gzip bomb is refused as soon as it passes the limit.
"""

from __future__ import annotations

import codecs
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from werkzeug.exceptions import RequestEntityTooLarge

from common.http import BROKEN_FRAMING, is_broken_framing
from common.validation import InvalidInput

MAX_UPLOAD_BYTES = 32 * 1024**2
MAX_CSV_BYTES = 64 * 1024**2
_BLOCK = 1024**2
_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"

FileFormat = Literal["csv", "parquet"]


@dataclass(frozen=True)
class UploadedFile:
    path: Path
    format: FileFormat
    compressed: bool  # gzip, inflated into ``path``
    bytes_received: int


@contextmanager
def received(stream: BinaryIO) -> Iterator[UploadedFile]:
    """The body in a temporary file, removed when the block ends, whatever happens."""
    blocks = _blocks(stream)
    first = next(blocks, b"")
    if not first:
        raise InvalidInput("body", "is empty: send the experiment file as the body")
    compressed = first.startswith(_GZIP_MAGIC)
    kind: FileFormat = "parquet" if first.startswith(_PARQUET_MAGIC) else "csv"
    with tempfile.TemporaryDirectory(prefix="experiment-file-") as folder:
        path = Path(folder) / f"upload.{kind}"
        counted = _Counted(_chain(first, blocks))
        with path.open("wb") as out:
            if kind == "parquet":
                for block in counted:
                    out.write(block)
            else:
                text = _inflated(counted) if compressed else iter(counted)
                _write_utf8(text, out)
        yield UploadedFile(path, kind, compressed, counted.total)


def _blocks(stream: BinaryIO) -> Iterator[bytes]:
    try:
        while block := stream.read(_BLOCK):
            yield block
    except Exception as exc:
        if is_broken_framing(exc):
            raise InvalidInput("body", BROKEN_FRAMING) from None
        raise


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


class _Counted:
    """The body's blocks, refused with 413 once they pass ``MAX_UPLOAD_BYTES`` (a chunked body
    declares no length)."""

    def __init__(self, blocks: Iterator[bytes]):
        self._blocks, self.total = blocks, 0

    def __iter__(self) -> Iterator[bytes]:
        for block in self._blocks:
            self.total += len(block)
            if self.total > MAX_UPLOAD_BYTES:
                raise RequestEntityTooLarge()
            yield block


def _inflated(blocks: _Counted) -> Iterator[bytes]:
    """gzip members one after another (``cat a.gz b.gz`` is valid gzip), at most
    ``MAX_CSV_BYTES`` in all, inflated at most a block per step."""
    inflater, produced, in_member = zlib.decompressobj(16 + zlib.MAX_WBITS), 0, False
    try:
        for block in blocks:
            pending = block
            while pending:
                in_member = True
                out = inflater.decompress(pending, _BLOCK)
                produced += len(out)
                if produced > MAX_CSV_BYTES:
                    limit = MAX_CSV_BYTES // 1024**2
                    raise InvalidInput(
                        "body",
                        f"inflates beyond {limit} MiB of CSV, the most a compressed file may "
                        "hold (it must fit the function's memory): send fewer rows or columns",
                    )
                yield out
                if inflater.eof:  # the next member, if any, starts in unused_data
                    pending, in_member = inflater.unused_data, False
                    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                else:
                    pending = inflater.unconsumed_tail
    except zlib.error:
        raise InvalidInput("body", "is not valid gzip data") from None
    if in_member:
        raise InvalidInput("body", "its gzip stream is cut short")


def _write_utf8(blocks: Iterator[bytes], out: BinaryIO) -> None:
    """Copy the CSV's bytes, checking they decode as UTF-8 (a character may span blocks)."""
    decoder, offset, carried = codecs.getincrementaldecoder("utf-8")(), 0, 0
    try:
        for block in blocks:
            carried = len(decoder.getstate()[0])  # bytes of a character begun in the last block
            decoder.decode(block)
            out.write(block)
            offset += len(block)
        carried = len(decoder.getstate()[0])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as error:
        at = offset - carried + error.start
        raise InvalidInput(
            "body", f"is not UTF-8 text (byte {at} of the CSV): save it as UTF-8"
        ) from None
