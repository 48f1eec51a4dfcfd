"""Render every app icon from the one drawing, martingale/static/icons/icon.svg.

    .venv/bin/python scripts/make_icons.py

No SVG rasteriser installs offline (cairo, librsvg), so this reads the few SVG elements the icon
is made of (rect, polyline, polygon, circle) and draws them with Pillow at four times the size,
then scales down: the antialiasing an SVG renderer would give. An element it does not know is an
error rather than a silent gap in the icon. The sizes and file names are the web app manifest's
(martingale/web/pwa.py), so the manifest never names a file this did not write.

Variants, because each platform crops differently:
- purpose "any": the drawing as it is, rounded tile on transparency (desktop, Android launchers);
- maskable: the tile's colour to the edges and the mark shrunk into the central circle of radius
  40% that every mask keeps (Android's adaptive icons crop to circles, squircles, teardrops);
- apple-touch-icon: square and opaque, since iOS paints transparency black and rounds it itself;
- favicon.ico: the "any" drawing at the small sizes browsers' tabs use.
"""

from __future__ import annotations

import itertools
import math
import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from martingale.web import pwa  # noqa: E402 (the repository root is on the path only now)

STATIC = ROOT / "martingale" / "static"
SOURCE = STATIC / pwa.ICON_SOURCE
SUPERSAMPLE = 4
SAFE_RADIUS = 0.40  # of the icon's size: the maskable icon's safe zone (W3C manifest spec)
SAFE_MARGIN = 0.94  # and a little inside it, so no mask touches the mark
SVG = "{http://www.w3.org/2000/svg}"

Point = tuple[float, float]
RGBA = tuple[int, int, int, int]


@dataclass
class Shape:
    kind: str  # rect, polyline, polygon, circle
    fill: RGBA | None = None
    stroke: RGBA | None = None
    stroke_width: float = 0.0
    points: list[Point] = field(default_factory=list)
    radius: float = 0.0  # circle r, rect rx


@dataclass
class Drawing:
    size: float  # the viewBox's side
    tile: Shape
    mark: list[Shape]

    def mark_extent(self) -> float:
        """How far the mark reaches from the centre, strokes and all, in viewBox units."""
        c = self.size / 2
        reach = 0.0
        for s in self.mark:
            pad = s.radius if s.kind == "circle" else s.stroke_width / 2
            for x, y in s.points:
                reach = max(reach, math.hypot(x - c, y - c) + pad)
        return reach


def colour(value: str | None) -> RGBA | None:
    if value in (None, "none"):
        return None
    match = re.fullmatch(r"#([0-9a-fA-F]{6})", value or "")
    if not match:
        raise ValueError(f"colours are #rrggbb here, not {value!r}")
    hex_ = match.group(1)
    r, g, b = (int(hex_[i : i + 2], 16) for i in (0, 2, 4))
    return (r, g, b, 255)


def points(text: str) -> list[Point]:
    numbers = [float(n) for n in re.split(r"[\s,]+", text.strip())]
    return list(zip(numbers[0::2], numbers[1::2], strict=True))


def load(path: Path = SOURCE) -> Drawing:
    root = ET.parse(path).getroot()  # our own file, not untrusted input
    _, _, width, height = (float(v) for v in root.attrib["viewBox"].split())
    if width != height:
        raise ValueError("the icon's viewBox must be square")
    shapes: list[Shape] = []
    tile: Shape | None = None
    for el in root:
        tag = el.tag.removeprefix(SVG)
        a = el.attrib
        if tag == "rect":
            x, y, w, h = (float(a.get(k, 0)) for k in ("x", "y", "width", "height"))
            shape = Shape("rect", fill=colour(a.get("fill")), radius=float(a.get("rx", 0)),
                          points=[(x, y), (x + w, y + h)])  # fmt: skip
        elif tag in ("polyline", "polygon"):
            if tag == "polyline" and (
                a.get("stroke-linecap") != "round" or a.get("stroke-linejoin") != "round"
            ):
                raise ValueError("polylines are drawn with round caps and joins only")
            shape = Shape(tag, fill=colour(a.get("fill")), stroke=colour(a.get("stroke")),
                          stroke_width=float(a.get("stroke-width", 0)), points=points(a["points"]))  # fmt: skip
        elif tag == "circle":
            shape = Shape("circle", fill=colour(a.get("fill")), radius=float(a["r"]),
                          points=[(float(a["cx"]), float(a["cy"]))])  # fmt: skip
        else:
            raise ValueError(f"make_icons.py cannot draw <{tag}>: keep the icon to simple shapes")
        if a.get("id") == "tile":
            tile = shape
        else:
            shapes.append(shape)
    if tile is None or tile.kind != "rect" or tile.fill is None:
        raise ValueError('the icon needs a filled <rect id="tile"> behind the mark')
    return Drawing(width, tile, shapes)


