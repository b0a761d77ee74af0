"""Photo sanitising: privacy (no metadata), orientation, limits, and hostile input."""

from __future__ import annotations

import hashlib
import io
import random
import struct
import warnings
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms, ImageFile

from bot.render.photos import (
    PhotoProblem,
    PhotoRejected,
    SanitizedPhoto,
    photo_path,
    sanitize_photo,
    store_photo,
)

RED = (220, 20, 20)
BLUE = (20, 20, 220)

# JPEG markers allowed in our output: SOI, APP0 (JFIF), DQT, SOF0/SOF2, DHT, SOS.
# Anything else before the scan (APP1 = EXIF/XMP, APP2 = ICC, COM = comment) is metadata.
ALLOWED_MARKERS = {0xD8, 0xE0, 0xDB, 0xC0, 0xC2, 0xC4, 0xDA}


def encode(img: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **params)
    return out.getvalue()


def jpeg_markers(data: bytes) -> list[int]:
    """List the marker codes of a JPEG's header segments, up to the start of the scan."""
    assert data[:2] == b"\xff\xd8"
    markers, pos = [0xD8], 2
    while pos < len(data):
        assert data[pos] == 0xFF, f"not a marker at {pos}"
        marker = data[pos + 1]
        markers.append(marker)
        if marker == 0xDA:
            return markers
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        pos += 2 + length
    raise AssertionError("no start of scan")


def png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that *declares* width x height (1-bit grey) in a few dozen bytes."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + png_chunk(b"IEND", b"")
    )


def photo_with_gps_and_orientation() -> bytes:
    """A 40x20 JPEG, red left half and blue right half, EXIF Orientation=6 and GPS."""
    img = Image.new("RGB", (40, 20), BLUE)
    img.paste(RED, (0, 0, 20, 20))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {  # GPS IFD: somewhere in Shanghai
        1: "N",
        2: (31.0, 14.0, 3.5),
        3: "E",
        4: (121.0, 28.0, 7.25),
    }
    return encode(img, "JPEG", exif=exif.tobytes(), quality=95, comment=b"secret note")


def noisy(size: tuple[int, int], seed: int = 1) -> Image.Image:
    """Incompressible pixels, so encoded files have substance to truncate."""
    data = random.Random(seed).randbytes(size[0] * size[1] * 3)
    return Image.frombytes("RGB", size, data)


def is_close(pixel: object, expected: tuple[int, int, int], tol: int = 40) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(a - b) <= tol for a, b in zip(pixel, expected, strict=True))


class TestPrivacyAndOrientation:
    def test_orientation_is_applied_and_exif_gps_removed_when_photo_has_both(self) -> None:
        data = photo_with_gps_and_orientation()
        with Image.open(io.BytesIO(data)) as original:  # the fixture really carries them
            assert original.getexif().get_ifd(0x8825)
            assert original.getexif()[0x0112] == 6

        photo = sanitize_photo(data)

        assert (photo.width, photo.height) == (20, 40)
        with Image.open(io.BytesIO(photo.jpeg)) as out:
            assert out.format == "JPEG"
            assert out.size == (20, 40)
            assert len(out.getexif()) == 0
            assert "exif" not in out.info
            assert "icc_profile" not in out.info
            assert "comment" not in out.info
            # Rotated clockwise: the red left half is now on top.
            assert is_close(out.getpixel((10, 5)), RED)
            assert is_close(out.getpixel((10, 35)), BLUE)
        assert set(jpeg_markers(photo.jpeg)) <= ALLOWED_MARKERS
        assert b"PhoneMaker" not in photo.jpeg
        assert b"secret note" not in photo.jpeg

    def test_rotation_and_downsizing_combine_when_large_photo_is_sideways(self) -> None:
        exif = Image.Exif()
        exif[0x0112] = 6
        data = encode(noisy((3000, 1500)), "JPEG", exif=exif.tobytes())

        photo = sanitize_photo(data)

        assert (photo.width, photo.height) == (1024, 2048)

    def test_icc_profile_is_dropped_when_photo_embeds_one(self) -> None:
        srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        data = encode(Image.new("RGB", (16, 16), RED), "JPEG", icc_profile=srgb)

        photo = sanitize_photo(data)

        with Image.open(io.BytesIO(photo.jpeg)) as out:
            assert "icc_profile" not in out.info
            assert is_close(out.getpixel((8, 8)), RED)
        assert set(jpeg_markers(photo.jpeg)) <= ALLOWED_MARKERS

    def test_png_text_chunks_are_dropped_when_png_carries_metadata(self) -> None:
        from PIL import PngImagePlugin

        info = PngImagePlugin.PngInfo()
        info.add_text("Location", "31.2N 121.4E")
        data = encode(Image.new("RGB", (16, 16), RED), "PNG", pnginfo=info)

        photo = sanitize_photo(data)

        assert b"31.2N" not in photo.jpeg
        assert set(jpeg_markers(photo.jpeg)) <= ALLOWED_MARKERS


