"""The exercise library: the shipped exercises plus the clinic's own, with their pictures.

A home program (``core/program.py``) names exercises by id; this module says what an id is: its
title, purpose, numbered steps, dose defaults, contraindication tags and pictures. The shipped
exercises come from ``resources/handout/exercises.yaml`` with their drawing
``resources/exercises/<id>.svg``; the clinic's own come from the database
(``storage/records/programs.py``) and are merged over them by :meth:`Library.merged`.

Pure Python: no database, no PDF. A picture is bytes with a media type and its SHA-256, so a
stored program can refer to it by hash and a printed handout finds the very same picture a year
later. :func:`check_picture` is the checks that need no image decoder (size, magic bytes,
dimensions in the header, what an SVG may contain); the storage layer decodes raster pictures
fully before keeping them.
"""

from __future__ import annotations

import hashlib
import re
import struct
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml

from clinic_app.paths import resources_dir

if TYPE_CHECKING:
    from clinic_app.core.form_schema import Form

MediaType = Literal["image/svg+xml", "image/png", "image/jpeg"]
MEDIA_TYPES: tuple[MediaType, ...] = ("image/svg+xml", "image/png", "image/jpeg")
Origin = Literal["shipped", "clinic"]
KINDS = ("strength", "isometric", "control", "warm-up", "mobility", "stretch")
"""What an exercise is for (searchable as its purpose)."""
TAGS = ("stretch", "loading", "impact")
"""Contraindication tags the safety checks know: ``stretch`` puts the back of the thigh on
stretch (not while a nerve or tendon is irritated); ``loading`` loads the leg (not while a red
flag that stops exercise is set); ``impact`` hops and jumps. Other tags are kept and searchable."""
MAX_PICTURE_BYTES = 2 * 1024 * 1024
MAX_PICTURE_PIXELS = 4000
"""Neither side of a raster picture may be longer (an SVG's viewBox is not limited)."""
MAX_PICTURES = 2
MAX_STEPS = 12
TEXT_LIMITS: dict[str, int] = {
    "title": 100,
    "purpose": 400,
    "step": 300,
    "region": 60,
    "dose_text": 200,
    "safety": 300,
    "caption": 200,
    "frequency": 80,
}
EXERCISE_ID = re.compile(r"^[a-z][a-z0-9_:-]{0,79}$")
_TAG = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_FACTOR = re.compile(r"^[A-Z][0-9]{1,3}$")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")


class LibraryError(ValueError):
    """An exercise that cannot be used; ``problems`` name the exercise and the field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class PictureError(ValueError):
    """A picture refused: one line saying why; nothing is kept."""


@dataclass(frozen=True)
class Picture:
    """One picture of an exercise: the bytes as imported, addressed by their SHA-256."""

    media_type: MediaType
    data: bytes = field(repr=False)
    sha256: str
    caption: str = ""

    @classmethod
    def of(cls, data: bytes, media_type: MediaType, caption: str = "") -> Picture:
        return cls(media_type, data, hashlib.sha256(data).hexdigest(), caption)


@dataclass(frozen=True)
class Dose:
    """An exercise's default dose: what a new program entry starts with."""

    sets: int | None = None
    reps: int | None = None
    hold_seconds: int | None = None
    frequency: str = ""

    def plain(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            k: getattr(self, k) for k in ("sets", "reps", "hold_seconds") if getattr(self, k)
        }
        if self.frequency:
            out["frequency"] = self.frequency
        return out


@dataclass(frozen=True)
class ExerciseDef:
    """One exercise of the library.

    ``version`` counts the clinic's edits (an edit is a new version, the old one is kept);
    shipped exercises are version 1 of this release. ``factors`` are the form's factor ids that
    suggest it (for the search and the reason shown beside it).
    """

    id: str
    title: str
    purpose: str
    steps: tuple[str, ...]
    region: str = ""
    kind: str = "strength"
    factors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    defaults: Dose = field(default_factory=Dose)
    pictures: tuple[Picture, ...] = ()
    origin: Origin = "shipped"
    version: int = 1
    dose_text: str = ""
    """The dose in words for the handout when the program gives none ("3 sets of 10...")."""
    safety: str = ""
    """One short caution for the patient."""
    general: bool = False
    """Safe for almost everyone: fills a short program, in ``order``."""
    order: int | None = None

    @property
    def stretch(self) -> bool:
        return "stretch" in self.tags

    @property
    def loading(self) -> bool:
        return "loading" in self.tags

    def plain(self) -> dict[str, Any]:
        """The exercise as JSON (pictures by SHA-256), as stored and exported."""
        out: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "purpose": self.purpose,
            "steps": list(self.steps),
            "region": self.region,
            "kind": self.kind,
            "factors": list(self.factors),
            "tags": list(self.tags),
            "defaults": self.defaults.plain(),
            "dose_text": self.dose_text,
            "safety": self.safety,
            "pictures": [
                {"sha256": p.sha256, "media_type": p.media_type, "caption": p.caption}
                for p in self.pictures
            ],
        }
        return out


