"""Label folders: a safe folder name for every label, kept across runs in ``DIR/classes.csv``.

Labels such as "massaging person's head" are not safe folder names, so folders are sanitised and
two labels never share one; ``classes.csv`` (``folder,label``) leads every folder back to its label.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

from vidcls.errors import DatasetError

_SAFE_FOLDER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def label_folder(label: str) -> str:
    """A folder name for a label that cannot escape DIR: ASCII letters, digits, ``_`` and ``-``.

    Apostrophes, quotes and parentheses are dropped, other runs of characters become ``_``:
    "massaging person's head" -> ``massaging_persons_head``, "hurling (sport)" -> ``hurling_sport``.
    """
    name = re.sub(r"[^A-Za-z0-9-]+", "_", re.sub(r"['\"()]", "", label)).strip("_-")
    return name or f"label_{_digest(label)}"


def _digest(label: str) -> str:
    return hashlib.sha1(label.encode("utf-8")).hexdigest()[:8]


def assign_folders(labels: Iterable[str], known: dict[str, str] | None = None) -> dict[str, str]:
    """Label -> folder for every label: ``known`` ones keep theirs, two labels never share one."""
    folders = dict(known or {})
    taken = set(folders.values())
    for label in sorted(set(labels) - folders.keys()):
        name = label_folder(label)
        if name in taken:  # "a b" and "a_b": the later one gets a suffix from its exact text
            name = f"{name}_{_digest(label)}"
        folders[label] = name
        taken.add(name)
    return folders


def read_classes_csv(path: Path) -> dict[str, str]:
    """The label -> folder map written by an earlier run, so reruns keep the same folders."""
    folders = {}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if set(reader.fieldnames or ()) != {"folder", "label"}:
            raise DatasetError(f"{path}:1: header must be folder,label")
        for row in reader:
            folder, label = row["folder"] or "", row["label"] or ""
            if not _SAFE_FOLDER.fullmatch(folder) or not label:
                raise DatasetError(f"{path}:{reader.line_num}: unsafe folder {folder!r} or empty label")
            folders[label] = folder
    if len(set(folders.values())) != len(folders):
        raise DatasetError(f"{path}: two labels share a folder")
    return folders