class TestConversion:
    def test_alpha_is_flattened_on_white_when_png_is_transparent(self) -> None:
        img = Image.new("RGBA", (30, 10), (0, 0, 0, 0))
        img.paste((200, 0, 0, 255), (0, 0, 10, 10))

        photo = sanitize_photo(encode(img, "PNG"))

        with Image.open(io.BytesIO(photo.jpeg)) as out:
            assert out.format == "JPEG"
            assert out.mode == "RGB"
            assert is_close(out.getpixel((5, 5)), (200, 0, 0))
            assert is_close(out.getpixel((25, 5)), (255, 255, 255), tol=8)

    def test_large_photo_is_capped_to_max_side_keeping_aspect_when_8000_square(self) -> None:
        data = encode(Image.new("RGB", (8000, 8000), (90, 140, 60)), "JPEG", quality=50)

        photo = sanitize_photo(data, max_pixels=64_000_000)

        assert (photo.width, photo.height) == (2048, 2048)

    def test_aspect_is_kept_when_landscape_photo_is_downsized(self) -> None:
        data = encode(noisy((3000, 1500)), "JPEG")

        photo = sanitize_photo(data)

        assert (photo.width, photo.height) == (2048, 1024)

    def test_small_photo_is_not_enlarged(self) -> None:
        photo = sanitize_photo(encode(Image.new("RGB", (64, 48), RED), "PNG"))

        assert (photo.width, photo.height) == (64, 48)

    def test_first_frame_is_used_when_gif_is_animated(self) -> None:
        frames = [Image.new("RGB", (20, 20), c) for c in (RED, BLUE)]
        data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)

        photo = sanitize_photo(data)

        with Image.open(io.BytesIO(photo.jpeg)) as out:
            assert is_close(out.getpixel((10, 10)), RED)

    def test_16_bit_grey_is_scaled_not_clipped_white(self) -> None:
        grey = Image.new("I;16", (8, 8), 32768)  # mid-grey in 16 bits

        photo = sanitize_photo(encode(grey, "PNG"))

        with Image.open(io.BytesIO(photo.jpeg)) as out:
            assert is_close(out.getpixel((4, 4)), (128, 128, 128), tol=10)

    def test_digest_names_the_jpeg_bytes(self) -> None:
        photo = sanitize_photo(encode(Image.new("RGB", (8, 8), RED), "PNG"))

        assert photo.sha256 == hashlib.sha256(photo.jpeg).hexdigest()
        assert "jpeg=" not in repr(photo)  # bytes stay out of logs and tracebacks


