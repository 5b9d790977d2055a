"""Tiny but valid media files for the simulated world: PNG, PDF and an Ogg/Opus voice note."""

from __future__ import annotations

import struct
import zlib

# ------------------------------------------------------------------------------ media bytes


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def tiny_png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A valid RGB PNG: a vertical gradient from `rgb` to black."""
    rows = bytearray()
    for y in range(height):
        shade = 1 - y / (2 * height)
        pixel = bytes(int(c * shade) for c in rgb)
        rows += b"\x00" + pixel * width  # filter type 0 per scanline
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + _png_chunk(b"IEND", b"")
    )


def tiny_pdf(title: str, body: str) -> bytes:
    """A one-page PDF 1.4 with a correct xref table, readable by any viewer."""

    def esc(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    ascii_title = esc(title.encode("ascii", "replace").decode())
    ascii_body = esc(body.encode("ascii", "replace").decode())
    stream = (
        f"BT /F1 18 Tf 72 720 Td ({ascii_title}) Tj ET\n"
        f"BT /F1 11 Tf 72 690 Td ({ascii_body}) Tj ET\n"
    ).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"endstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def _ogg_crc(data: bytes) -> int:
    # Ogg uses CRC-32 with polynomial 0x04C11DB7, not reflected, initial value 0.
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def _ogg_page(payload: bytes, *, serial: int, sequence: int, flags: int, granule: int) -> bytes:
    segments = [255] * (len(payload) // 255) + [len(payload) % 255]
    header = (
        b"OggS"
        + struct.pack("<BBqIII", 0, flags, granule, serial, sequence, 0)
        + bytes([len(segments)])
        + bytes(segments)
    )
    crc = _ogg_crc(header + payload)
    return header[:22] + struct.pack("<I", crc) + header[26:] + payload


def tiny_ogg_opus(seconds: int, serial: int) -> bytes:
    """The header pages of an Ogg/Opus voice note (no audio frames): WhatsApp's voice format."""
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, 312, 16000, 0, 0)
    vendor = b"whatsapp-mcp simulated"
    tags = b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0)
    return _ogg_page(head, serial=serial, sequence=0, flags=0x02, granule=0) + _ogg_page(
        tags, serial=serial, sequence=1, flags=0x04, granule=seconds * 48000
    )
