"""Copy chosen face emoji out of Iconify JSON icon sets (npm ``@iconify-json/<set>``) as SVG files.

Dev-time script. The Iconify packages hold every icon of an emoji font as an SVG body plus a
view box; this writes ``<out>/<style>/<name>.svg`` (a standalone SVG, the body unchanged) for
the faces listed in :data:`FACES`, which are the evaluation/gallery styles of faceshot's
matcher (see ``gallery_src/README.md`` for the licences). Fetch a package with
``npm pack @iconify-json/noto`` and unpack it, then::

    uv run python scripts/extract_iconify_faces.py --package /tmp/noto/package --style noto
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["FACES", "PACKAGES", "extract", "main"]

ROOT = Path(__file__).resolve().parents[1]

#: style -> npm package it comes from.
PACKAGES = {
    "noto": "@iconify-json/noto@1.2.9",
    "noto-v1": "@iconify-json/noto-v1@1.2.5",
    "emojione": "@iconify-json/emojione@1.2.3",
    "fxemoji": "@iconify-json/fxemoji@1.2.2",
}

_COMMON = (
    "grinning-face grinning-face-with-big-eyes beaming-face-with-smiling-eyes slightly-smiling-face "
    "neutral-face face-with-open-mouth hushed-face astonished-face frowning-face-with-open-mouth "
    "winking-face smiling-face-with-sunglasses face-with-tongue confused-face angry-face "
    "smiling-face-with-heart-eyes grimacing-face nerd-face worried-face face-savoring-food "
    "sleeping-face smirking-face kissing-face cat-face grinning-cat dog-face tiger-face panda fox "
    "pig-face bear mouse-face cow-face monkey-face lion rabbit-face frog koala hamster wolf robot "
    "alien ghost skull jack-o-lantern clown-face ogre new-moon-face sun-with-face boar weary-cat "
    "pouting-cat"
).split()

#: style -> icon names (Firefox OS emoji use their own names).
FACES: dict[str, tuple[str, ...]] = {
    "noto": tuple(_COMMON),
    "noto-v1": tuple(_COMMON),
    "emojione": tuple(_COMMON),
    "fxemoji": tuple(
        (
            "grin grineyes grinsquint grinwide smallsmile neutral openmouth hushed astonished winking "
            "sunglasses smiletongue confused angry pout hearteyes grimacing smileeyes worried anguish "
            "sleeping smirk kissing flushed relieved weary confounded unamused pensive fearful "
            "foxsmiling foxgrin foxheart foxkissing foxpouting foxweary foxwry pandaface monkeyface "
            "cowface tiger wolfface mouse bunny koala frog hampster bear dog pigsnout ogre skull ghost "
            "alien jackolantern newmoonwithface sunwithface imp"
        ).split()
    ),
}


def _svg(icon: dict[str, object], width: int, height: int) -> str:
    left = icon.get("left", 0)
    top = icon.get("top", 0)
    w = icon.get("width", width)
    h = icon.get("height", height)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'viewBox="{left} {top} {w} {h}">{icon["body"]}</svg>\n'
    )


def extract(package: Path, style: str, out: Path) -> list[str]:
    """Write the style's faces as SVG files; returns the names written (missing ones skipped)."""
    data = json.loads((package / "icons.json").read_text(encoding="utf-8"))
    icons, aliases = data["icons"], data.get("aliases", {})
    width, height = int(data.get("width", 16)), int(data.get("height", 16))
    dest = out / style
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for name in FACES[style]:
        icon = icons.get(name)
        if icon is None and name in aliases:
            icon = {
                **icons[aliases[name]["parent"]],
                **{k: v for k, v in aliases[name].items() if k != "parent"},
            }
        if icon is None:
            print(f"{style}: no icon {name!r}; skipped", file=sys.stderr)
            continue
        (dest / f"{name}.svg").write_text(_svg(icon, width, height), encoding="utf-8")
        written.append(name)
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--package",
        type=Path,
        required=True,
        help="unpacked npm package directory (holds icons.json)",
    )
    ap.add_argument("--style", required=True, choices=sorted(FACES))
    ap.add_argument("--out", type=Path, default=ROOT / "gallery_src")
    args = ap.parse_args(argv)
    names = extract(args.package, args.style, args.out)
    print(f"{args.style}: {len(names)} faces written to {args.out / args.style}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
