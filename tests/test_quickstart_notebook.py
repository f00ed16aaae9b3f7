"""notebooks/quickstart.ipynb runs top to bottom, shows its figures inline, and is committed without outputs."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "quickstart.ipynb"


def test_the_notebook_is_committed_without_outputs():
    code = [cell for cell in nbformat.read(NOTEBOOK, as_version=4).cells if cell.cell_type == "code"]
    assert code and all(cell.outputs == [] and cell.execution_count is None for cell in code)


def test_the_quickstart_notebook_runs_and_shows_its_figures_inline(tmp_path):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # a failing cell raises CellExecutionError, naming the cell and its traceback
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    figures = [cell for cell in notebook.cells if cell.cell_type == "code"
               and any("image/png" in output.get("data", {}) for output in cell.outputs)]
    sources = [cell.source for cell in figures]
    assert any("curves_figure" in source for source in sources) and any("confusion_figure" in source for source in sources)
    assert any("preview" in source for source in sources)  # the frames of the predicted video
    assert list((tmp_path / "quickstart" / "runs").rglob("report.html"))
    ranked = notebook.cells[-2].outputs[-1]["data"]["text/plain"]  # predict's top-3
    assert ranked.count("moving_") == 3
