"""A real headless browser for the HTML report tests: Debian's chromium (`make setup` installs it).

Missing chromium fails the test loudly: the report is only proven by a browser rendering it.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars")
TIMEOUT_S = 120


@dataclass(frozen=True)
class Rendered:
    dom: str
    console: list[str]  # every console message or uncaught error the page produced


def browser() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("no chromium on PATH: `make setup` installs Debian's chromium (apt-get install chromium)")


def render(page: Path) -> Rendered:
    """The page's DOM after its scripts ran, and what it wrote to the console."""
    done = subprocess.run(
        [browser(), *FLAGS, "--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=True,
    )
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return Rendered(done.stdout, console)


def screenshot(page: Path, out: Path, size: str = "1280,1800") -> Path:
    subprocess.run(
        [browser(), *FLAGS, f"--screenshot={out}", f"--window-size={size}", page.as_uri()],
        capture_output=True,
        timeout=TIMEOUT_S,
        check=True,
    )
    return out


def body_data(dom: str, name: str) -> str | None:
    """The value of `data-<name>` on the <body> element of a dumped DOM."""
    body = re.search(r"<body([^>]*)>", dom)
    found = re.search(rf'data-{name}="([^"]*)"', body.group(1)) if body else None
    return found.group(1) if found else None


def distinct_colours(png: Path) -> int:
    """How many distinct RGB(A) pixels a PNG holds (8-bit truecolour, any filter)."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{png} is not a PNG"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and colour in (2, 6), "only 8-bit RGB/RGBA screenshots are read"
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    colours: set[bytes] = set()
    for row in range(height):
        start = row * (stride + 1)
        line = _unfilter(raw[start], bytearray(raw[start + 1 : start + 1 + stride]), previous, channels)
        colours.update(bytes(line[i : i + channels]) for i in range(0, stride, channels * 7))
        previous = line
    return len(colours)


def _unfilter(kind: int, line: bytearray, prev: bytearray, bpp: int) -> bytearray:
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        up, corner = prev[i], prev[i - bpp] if i >= bpp else 0
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 2:
            line[i] = (line[i] + up) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            p = left + up - corner
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
            line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
    return line
