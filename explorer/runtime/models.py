"""Exported generators: find them, hold them to their cards, and sample from them.

numpy and onnxruntime only (pandas only when a caller asks for a DataFrame), so the app and the demo
container stay light. A model whose files do not match the sha256 in its card, whose card breaks the
contract, or whose graphs do not have the inputs and outputs the card promises is refused with the
reason, and the others keep working.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import onnxruntime as ort

from explorer import inputs
from explorer.contract import Card, CardError, Port
from explorer.paths import MODELS_ENV, ROOT, models_root  # noqa: F401  (re-exported)
from explorer.runtime.frames import category_codes, decoded_columns, range_labels
from explorer.runtime.instance_space import embed, instance_input
from explorer.runtime.judge import check_confidence, decoded_features, forest_confidence, forest_probability
from explorer.text import brief

DEFAULT_ROOT = ROOT / "exported"
# rows per onnxruntime run, in every path: an int8 generator quantises its activations per run, so its
# rows depend on where runs start. Small enough for a core's cache when runs go one per core (bulk.py).
BATCH = 8_192
MAX_ROWS = 10_000_000


class ModelError(RuntimeError):
    """A model cannot be used: unknown id, missing/corrupt file, a card or graph that breaks the contract,
    or a hash that differs from its card."""


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_card(folder: Path) -> Card:
    """The card of ``folder``, held to the contract, after checking every listed file's sha256. Anything
    wrong with the folder (no card, unreadable bytes, a card that breaks the contract, a missing or
    changed file) is a ``ModelError`` naming the model and the problem, never a path on the server."""
    card_path = folder / "card.json"
    try:
        data = json.loads(card_path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{folder.name}: no card.json") from None
    except IsADirectoryError:
        raise ModelError(f"{folder.name}: card.json is a folder, not a file") from None
    except UnicodeDecodeError:
        raise ModelError(f"{folder.name}: card.json is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ModelError(f"{folder.name}: card.json is not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except OSError as exc:
        raise ModelError(f"{folder.name}: card.json cannot be read ({exc.strerror or type(exc).__name__})") from None
    try:
        card = Card.from_dict(data)
    except CardError as exc:
        raise ModelError(f"{folder.name}: card.json does not follow the contract ({exc})") from None
    for entry in card.files.values():
        path = folder / entry.path
        try:
            inside = path.resolve().parent == folder.resolve()
        except (OSError, RuntimeError, ValueError):  # a symlink loop or a NUL byte in the name
            inside = False
        if not inside:
            raise ModelError(f"{folder.name}: file {entry.path!r} lies outside the model folder")
        if not path.is_file():
            raise ModelError(f"{folder.name}: {entry.path} is missing")
        try:
            digest = sha256(path)
        except OSError as exc:
            raise ModelError(f"{folder.name}: {entry.path} cannot be read ({exc.strerror})") from None
        if digest != entry.sha256:
            raise ModelError(f"{folder.name}: {entry.path} does not match the sha256 in its card "
                             "(file changed or corrupt); re-export it with the command in the card")
    return card


def model_folders(root: Path) -> dict[str, Path]:
    """{id: folder} under root. Hidden folders are an export in progress (``.tmp-*``) or the previous
    model during the swap (``.old-<id>``); a ``.old-<id>`` whose ``<id>`` is missing (export killed
    between its two renames) is still served as ``<id>`` until the next export restores it."""
    folders = {p.name: p for p in sorted(root.glob("*")) if p.is_dir() and not p.name.startswith(".")}
    for old in sorted(root.glob(".old-*")):
        folders.setdefault(old.name[len(".old-"):], old)
    return dict(sorted(folders.items()))


def discover(root: Path | None = None) -> tuple[dict[str, Card], dict[str, str]]:
    """All model folders under root: ({id: card} that verify, {id: reason} that do not)."""
    root = root or models_root()
    good, bad = {}, {}
    for model_id, folder in model_folders(root).items():
        try:
            good[model_id] = read_card(folder)
        except ModelError as exc:
            bad[model_id] = str(exc)
    return good, bad


def joined(parts: list) -> tuple[np.ndarray, np.ndarray]:
    """Batches' (numeric, categorical) outputs as one pair of arrays."""
    if not parts:
        return np.zeros((0, 0), np.float32), np.zeros((0, 0), np.int64)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def providers() -> list[str]:
    """CUDA only when a GPU device exists: onnxruntime-gpu lists CUDA even on CPU-only hosts."""
    available = ort.get_available_providers()
    gpu = "CUDAExecutionProvider" in available and Path("/dev/nvidiactl").exists()
    return (["CUDAExecutionProvider"] if gpu else []) + ["CPUExecutionProvider"]


