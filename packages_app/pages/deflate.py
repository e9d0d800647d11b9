"""A page's gzip form made of separately compressed pieces, so that a change compresses only what it touched.

Each piece of a page (a run of kept pieces, or the frame around them) is compressed on its
own to raw deflate by ISA-L and ended with a sync flush: its blocks are not final and it
ends on a byte boundary, so the pieces written end to end are one valid deflate stream;
only the last piece, compressed with ``Z_FINISH``, carries the final-block bit. ``member``
frames them as **one** gzip member (RFC 1952: header, the stream, the CRC-32 of the whole
and its length), the CRC being combined from the pieces' own (``crc32_combine``), never
computed over the whole page again. One member, not one per piece: some HTTP clients
decode only a gzip body's first member.

A piece may be compressed with the plain bytes just before it as its dictionary
(``zdict``): the decoder has them in its window there, so back-references into them are
valid, and the pieces lose almost nothing to one-shot compression (ccxt's JSON page: a
fraction of a percent, ``docs/benchmarks.md``). A piece so compressed is valid only after
the same bytes: whoever keeps it keeps it with what came before it (``simple.chunked``).

The result decodes to exactly the page's bytes; being a function of the pieces and their
dictionaries only, it is the same on every node for the same page.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from isal import isal_zlib

# As the page store's one-shot gzip (store.GZIP_LEVEL): ISA-L's fastest level.
LEVEL = 1
# Deflate's window: a dictionary longer than this is never referred to.
WINDOW = 32 * 1024
_RAW = -15
# RFC 1952: magic, deflate, no flags, no time (every node makes the same bytes), no extra flags, OS unknown.
HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"

Buffer = bytes | bytearray | memoryview


@dataclass(frozen=True)
class Deflated:
    """One piece's raw deflate (not final unless it is the last), with the CRC-32 and length of its plain bytes."""

    data: Buffer
    crc: int
    size: int


def deflate(plain: Buffer, before: Buffer = b"", *, last: bool = False) -> Deflated:
    """``plain`` compressed to go after ``before`` (its dictionary: the last ``WINDOW`` bytes of it)."""
    dictionary = before[-WINDOW:] if len(before) else None
    if dictionary is not None:
        compressor = isal_zlib.compressobj(LEVEL, isal_zlib.DEFLATED, _RAW, zdict=bytes(dictionary))
    else:
        compressor = isal_zlib.compressobj(LEVEL, isal_zlib.DEFLATED, _RAW)
    data = compressor.compress(plain) + compressor.flush(isal_zlib.Z_FINISH if last else isal_zlib.Z_SYNC_FLUSH)
    return Deflated(data, isal_zlib.crc32(plain), len(plain))


def member(pieces: Sequence[Deflated]) -> list[Buffer]:
    """One gzip member of ``pieces`` in order (the last deflated with ``last=True``), as buffers to write in turn."""
    crc = 0
    size = 0
    for piece in pieces:
        crc = isal_zlib.crc32_combine(crc, piece.crc, piece.size)
        size += piece.size
    trailer = struct.pack("<II", crc, size & 0xFFFFFFFF)
    return [HEADER, *(piece.data for piece in pieces), trailer]


def framed(head: bytes, body: Iterable[tuple[Buffer, Deflated]], tail: bytes) -> tuple[list[Buffer], list[Buffer]]:
    """A page made of ``head``, the kept ``body`` pieces (each plain, and deflated after the one before
    it, the first after nothing) and ``tail``: its plain buffers and its gzip member's buffers."""
    plain: list[Buffer] = [head]
    deflated = [deflate(head)]
    previous: Buffer = head
    for piece_plain, piece_deflated in body:
        plain.append(piece_plain)
        deflated.append(piece_deflated)
        previous = piece_plain
    plain.append(tail)
    deflated.append(deflate(tail, previous, last=True))
    return plain, member(deflated)
