"""Rules reload without restart; a broken edit keeps the last good rules and reports why."""

import copy
import os

import pytest

from rules import RuleBook, RuleError, SAMPLE_ORDER

CARRIERS = """\
kind: carriers
version: {version}
rules:
  - when: 'order.weight_g > {heavy}'
    carrier: DEPPON
default: {default}
"""


def write(path, text):
    """Write and move the modification time on, as an editor saving later would."""
    previous = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    stamp = max(path.stat().st_mtime_ns, previous + 1_000_000_000)
    os.utime(path, ns=(stamp, stamp))


@pytest.fixture
def site(tmp_path):
    write(tmp_path / "carriers.yaml", CARRIERS.format(version=1, heavy=20000, default="ZTO"))
    return tmp_path


def parcel(weight_g):
    order = copy.deepcopy(SAMPLE_ORDER)
    order.update(weight_g=weight_g, buyer_message="", tags=[])
    return order


def test_site_file_overrides_the_default_and_others_come_from_the_package(site):
    book = RuleBook(site, check_interval=0)
    assert book.path("carriers") == site / "carriers.yaml"
    assert book.carriers.version == "1"
    assert book.review.file.endswith("rules/review.yaml")
    assert book.problems == []


def test_next_evaluation_sees_the_modified_file(site):
    book = RuleBook(site, check_interval=0)
    assert book.carriers.choose_carrier(parcel(500)) == "ZTO"
    write(site / "carriers.yaml", CARRIERS.format(version=2, heavy=300, default="YTO"))
    assert book.carriers.choose_carrier(parcel(500)) == "DEPPON"
    assert book.carriers.choose_carrier(parcel(100)) == "YTO"
    assert book.carriers.version == "2"


def test_broken_edit_keeps_the_last_good_rules_and_reports(site):
    book = RuleBook(site, check_interval=0)
    write(site / "carriers.yaml", CARRIERS.format(version=2, heavy="", default="YTO"))
    assert book.carriers.choose_carrier(parcel(500)) == "ZTO"
    assert book.carriers.version == "1"
    [problem] = book.problems
    assert problem.file == str(site / "carriers.yaml")
    assert (problem.line, problem.field) == (4, "rules[0].when")
    assert problem.reason == "CEL syntax: the expression ends too early"

    write(site / "carriers.yaml", CARRIERS.format(version=3, heavy=300, default="YTO"))
    assert book.carriers.choose_carrier(parcel(500)) == "DEPPON"
    assert book.problems == []


def test_removed_site_file_falls_back_to_the_shipped_default(site):
    book = RuleBook(site, check_interval=0)
    (site / "carriers.yaml").unlink()
    assert book.carriers.file.endswith("rules/carriers.yaml")
    assert book.carriers.choose_carrier(parcel(25000)) == "DEPPON"


def test_check_interval_defers_the_look_until_reload(site):
    book = RuleBook(site, check_interval=3600)
    write(site / "carriers.yaml", CARRIERS.format(version=2, heavy=300, default="YTO"))
    assert book.carriers.version == "1"
    assert book.reload() == []
    assert book.carriers.version == "2"


def test_broken_file_at_start_raises_with_every_problem(tmp_path):
    write(tmp_path / "review.yaml", "kind: review\nrules:\n  - code: a\n")
    with pytest.raises(RuleError) as caught:
        RuleBook(tmp_path)
    assert [(problem.line, problem.reason) for problem in caught.value.problems] == [
        (3, "missing field 'name'"), (3, "missing field 'when'"), (3, "missing field 'action'"),
    ]


def test_file_of_the_wrong_kind_is_refused(site):
    book = RuleBook(site, check_interval=0)
    write(site / "carriers.yaml", "kind: review\nrules:\n"
          "  - {code: a, name: {zh: 甲, en: A}, when: 'true', action: hold}\n")
    assert book.carriers.version == "1"
    assert book.problems[0].reason == "the file name says carriers rules but kind: says review"


def test_missing_site_directory_is_an_error(tmp_path):
    with pytest.raises(RuleError) as caught:
        RuleBook(tmp_path / "no-such-site")
    assert caught.value.problems[0].reason == "no such rule directory"