def _text(
    raw: Mapping[str, Any], key: str, at: str, problems: list[str], limit_key: str = ""
) -> str:
    value = raw.get(key, "")
    if value is None:
        return ""
    limit = TEXT_LIMITS[limit_key or key]
    if not isinstance(value, str):
        problems.append(f"{at} {key}: {str(value)[:40]!r} is not text")
        return ""
    if _CONTROLS.search(value):
        problems.append(f"{at} {key}: contains a control character")
        return ""
    text = " ".join(value.split())
    if len(text) > limit:
        problems.append(f"{at} {key}: text is {len(text)} characters, the limit is {limit}")
    return text


def _ids(raw: Any, pattern: re.Pattern[str], at: str, problems: list[str]) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list | tuple) or not all(isinstance(v, str) for v in raw):
        problems.append(f"{at}: expected a list of names")
        return ()
    bad = next((v for v in raw if not pattern.match(v)), None)
    if bad is not None:
        problems.append(f"{at}: {bad[:40]!r} is not a valid name")
        return ()
    return tuple(dict.fromkeys(raw))


def _dose(raw: Any, at: str, problems: list[str]) -> Dose:
    from clinic_app.core.program import DOSE_LIMITS

    if raw is None:
        return Dose()
    if not isinstance(raw, Mapping):
        problems.append(f"{at} defaults: expected sets, reps, hold_seconds, frequency")
        return Dose()
    extra = sorted(str(k) for k in raw if k not in (*DOSE_LIMITS, "frequency"))
    if extra:
        problems.append(f"{at} defaults: {extra[0][:40]!r} is not a dose field")
        return Dose()
    numbers: dict[str, int | None] = {}
    for key, (low, high) in DOSE_LIMITS.items():
        value = raw.get(key)
        if value is None:
            numbers[key] = None
        elif isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            problems.append(
                f"{at} defaults {key}: {str(value)[:20]!r} is not a whole number {low}-{high}"
            )
            numbers[key] = None
        else:
            numbers[key] = value
    freq = _text(raw, "frequency", f"{at} defaults", problems)
    return Dose(numbers["sets"], numbers["reps"], numbers["hold_seconds"], freq)


