"""The shipped questionnaire files, and check-form on them and on broken copies of them."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from clinic_app.cli import main
from clinic_app.core.questionnaire import (
    QuestionnaireError,
    looks_like_questionnaire,
    parse_questionnaire,
    questionnaire_from_text,
    questionnaires_dir,
    shipped,
    shipped_ids,
)
from clinic_app.paths import default_form_path

SHIPPED = ("lefs", "nprs", "psfs")


def shipped_data(qid: str) -> dict[str, Any]:
    data = yaml.safe_load((questionnaires_dir() / f"{qid}.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return json.loads(json.dumps(data))  # anchors shared one object: unshare them


def write(tmp_path: Path, data: Any, name: str = "q.yaml") -> Path:
    path = tmp_path / name
    text = data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def test_exactly_the_three_instruments_are_shipped_and_no_visa_h() -> None:
    assert shipped_ids() == SHIPPED
    names = {p.name.lower() for p in questionnaires_dir().iterdir()}
    assert not any("visa" in n for n in names)


@pytest.mark.parametrize("qid", SHIPPED)
def test_check_form_accepts_each_shipped_questionnaire(qid: str, capsys) -> None:
    path = questionnaires_dir() / f"{qid}.yaml"
    assert main(["check-form", str(path)]) == 0
    out = capsys.readouterr()
    assert out.err == ""
    assert out.out.startswith(f"{path}: OK: questionnaire {qid} version 1: ")


def test_the_shipped_numbers_are_those_of_the_domain_brief() -> None:
    lefs, psfs, nprs = shipped("lefs"), shipped("psfs"), shipped("nprs")
    assert len(lefs.items) == 20
    assert all(i.answer.scores == (0, 4) for i in lefs.items)
    assert (lefs.scoring.method, lefs.scoring.range.min, lefs.scoring.range.max) == ("sum", 0, 80)
    assert lefs.higher_better
    assert lefs.change.mcid is not None
    assert lefs.change.mcid.points == 9
    assert lefs.scoring.max_missing == 0
    assert not lefs.scoring.prorate
    assert psfs.scoring.method == "mean"
    assert len(psfs.items) == 5
    assert psfs.scoring.max_missing == 2
    assert all(i.patient_activity and i.answer.scores == (0, 10) for i in psfs.items)
    assert psfs.change.mcid is not None
    assert psfs.change.mcid.points == 2
    assert psfs.change.item_mdc is not None
    assert psfs.change.item_mdc.points == 3
    assert not nprs.higher_better
    assert nprs.item_ids == ("pain",)
    assert nprs.change.mcid is not None
    assert nprs.change.mcid.points == 2
    assert nprs.change.mcid_percent is not None
    assert nprs.change.mcid_percent.percent == 30


@pytest.mark.parametrize("qid", SHIPPED)
def test_licence_and_sources_are_recorded(qid: str) -> None:
    q = shipped(qid)
    assert q.licence.wording_reproduced is False  # no licence to reproduce the wording verified
    assert q.languages == ("en",)
    assert all(s.supports and s.citation for s in q.sources)
    # An unverified source is said to be so in the file itself.
    text = (questionnaires_dir() / f"{qid}.yaml").read_text(encoding="utf-8")
    for source in q.sources:
        if not source.verified:
            assert "not in the paper" in text or "not verified" in text


def test_the_form_is_not_taken_for_a_questionnaire() -> None:
    assert not looks_like_questionnaire(default_form_path().read_text(encoding="utf-8"))
    assert looks_like_questionnaire("# x\nkind: 'questionnaire'  # yes\n")
    assert not looks_like_questionnaire("  kind: questionnaire\n")  # not at the top level
    assert looks_like_questionnaire("id: x\nitems: []\nscoring: {}\n")  # lost its kind line


def test_a_questionnaire_without_its_kind_line_is_told_so(tmp_path: Path, capsys) -> None:
    data = shipped_data("nprs")
    del data["kind"]
    path = write(tmp_path, data)
    assert main(["check-form", str(path)]) == 1
    assert capsys.readouterr().err == f"{path}: kind: required key is missing\n"


def _set(path: str, value: Any) -> Any:
    def mutate(d: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = d
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


BROKEN = [
    ("colour", _set("colour", "red"), "colour: unknown key"),
    ("no text", lambda d: d["items"][0].pop("text"), "items[0].text: required key is missing"),
    ("bad id", _set("items.1.id", "Q 2"), "items[1].id: String should match pattern"),
    ("same id", _set("items.1.id", "q01"), "items[1].id: item id 'q01' already used at items[0]"),
    (
        "range",
        _set("scoring.range", {"min": 0, "max": 79}),
        "scoring.range: the items give 0 to 80",
    ),
    ("direction", _set("scoring.direction", "up"), "scoring.direction: Input should be"),
    (
        "german missing",
        _set("languages", ["en", "de"]),
        "instructions: no text in de, which languages lists (nor have 120 more texts)",
    ),
    ("extra language", _set("items.2.text", {"en": "x", "fr": "y"}), "items[2].text: text in fr"),
    (
        "unknown source",
        _set("change.mcid.source", "Nobody2020"),
        "change.mcid.source: unknown source 'Nobody2020'",
    ),
    (
        "unprorated partial sum",
        _set("scoring.max_missing", 4),
        "(top level): a sum with missing items allowed must be prorated",
    ),
    ("boolean score", _set("items.0.answer.options.0.score", True), "score: Input should be"),
    ("no licence", lambda d: d.pop("licence"), "licence: required key is missing"),
    (
        "both kinds",
        _set("items.0.answer.min", 0),
        "items[0].answer: give either options or min and max",
    ),
]


@pytest.mark.parametrize(("what", "mutate", "expected"), BROKEN, ids=[b[0] for b in BROKEN])
def test_check_form_reports_a_broken_copy_in_one_line(
    tmp_path: Path, capsys, what: str, mutate: Any, expected: str
) -> None:
    data = shipped_data("lefs")
    mutate(data)
    path = write(tmp_path, data)
    assert main(["check-form", str(path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"{path}: "), err
    assert expected in err[0], err


def test_two_problems_are_two_lines(tmp_path: Path, capsys) -> None:
    data = shipped_data("psfs")
    data["items"][1]["id"] = "a1"
    data["change"]["mdc"]["source"] = "Unknown1999"
    path = write(tmp_path, data)
    assert main(["check-form", str(path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2, err
    assert all(line.startswith(f"{path}: ") for line in err)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kind: questionnaire\nid: a\nid: b\n", "line 3, column 1: key 'id' appears twice"),
        ("kind: questionnaire\nx: " + "[" * 100 + "]" * 100 + "\n", "nested more than 64 levels"),
        ("kind: questionnaire\nid: [unclosed\n", "YAML syntax error"),
        (
            "kind: questionnaire\na: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
            + "".join(
                f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n"
                for p, c in zip("abcdef", "bcdefg", strict=False)
            )
            + "x: *g\n",
            "expands to more than",
        ),
    ],
    ids=["duplicate key", "deep", "syntax", "alias bomb"],
)
def test_hostile_yaml_is_one_line(tmp_path: Path, capsys, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    assert main(["check-form", str(path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"{path}: "), err
    assert expected in err[0], err


def test_a_questionnaire_fifo_is_refused_without_blocking(tmp_path: Path, capsys) -> None:
    fifo = tmp_path / "q.yaml"
    os.mkfifo(fifo)
    assert main(["check-form", str(fifo)]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "FIFO" in line


def test_parse_refuses_what_is_not_a_mapping() -> None:
    with pytest.raises(QuestionnaireError) as err:
        parse_questionnaire(["kind", "questionnaire"], "x.yaml")
    assert err.value.problems == ["x.yaml: (top level): expected a mapping of keys, got list"]


def test_a_valid_copy_loads_from_text() -> None:
    text = (questionnaires_dir() / "nprs.yaml").read_text(encoding="utf-8")
    assert questionnaire_from_text(text, "n.yaml") == shipped("nprs")


def test_unknown_shipped_id() -> None:
    with pytest.raises(QuestionnaireError, match="visa_h: no shipped questionnaire"):
        shipped("visa_h")
