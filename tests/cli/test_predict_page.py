"""`vidcls predict --html`: the page a browser shows holds what `--json` prints, with each video's frames."""

import json
import re

import pytest

from vidcls.cli import main


def predict(capsys, *args):
    """Run `vidcls predict --json ARGS`: (exit status, the entries printed)."""
    with pytest.raises(SystemExit) as exit_:
        main(["predict", "--json", *map(str, args)])
    return exit_.value.code, json.loads(capsys.readouterr().out)


def cards(browser):
    return browser.evaluate("""[...document.querySelectorAll('.card.video')].map(card => ({
        path: card.querySelector('.path').textContent,
        error: card.querySelector('.error')?.textContent,
        classes: [...card.querySelectorAll('.bars .name')].map(name => name.textContent),
        shown: [...card.querySelectorAll('[data-probability]')].map(cell => cell.textContent),
        strip: card.querySelector('img.strip') && [card.querySelector('img.strip').naturalWidth,
                                                   card.querySelector('img.strip').naturalHeight]}))""")


def test_predict_page_shows_the_json_predictions_with_frames(tiny_checkpoint, synth_root, tmp_path, capsys, browser,
                                                              few_classes):
    page = tmp_path / "predictions.html"
    videos = synth_root / "test" / "moving_up"
    status, entries = predict(capsys, "--checkpoint", tiny_checkpoint, "--top-k", 3, "--html", page,
                              videos, tmp_path / "missing.mp4")
    assert status == 1  # one path failed: the page still shows the others
    assert browser.load(page) == []
    shown = cards(browser)
    assert [card["path"] for card in shown] == [entry["path"] for entry in entries] and len(shown) == 5
    for card, entry in zip(shown, entries):
        if "error" in entry:
            assert card["error"] == f"error: {entry['error']}" and card["strip"] is None
            continue
        assert card["classes"] == [p["class"] for p in entry["predictions"]] and set(card["classes"]) <= set(few_classes)
        for text, prediction in zip(card["shown"], entry["predictions"], strict=True):
            assert float(re.fullmatch(r"([\d.]+) %", text).group(1)) == pytest.approx(100 * prediction["probability"], abs=0.05)
        width, height = card["strip"]
        assert height > 0 and width == 8 * height  # 8 square frames of the model's crop
    assert browser.evaluate("[...document.images].every(image => image.complete && image.naturalWidth > 0)")


def test_timeline_page_lists_the_json_segments(tiny_checkpoint, synth_root, tmp_path, capsys, browser):
    page = tmp_path / "timeline.html"
    video = synth_root / "test" / "moving_left" / "moving_left_0000.mp4"
    status, (entry,) = predict(capsys, "--checkpoint", tiny_checkpoint, "--timeline", "--stride", 0.25,
                               "--window", 1, "--html", page, video)
    assert status == 0 and browser.load(page) == []
    rows = browser.evaluate("[...document.querySelectorAll('table.segments tbody tr')].map(r => [...r.cells].map(c => c.textContent))")
    assert rows == [[f"{s['start']:.2f}", f"{s['end']:.2f}", s["label"], f"{100 * s['score']:.1f} %"] for s in entry["segments"]]
    assert browser.evaluate("document.querySelector('.axis .end').textContent") == f"{entry['segments'][-1]['end']:.2f} s"


def test_a_multilabel_page_shows_the_json_labels_under_the_threshold_given(multilabel_checkpoint, synth_root, tmp_path,
                                                                          capsys, browser):
    video = synth_root / "test" / "moving_left" / "moving_left_0000.mp4"
    page = tmp_path / "labels.html"
    status, (entry,) = predict(capsys, "--checkpoint", multilabel_checkpoint, "--threshold", 0.3, "--html", page, video)
    assert status == 0 and browser.load(page) == []
    assert browser.evaluate("document.querySelector('.labels').textContent") == (
        f"{'classes' if entry['labels'] else 'no class'} with probability 0.3 or more")
    assert cards(browser)[0]["classes"] == [p["class"] for p in entry["labels"]]
    page = tmp_path / "timeline.html"
    status, (entry,) = predict(capsys, "--checkpoint", multilabel_checkpoint, "--threshold", 0.3, "--timeline",
                               "--stride", 0.5, "--html", page, video)
    assert status == 0 and browser.load(page) == []
    rows = browser.evaluate("[...document.querySelectorAll('table.window-labels tbody tr')].map(r => r.cells[2].textContent)")
    assert rows == [", ".join(f"{p['class']} ({100 * p['probability']:.1f} %)" for p in w["labels"]) or "none"
                    for w in entry["windows"]]
