"""Draw Depot's icon (a stacked-crates mark on a blue tile) as PNG and multi-size ICO.

Run once when the design changes: python installers/make_icon.py  (writes resources/icons/).
Kept as code so the icon can be redrawn without a graphics program."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "resources" / "icons"


def draw(size: int = 256) -> Image.Image:
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    s = size / 256
    d.rounded_rectangle([8 * s, 8 * s, 248 * s, 248 * s], radius=44 * s, fill=(22, 82, 160, 255))
    crate = (244, 178, 62, 255)
    edge = (120, 72, 12, 255)
    for x, y in ((52, 132), (132, 132), (92, 60)):
        d.rounded_rectangle([x * s, y * s, (x + 72) * s, (y + 68) * s], radius=6 * s, fill=crate,
                            outline=edge, width=max(1, int(5 * s)))
        d.line([x * s, (y + 34) * s, (x + 72) * s, (y + 34) * s], fill=edge, width=max(1, int(4 * s)))
    d.rectangle([40 * s, 204 * s, 216 * s, 214 * s], fill=(255, 255, 255, 230))
    return img


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    big = draw(256)
    big.save(OUT / "depot.png")
    big.save(OUT / "depot.ico", sizes=[(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)])


if __name__ == "__main__":
    main()
