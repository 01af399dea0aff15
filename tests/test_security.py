"""Security rules read off the source and checked in behaviour:

* no ``unsafe_allow_html`` / raw-HTML element anywhere on the serving side (so no data-derived HTML);
* an ONNX file reaches onnxruntime only through ``explorer.runtime.models``, after its sha256 matched the card;
* every ``torch.load`` passes ``weights_only=True``; nothing is unpickled on the serving side;
* a card cannot point a model at a file outside its own folder.
"""
from __future__ import annotations

import ast
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from explorer.runtime import models as models_module
from explorer.runtime.models import Model, ModelError

ROOT = Path(__file__).resolve().parent.parent
SERVING = [ROOT / "streamlit_app.py", *sorted((ROOT / "app_pages").glob("*.py")), *sorted((ROOT / "explorer").rglob("*.py"))]
ALL_CODE = SERVING + [p for d in ("training", "benchmarks", "tests") for p in sorted((ROOT / d).glob("*.py"))]


def calls(path: Path):
    """(dotted name of the callee, call node) for every call in a file."""
    return calls_in(ast.parse(path.read_text(), str(path)))


def calls_in(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            parts, f = [], node.func
            while isinstance(f, ast.Attribute):
                parts.append(f.attr)
                f = f.value
            if isinstance(f, ast.Name):
                parts.append(f.id)
            yield ".".join(reversed(parts)), node


def keyword(node: ast.Call, name: str):
    return next((k.value for k in node.keywords if k.arg == name), None)


def url_rewrite(path: Path, node: ast.Call) -> bool:
    """The one raw-HTML call allowed: explorer/app/state.py's script that completes the browser's URL. Its only
    interpolated value is ``changes``, the run's own choices as JSON with every '<' escaped (no ``</script>``)."""
    if path.relative_to(ROOT).as_posix() != "explorer/app/state.py" or not node.args:
        return False
    html = node.args[0]
    values = [ast.unparse(v.value) for v in ast.walk(html) if isinstance(v, ast.FormattedValue)]
    source = path.read_text()
    return (ast.unparse(html).startswith("URL_SCRIPT + ") and values == ["changes"]
            and 'changes = json.dumps(' in source and 'changes.replace("<", "\\\\u003c")' in source)


def test_no_raw_html_on_the_serving_side():
    for path in SERVING:
        for name, node in calls(path):
            assert not name.endswith((".html", "components.v1.html")) or url_rewrite(path, node), \
                f"{path.name}:{node.lineno} {name}"
            value = keyword(node, "unsafe_allow_html")
            assert value is None or (isinstance(value, ast.Constant) and value.value is False), \
                f"{path.name}:{node.lineno}: unsafe_allow_html"


MARKDOWN_CALLS = ("error", "warning", "info", "success", "toast", "markdown", "caption", "write", "title", "header",
                  "subheader")


def test_messages_never_echo_a_repr_as_markdown():
    """Streamlit renders these calls' text as markdown: a value echoed with ``{x!r}`` would turn a crafted URL
    parameter into a link or an image. Echo with ``explorer.text.brief`` (a code span) instead; the fuzz test
    (test_url_fuzz.py) checks the pages' behaviour."""
    checked = 0
    for path in SERVING:
        for name, node in calls(path):
            if name.rpartition(".")[2] not in MARKDOWN_CALLS or not name.startswith(("st.", "left.", "right.", "col")):
                continue
            checked += 1
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                for part in ast.walk(arg):
                    assert not (isinstance(part, ast.FormattedValue) and part.conversion == ord("r")), \
                        f"{path.relative_to(ROOT)}:{node.lineno}: {{...!r}} in {name}(); use explorer.text.brief"
    assert checked > 50


def test_onnx_sessions_are_opened_only_after_the_hash_check():
    """Every function that opens an onnxruntime session (directly or through models._session) first
    calls read_card, which checks each file's sha256 against the card."""
    opened = 0
    for path in SERVING:
        for function in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(function, ast.FunctionDef) or function.name == "_session":
                continue
            found = [(n.lineno, name) for name, n in calls_in(function)]
            opens = [line for line, name in found if name.endswith(("InferenceSession", "_session"))]
            checks = [line for line, name in found if name.endswith("read_card")]
            for line in opens:
                opened += 1
                assert checks and min(checks) < line, f"{path.name}:{line} opens ONNX without read_card first"
    assert opened


def test_a_tampered_file_never_reaches_onnxruntime(tmp_path, monkeypatch):
    source = next((p.parent for p in sorted((ROOT / "exported").glob("*/card.json"))), None)
    if source is None:
        pytest.skip("no committed model")
    folder = tmp_path / source.name
    shutil.copytree(source, folder)
    (folder / "generator.onnx").write_bytes((folder / "generator.onnx").read_bytes() + b"\0")
    opened = []
    monkeypatch.setattr(models_module.ort, "InferenceSession", lambda *a, **k: opened.append(a))
    with pytest.raises(ModelError, match="sha256"):
        Model.from_folder(folder)
    assert opened == []


def test_a_card_cannot_reach_outside_its_folder(tmp_path):
    source = next((p.parent for p in sorted((ROOT / "exported").glob("*/card.json"))), None)
    if source is None:
        pytest.skip("no committed model")
    folder = tmp_path / "models" / "evil"
    shutil.copytree(source, folder)
    outside = tmp_path / "outside.onnx"
    shutil.copy(folder / "generator.onnx", outside)
    card = json.loads((folder / "card.json").read_text())
    card["files"]["generator"] = {"path": "../../outside.onnx", "sha256": hashlib.sha256(outside.read_bytes()).hexdigest()}
    (folder / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="outside the model folder"):
        Model.load("evil", tmp_path / "models")


def test_torch_load_always_weights_only():
    found = 0
    for path in ALL_CODE:
        for name, node in calls(path):
            if name == "torch.load":
                found += 1
                value = keyword(node, "weights_only")
                assert isinstance(value, ast.Constant) and value.value is True, f"{path.name}:{node.lineno}"
    assert found  # the checkpoint loader is among them


def test_nothing_is_unpickled_on_the_serving_side():
    banned = ("pickle.load", "pickle.loads", "joblib.load", "pd.read_pickle", "pandas.read_pickle",
              "cloudpickle.load", "dill.load", "torch.load")
    for path in SERVING:
        for name, node in calls(path):
            assert name not in banned, f"{path.name}:{node.lineno} {name}"
            if name.endswith(("np.load", "numpy.load")):
                value = keyword(node, "allow_pickle")
                assert value is None or (isinstance(value, ast.Constant) and value.value is False), \
                    f"{path.name}:{node.lineno} np.load(allow_pickle=True)"
