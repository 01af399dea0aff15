"""Issue 16: one bad model folder, a re-export or an unexpected error must not hurt anyone else.

* A ``card.json`` holding ``[]``, ``null``, non-UTF-8 bytes, or being a folder: that model is refused with
  its reason and every other model keeps working, on Home and on the pages; no server path is shown.
* A model re-exported into the served folder is served at once (the caches follow the card's hashes).
* An unexpected error shows a generic message and a reference id; the server log has the traceback
  under that id; fragments do not leak ``FragmentHandledException``.
"""
from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from explorer.runtime.models import Model, ModelError, discover, read_card

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "streamlit_app.py")
TIMEOUT = 180
BREAKS = {"list": b"[]", "null": b"null", "latin-1": "{\"id\": \"caf\xe9\"}".encode("latin-1"), "folder": None}


def texts(elements) -> str:
    return " | ".join(str(e.value) for e in elements)


def everything(at: AppTest) -> str:
    """All text a page shows (markdown, messages, captions, titles, tables, widget labels)."""
    parts = []
    for kind in ("markdown", "caption", "error", "warning", "info", "success", "title", "subheader", "header",
                 "exception", "table", "metric"):
        parts += [str(getattr(e, "value", "")) for e in getattr(at, kind)]
    return " | ".join(parts)


def break_card(folder: Path, how: str) -> None:
    card = folder / "card.json"
    card.unlink()
    if BREAKS[how] is None:
        card.mkdir()
    else:
        card.write_bytes(BREAKS[how])


@pytest.fixture
def broken_copy(committed_diabetes, tmp_path) -> tuple[Path, list[str]]:
    """The quick models, and one copy of diabetes-gan per way of breaking its card."""
    root = tmp_path / "models"
    shutil.copytree(committed_diabetes, root)
    broken = []
    for how in BREAKS:
        folder = root / f"broken-{how}"
        shutil.copytree(committed_diabetes / "diabetes-gan", folder)
        break_card(folder, how)
        broken.append(folder.name)
    return root, broken


# ---------------------------------------------------------------- 1. malformed model folders
@pytest.mark.parametrize("how", list(BREAKS))
def test_a_malformed_card_is_a_refusal_with_its_reason(committed_diabetes, tmp_path, how):
    folder = tmp_path / "odd"
    shutil.copytree(committed_diabetes / "diabetes-gan", folder)
    break_card(folder, how)
    with pytest.raises(ModelError, match="^odd: card.json") as info:
        read_card(folder)
    assert str(tmp_path) not in str(info.value)


@pytest.mark.parametrize("files", [[], {"generator": "generator.onnx"}, {"generator": {"path": 3, "sha256": "x"}},
                                   {"generator": {"path": "generator.onnx"}}, None])
def test_a_malformed_file_list_is_a_refusal(committed_diabetes, tmp_path, files):
    folder = tmp_path / "odd"
    shutil.copytree(committed_diabetes / "diabetes-gan", folder)
    card = json.loads((folder / "card.json").read_text())
    card["files"] = files
    (folder / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="card.json"):
        Model.from_folder(folder)


def test_discover_refuses_each_broken_folder_and_keeps_the_others(broken_copy):
    root, broken = broken_copy
    good, bad = discover(root)
    assert sorted(bad) == sorted(broken) and sorted(good) == ["diabetes-cgan", "diabetes-gan"]
    assert all(str(root) not in reason for reason in bad.values())


@pytest.mark.slow
def test_home_and_pages_survive_broken_folders(broken_copy, monkeypatch):
    root, broken = broken_copy
    monkeypatch.setenv("GAN_EXPLORER_MODELS", str(root))
    monkeypatch.setenv("GAN_EXPLORER_RAISE", "1")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    errors = texts(at.error)
    for model_id in broken:
        assert model_id in errors and "card.json" in errors
    listed = {i for d in at.dataframe if "id" in d.value for i in d.value["id"]}
    assert listed == {"diabetes-gan", "diabetes-cgan"}
    assert len(at.dataframe) == 3  # the comparison table and one preview per working model
    assert str(root) not in everything(at) and str(ROOT) not in everything(at)
    for page in ("sample", "condition", "interpolate", "diagnostics", "training"):
        at.switch_page(f"app_pages/{page}.py")
        at.query_params["model"] = "diabetes-cgan"
        at.run()
        assert not at.exception, (page, [e.value for e in at.exception])
        assert not at.error, (page, texts(at.error))
        assert str(root) not in everything(at)
    at.switch_page("app_pages/sample.py")
    at.query_params["model"] = broken[0]
    at.run()
    assert f"is refused: {broken[0]}: card.json" in texts(at.error)
    assert len(at.dataframe[0].value) == 1000  # falls back to a working model