ARENA = {"classifier"}  # sessions that keep onnxruntime's memory arena (see _session)
DISCRIMINATOR_BATCH = 8  # rows per run of a tabular discriminator (Model.discriminate)


def check_interface(card: Card, role: str, session: ort.InferenceSession) -> None:
    """Hold one graph to the inputs and outputs its card promises (names, element types, fixed sizes)."""
    inputs, outputs = card.interface().get(role, (None, None))
    if inputs is None:
        return
    for what, expected, actual in (("inputs", inputs, session.get_inputs()), ("outputs", outputs, session.get_outputs())):
        got = [Port(a.name, a.type.removeprefix("tensor(").removesuffix(")"),
                    tuple(d if isinstance(d, int) else None for d in a.shape)) for a in actual]
        if [p.name for p in got] != [p.name for p in expected]:
            raise ModelError(f"{card.id}: {role}.onnx {what} are {[p.name for p in got]}, its card promises "
                             f"{[p.name for p in expected]}")
        for want, have in zip(expected, got):
            fits = len(want.shape) == len(have.shape) and all(
                w is None or h is None or w == h for w, h in zip(want.shape, have.shape))
            if want.dtype != have.dtype or not fits:
                raise ModelError(f"{card.id}: {role}.onnx {what[:-1]} {want.name!r} is {have.dtype} {_dims(have)}, "
                                 f"its card promises {want.dtype} {_dims(want)}")


def _dims(port: Port) -> str:
    return "[" + ", ".join("n" if d is None else str(d) for d in port.shape) + "]"


def _session(path: Path, arena: bool = False, threads: int = 0) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = threads  # 0: one per core
    # No memory arena by default: each session's arena keeps its largest batch's memory for good (a digit
    # judge ~0.8 GB after batches of 2,000, a table generator ~70 MB). The app's requests are small; a
    # million-row decode is ~25 % slower without one, so the bulk path (bulk.py) keeps its own. The
    # convolutional digit judge is ~35 % slower without one, so it keeps it and is fed small batches
    # (explorer.metrics.digits.judge) that bound it to ~50 MB.
    options.enable_cpu_mem_arena = arena
    # No busy-waiting: by default onnxruntime's worker threads spin after each run, which about
    # doubled the CPU a 1,000-row sample costs and, with 20 users on a 2-core server, took the cores
    # from the other sessions (see README, Load). Large requests still use the worker threads.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(str(path), options, providers=providers())
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
        reason = str(exc).replace(str(path.resolve()), path.name).replace(str(path), path.name)  # no server paths
        raise ModelError(f"{path.parent.name}: {path.name} cannot be loaded by onnxruntime ({reason})") from None


def check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a whole number ≥ 0, got {brief(seed)}")
    return int(seed)


def noise_generator(seed: int) -> np.random.Generator:
    """The generator every latent of a seed is drawn from, in order."""
    return np.random.default_rng(check_seed(seed))


def label_counts(n: int, weights: dict[str, float], classes: list[str]) -> dict[str, int]:
    """Exact row counts per class for a mix (largest remainder), never rejection sampling."""
    unknown = set(weights) - set(classes)
    if unknown:
        raise ValueError(f"unknown class {brief(sorted(unknown))}; classes are {classes}")
    w = np.array([float(weights.get(c, 0.0)) for c in classes])
    if not np.all(np.isfinite(w)) or (w < 0).any() or w.sum() <= 0:
        raise ValueError(f"class weights must be finite, ≥ 0 and not all 0, got {brief(weights)}")
    w = w / w.max()  # huge weights (1e308 + 1e308) would overflow the sum
    share = n * w / w.sum()
    counts = np.floor(share).astype(int)
    counts[np.argsort(-(share - counts))[: n - counts.sum()]] += 1
    return dict(zip(classes, counts.tolist()))


