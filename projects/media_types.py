"""What a file is, from its first bytes (never its name): the signatures of the image, video
and audio types the studio accepts, and the tables of their formats, extensions and content
types. `projects.media` probes what this recognises."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ACCEPTED = "images jpg/jpeg/png/webp/gif/bmp/tiff, video mp4/mov/m4v, audio mp3/wav"  # for messages
# Pillow format name -> (our format, extension, content type)
IMAGE_FORMATS = {
    "JPEG": ("jpeg", "jpg", "image/jpeg"),
    "PNG": ("png", "png", "image/png"),
    "WEBP": ("webp", "webp", "image/webp"),
    "GIF": ("gif", "gif", "image/gif"),
    "BMP": ("bmp", "bmp", "image/bmp"),
    "TIFF": ("tiff", "tiff", "image/tiff"),
}
VIDEO_FORMATS = {
    "mp4": ("mp4", "video/mp4"),
    "mov": ("mov", "video/quicktime"),
    "m4v": ("m4v", "video/x-m4v"),
}
AUDIO_FORMATS = {"mp3": ("mp3", "audio/mpeg"), "wav": ("wav", "audio/wav")}

_QT_FIRST_BOXES = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


def sniff(head: bytes) -> tuple[str, str]:
    """(kind, format) from a file's first bytes, by signature. kind is image, video, audio, or
    'other' with a description of what it is (for the refusal message), e.g.
    ('other', 'a WebM/Matroska video')."""
    if head[:3] == b"\xff\xd8\xff":
        return "image", "jpeg"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "image", "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image", "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image", "webp"
    if head[:2] == b"BM" and len(head) >= 26:
        return "image", "bmp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image", "tiff"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio", "wav"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "other", "an AVI video"
    if head[:3] == b"ID3" or _mp3_frame_sync(head):
        return "audio", "mp3"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand == b"qt  ":
            return "video", "mov"
        if brand in (b"M4V ", b"M4VH", b"M4VP"):
            return "video", "m4v"
        if brand in (b"M4A ", b"M4B ", b"M4P "):
            return "other", "an M4A/AAC audio file"
        if brand in (b"heic", b"heix", b"mif1", b"msf1", b"hevc"):
            return "other", "a HEIC/HEIF image"
        if brand in (b"avif", b"avis"):
            return "other", "an AVIF image"
        if brand[:3] in (b"3gp", b"3g2"):
            return "other", "a 3GP video"
        return "video", "mp4"
    if head[4:8] in _QT_FIRST_BOXES:
        return "video", "mov"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "other", "a WebM/Matroska video"
    if head[:4] == b"OggS":
        return "other", "an Ogg file"
    if head[:4] == b"fLaC":
        return "other", "a FLAC audio file"
    if head[:5] == b"%PDF-":
        return "other", "a PDF document"
    if head[:4] == b"PK\x03\x04":
        return "other", "a ZIP archive (or an office document)"
    if head[:2] == b"\xff\xf1" or head[:2] == b"\xff\xf9":
        return "other", "a raw AAC audio stream"
    stripped = head.lstrip()[:256].lower()
    if stripped.startswith((b"<svg", b"<?xml")) and b"<svg" in head.lower():
        return "other", "an SVG drawing"
    if stripped.startswith((b"<!doctype html", b"<html")):
        return "other", "an HTML page"
    if head and _looks_like_text(head):
        return "other", "a text file"
    return "other", ""


def _mp3_frame_sync(head: bytes) -> bool:
    # MPEG audio frame header: 11 sync bits, then version, then layer != 00 (00 is ADTS AAC).
    return len(head) >= 4 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06 != 0


def _looks_like_text(head: bytes) -> bool:
    # The first bytes may end inside a multi-byte character: allow a few dropped bytes.
    text = head.decode("utf-8", "ignore")
    if len(text.encode()) < len(head) - 3:
        return False
    return all(ch.isprintable() or ch in "\r\n\t" for ch in text)


@dataclass(frozen=True)
class IsoBoxes:
    """The top-level box types of an MP4/MOV file, and by how many bytes (and in which box)
    the file is cut short, if it is."""

    types: frozenset[bytes]
    truncated_by: int = 0
    truncated_box: str = ""


def iso_boxes(path: Path, size: int) -> IsoBoxes:
    """Walk the top-level boxes of an MP4/MOV file (ISO/IEC 14496-12 §4.2: 32-bit size + type,
    size 1 = 64-bit size follows, size 0 = to the end of the file)."""
    types: set[bytes] = set()
    offset = 0
    with open(path, "rb") as handle:
        while offset + 8 <= size:
            handle.seek(offset)
            header = handle.read(16)
            box_size = int.from_bytes(header[:4], "big")
            box_type = header[4:8]
            if box_size == 1:
                if len(header) < 16:
                    return IsoBoxes(frozenset(types), 16 - len(header), box_type.decode("latin-1"))
                box_size = int.from_bytes(header[8:16], "big")
            elif box_size == 0:
                box_size = size - offset
            if box_size < 8:
                break  # not a box: let the decoder judge the rest
            types.add(box_type)
            if offset + box_size > size:
                return IsoBoxes(
                    frozenset(types), offset + box_size - size, box_type.decode("latin-1")
                )
            offset += box_size
    return IsoBoxes(frozenset(types))
