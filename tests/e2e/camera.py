"""A fake camera for Chromium: a QR drawn by segno into a Y4M file.

Chromium reads it with `--use-file-for-fake-video-capture=FILE.y4m` and feeds
getUserMedia from it (looping), so the app's real scanning path runs.
"""

from __future__ import annotations

import io
from pathlib import Path

import segno

W, H = 640, 480


def qr_luma(text: str, size: int = 440) -> bytes:
    """A W×H grey plane, white, with the QR centred, modules scaled to about `size` px."""
    qr = segno.make(text, error="m", boost_error=False)
    matrix = list(qr.matrix_iter(scale=1, border=4))
    n = len(matrix)
    scale = max(1, size // n)
    side = n * scale
    x0, y0 = (W - side) // 2, (H - side) // 2
    plane = bytearray(b"\xff" * (W * H))
    for r, row in enumerate(matrix):
        line = bytes(0 if dark else 255 for dark in row for _ in range(scale))
        for dy in range(scale):
            y = y0 + r * scale + dy
            plane[y * W + x0 : y * W + x0 + side] = line
    return bytes(plane)


def image_luma(image: bytes) -> bytes:
    """A W×H grey plane with a picture (PNG, JPEG …) fitted into it on white, as a camera held up to a screen."""
    from PIL import Image

    img = Image.open(io.BytesIO(image)).convert("L")
    img.thumbnail((W - 40, H - 40))
    canvas = Image.new("L", (W, H), 255)
    canvas.paste(img, ((W - img.width) // 2, (H - img.height) // 2))
    return canvas.tobytes()


def write_planes(path: Path, planes: list[bytes], frames_each: int = 10) -> Path:
    """A Y4M video showing each grey plane for `frames_each` frames (10 fps)."""
    chroma = b"\x80" * ((W // 2) * (H // 2) * 2)
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{W} H{H} F10:1 Ip A1:1 C420jpeg\n".encode())
        for luma in planes:
            for _ in range(frames_each):
                f.write(b"FRAME\n" + luma + chroma)
    return path


def write_y4m(path: Path, texts: list[str], frames_each: int = 10) -> Path:
    """A Y4M video showing each text's QR for `frames_each` frames (10 fps)."""
    return write_planes(path, [qr_luma(t) for t in texts], frames_each)