def parse_exercise(
    raw: Any,
    pictures: Mapping[str, Picture] | None = None,
    origin: Origin = "clinic",
    version: int = 1,
    where: str = "exercise",
) -> ExerciseDef:
    """An exercise from its JSON shape (:meth:`ExerciseDef.plain`); pictures by SHA-256 from
    ``pictures``. :class:`LibraryError` names the exercise and the field of every problem."""
    if not isinstance(raw, Mapping):
        raise LibraryError([f"{where}: expected an object with id, title, purpose and steps"])
    eid = raw.get("id")
    if not isinstance(eid, str) or not EXERCISE_ID.match(eid):
        raise LibraryError([f"{where}: id {str(eid)[:40]!r} is not an exercise id"])
    at = f"{where} {eid}"
    known = {*ExerciseDef.__dataclass_fields__, "defaults"} - {"origin", "version", "order"}
    extra = sorted(str(k) for k in raw if k not in known)
    problems: list[str] = []
    if extra:
        problems.append(f"{at}: {extra[0][:40]!r} is not a field of an exercise")
    title = _text(raw, "title", at, problems)
    if not title:
        problems.append(f"{at} title: an exercise needs a title")
    purpose = _text(raw, "purpose", at, problems)
    steps_raw = raw.get("steps", [])
    steps: list[str] = []
    if not isinstance(steps_raw, list) or not 1 <= len(steps_raw) <= MAX_STEPS:
        problems.append(f"{at} steps: expected a list of 1 to {MAX_STEPS} steps")
    else:
        for n, step in enumerate(steps_raw, 1):
            text = _text({"step": step}, "step", f"{at} step {n}:", problems)
            if not text:
                problems.append(f"{at} step {n}: empty")
            steps.append(text)
    kind = raw.get("kind", "strength")
    if kind not in KINDS:
        problems.append(f"{at} kind: {str(kind)[:20]!r} is not one of {', '.join(KINDS)}")
    shown: list[Picture] = []
    pics = raw.get("pictures", [])
    if not isinstance(pics, list) or len(pics) > MAX_PICTURES:
        problems.append(f"{at} pictures: expected a list of at most {MAX_PICTURES}")
        pics = []
    for n, ref in enumerate(pics, 1):
        sha = ref.get("sha256") if isinstance(ref, Mapping) else None
        found = (pictures or {}).get(sha) if isinstance(sha, str) else None
        if found is None:
            problems.append(f"{at} picture {n}: {str(sha)[:16]!r} is not a stored picture")
            continue
        caption = _text(ref, "caption", f"{at} picture {n}", problems)
        shown.append(replace(found, caption=caption))
    general = raw.get("general", False)
    if not isinstance(general, bool):
        problems.append(f"{at} general: must be true or false")
    ex = ExerciseDef(
        id=eid,
        title=title,
        purpose=purpose,
        steps=tuple(steps),
        region=_text(raw, "region", at, problems),
        kind=str(kind),
        factors=_ids(raw.get("factors"), _FACTOR, f"{at} factors", problems),
        tags=_ids(raw.get("tags"), _TAG, f"{at} tags", problems),
        defaults=_dose(raw.get("defaults"), at, problems),
        pictures=tuple(shown),
        origin=origin,
        version=version,
        dose_text=_text(raw, "dose_text", at, problems),
        safety=_text(raw, "safety", at, problems),
        general=bool(general),
    )
    if problems:
        raise LibraryError(problems)
    return ex


def _words(text: str) -> str:
    return " ".join(text.casefold().split())


class Library(Mapping[str, ExerciseDef]):
    """Exercises by id, in display order (shipped first, then the clinic's)."""

    def __init__(self, exercises: Iterable[ExerciseDef] = ()) -> None:
        self._by_id: dict[str, ExerciseDef] = {}
        for ex in exercises:
            self._by_id[ex.id] = ex

    def __getitem__(self, key: str) -> ExerciseDef:
        return self._by_id[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)

    def __repr__(self) -> str:
        return f"Library({len(self)} exercises)"

    def merged(self, others: Iterable[ExerciseDef]) -> Library:
        """This library with ``others`` added; an id already here is replaced in its place."""
        return Library([*self.values(), *others])

    def general(self) -> list[ExerciseDef]:
        """The general exercises in their fill order (those without one last)."""
        listed = [e for e in self.values() if e.general]
        return sorted(listed, key=lambda e: (e.order is None, e.order or 0))

    def search(
        self,
        text: str = "",
        region: str | None = None,
        purpose: str | None = None,
        factor: str | None = None,
    ) -> list[ExerciseDef]:
        """Exercises matching every given criterion, in library order.

        ``text``: every word is in the title, purpose, steps, region, kind or tags (case and
        accents as typed are folded by ``casefold``); ``region``: part of the region;
        ``purpose``: the kind or a word of the purpose sentence; ``factor``: a factor id (F3).
        """
        words = _words(text).split()
        out = []
        for ex in self.values():
            hay = _words(
                " ".join((ex.id, ex.title, ex.purpose, *ex.steps, ex.region, ex.kind, *ex.tags))
            )
            if any(w not in hay for w in words):
                continue
            if region and _words(region) not in _words(ex.region):
                continue
            wanted = _words(purpose or "")
            if wanted and wanted != ex.kind and wanted not in _words(ex.purpose):
                continue
            if factor and factor.strip().upper() not in ex.factors:
                continue
            out.append(ex)
        return out


# ---------------------------------------------------------------------------------------------
# Pictures