# ---------------------------------------------------------------- 3. a re-export is served at once
@pytest.mark.slow
def test_a_re_exported_model_is_served_without_a_restart(quick_models, tmp_path, monkeypatch):
    from training.run import main
    root = tmp_path / "models"
    shutil.copytree(quick_models, root)
    monkeypatch.setenv("GAN_EXPLORER_MODELS", str(root))
    monkeypatch.setenv("GAN_EXPLORER_RAISE", "1")

    def sample_page(n: int, seed: int) -> pd.DataFrame:
        at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
        at.switch_page("app_pages/sample.py")
        at.query_params.update({"model": "diabetes-gan", "n": str(n), "seed": str(seed)})
        at.run()
        assert not at.exception and not at.error, texts(at.error)
        return at.dataframe[0].value

    before = sample_page(5, 3)
    main(["--dataset", "diabetes", "--arch", "gan", "--quick", "--seed", "11", "--no-eval", "--out", str(root),
          "--checkpoints", str(tmp_path / "ckpt")])
    fresh = Model.load("diabetes-gan", root)
    for n, seed in ((5, 3), (7, 4)):  # the view cached before, and one never asked for
        shown = sample_page(n, seed)
        expected = fresh.sample(n, seed=seed)
        assert len(shown) == n
        pd.testing.assert_frame_equal(shown.reset_index(drop=True), expected.reset_index(drop=True),
                                      check_dtype=False)
    assert not before.equals(sample_page(5, 3))


# ---------------------------------------------------------------- 5. error details stay in the log
def odd_models(committed_diabetes, tmp_path, monkeypatch) -> Path:
    """diabetes-cgan, and a copy of diabetes-gan that verifies but whose decoding fails unexpectedly (a fault
    injected into the runtime: the contract refuses every card that lacks what the code needs)."""
    from explorer.runtime.models import Model

    root = tmp_path / "models"
    shutil.copytree(committed_diabetes / "diabetes-gan", root / "odd-model")
    shutil.copytree(committed_diabetes / "diabetes-cgan", root / "diabetes-cgan")
    columns = Model.columns

    def faulty(self, *args, **kwargs):
        if self.folder.name == "odd-model":
            raise KeyError(f"table_columns in {root}")
        return columns(self, *args, **kwargs)

    monkeypatch.setattr(Model, "columns", faulty)
    return root


def reference_ids(at: AppTest) -> list[str]:
    return re.findall(r"reference ([0-9a-f]{8})", texts(at.error))


@pytest.mark.parametrize("page", ["sample", "interpolate"])
def test_an_unexpected_error_shows_a_reference_not_details(committed_diabetes, tmp_path, monkeypatch, caplog, page):
    monkeypatch.setenv("GAN_EXPLORER_MODELS", str(odd_models(committed_diabetes, tmp_path, monkeypatch)))
    monkeypatch.setenv("GAN_EXPLORER_RAISE", "0")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    with caplog.at_level(logging.ERROR, logger="gan_explorer"):
        at.switch_page(f"app_pages/{page}.py")
        at.query_params["model"] = "odd-model"
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = everything(at)
    refs = reference_ids(at)
    assert len(refs) == 1, shown
    for leak in ("table_columns", "KeyError", "FragmentHandledException", "Traceback", str(tmp_path), str(ROOT)):
        assert leak not in shown, leak
    logged = [r for r in caplog.records if refs[0] in r.getMessage()]
    assert logged and logged[0].exc_info and "table_columns" in str(logged[0].exc_info[1])
    at.selectbox(key=f"{page}:model").select("diabetes-cgan").run()  # the session keeps working
    assert not at.error and not at.exception


def test_home_shows_no_server_path(committed_diabetes, tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_EXPLORER_RAISE", "1")
    for root in (committed_diabetes, tmp_path):  # with models, and an empty folder
        monkeypatch.setenv("GAN_EXPLORER_MODELS", str(root))
        at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
        assert not at.exception
        assert str(root) not in everything(at) and str(ROOT) not in everything(at)


# ---------------------------------------------------------------- found by the URL fuzz: Interpolate
@pytest.mark.parametrize("model_id", ["diabetes-confgan", "adult-icgan"])
def test_interpolate_holds_a_confidence_or_instance_condition_fixed(model_id, monkeypatch):
    """The page's fallback for a fuzzed ?model= is the first model, an IC-GAN: it raised 'give finite
    instance embeddings' (and a confidence GAN 'give one per row')."""
    if not (ROOT / "exported" / model_id / "card.json").is_file():
        pytest.skip("needs the committed models")
    monkeypatch.setenv("GAN_EXPLORER_MODELS", str(ROOT / "exported"))
    monkeypatch.setenv("GAN_EXPLORER_RAISE", "1")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.switch_page("app_pages/interpolate.py")
    at.query_params.update({"model": model_id, "steps": "5"})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.dataframe[0].value) == 5 and "held fixed" in texts(at.caption)


