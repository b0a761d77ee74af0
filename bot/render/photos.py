"""Sanitise photos that residents and cadres send before the bot keeps or forwards them.

Every photo is decoded and re-encoded, never stored as received (ARCHITECTURE.md,
principles 6 and 8):

- Privacy: the output is a fresh baseline JPEG with no metadata at all - no EXIF (GPS
  position, device, time), no XMP, no comments, no ICC profile. A photo's orientation is
  applied to the pixels first, so dropping EXIF does not turn it sideways.
- Limits: the file size and the pixel count declared in the header are checked *before*
  any pixel is decoded, so a decompression bomb (a few KB that inflate to gigabytes) is
  refused cheaply. Only common photo formats are parsed: Pillow's other plugins (EPS via
  Ghostscript, for one) are never reached with untrusted input.
- Output: RGB (alpha flattened on white), longest side at most ``max_side``, JPEG.

``sanitize_photo`` is CPU-bound (tens to hundreds of milliseconds for a phone photo).
Async callers run it on the image thread (``bot.render.worker``), and the file I/O of
``store_photo`` on any thread::

    photo = await run_image_work(sanitize_photo, data)
    path = await asyncio.to_thread(store_photo, data_dir, photo)
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import tempfile
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from PIL import ExifTags, Image, ImageCms, UnidentifiedImageError

__all__ = [
    "PhotoProblem",
    "PhotoRejected",
    "SanitizedPhoto",
    "photo_path",
    "sanitize_photo",
    "store_photo",
]

log = logging.getLogger(__name__)

# What a phone or messenger sends (the JPEG opener also yields "MPO", the multi-picture
# JPEG of many cameras). Anything else is refused as "not an image": TIFF is left out on
# purpose (libtiff is a large attack surface and no phone sends it), and so is HEIC,
# which Pillow cannot read - Telegram converts photos sent as photos to JPEG anyway.
_ALLOWED_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "WEBP", "GIF", "BMP")

_WHITE = (255, 255, 255)
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")

# EXIF Orientation -> the transpose that shows the photo upright (as ImageOps.exif_transpose).
_UPRIGHT: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

# A JPEG is decoded at 1/2, 1/4 or 1/8 scale (by libjpeg, far cheaper than decoding
# every pixel and filtering them down) when that lands at least this close to the
# output size; the last few percent are then made up by the resize. A 4000x3000 photo
# decodes at 2000x1500 and is stretched to 2048x1536: it differs from decoding all 12 MP
# less than encoding at quality 85 loses anyway (40 dB against 37 dB PSNR), and
# sanitising takes under half the time.
_DRAFT_SLACK = 0.95


class PhotoProblem(StrEnum):
    """Why a photo was refused; the value is stable and can key an i18n message."""

    NOT_AN_IMAGE = "not_an_image"
    CORRUPT = "corrupt"
    TOO_MANY_PIXELS = "too_many_pixels"
    TOO_LARGE_FILE = "too_large_file"


class PhotoRejected(Exception):
    """The bytes cannot be accepted as a photo; ``reason`` says why."""

    def __init__(self, reason: PhotoProblem, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)


@dataclass(frozen=True, slots=True)
class SanitizedPhoto:
    """A re-encoded, metadata-free JPEG and its content address."""

    jpeg: bytes = field(repr=False)
    width: int
    height: int
    sha256: str  # hex digest of ``jpeg``


def sanitize_photo(
    data: bytes,
    *,
    max_side: int = 2048,
    quality: int = 85,
    max_pixels: int = 40_000_000,
    max_bytes: int = 20 * 1024 * 1024,
) -> SanitizedPhoto:
    """Decode untrusted image bytes and return a clean JPEG, or raise ``PhotoRejected``.

    The first frame of an animated image (GIF, APNG, WebP) is used. Peak memory is
    about 4 bytes per pixel of ``max_pixels`` for non-JPEG input (JPEG is decoded at a
    reduced scale). A ``max_pixels`` above Pillow's ``Image.MAX_IMAGE_PIXELS`` is
    further limited by Pillow's own guard (twice that value), reported the same way.

    CPU-bound: call it through ``bot.render.worker.run_image_work`` from async code.
    """
    if max_side <= 0 or max_pixels <= 0 or max_bytes <= 0 or not 1 <= quality <= 95:
        raise ValueError("max_side, max_pixels, max_bytes must be > 0 and quality in 1..95")
    if len(data) > max_bytes:
        raise PhotoRejected(PhotoProblem.TOO_LARGE_FILE, f"{len(data)} > {max_bytes} bytes")
    if not data:
        raise PhotoRejected(PhotoProblem.NOT_AN_IMAGE, "empty")

    # Pass 1: identify the format and check the header and the container structure.
    # verify() leaves the image unusable, hence the second open below.
    with _open(data, max_pixels) as probe:
        try:
            probe.verify()
        except Exception as exc:
            # Pillow's parsers raise many types (OSError, SyntaxError, struct.error, ...)
            # on hostile input; for us each means the same thing.
            raise PhotoRejected(PhotoProblem.CORRUPT, "verify failed") from exc

    # Pass 2: decode for real.
    with _open(data, max_pixels) as opened:
        try:
            img = _decode(opened, max_side)
        except Exception as exc:  # see above: any decoding failure means a broken file
            raise PhotoRejected(PhotoProblem.CORRUPT, type(exc).__name__) from exc

    out = io.BytesIO()
    # No exif=, icc_profile=, comment= arguments, and img.info was emptied: the encoder
    # has nothing to copy. Baseline (not progressive) keeps decoding cheap for old phones.
    img.save(out, "JPEG", quality=quality, optimize=True)
    jpeg = out.getvalue()
    return SanitizedPhoto(
        jpeg=jpeg,
        width=img.width,
        height=img.height,
        sha256=hashlib.sha256(jpeg).hexdigest(),
    )


def _open(data: bytes, max_pixels: int) -> Image.Image:
    """Open lazily (only the header is read) and enforce the pixel limit."""
    try:
        img = Image.open(io.BytesIO(data), formats=_ALLOWED_FORMATS)
    except UnidentifiedImageError as exc:
        raise PhotoRejected(PhotoProblem.NOT_AN_IMAGE) from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own global guard fired inside open() (the warning only arrives here
        # as an exception if the process escalates warnings, e.g. pytest -W error).
        raise PhotoRejected(PhotoProblem.TOO_MANY_PIXELS, "pillow bomb guard") from exc
    except Exception as exc:  # a recognised format whose header is broken
        raise PhotoRejected(PhotoProblem.CORRUPT, "unreadable header") from exc
    width, height = img.size
    # Our limit is checked against the header before any decoding, so a small file that
    # declares 30000x30000 costs nothing. It also makes Pillow's softer global guard
    # (Image.MAX_IMAGE_PIXELS, a warning below twice its value) irrelevant as long as
    # max_pixels stays under it, which the default does (40 M < ~89 M).
    if width <= 0 or height <= 0:
        img.close()
        raise PhotoRejected(PhotoProblem.CORRUPT, "empty dimensions")
    if width * height > max_pixels:
        img.close()
        raise PhotoRejected(PhotoProblem.TOO_MANY_PIXELS, f"{width}x{height}")
    return img


def _decode(img: Image.Image, max_side: int) -> Image.Image:
    """Decode the first frame into an upright, RGB, size-capped image without metadata.

    The work is ordered so that the expensive steps see as few pixels as possible:
    reduced-scale decode, resize, and only then rotation and colour conversion.
    """
    # max_side bounds both sides: the box is square, so the size fitted on the stored
    # axes is, once transposed, the size fitted on the displayed axes.
    output_size = _fit(img.size, max_side)
    if img.format in ("JPEG", "MPO"):
        # A 6000x4000 photo then never exists in memory at full size.
        width, height = output_size
        least = (max(1, int(width * _DRAFT_SLACK)), max(1, int(height * _DRAFT_SLACK)))
        img.draft("RGB", least)  # libjpeg's smallest scale that is still at least this
    # An animated image is open on its first frame; n_frames is not asked for because
    # counting a GIF's frames means decoding all of them.
    # A truncated file fails here with OSError, as long as nobody sets Pillow's global
    # ImageFile.LOAD_TRUNCATED_IMAGES (it would pad the missing part with grey instead).
    img.load()
    icc = img.info.get("icc_profile")
    upright = _UPRIGHT.get(img.getexif().get(ExifTags.Base.Orientation, 1))

    rgb = _to_rgb(img)  # before resizing: "P" and "1" images would resize by nearest pixel
    if rgb.size != output_size:
        rgb = rgb.resize(output_size, _resampling(rgb.size, output_size), reducing_gap=2.0)
    if upright is not None:
        rgb = rgb.transpose(upright)
    if icc:
        rgb = _to_srgb(rgb, icc)
    if rgb is img:
        rgb = img.copy()  # the opened file's pixels go away when the caller closes it
    rgb.info = {}  # the JPEG encoder falls back to info for "comment" and others
    return rgb


def _resampling(size: tuple[int, int], output_size: tuple[int, int]) -> Image.Resampling:
    # Enlarging only makes up the last few percent of a reduced-scale decode (see
    # _DRAFT_SLACK). There BICUBIC is indistinguishable from LANCZOS (about 50 dB apart
    # on a noisy 12 MP photo) and a third cheaper; shrinking keeps LANCZOS's sharpness.
    enlarging = size[0] * size[1] < output_size[0] * output_size[1]
    return Image.Resampling.BICUBIC if enlarging else Image.Resampling.LANCZOS


def _fit(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, max_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _to_rgb(img: Image.Image) -> Image.Image:
    """Convert any mode to RGB, flattening transparency onto white (no copy if RGB)."""
    mode = img.mode
    if mode.startswith("I;16") or mode in ("I", "F"):
        # 16-bit and float greyscale (scans, some PNGs): scale to 8 bits instead of
        # letting convert() clip every value above 255 to white.
        grey = img.convert("F")
        extrema = grey.getextrema()  # (low, high) for a single-band image
        high = float(extrema[1]) if isinstance(extrema[1], (int, float)) else 255.0
        top = 255.0 if high <= 255 else 65535.0 if high <= 65535 else high
        return grey.point(lambda v: v * 255.0 / top).convert("L").convert("RGB")
    if mode in ("LA", "PA", "RGBa") or (mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
    if img.mode == "RGBA":
        background = Image.new("RGB", img.size, _WHITE)
        background.paste(img, mask=img.getchannel("A"))
        return background
    return img if img.mode == "RGB" else img.convert("RGB")


def _to_srgb(img: Image.Image, icc: bytes) -> Image.Image:
    """Convert from an embedded colour profile (e.g. Display P3) to sRGB.

    The output carries no profile, and viewers assume sRGB; converting keeps wide-gamut
    phone photos from looking washed out. A broken profile is not worth refusing a photo
    over: the pixels are then used as they are.
    """
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if source.profile.xcolor_space.strip() != "RGB":
            return img  # a CMYK or grey profile no longer matches the RGB pixels
        converted = ImageCms.profileToProfile(
            img, source, ImageCms.createProfile("sRGB"), outputMode="RGB"
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as exc:
        log.debug("icc profile ignored error=%s", exc)
        return img
    return converted if converted is not None else img


def photo_path(root: Path, sha256: str) -> Path:
    """Return where the photo with this digest lives: ``root/photos/ab/abcdef….jpg``."""
    if not _SHA256_HEX.fullmatch(sha256):
        # The digest becomes a path: refuse anything that is not exactly a hex digest.
        raise ValueError("sha256 must be 64 lowercase hex digits")
    return root / "photos" / sha256[:2] / f"{sha256}.jpg"


def store_photo(root: Path, photo: SanitizedPhoto) -> Path:
    """Write the photo under its content address (idempotent) and return the path.

    The file appears atomically (temp file in the same directory, fsync, ``os.replace``),
    so a crash never leaves a half-written photo behind a path the database points to.
    Blocking file I/O: call it through ``asyncio.to_thread`` from async code.
    """
    target = photo_path(root, photo.sha256)
    if target.is_file():
        return target  # same content, same name: already stored
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".jpg")
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(photo.jpeg)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)
    return target


def _fsync_dir(path: Path) -> None:
    """Persist the new directory entry too (POSIX); a no-op where that is unsupported."""
    try:
        dir_fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass  # e.g. Windows or some network file systems cannot fsync a directory
    finally:
        os.close(dir_fd)