def sniff_media_type(data: bytes) -> MediaType | None:
    """The media type the bytes say they are (magic bytes), or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<") and b"<svg" in data[:4096].lower():
        return "image/svg+xml"
    return None


def _png_size(data: bytes) -> tuple[int, int]:
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise PictureError("the PNG picture is damaged (no image header)")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_size(data: bytes) -> tuple[int, int]:
    at = 2
    while at + 9 < len(data):
        if data[at] != 0xFF:
            break
        marker = data[at + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            at += 2
            continue
        length = struct.unpack(">H", data[at + 2 : at + 4])[0]
        if marker in _SOF:
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return int(width), int(height)
        at += 2 + length
    raise PictureError("the JPEG picture is damaged (no frame header)")


_SVG_NS = "{http://www.w3.org/2000/svg}"
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_FORBIDDEN_ELEMENTS = {"script", "foreignobject", "iframe", "embed", "object", "audio", "video"}
_SAFE_HREF = re.compile(r"^(#[^\s]*|data:image/(png|jpeg);base64,[A-Za-z0-9+/=\s]*)$")
_URL = re.compile(r"url\(\s*['\"]?\s*([^)'\"\s]*)", re.IGNORECASE)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].casefold()


def check_svg(data: bytes) -> None:
    """Refuse an SVG that is not plain drawing: a DOCTYPE or entity (the "billion laughs"), a
    script, ``foreignObject``, event handler attributes (``onload=``) or a reference to anything
    outside the file (an ``href`` or ``url()`` that is not ``#...`` or an embedded PNG/JPEG)."""
    lowered = data.lower()
    if b"<!doctype" in lowered or b"<!entity" in lowered:
        raise PictureError("the SVG picture declares a DOCTYPE or entities; these are refused")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise PictureError(f"the SVG picture is not well-formed XML ({exc})") from None
    if _local(root.tag) != "svg":
        raise PictureError("the SVG picture's outer element is not <svg>")
    for el in root.iter():
        name = _local(el.tag) if isinstance(el.tag, str) else ""
        if name in _FORBIDDEN_ELEMENTS:
            raise PictureError(
                f"the SVG picture contains <{name}>; scripts and embedded content are refused"
            )
        for attr, value in el.attrib.items():
            local = _local(attr)
            if local.startswith("on"):
                raise PictureError(f"the SVG picture has an event handler ({local}=); refused")
            if local == "href" and not _SAFE_HREF.match(value.strip()):
                shown = value.strip()[:60]
                raise PictureError(f"the SVG picture refers to {shown!r} outside the file; refused")
            for ref in _URL.findall(value):
                if ref and not ref.startswith("#"):
                    raise PictureError(
                        f"the SVG picture loads {ref[:60]!r} from outside the file; refused"
                    )
        style = (el.text or "") if name == "style" else ""
        if "@import" in style.lower() or any(r and r[0] != "#" for r in _URL.findall(style)):
            raise PictureError("the SVG picture's style loads something from outside; refused")


def check_picture(data: bytes, media_type: str | None = None, caption: str = "") -> Picture:
    """A picture from imported bytes, or :class:`PictureError` with one line saying why not.

    The media type is what the bytes are (magic bytes); a named ``media_type`` that disagrees is
    refused. Limits: :data:`MAX_PICTURE_BYTES`, and :data:`MAX_PICTURE_PIXELS` a side for PNG
    and JPEG (read from the header; the storage layer decodes the whole picture too).
    """
    if not isinstance(data, bytes | bytearray):
        raise PictureError("a picture must be the bytes of a file")
    data = bytes(data)
    if not data:
        raise PictureError("the picture file is empty")
    if len(data) > MAX_PICTURE_BYTES:
        mb = len(data) / 1024 / 1024
        raise PictureError(
            f"the picture is {mb:.1f} MB; the limit is {MAX_PICTURE_BYTES // 1024 // 1024} MB"
        )
    found = sniff_media_type(data)
    if found is None:
        raise PictureError("the file is not a PNG, JPEG or SVG picture")
    if media_type is not None and media_type != found:
        raise PictureError(f"the file is a {found} picture, not {media_type}")
    if found == "image/svg+xml":
        check_svg(data)
    else:
        width, height = _png_size(data) if found == "image/png" else _jpeg_size(data)
        if width < 1 or height < 1:
            raise PictureError("the picture has no size")
        if max(width, height) > MAX_PICTURE_PIXELS:
            raise PictureError(
                f"the picture is {width} x {height} px; the limit is {MAX_PICTURE_PIXELS} px a side"
            )
    text = " ".join(caption.split())
    if len(text) > TEXT_LIMITS["caption"] or _CONTROLS.search(text):
        raise PictureError(
            f"the caption is too long or has control characters (limit {TEXT_LIMITS['caption']})"
        )
    return Picture.of(data, found, text)


# ---------------------------------------------------------------------------------------------
# The shipped library


def exercises_file() -> Path:
    return resources_dir() / "handout" / "exercises.yaml"


def drawings_dir() -> Path:
    return resources_dir() / "exercises"


def _shipped_tags(raw: Mapping[str, Any]) -> tuple[str, ...]:
    """``tags:`` as written; without them, ``stretch: true`` gives ``stretch`` and a strength
    exercise ``loading`` (so an older exercises.yaml keeps its safety meaning)."""
    if "tags" in raw:
        return tuple(str(t) for t in raw["tags"] or ())
    tags = []
    if raw.get("stretch") is True:
        tags.append("stretch")
    if raw.get("kind") in ("strength", "isometric"):
        tags.append("loading")
    return tuple(tags)


def _shipped_dose(raw: Any) -> Dose:
    if not isinstance(raw, Mapping):
        return Dose()

    def num(key: str) -> int | None:
        value = raw.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    return Dose(num("sets"), num("reps"), num("hold_seconds"), str(raw.get("frequency") or ""))


def _factors_by_exercise(form: Form | None) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for rule in form.factors if form is not None else ():
        for eid in rule.exercises:
            out.setdefault(eid, []).append(rule.id)
    return {k: tuple(v) for k, v in out.items()}


def load_shipped(
    path: Path | None = None, drawings: Path | None = None, form: Form | None = None
) -> Library:
    """The shipped exercises from ``exercises.yaml`` and their drawings ``<id>.svg``.

    With ``form``, each exercise's ``factors`` are the factors whose rule names it (the form is
    the one place that says which factor suggests which exercise).
    """
    path = path or exercises_file()
    drawings = drawings or drawings_dir()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise LibraryError([f"{path}: {exc}"]) from exc
    if not isinstance(data, dict):
        raise LibraryError([f"{path}: expected a mapping of exercise ids"])
    by_factor = _factors_by_exercise(form)
    out = []
    for eid, raw in data.items():
        if not isinstance(raw, dict) or not EXERCISE_ID.match(str(eid)):
            raise LibraryError([f"{path}: {str(eid)[:40]}: not an exercise"])
        pictures: list[Picture] = []
        drawing = drawings / f"{eid}.svg"
        if drawing.is_file():
            pictures.append(Picture.of(drawing.read_bytes(), "image/svg+xml"))
        order = raw.get("order")
        try:
            out.append(
                ExerciseDef(
                    id=str(eid),
                    title=str(raw.get("title") or raw["name"]),
                    purpose=str(raw["purpose"]),
                    steps=tuple(str(s) for s in raw["steps"]),
                    region=str(raw.get("region", "")),
                    kind=str(raw.get("kind", "strength")),
                    factors=by_factor.get(str(eid), ()),
                    tags=_shipped_tags(raw),
                    defaults=_shipped_dose(raw.get("defaults")),
                    pictures=tuple(pictures),
                    origin="shipped",
                    version=int(raw.get("version", 1)),
                    dose_text=str(raw.get("dose", "")),
                    safety=str(raw.get("safety", "")),
                    general=raw.get("general") is True,
                    order=order if isinstance(order, int) and not isinstance(order, bool) else None,
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise LibraryError([f"{path}: {eid}: missing or bad {exc}"]) from exc
    return Library(out)


@lru_cache(maxsize=4)
def _cached(form: Form | None) -> Library:
    return load_shipped(form=form)


def shipped_library(form: Form | None = None) -> Library:
    """The shipped exercises (cached; with ``form``, their suggesting factors filled in)."""
    return _cached(form)


# ---------------------------------------------------------------------------------------------
# Safety data


@lru_cache(maxsize=1)
def no_stretch_advice() -> frozenset[str]:
    """The advice ids that rule out stretching while given (``no_stretches: true`` in
    ``resources/handout/advice.yaml``): the form's factors, patterns and red flags give them
    when a nerve or tendon is irritated."""
    path = resources_dir() / "handout" / "advice.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise LibraryError([f"{path}: {exc}"]) from exc
    if not isinstance(data, dict):
        return frozenset()
    return frozenset(
        str(k) for k, v in data.items() if isinstance(v, dict) and v.get("no_stretches") is True
    )
