"""The iBUG 300-W 68-point landmark layout: named groups, the paper's parts and the sub-chains.

All indices are 0-based. "Right" means the subject's right (image left for a frontal face).

Groups (iBUG 300-W):
    jaw 0-16, right brow 17-21, left brow 22-26, nose bridge 27-30, nose base 31-35,
    right eye 36-41, left eye 42-47, outer lips 48-59, inner lips 60-67.

The paper's five appearance-gallery parts (:data:`PARTS`):
    face boundary 0-16, eyebrows 17-26, nose 27-35, eyes 36-47, mouth 48-67.

The 13 open sub-chains used for local motion (:data:`CHAINS`), as in the official code:
each is an ordered polyline whose first and last points define the chain's local frame.
Every point belongs to at least one chain; eye corners and mouth corners are shared by the
upper and lower chain of their part.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "BROW_LID_TOPS",
    "CHAINS",
    "CHAIN_GROUP",
    "EYEBROWS",
    "EYES",
    "EYE_LID_PAIRS",
    "FACE_BOUNDARY",
    "FACE_OUTLINE",
    "GROUPS",
    "INNER_LIPS",
    "INNER_LIP_PAIRS",
    "IOD_POINTS",
    "JAW",
    "LEFT_BROW",
    "LEFT_EYE",
    "LEFT_EYE_OUTLINE",
    "LIP_COLUMNS",
    "LIP_SIDE_COLUMNS",
    "MIRROR",
    "MOUTH",
    "MOUTH_CORNER_WEDGES",
    "NOSE",
    "NOSE_BASE",
    "NOSE_BRIDGE",
    "NUM_POINTS",
    "OUTER_LIPS",
    "OUTER_LIP_PAIRS",
    "PARTS",
    "PART_OF_POINT",
    "RIGHT_BROW",
    "RIGHT_EYE",
    "RIGHT_EYE_OUTLINE",
    "STABLE_POINTS",
    "part_indices",
]

NUM_POINTS: Final = 68

JAW: Final = slice(0, 17)
RIGHT_BROW: Final = slice(17, 22)
LEFT_BROW: Final = slice(22, 27)
NOSE_BRIDGE: Final = slice(27, 31)
NOSE_BASE: Final = slice(31, 36)
RIGHT_EYE: Final = slice(36, 42)
LEFT_EYE: Final = slice(42, 48)
OUTER_LIPS: Final = slice(48, 60)
INNER_LIPS: Final = slice(60, 68)

# The paper's five parts.
FACE_BOUNDARY: Final = slice(0, 17)
EYEBROWS: Final = slice(17, 27)
NOSE: Final = slice(27, 36)
EYES: Final = slice(36, 48)
MOUTH: Final = slice(48, 68)

#: Outer eye corners used for inter-ocular-distance normalisation (NME).
IOD_POINTS: Final = (36, 45)

#: The nine anatomical groups, in index order.
GROUPS: Final = MappingProxyType(
    {
        "jaw": JAW,
        "right_brow": RIGHT_BROW,
        "left_brow": LEFT_BROW,
        "nose_bridge": NOSE_BRIDGE,
        "nose_base": NOSE_BASE,
        "right_eye": RIGHT_EYE,
        "left_eye": LEFT_EYE,
        "outer_lips": OUTER_LIPS,
        "inner_lips": INNER_LIPS,
    }
)

#: The paper's five appearance-gallery parts.
PARTS: Final = MappingProxyType(
    {
        "face_boundary": FACE_BOUNDARY,
        "eyebrows": EYEBROWS,
        "nose": NOSE,
        "eyes": EYES,
        "mouth": MOUTH,
    }
)


def _ro(values: list[int] | list[list[int]]) -> NDArray[np.intp]:
    arr = np.asarray(values, dtype=np.intp)
    arr.setflags(write=False)
    return arr


#: The 13 open sub-chains (ordered point indices). First and last point define the chain frame.
CHAINS: Final = MappingProxyType(
    {
        "jaw": _ro(list(range(0, 17))),
        "right_brow": _ro(list(range(17, 22))),
        "left_brow": _ro(list(range(22, 27))),
        "nose_bridge": _ro(list(range(27, 31))),
        "nose_base": _ro(list(range(31, 36))),
        "right_upper_lid": _ro([36, 37, 38, 39]),
        "right_lower_lid": _ro([39, 40, 41, 36]),
        "left_upper_lid": _ro([42, 43, 44, 45]),
        "left_lower_lid": _ro([45, 46, 47, 42]),
        "upper_outer_lip": _ro(list(range(48, 55))),
        "lower_outer_lip": _ro([54, 55, 56, 57, 58, 59, 48]),
        "upper_inner_lip": _ro(list(range(60, 65))),
        "lower_inner_lip": _ro([64, 65, 66, 67, 60]),
    }
)

#: For each chain, the anatomical group whose extent sets the chain's scale.
CHAIN_GROUP: Final = MappingProxyType(
    {
        "jaw": "jaw",
        "right_brow": "right_brow",
        "left_brow": "left_brow",
        "nose_bridge": "nose",
        "nose_base": "nose",
        "right_upper_lid": "right_eye",
        "right_lower_lid": "right_eye",
        "left_upper_lid": "left_eye",
        "left_lower_lid": "left_eye",
        "upper_outer_lip": "mouth",
        "lower_outer_lip": "mouth",
        "upper_inner_lip": "mouth",
        "lower_inner_lip": "mouth",
    }
)


def part_indices(name: str) -> NDArray[np.intp]:
    """Point indices of a named group, part or chain.

    Args:
        name: a key of :data:`GROUPS`, :data:`PARTS` or :data:`CHAINS`, or ``"nose"``/``"mouth"``.

    Returns:
        (n,) intp, 0-based iBUG indices, read-only.

    Raises:
        KeyError: naming the unknown part and listing the known names.
    """
    if name in CHAINS:
        return CHAINS[name]
    table = {**GROUPS, **PARTS}
    if name not in table:
        known = sorted({*GROUPS, *PARTS, *CHAINS})
        raise KeyError(f"unknown part {name!r}; expected one of {known}")
    s = table[name]
    return _ro(list(range(s.start, s.stop)))


#: (68,) the paper part (0..4, in :data:`PARTS` order) of each point.
PART_OF_POINT: Final = _ro(
    [i for i, s in enumerate(PARTS.values()) for _ in range(s.start, s.stop)]
)


#: (68,) intp: index of each point's mirror image under a horizontal flip. A left-right
#: mirrored face ``p`` has landmarks ``flipped = mirror_x(p)[MIRROR]``.
MIRROR: Final = _ro(
    [
        *range(16, -1, -1),
        *range(26, 16, -1),
        27,
        28,
        29,
        30,
        35,
        34,
        33,
        32,
        31,
        45,
        44,
        43,
        42,
        47,
        46,
        39,
        38,
        37,
        36,
        41,
        40,
        54,
        53,
        52,
        51,
        50,
        49,
        48,
        59,
        58,
        57,
        56,
        55,
        64,
        63,
        62,
        61,
        60,
        67,
        66,
        65,
    ]
)

#: (27,) intp: closed face outline, jaw 0..16 then the brows back from 26 to 17 (the
#: polygon a "point inside the face" test uses).
FACE_OUTLINE: Final = _ro([*range(0, 17), *range(26, 16, -1)])

#: (6,) intp: closed outline of each eye, in iBUG order (outer corner first for the right
#: eye, inner corner first for the left eye).
RIGHT_EYE_OUTLINE: Final = _ro(list(range(36, 42)))
LEFT_EYE_OUTLINE: Final = _ro(list(range(42, 48)))

#: (4, 2) intp: (upper, lower) lid point pairs that meet when an eye closes: right eye
#: 37/41 and 38/40, left eye 43/47 and 44/46.
EYE_LID_PAIRS: Final = _ro([[37, 41], [38, 40], [43, 47], [44, 46]])

#: (3, 2) intp: (upper, lower) inner-lip pairs that meet when the mouth closes.
INNER_LIP_PAIRS: Final = _ro([[61, 67], [62, 66], [63, 65]])

#: (5, 2) intp: (upper, lower) outer-lip pairs across the mouth (49/59 ... 53/55).
OUTER_LIP_PAIRS: Final = _ro([[49, 59], [50, 58], [51, 57], [52, 56], [53, 55]])

#: (15,) intp: points that barely move with expression (jaw ends 0 and 16, the nose 27-35,
#: the four eye corners 36, 39, 42, 45). Their spread measures the size of a face
#: independently of mouth opening, blinks or brow raises (used for zoom-robust scale).
STABLE_POINTS: Final = _ro([0, 16, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 39, 42, 45])

#: (3, 4) intp: the lips' middle columns, top to bottom: upper outer lip, upper inner lip,
#: lower inner lip, lower outer lip (50/61/67/58, 51/62/66/57, 52/63/65/56). In a mouth
#: that is not torn apart their y coordinates keep this order.
LIP_COLUMNS: Final = _ro([[50, 61, 67, 58], [51, 62, 66, 57], [52, 63, 65, 56]])

#: (2, 3) intp: near each mouth corner, top to bottom: upper outer lip, inner corner, lower
#: outer lip (49/60/59 on the subject's right, 53/64/55 on the left).
LIP_SIDE_COLUMNS: Final = _ro([[49, 60, 59], [53, 64, 55]])

#: (2, 4) intp: per mouth corner (outer corner, its upper-lip neighbour, its lower-lip
#: neighbour, inner corner): the inner corner lies in the wedge of the two outer-lip edges
#: that meet at the outer corner (48: 49, 59, 60; 54: 53, 55, 64).
MOUTH_CORNER_WEDGES: Final = _ro([[48, 49, 59, 60], [54, 53, 55, 64]])

#: (10, 2) intp: for each brow point 17..26, the two upper-lid points of the eye below it
#: (37, 38 for the right brow; 43, 44 for the left).
BROW_LID_TOPS: Final = _ro([[37, 38]] * 5 + [[43, 44]] * 5)