def render(
    drawing: Drawing, size: int, *, square: bool = False, mark_scale: float = 1.0
) -> Image.Image:
    """The drawing at ``size`` px: the tile (rounded, or ``square`` to the edges), then the mark
    scaled by ``mark_scale`` about the centre."""
    big = size * SUPERSAMPLE
    unit = big / drawing.size
    c = drawing.size / 2
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    assert drawing.tile.fill is not None
    if square:
        pen.rectangle((0, 0, big, big), fill=drawing.tile.fill)
    else:
        (x0, y0), (x1, y1) = drawing.tile.points
        pen.rounded_rectangle(
            (x0 * unit, y0 * unit, x1 * unit - 1, y1 * unit - 1),
            radius=drawing.tile.radius * unit,
            fill=drawing.tile.fill,
        )

    def at(p: Point) -> Point:
        return ((c + (p[0] - c) * mark_scale) * unit, (c + (p[1] - c) * mark_scale) * unit)

    for s in drawing.mark:
        pts = [at(p) for p in s.points]
        if s.kind == "polygon" and s.fill:
            pen.polygon(pts, fill=s.fill)
        elif s.kind == "circle" and s.fill:
            (x, y), r = pts[0], s.radius * mark_scale * unit
            pen.ellipse((x - r, y - r, x + r, y + r), fill=s.fill)
        elif s.kind == "polyline" and s.stroke:
            width = s.stroke_width * mark_scale * unit
            for a, b in itertools.pairwise(pts):
                pen.line([a, b], fill=s.stroke, width=round(width))
            for x, y in pts:  # round caps and joins: a disc at every vertex
                r = width / 2
                pen.ellipse((x - r, y - r, x + r, y + r), fill=s.stroke)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def maskable_scale(drawing: Drawing) -> float:
    return min(1.0, SAFE_RADIUS * drawing.size * SAFE_MARGIN / drawing.mark_extent())


def icons(drawing: Drawing) -> dict[str, Image.Image]:
    """Every PNG the site serves, by its path under static/."""
    out = {pwa.icon_path(s, "any"): render(drawing, s) for s in pwa.ANY_SIZES}
    shrink = maskable_scale(drawing)
    for s in pwa.MASKABLE_SIZES:
        out[pwa.icon_path(s, "maskable")] = render(drawing, s, square=True, mark_scale=shrink)
    # opaque: iOS would paint the rounded corners' transparency black
    out[pwa.APPLE_TOUCH_ICON] = render(drawing, pwa.APPLE_TOUCH_SIZE, square=True).convert("RGB")
    return out


def main() -> None:
    drawing = load()
    for name, image in icons(drawing).items():
        path = STATIC / name
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path, optimize=True)
        print(f"wrote {path.relative_to(ROOT)} ({image.width}x{image.height})")
    favicon = render(drawing, max(pwa.FAVICON_SIZES))
    path = STATIC / pwa.FAVICON
    favicon.save(path, sizes=[(s, s) for s in pwa.FAVICON_SIZES])
    print(f"wrote {path.relative_to(ROOT)} ({', '.join(map(str, pwa.FAVICON_SIZES))} px)")


if __name__ == "__main__":
    main()