class TestRefusals:
    def test_too_many_pixels_when_header_declares_30000_square(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        data = png_header_only(30000, 30000)
        assert len(data) < 200

        # Prove nothing is decoded: any pixel load would fail the test (its speed is
        # measured in bench/bench_render.py).
        def no_load(self: ImageFile.ImageFile) -> None:
            raise AssertionError("pixels were decoded")

        monkeypatch.setattr(ImageFile.ImageFile, "load", no_load)
        with pytest.raises(PhotoRejected) as caught:
            sanitize_photo(data)

        assert caught.value.reason is PhotoProblem.TOO_MANY_PIXELS

    def test_too_many_pixels_when_over_our_limit_but_under_pillows(self) -> None:
        # 7000x7000 = 49 M pixels: above our 40 M default, below Pillow's ~89 M guard.
        with pytest.raises(PhotoRejected) as caught:
            sanitize_photo(png_header_only(7000, 7000))

        assert caught.value.reason is PhotoProblem.TOO_MANY_PIXELS

    def test_too_many_pixels_when_pillow_bomb_warning_is_escalated(self) -> None:
        # 10000x10000 = 100 M: Pillow warns (not raises); with warnings as errors the
        # warning surfaces inside Image.open and must still become our error.
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(PhotoRejected) as caught:
                sanitize_photo(png_header_only(10000, 10000))

        assert caught.value.reason is PhotoProblem.TOO_MANY_PIXELS

    def test_too_many_pixels_honours_a_custom_limit(self) -> None:
        data = encode(Image.new("RGB", (100, 100), RED), "PNG")

        with pytest.raises(PhotoRejected) as caught:
            sanitize_photo(data, max_pixels=9_999)

        assert caught.value.reason is PhotoProblem.TOO_MANY_PIXELS

    def test_corrupt_when_jpeg_is_truncated(self) -> None:
        data = encode(noisy((200, 200)), "JPEG", quality=90)

        with pytest.raises(PhotoRejected) as caught:
            sanitize_photo(data[: len(data) * 6 // 10])

        assert caught.value.reason is PhotoProblem.CORRUPT

    def test_corrupt_when_png_is_truncated(self) -> None:
        data = encode(noisy((200, 200)), "PNG")

        with pytest.raises(PhotoRejected) as caught:
            sanitize_photo(data[: len(data) // 2])

        assert caught.value.reason is PhotoProblem.CORRUPT

    def test_corrupt_when_png_checksum_is_wrong(self) -> None:
        data = bytearray(encode(noisy((50, 50)), "PNG"))
        data[-20] ^= 0xFF  # a byte inside the last IDAT: its CRC no longer matches

        with pytest.raises(PhotoRejected) as caught:
            sanitize_photo(bytes(data))

        assert caught.value.reason is PhotoProblem.CORRUPT

    @pytest.mark.parametrize(
        "data",
        [
            b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n",
            "这不是图片，只是一段文字。".encode(),
            b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n",
            b"<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'/>",
            encode(Image.new("RGB", (8, 8), RED), "TIFF"),
            b"",
        ],
        ids=["pdf", "text", "eps", "svg", "tiff", "empty"],
    )
    def test_not_an_image_when_bytes_are_another_format(self, data: bytes) -> None:
        with pytest.raises(PhotoRejected) as caught:
            sanitize_photo(data)

        assert caught.value.reason is PhotoProblem.NOT_AN_IMAGE

    def test_too_large_file_when_bytes_exceed_limit(self) -> None:
        data = encode(Image.new("RGB", (64, 64), RED), "PNG")

        with pytest.raises(PhotoRejected) as caught:
            sanitize_photo(data, max_bytes=len(data) - 1)

        assert caught.value.reason is PhotoProblem.TOO_LARGE_FILE
        assert str(caught.value).startswith("too_large_file")


# Modes a phone, a scanner or a messenger might produce, each with a format that stores it.
MODE_FORMATS = [
    ("RGB", "JPEG"),
    ("RGB", "PNG"),
    ("RGB", "WEBP"),
    ("RGB", "BMP"),
    ("RGBA", "PNG"),
    ("RGBA", "WEBP"),
    ("L", "JPEG"),
    ("L", "PNG"),
    ("LA", "PNG"),
    ("P", "PNG"),
    ("P", "GIF"),
    ("1", "PNG"),
    ("CMYK", "JPEG"),
    ("I;16", "PNG"),
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    width=st.integers(1, 300),
    height=st.integers(1, 300),
    mode_format=st.sampled_from(MODE_FORMATS),
    max_side=st.integers(8, 256),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_small_image_sanitizes_to_jpeg_within_max_side(
    width: int,
    height: int,
    mode_format: tuple[str, str],
    max_side: int,
    seed: int,
) -> None:
    mode, fmt = mode_format
    base = noisy((width, height), seed)
    img = base.convert("I").convert("I;16") if mode == "I;16" else base.convert(mode)
    data = encode(img, fmt)

    photo = sanitize_photo(data, max_side=max_side)

    assert max(photo.width, photo.height) <= max_side
    assert min(photo.width, photo.height) >= 1
    # Aspect is kept to within rounding of one pixel.
    if max(width, height) > max_side:
        assert max(photo.width, photo.height) == max_side
    assert abs(photo.width * height - photo.height * width) <= max(width, height)
    with Image.open(io.BytesIO(photo.jpeg)) as out:
        assert out.format == "JPEG"
        assert out.mode == "RGB"
        assert out.size == (photo.width, photo.height)
        assert len(out.getexif()) == 0
    assert set(jpeg_markers(photo.jpeg)) <= ALLOWED_MARKERS


class TestStorePhoto:
    def photo(self) -> SanitizedPhoto:
        return sanitize_photo(encode(Image.new("RGB", (8, 8), RED), "PNG"))

    def test_photo_is_stored_under_its_digest(self, tmp_path: Path) -> None:
        photo = self.photo()

        path = store_photo(tmp_path, photo)

        assert path == tmp_path / "photos" / photo.sha256[:2] / f"{photo.sha256}.jpg"
        assert path.read_bytes() == photo.jpeg
        assert path == photo_path(tmp_path, photo.sha256)

    def test_storing_twice_is_idempotent_and_leaves_no_temp_files(self, tmp_path: Path) -> None:
        photo = self.photo()

        first = store_photo(tmp_path, photo)
        second = store_photo(tmp_path, photo)

        assert first == second
        assert [p.name for p in first.parent.iterdir()] == [first.name]

    def test_path_is_refused_when_digest_is_not_hex(self, tmp_path: Path) -> None:
        bad = SanitizedPhoto(jpeg=b"x", width=1, height=1, sha256="../../etc/passwd")

        with pytest.raises(ValueError):
            store_photo(tmp_path, bad)
