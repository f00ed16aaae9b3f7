"""The timeline drawing of the predictions page, on segments chosen by hand: where each one is drawn, and its colour."""

import pytest
import torch

from vidcls.evaluation.prediction_page import write_prediction_page

SEGMENTS = [  # three segments over 10 s, the first class coming back at the end
    {"start": 0.0, "end": 1.5, "label": "pouring", "score": 0.8},
    {"start": 1.5, "end": 4.0, "label": "stirring", "score": 0.6},
    {"start": 4.0, "end": 10.0, "label": "pouring", "score": 0.9},
]


def test_segments_are_drawn_over_the_duration_under_the_frames(tmp_path, browser):
    frames = torch.randint(0, 256, (8, 24, 24, 3), dtype=torch.uint8)
    page = write_prediction_page(tmp_path / "page.html", [{"path": "cooking.mp4", "windows": [], "segments": SEGMENTS}],
                                 {"cooking.mp4": frames}, "model.ckpt")
    assert browser.load(page, width=900) == []
    drawn = browser.evaluate("""(() => {
        const box = element => { const r = element.getBoundingClientRect(); return [r.left, r.width]; };
        return {bar: box(document.querySelector('.timeline')), strip: box(document.querySelector('img.strip')),
                segments: [...document.querySelectorAll('.segment')].map(s => [s.textContent, ...box(s),
                                                                              getComputedStyle(s).backgroundColor]),
                ticks: [...document.querySelectorAll('.axis span')].map(tick => tick.textContent)};
    })()""")
    left, width = drawn["bar"]
    assert drawn["strip"] == pytest.approx(drawn["bar"], abs=1)  # the frames span the bar: each above its time
    for (label, x, w, _), segment in zip(drawn["segments"], SEGMENTS, strict=True):
        assert label == segment["label"]
        assert x - left == pytest.approx(width * segment["start"] / 10, abs=1.5)
        assert w == pytest.approx(width * (segment["end"] - segment["start"]) / 10, abs=1.5)
    colours = [colour for *_, colour in drawn["segments"]]
    assert colours[0] == colours[2] != colours[1]  # one colour per class
    assert drawn["ticks"] == ["0 s", "2 s", "4 s", "6 s", "8 s", "10.00 s"]


def test_a_multilabel_entry_shows_the_classes_at_or_above_the_threshold(tmp_path, browser):
    frames = torch.randint(0, 256, (8, 24, 24, 3), dtype=torch.uint8)
    top = [{"class": "pouring", "probability": 0.9}, {"class": "stirring", "probability": 0.6},
           {"class": "chopping", "probability": 0.2}]
    entries = [{"path": "cooking.mp4", "predictions": top, "labels": top[:2]},
               {"path": "empty.mp4", "predictions": [{"class": "chopping", "probability": 0.1}], "labels": []}]
    page = write_prediction_page(tmp_path / "page.html", entries, {"cooking.mp4": frames, "empty.mp4": frames},
                                 "model.ckpt", threshold=0.5)
    assert browser.load(page) == []
    shown = browser.evaluate("""[...document.querySelectorAll('.card.video')].map(card => ({
        rule: card.querySelector('.labels').textContent,
        classes: [...card.querySelectorAll('.bars .name')].map(name => name.textContent)}))""")
    assert shown == [{"rule": "classes with probability 0.5 or more", "classes": ["pouring", "stirring"]},
                     {"rule": "no class with probability 0.5 or more", "classes": []}]
