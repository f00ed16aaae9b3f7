"""`vidcls test` leaves report.html, and a real browser shows what report.json says, with frames that load."""

import csv
import json
import re

import pytest

from vidcls.cli import main


@pytest.fixture(scope="module")
def tested_run(synth_root, tiny_checkpoint, tiny_args, tmp_path_factory):
    """`vidcls test` of a barely trained checkpoint on all 16 test videos, 2 clips each: (report folder, checkpoint)."""
    out = tmp_path_factory.mktemp("test-run")
    main(["test", *tiny_args, "--trainer.limit_test_batches", "1.0", "--data.root", str(synth_root),
          "--trainer.default_root_dir", str(out), "--ckpt_path", str(tiny_checkpoint), "--data.test_clips", "2"])
    (report,) = out.rglob("report.json")
    return report.parent, tiny_checkpoint


def shown_percent(text):
    return float(re.fullmatch(r"([\d.]+) %", text).group(1)) / 100


def assert_per_class_table_is_the_csv(browser, folder, columns):
    """The page's per-class table, row by row, is per_class.csv's ``columns`` (the last a fraction, shown in %); its rows."""
    rows = browser.evaluate("[...document.querySelectorAll('table.sortable tbody tr')]"
                            ".map(row => [...row.cells].map(cell => cell.textContent))")
    with open(folder / "per_class.csv", newline="") as handle:
        expected = [[*(row[name] for name in columns[:-1]), float(row[columns[-1]])] for row in csv.DictReader(handle)]
    assert [[*cells[:-1], shown_percent(cells[-1])] for cells in rows] == [
        [*row[:-1], pytest.approx(row[-1], abs=5e-4)] for row in expected]
    return expected


def test_report_page_shows_the_numbers_of_report_json(tested_run, browser):
    folder, checkpoint = tested_run
    report = json.loads((folder / "report.json").read_text())
    assert browser.load(folder / "report.html") == []  # no console errors, nothing fetched from outside

    summary = browser.evaluate("Object.fromEntries([...document.querySelectorAll('[data-key]')]"
                               ".map(cell => [cell.dataset.key, cell.textContent]))")
    for key in ("top1", "top5", "mean_class_accuracy"):
        assert shown_percent(summary[key]) == pytest.approx(report[key], abs=5e-5)  # shown to 0.01 %
    assert int(summary["videos"]) == report["videos"] == 16
    assert summary["views"] == str(report["views"]) == "2"  # 2 clips x 1 crop
    assert summary["checkpoint"] == report["checkpoint"] == str(checkpoint)
    assert summary["model"] == "simple3d" and "num_frames 4" in summary["clip"] and "crop_size 32" in summary["clip"]

    assert_per_class_table_is_the_csv(browser, folder, ("class", "videos", "correct", "accuracy"))


def test_report_page_sorts_by_accuracy_and_shows_the_surest_errors_with_their_frames(tested_run, browser, few_classes):
    folder, _ = tested_run
    report = json.loads((folder / "report.json").read_text())
    browser.load(folder / "report.html")

    accuracy = "[...document.querySelectorAll('table.sortable tbody tr')].map(row => +row.cells[3].dataset.value)"
    browser.evaluate("document.querySelectorAll('table.sortable th')[3].click()")
    ascending = browser.evaluate(accuracy)
    browser.evaluate("document.querySelectorAll('table.sortable th')[3].click()")
    assert ascending == sorted(ascending) and browser.evaluate(accuracy) == sorted(ascending, reverse=True)

    cards = browser.evaluate("""[...document.querySelectorAll('.card.wrong')].map(card => ({
        path: card.querySelector('.path').textContent,
        true_class: card.querySelector('p b').textContent,
        marked: [...card.querySelectorAll('.bars .true')].map(name => name.textContent),
        predicted: card.querySelectorAll('p b')[1].textContent,
        probabilities: [...card.querySelectorAll('[data-probability]')].map(cell => +cell.dataset.probability),
        image: [card.querySelector('img.strip').naturalWidth, card.querySelector('img.strip').naturalHeight]}))""")
    errors = round(report["videos"] * (1 - report["top1"]))
    assert len(cards) == min(12, errors) > 0
    for card in cards:
        assert card["true_class"] == card["path"].split("/")[-2] in few_classes  # the class folder is the truth
        assert card["predicted"] != card["true_class"] and card["marked"] == [card["true_class"]]  # 4 classes: all in the top-5
        assert len(card["probabilities"]) == 4 and card["probabilities"] == sorted(card["probabilities"], reverse=True)
        width, height = card["image"]
        assert height > 0 and width == 4 * height  # 4 square frames of the crop, side by side
    surest = [card["probabilities"][0] for card in cards]
    assert surest == sorted(surest, reverse=True)
    assert browser.evaluate("[...document.images].every(image => image.complete && image.naturalWidth > 0)")


def test_a_multilabel_report_page_shows_ap_per_class_and_the_surest_label_errors_with_frames(
        multilabel_checkpoint, tag_lists, tiny_args, motion_tags, tmp_path, browser):
    main(["test", *tiny_args, "--trainer.limit_test_batches", "1.0", "--data.test_list", str(tag_lists["test"]),
          "--trainer.default_root_dir", str(tmp_path), "--ckpt_path", str(multilabel_checkpoint)])
    (report_file,) = tmp_path.rglob("report.json")
    folder, report = report_file.parent, json.loads(report_file.read_text())
    assert not (folder / "confusion.png").exists()
    assert browser.load(folder / "report.html") == []
    summary = browser.evaluate("Object.fromEntries([...document.querySelectorAll('[data-key]')]"
                               ".map(cell => [cell.dataset.key, cell.textContent]))")
    assert shown_percent(summary["mAP"]) == pytest.approx(report["mAP"], abs=5e-5)
    assert int(summary["false_positives"]) == report["false_positives"]

    expected = assert_per_class_table_is_the_csv(browser, folder, ("class", "positives", "predicted", "ap"))
    ap = "[...document.querySelectorAll('table.sortable tbody tr')].map(row => +row.cells[3].dataset.value)"
    browser.evaluate("document.querySelectorAll('table.sortable th')[3].click()")
    assert browser.evaluate(ap) == sorted(row[3] for row in expected)

    cards = browser.evaluate("""[...document.querySelectorAll('.card.wrong')].map(card => ({
        missed: card.classList.contains('missed'), path: card.querySelector('.path').textContent,
        named: card.querySelector('p b').textContent, labels: card.querySelector('.labels').textContent,
        probability: +card.querySelector('p').textContent.match(/\\(([\\d.]+) %\\)/)[1] / 100,
        height: card.querySelector('img.strip').naturalHeight}))""")
    false_positives = [card for card in cards if not card["missed"]]
    missed = [card for card in cards if card["missed"]]
    assert len(false_positives) == min(12, report["false_positives"]) and len(missed) == min(12, report["missed_positives"])
    assert len(cards) > 0
    for card in cards:
        tags = motion_tags[card["path"].split("/")[-2]]  # the class folder names the truth
        assert (card["named"] in tags) == card["missed"] and card["height"] > 0
        assert card["labels"] == "labels: " + (", ".join(sorted(tags)) or "none (a negative)")  # in class order
        assert (card["probability"] < 0.5) == card["missed"]
    assert [c["probability"] for c in false_positives] == sorted((c["probability"] for c in false_positives), reverse=True)
    assert [c["probability"] for c in missed] == sorted(c["probability"] for c in missed)
