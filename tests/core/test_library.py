"""The exercise library: the shipped exercises, search, the exercise JSON shape, and pictures
refused with one line (not an image, too large, SVG scripts, handlers, external references,
entity bombs)."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from clinic_app.core.form import Form
from clinic_app.core.library import (
    MAX_PICTURE_BYTES,
    ExerciseDef,
    Library,
    LibraryError,
    Picture,
    PictureError,
    check_picture,
    parse_exercise,
    shipped_library,
)


def png(width: int = 8, height: int = 6) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "navy").save(out, "PNG")
    return out.getvalue()


def jpeg(width: int = 8, height: int = 6) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "teal").save(out, "JPEG")
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` (a decompression bomb's trick)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
    )


SVG_OK = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" '
    b'xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10">'
    b'<defs><path id="p" d="M0 0L10 10"/></defs><use xlink:href="#p"/>'
    b'<rect width="5" height="5" fill="url(#p)"/></svg>'
)


def svg(body: str) -> bytes:
    return f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">{body}</svg>'.encode()


def test_shipped_library_has_every_exercise_with_its_drawing(shipped_form: Form) -> None:
    lib = shipped_library(shipped_form)
    assert len(lib) == 12
    for ex in lib.values():
        assert ex.origin == "shipped"
        assert ex.title
        assert ex.steps
        assert ex.purpose
        assert len(ex.pictures) == 1
        pic = ex.pictures[0]
        assert pic.media_type == "image/svg+xml"
        check_picture(pic.data)  # the shipped drawings pass the import checks too
        assert ex.defaults.sets is not None
    assert lib["dynamic_hamstring_warmup"].stretch
    assert lib["nordic_curl"].loading
    assert not lib["dead_bug"].loading
    # factors come from the form's rules: the form is the one place that says F3 -> bridge
    assert "F3" in lib["glute_bridge"].factors
    assert lib["side_plank"].defaults.hold_seconds == 20


def test_search_by_text_region_purpose_and_factor(shipped_form: Form) -> None:
    lib = shipped_library(shipped_form)
    assert [e.id for e in lib.search("BRIDGE")] == [
        "glute_bridge",
        "hip_thrust",
        "single_leg_bridge",
    ]
    assert {e.id for e in lib.search(region="calves")} == {"calf_raise_straight", "calf_raise_bent"}
    assert {e.id for e in lib.search(purpose="control")} == {"dead_bug", "side_plank"}
    assert [e.id for e in lib.search(purpose="pelvis level")] == ["side_plank"]
    assert {e.id for e in lib.search(purpose="Strength", region="hips")} == {
        "glute_bridge",
        "hip_thrust",
        "single_leg_bridge",
        "hip_flexor_march",
    }
    assert [e.id for e in lib.search(factor="f12")] == ["calf_raise_straight", "calf_raise_bent"]
    assert [e.id for e in lib.search("heel bent", region="feet")] == ["calf_raise_bent"]
    assert lib.search("no such exercise anywhere") == []


def test_a_clinic_exercise_round_trips_through_its_json_shape() -> None:
    pic = check_picture(png(), caption="Start position")
    raw = {
        "id": "clinic:wall_sit",
        "title": "Wall sit",
        "purpose": "Builds thigh strength without moving the knee.",
        "steps": ["Lean on a wall.", "Slide down until your knees are bent.", "Hold."],
        "region": "Whole leg",
        "kind": "isometric",
        "factors": ["F3"],
        "tags": ["loading"],
        "defaults": {"sets": 3, "hold_seconds": 30, "frequency": "daily"},
        "pictures": [{"sha256": pic.sha256, "media_type": "image/png", "caption": "Start"}],
    }
    ex = parse_exercise(raw, {pic.sha256: pic})
    assert ex.origin == "clinic"
    assert ex.loading
    assert ex.pictures[0].caption == "Start"
    again = parse_exercise(ex.plain(), {pic.sha256: pic})
    assert again == ex
    merged = shipped_library().merged([ex])
    assert list(merged)[-1] == "clinic:wall_sit"
    assert len(merged) == 13


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "title"),
        ({"steps": []}, "steps"),
        ({"kind": "magic"}, "kind"),
        ({"tags": ["Not A Tag"]}, "tags"),
        ({"defaults": {"sets": 0}}, "defaults sets"),
        ({"defaults": {"reps": 10_000}}, "defaults reps"),
        ({"pictures": [{"sha256": "ab" * 32}]}, "picture 1"),
        ({"colour": "red"}, "'colour'"),
        ({"title": "x" * 101}, "title"),
        ({"purpose": "bad\x00text"}, "purpose"),
    ],
)
def test_a_bad_exercise_names_the_exercise_and_field(change: dict[str, object], field: str) -> None:
    raw = {"id": "clinic:x", "title": "X", "purpose": "Y", "steps": ["Z"], **change}
    with pytest.raises(LibraryError) as err:
        parse_exercise(raw)
    assert "clinic:x" in err.value.problems[0]
    assert field in err.value.problems[0]


def test_valid_pictures_are_kept_with_their_hash() -> None:
    for data, media in ((png(), "image/png"), (jpeg(), "image/jpeg"), (SVG_OK, "image/svg+xml")):
        pic = check_picture(data)
        assert pic.media_type == media
        assert pic == Picture.of(data, media)  # type: ignore[arg-type]
        assert len(pic.sha256) == 64


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"just some text, not a picture", "not a PNG, JPEG or SVG"),
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * (3 * 1024 * 1024), "3.0 MB; the limit is 2 MB"),
        (png_header_only(5000, 10), "5000 x 10 px"),
        (png_header_only(10, 4001), "10 x 4001 px"),
        (svg("<script>alert(1)</script>"), "<script>"),
        (
            svg('<foreignObject><p xmlns="http://www.w3.org/1999/xhtml">x</p></foreignObject>'),
            "<foreignobject>",
        ),
        (svg('<rect width="1" height="1" onload="alert(1)"/>'), "event handler (onload=)"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onLoad="x()"/>', "event handler"),
        (svg('<image href="https://example.com/x.png"/>'), "https://example.com/x.png"),
        (
            svg(
                '<image xmlns:xlink="http://www.w3.org/1999/xlink" xlink:href="file:///etc/passwd"/>'
            ),
            "file:///etc/passwd",
        ),
        (svg('<image href="data:image/svg+xml;base64,PHN2Zz4="/>'), "outside the file"),
        (svg('<rect style="fill: url(http://evil/x)"/>'), "http://evil/x"),
        (svg("<style>@import url(http://evil/x.css);</style>"), "style"),
        (
            b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
            b'<svg xmlns="http://www.w3.org/2000/svg">&b;</svg>',
            "DOCTYPE",
        ),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><rect></svg>", "not well-formed"),
        (b"<?xml version='1.0'?><html><svg/></html>", "not <svg>"),
    ],
)
def test_bad_pictures_are_refused_with_one_line(data: bytes, words: str) -> None:
    with pytest.raises(PictureError) as err:
        check_picture(data)
    message = str(err.value)
    assert words in message
    assert "\n" not in message
    assert len(message) < 200


def test_a_named_media_type_must_match_the_bytes() -> None:
    with pytest.raises(PictureError, match="image/png picture, not image/jpeg"):
        check_picture(png(), "image/jpeg")
    assert len(png()) < MAX_PICTURE_BYTES


def test_library_is_a_mapping_and_later_ids_replace_earlier_ones() -> None:
    a = ExerciseDef("a", "A", "", ("x",))
    a2 = ExerciseDef("a", "A again", "", ("x",), version=2)
    lib = Library([a, ExerciseDef("b", "B", "", ("y",))]).merged([a2])
    assert list(lib) == ["a", "b"]
    assert lib["a"].version == 2
    assert "c" not in lib