# ---------------------------------------------------------------- 2. a generator that does not match its card
def swapped_copy(tmp_path: Path, target: str, source: str) -> Path:
    """A copy of the committed models where ``target``'s generator is ``source``'s, with the hash fixed."""
    import hashlib
    if not (ROOT / "exported" / target / "card.json").is_file():
        pytest.skip("needs the committed models")
    root = tmp_path / "exported"
    shutil.copytree(ROOT / "exported", root, ignore=shutil.ignore_patterns(".*"))
    shutil.copy(ROOT / "exported" / source / "generator.onnx", root / target / "generator.onnx")
    card = json.loads((root / target / "card.json").read_text())
    card["files"]["generator"]["sha256"] = hashlib.sha256((root / target / "generator.onnx").read_bytes()).hexdigest()
    (root / target / "card.json").write_text(json.dumps(card))
    return root


@pytest.mark.slow
def test_a_swapped_generator_is_refused_and_never_a_fallback(tmp_path, monkeypatch):
    """adult-cgan ← diabetes-gan's generator: Home stopped after its first card, Sample and Diagnostics said
    'Invalid input name: label', Condition and Interpolate showed a redacted box, other URLs fell back to it."""
    root = swapped_copy(tmp_path, "adult-cgan", "diabetes-gan")
    monkeypatch.setenv("GAN_EXPLORER_MODELS", str(root))
    monkeypatch.setenv("GAN_EXPLORER_RAISE", "1")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "adult-cgan" in texts(at.error) and "its card promises" in texts(at.error)
    listed = {i for d in at.dataframe if "id" in d.value for i in d.value["id"]}
    others = {p.parent.name for p in root.glob("*/card.json")} - {"adult-cgan"}
    assert listed == others
    for page in ("sample", "condition", "interpolate", "diagnostics", "training"):
        for asked in ("adult-cgan", "no-such-model"):  # the refused model, and a URL that falls back
            at = AppTest.from_file(APP, default_timeout=TIMEOUT)
            at.switch_page(f"app_pages/{page}.py")
            at.query_params["model"] = asked
            at.run()
            assert not at.exception, (page, asked, [e.value for e in at.exception])
            shown = texts(at.error)
            assert ("is refused" in shown and "its card promises" in shown) if asked == "adult-cgan" else True, shown
            model_box = at.selectbox(key=f"{page}:model")
            assert model_box.value != "adult-cgan" and "adult-cgan" not in model_box.options, (page, asked)


def constant_generator(path: Path, card: dict) -> None:
    """An ONNX generator with exactly the card's inputs and outputs whose category indices are all 99."""
    import onnx
    from onnx import TensorProto, helper
    numeric = sum(c["type"] == "numeric" for c in card["columns"])
    categorical = sum(c["type"] == "categorical" for c in card["columns"])
    width = len(card["condition"]["classes"])
    inputs = [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["batch", card["latent_dim"]]),
              helper.make_tensor_value_info("label", TensorProto.FLOAT, ["batch", width])]
    outputs = [helper.make_tensor_value_info("numeric", TensorProto.FLOAT, ["batch", numeric]),
               helper.make_tensor_value_info("categorical", TensorProto.INT64, ["batch", categorical])]
    nodes = [helper.make_node("ReduceSum", ["z", "axes"], ["s"], keepdims=1),  # [batch, 1]
             helper.make_node("Mul", ["s", "zero"], ["zs"]),
             helper.make_node("Expand", ["zs", "num_shape"], ["numeric_0"]),
             helper.make_node("Identity", ["numeric_0"], ["numeric"]),
             helper.make_node("Cast", ["zs"], ["zi"], to=TensorProto.INT64),
             helper.make_node("Add", ["zi", "ninety_nine"], ["c1"]),
             helper.make_node("Expand", ["c1", "cat_shape"], ["categorical"])]
    init = [helper.make_tensor("axes", TensorProto.INT64, [1], [1]), helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0]),
            helper.make_tensor("ninety_nine", TensorProto.INT64, [], [99]),
            helper.make_tensor("num_shape", TensorProto.INT64, [2], [1, numeric]),
            helper.make_tensor("cat_shape", TensorProto.INT64, [2], [1, categorical])]
    graph = helper.make_graph(nodes, "constant", inputs, outputs, init)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def test_a_generator_with_the_same_interface_but_other_categories_is_refused(tmp_path):
    """Same input and output names, types and widths (so no load error), but category indices beyond the
    card's lists: the page raised IndexError; now the load-time probe refuses it."""
    import hashlib
    source = ROOT / "exported" / "credit-g-cgan"
    if not (source / "card.json").is_file():
        pytest.skip("needs the committed models")
    folder = tmp_path / "credit-g-cgan"
    shutil.copytree(source, folder)
    card = json.loads((folder / "card.json").read_text())
    constant_generator(folder / "generator.onnx", card)
    card["files"]["generator"]["sha256"] = hashlib.sha256((folder / "generator.onnx").read_bytes()).hexdigest()
    (folder / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="category indices outside"):
        Model.from_folder(folder)