@dataclass
class Model:
    """One verified exported model with its onnxruntime sessions."""

    id: str
    card: Card
    folder: Path
    sessions: dict = field(default_factory=dict)

    @classmethod
    def load(cls, model_id: str, root: Path | None = None) -> "Model":
        root = root or models_root()
        folder = None if model_id.startswith(".") else model_folders(root).get(model_id)
        if folder is None:
            known = ", ".join(discover(root)[0]) or "none"
            raise ModelError(f"unknown model {brief(model_id)}; available: {known}")
        return cls.from_folder(folder)

    @classmethod
    def from_folder(cls, folder: Path) -> "Model":
        card = read_card(folder)
        sessions = {}
        for role, entry in card.files.items():
            if entry.path.endswith(".onnx"):
                sessions[role] = _session(folder / entry.path, role in ARENA)
                check_interface(card, role, sessions[role])
        model = cls(card.id, card, folder, sessions)
        if card.tabular:
            model.probe()
        return model

    def probe(self, n: int = 64) -> None:
        """A few rows through the generator: category indices and numerics must lie where the card says
        (a generator swapped for another with the same shapes would otherwise index out of range)."""
        codes = self.label_codes(n, 0) if self.classes else None
        confidence = self.typical_confidence(n, 0) if self.confidence_conditioned else None
        instance = self.instance_bank[:1].repeat(n, 0) if self.instance_conditioned else None
        numeric, categorical = self.decode(self.noise(n, 0), codes, confidence, instance)
        for j, col in enumerate(self.card.categorical_columns):
            if categorical[:, j].min(initial=0) < 0 or categorical[:, j].max(initial=0) >= len(col.categories):
                raise ModelError(f"{self.id}: the generator returns category indices outside column "
                                 f"{col.name!r}'s {len(col.categories)} categories")
        for j, col in enumerate(self.card.numeric_columns):
            values = numeric[:, j][np.isfinite(numeric[:, j])]
            slack = 1e-3 * max(1.0, abs(col.max), abs(col.min))
            if len(values) and (values.min() < col.min - slack or values.max() > col.max + slack):
                raise ModelError(f"{self.id}: the generator returns {col.name!r} outside the card's range "
                                 f"[{col.min}, {col.max}]")

    @property
    def latent_dim(self) -> int:
        return int(self.card.latent_dim)

    @property
    def condition(self):
        return self.card.condition

    @property
    def classes(self) -> list[str]:
        return self.card.classes

    @property
    def confidence_conditioned(self) -> bool:
        return self.card.condition_type == "confidence"

    @property
    def instance_conditioned(self) -> bool:
        return self.card.condition_type == "instance"

    @cached_property
    def instance_bank(self) -> np.ndarray:
        """Training-row embeddings shipped with an IC-GAN (hash-checked with the card at load)."""
        with np.load(self.folder / self.card.files["instances"].path, allow_pickle=False) as f:
            return f["instances"]

    def instances(self, n: int, seed: int, instance=None) -> np.ndarray:
        """The ``instance`` input for n rows (``instance_input`` on the shipped bank); ``instance`` is a
        frame of one real row (or n rows) to generate rows like."""
        return instance_input(self.condition.space, self.instance_bank if instance is None else None, n, seed,
                              instance)

    @property
    def provider(self) -> str:
        return self.sessions["generator"].get_providers()[0]

    def noise(self, n: int, seed: int) -> np.ndarray:
        return noise_generator(seed).standard_normal((n, self.latent_dim), dtype=np.float32)

    def label_codes(self, n: int, seed: int, mix: dict[str, float] | str | None = None) -> np.ndarray:
        """Class indices for n rows: one class, an exact mix, or (None) the training mix, shuffled."""
        if isinstance(mix, str):
            mix = {mix: 1.0}
        counts = label_counts(n, mix or self.condition.train_share, self.classes)
        codes = np.repeat(np.arange(len(self.classes), dtype=np.int64), list(counts.values()))
        return np.random.default_rng([seed, 1]).permutation(codes)

    def labels(self, n: int, seed: int, mix: dict[str, float] | str | None = None) -> np.ndarray:
        return np.array(self.classes, dtype=object)[self.label_codes(n, seed, mix)]

    def codes(self, labels) -> np.ndarray:
        index = {c: i for i, c in enumerate(self.classes)}
        codes = np.array([index.get(v, -1) for v in np.asarray(labels, dtype=object).tolist()], dtype=np.int64)
        if (codes < 0).any():
            raise ValueError(f"unknown class in {brief(set(np.asarray(labels)[codes < 0]))}; classes are {self.classes}")
        return codes

    def one_hot(self, labels) -> np.ndarray:
        return np.eye(len(self.classes), dtype=np.float32)[self.codes(labels)]

    def feeds(self, z: np.ndarray, codes: np.ndarray | None = None, confidence: np.ndarray | None = None,
              instance: np.ndarray | None = None) -> list[dict[str, np.ndarray]]:
        """The generator's inputs for latents and class indices (or requested confidences, or instance
        embeddings), checked, ``BATCH`` rows per run."""
        z = np.asarray(z, dtype=np.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape [n, {self.latent_dim}], got {list(z.shape)}")
        if self.classes and (codes is None or len(codes) != len(z)):
            raise ValueError(f"{self.id} is conditional on {self.condition.name}: give one label per row")
        if self.confidence_conditioned:
            if confidence is None:
                raise ValueError(f"{self.id} is conditioned on the judge's confidence: give one per row")
            confidence = check_confidence(confidence, len(z)).astype(np.float32)[:, None]
        if self.instance_conditioned:
            instance = np.asarray(instance if instance is not None else [], dtype=np.float32)
            if instance.shape != (len(z), self.condition.dim) or not np.isfinite(instance).all():
                raise ValueError(f"{self.id} is conditioned on a real row: give finite instance embeddings "
                                 f"of shape [{len(z)}, {self.condition.dim}], got {list(instance.shape)}")
        eye = np.eye(len(self.classes), dtype=np.float32)
        feeds = []
        for start in range(0, len(z), BATCH):
            feed = {"z": z[start:start + BATCH]}
            if self.classes:
                feed["label"] = eye[codes[start:start + BATCH]]
            if confidence is not None:
                feed["confidence"] = confidence[start:start + BATCH]
            if instance is not None:
                feed["instance"] = instance[start:start + BATCH]
            feeds.append(feed)
        return feeds

    def decode(self, z: np.ndarray, codes: np.ndarray | None = None, confidence: np.ndarray | None = None,
               instance: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The contract's raw outputs (numeric, categorical) for latents and class indices (or
        requested confidences, or instance embeddings), in batches."""
        session = self.sessions["generator"]
        return joined([session.run(None, feed) for feed in self.feeds(z, codes, confidence, instance)])

    def columns(self, z: np.ndarray, labels=None, confidence=None, instance=None) -> dict[str, np.ndarray]:
        """Decoded columns {name: array} in the card's table order (numpy only; see ``generate``)."""
        codes = self.codes(labels) if self.classes and labels is not None else None
        return self.table(*self.decode(z, codes, confidence, instance), codes)

    def table(self, numeric: np.ndarray, categorical: np.ndarray, codes: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """The contract's raw outputs (and the rows' class indices) as {column: array} in the card's table order."""
        data = decoded_columns(self.card.columns, numeric, categorical)
        if self.classes:
            data[self.condition.name] = np.array(self.classes, dtype=object)[codes]
        for const in self.card.constants or []:  # a user table's constant columns: kept, never learned
            data[const.name] = np.full(len(numeric), const.value, dtype=object)
        ranges = self.card.ranges  # a numeric target: the range each generated value falls in
        if ranges and ranges.name not in data:
            data[ranges.name] = range_labels(ranges.edges, ranges.classes, data[ranges.column])
        return {name: data[name] for name in self.card.table_columns}

    def generate(self, z: np.ndarray, labels=None, confidence=None, instance=None):
        """Decoded rows as a pandas DataFrame for given latents (and class names for a label-conditional
        model, requested confidences for a confidence-conditioned one, embeddings for an IC-GAN)."""
        import pandas as pd  # only for callers that want a frame: arrays need numpy alone

        return pd.DataFrame(self.columns(z, labels, confidence, instance))

    def sample_columns(self, n: int, seed: int = 0, mix: dict[str, float] | str | None = None,
                       confidence=None, instance=None) -> dict[str, np.ndarray]:
        """``sample`` as {column: array}, importing nothing beyond numpy and onnxruntime."""
        return self.columns(*self._inputs(n, seed, mix, confidence, instance))

    def sample(self, n: int, seed: int = 0, mix: dict[str, float] | str | None = None,
               confidence=None, instance=None):
        """n rows as a DataFrame, reproducible from the seed (and the class mix, the requested
        confidence, or the real row to generate rows like)."""
        return self.generate(*self._inputs(n, seed, mix, confidence, instance))

    def _inputs(self, n, seed, mix, confidence, instance) -> tuple:
        n, seed = check_n(n), check_seed(seed)
        labels = self.labels(n, seed, mix) if self.classes else None
        if self.confidence_conditioned and confidence is None:
            confidence = self.typical_confidence(n, seed)
        z = self.closest_latents(check_confidence(confidence, n), seed) if self.candidates > 1 else self.noise(n, seed)
        embedding = self.instances(n, seed, instance) if self.instance_conditioned else None
        return z, labels, confidence, embedding

    def range_mix(self, low: float, high: float) -> dict[str, float]:
        """For a model conditioned on a numeric target's ranges: the mix of ranges whose rows fall in
        [low, high], each weighted by its training share times the part of it inside [low, high]."""
        c = self.condition
        if c is None or c.type != "range":
            raise ValueError(f"{self.id} is not conditioned on ranges of a numeric column")
        if not (np.isfinite(low) and np.isfinite(high)) or low > high:
            raise ValueError(f"a range needs finite low ≤ high, got {low!r} .. {high!r}")
        edges = np.asarray(c.edges, dtype=float)
        inside = np.clip(np.minimum(edges[1:], high) - np.maximum(edges[:-1], low), 0, None)
        width = np.diff(edges)
        part = np.where(width > 0, inside / np.where(width > 0, width, 1), (edges[:-1] >= low) & (edges[:-1] <= high))
        weights = {k: float(p * c.train_share.get(k, 0)) for k, p in zip(self.classes, part)}
        if sum(weights.values()) <= 0:
            raise ValueError(f"{c.column} between {low:g} and {high:g} lies outside the training range "
                             f"{edges[0]:g} .. {edges[-1]:g}")
        return weights

    def sample_between(self, n: int, seed: int, low: float, high: float, draws: int = 20):
        """n rows whose numeric target lies in [low, high]: the model is asked for the ranges overlapping it
        (``range_mix``) and rows outside [low, high] are dropped, drawing again (seeds [seed, k]) until n."""
        n = check_n(n)
        import pandas as pd

        mix, column, kept = self.range_mix(low, high), self.condition.column, []
        for k in range(draws):
            rows = self.sample(2 * n, seed=seed if k == 0 else seed * 1000 + k, mix=mix)
            kept.append(rows[(rows[column] >= low) & (rows[column] <= high)])
            if sum(map(len, kept)) >= n:
                return pd.concat(kept, ignore_index=True).head(n)
        got = sum(map(len, kept))
        raise ValueError(f"only {got:,} of {draws * 2 * n:,} generated rows had {column} between {low:g} and "
                         f"{high:g}; widen the range")

    def typical_confidence(self, n: int, seed: int) -> np.ndarray:
        """Confidences distributed as the real training rows' (out-of-fold) ones, clipped to the range."""
        low, high = self.condition.range
        u = np.random.default_rng([seed, 2]).uniform(size=n)
        quantiles = self.condition.train_quantiles
        return np.interp(u, np.linspace(0, 1, len(quantiles)), quantiles).clip(low, high)

    @property
    def candidates(self) -> int:
        """Rows a confidence-conditioned sample draws per request (the card's; 1 for older cards)."""
        return int(self.condition.candidates or 1) if self.confidence_conditioned else 1

    def closest_latents(self, confidence: np.ndarray, seed: int) -> np.ndarray:
        """For each requested confidence, the latent whose row the judge scores closest to it among
        ``candidates`` drawn: the generator alone falls short of the range's ends. The noise is drawn
        in order, chunk by chunk, so the rows do not depend on the chunk size."""
        k, c = self.candidates, self.condition
        rng = noise_generator(seed)
        chosen = np.empty((len(confidence), self.latent_dim), np.float32)
        for start in range(0, len(confidence), BATCH):
            wanted = confidence[start:start + BATCH]
            z = rng.standard_normal((len(wanted) * k, self.latent_dim), dtype=np.float32)
            numeric, categorical = self.decode(z, confidence=np.repeat(wanted, k))
            x = decoded_features(self.card.columns, numeric, categorical, c.judge.features)
            score = forest_probability(self.sessions["judge"], x, c.positive_index).reshape(len(wanted), k)
            pick = np.abs(score - wanted[:, None]).argmin(1)
            chosen[start:start + len(wanted)] = z.reshape(len(wanted), k, -1)[np.arange(len(wanted)), pick]
        return chosen

    def judge_confidence(self, frame) -> np.ndarray:
        """The exported judge forest's confidence in the positive class for each row of a frame."""
        if "judge" not in self.sessions:
            raise ModelError(f"{self.id} ships no judge forest")
        c = self.condition
        return forest_confidence(self.sessions["judge"], self.card.columns, frame, c.judge.features, c.positive_index)

    def discriminate(self, frame) -> np.ndarray:
        """The model's own discriminator logit for each decoded row (higher = judged more real)."""
        if "discriminator" not in self.sessions:
            raise ModelError(f"{self.id} ships no discriminator")
        feed = encode_frame(self.card, frame)
        if self.classes:
            feed["label"] = self.one_hot(frame[self.condition.name].to_numpy())
        if self.confidence_conditioned:  # each row judged at the confidence the forest gives it
            feed["confidence"] = self.judge_confidence(frame).clip(*self.condition.range).astype(np.float32)[:, None]
        if self.instance_conditioned:  # each row judged as an instance of itself: it is in its own neighbourhood
            feed["instance"] = embed(self.condition.space, frame)
        # small batches: the in-graph quantile encoder holds [batch, columns, quantiles] floats; 8 rows keep
        # them in the CPU's cache (Adult, 1,000 rows: 0.24 s of CPU in batches of 8, 0.49 s in batches of 64)
        session, step = self.sessions["discriminator"], DISCRIMINATOR_BATCH
        parts = [session.run(None, {k: v[i:i + step] for k, v in feed.items()})[0][:, 0]
                 for i in range(0, len(frame), step)]
        return np.concatenate(parts) if parts else np.zeros(0, np.float32)


def check_n(n, limit: int = MAX_ROWS) -> int:
    """A row count from 1 to ``limit``, in the one input grammar (explorer/inputs.py)."""
    return inputs.rows(n, limit)


def encode_frame(card: Card, frame) -> dict[str, np.ndarray]:
    """A decoded table back into the contract's ``numeric`` / ``categorical`` arrays."""

    numeric, categorical = card.numeric_columns, card.categorical_columns
    num = frame[[c.name for c in numeric]].to_numpy(np.float32) if numeric else np.zeros((len(frame), 0), np.float32)
    codes = []
    for c in categorical:
        code = category_codes(frame[c.name], c.categories)
        if (code < 0).any():
            raise ValueError(f"column {c.name!r} has values outside the card's categories")
        codes.append(code)
    cat = np.stack(codes, 1) if codes else np.zeros((len(frame), 0), np.int64)
    return {"numeric": num, "categorical": cat}
