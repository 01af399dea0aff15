"""Train and export the MNIST models: ``python -m training.run --dataset mnist [--arch ...]``.

Models (each exported to ``exported/mnist-<arch>/`` with the judge classifier beside it):
  latent-gan   GAN in the autoencoder's latent space (R4); ships generator → latent, decoder, encoder
  latent-cgan  the same, conditioned on the digit (R4)
  pixel-cgan   convolutional digit-conditioned GAN with a projection discriminator
  mlp-gan      R5's plain MLP GAN (784-256-1 / 100-256-784, tanh, BCE, Adam): the baseline row

The judge classifier and the autoencoder are shared prerequisites: rebuilt from a committed model made
with the same settings (training/restore.py), else trained on first use with their own fixed seed and
settings; kept in the checkpoint folder (weights only), and described in each card.
"""
from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from explorer.contract import Card, Condition, DataSplit, ImageSpec, Training
from explorer.metrics import digits as dm
from explorer.data.tables import load_mnist
from explorer.runtime.images import generate_images
from explorer.runtime.interpolate import path
from explorer.runtime.models import Model
from training import digits
from training.configs import DIGIT_DEFAULTS, DIGIT_NAMES, DIGITS as FAMILY, ARCH_KEYS, Settings, digit_config, \
    digit_record, typed
from training.digit_nets import (Classifier, CodedGenerator, CodeRecogniser, Encoder, ImageDecoder, Judge,
                                 LatentDiscriminator, LatentGenerator, MLPDiscriminator, MLPGenerator,
                                 PixelDiscriminator, PixelGenerator)
from training.export import code_version, file_entries, onnx_export, write_atomically
from training.restore import restored

ROOT = Path(__file__).resolve().parent.parent
ARCHS = ("latent-gan", "latent-cgan", "pixel-cgan", "mlp-gan")
DIGITS = [str(d) for d in range(10)]
AE_LATENT = 32
JUDGE_EPOCHS, AE_EPOCHS = 6, 12
QUICK_ROWS = 3200  # training images of a --quick GAN run
QUICK_TEST = 200  # test images a --quick judge is measured on: its FGSM table on 2,000 took 37 s of CPU


class LatentToImage(nn.Module):
    """Decoder in the contract's units: raw autoencoder latent → image."""

    def __init__(self, decoder: ImageDecoder):
        super().__init__()
        self.decoder = decoder

    def forward(self, latent):
        return self.decoder(latent)


class StandardisedGenerator(nn.Module):
    """Latent generator whose output is un-standardised in-graph, so ``latent`` feeds ``decoder.onnx``."""

    def __init__(self, G: nn.Module, mean: torch.Tensor, std: torch.Tensor):
        super().__init__()
        self.G = G
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)

    def forward(self, z, label=None):
        out = self.G(z) if label is None else self.G(z, label)
        return out * self.std + self.mean


class LatentJudge(nn.Module):
    """The latent discriminator as an image scorer: image → encoder → standardise → D."""

    def __init__(self, encoder: Encoder, D: nn.Module, mean: torch.Tensor, std: torch.Tensor):
        super().__init__()
        self.encoder, self.D = encoder, D
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)

    def forward(self, image, label=None):
        h = (self.encoder(image) - self.mean) / self.std
        if self.D.pac > 1:  # a PacGAN critic scores packs: each image is judged as a pack of its own copies
            h = h.unsqueeze(1).expand(-1, self.D.pac, -1).reshape(-1, h.shape[1])
        return self.D(h) if label is None else self.D(h, label)


class TanhToUnit(nn.Module):
    """R5's generator works in [-1, 1]; the contract's images are in [0, 1]."""

    def __init__(self, G: nn.Module):
        super().__init__()
        self.G = G

    def forward(self, z):
        return (self.G(z) + 1) / 2


class UnitToTanh(nn.Module):
    def __init__(self, D: nn.Module):
        super().__init__()
        self.D = D

    def forward(self, image):
        return self.D(image * 2 - 1)


def _cached(path: Path, build, meta: dict, defaults: dict | None = None):
    """Load a prerequisite's weights from ``path`` when made with the same ``meta``; else build and save.

    ``defaults`` fill keys missing from a stored meta (one written before the key existed).
    """
    if path.is_file():
        state = torch.load(path, weights_only=True)
        if {**(defaults or {}), **state.get("meta", {})} == meta:
            return state
    state = build()
    state["meta"] = meta
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)
    return state


def judge(data: dict, checkpoints: Path, quick: bool) -> tuple[Classifier, dict]:
    epochs = 1 if quick else JUDGE_EPOCHS
    rows = 6000 if quick else len(data["x"])
    test = QUICK_TEST if quick else len(data["xt"])  # test images measured (and attacked per epsilon)
    meta = {"epochs": epochs, "rows": rows, "seed": 0}

    def build():
        committed = restored("judge", meta, {"weights": (Judge(Classifier()), "classifier.onnx", "")})
        if committed:
            return {**committed, "weights": {k.removeprefix("net."): v for k, v in committed["weights"].items()}}
        start = time.perf_counter()
        net = digits.train_classifier(data["x"][:rows], data["y"][:rows], epochs=epochs, seed=0)
        seconds = time.perf_counter() - start
        info = {"test_accuracy": digits.accuracy(net, data["xt"][:test], data["yt"][:test]),
                "fgsm": digits.fgsm_table(net, data["xt"][:test], data["yt"][:test]),
                "seconds": round(seconds, 1)}
        return {"weights": net.state_dict(), "info": info}

    state = _cached(checkpoints / f"mnist-classifier{'-quick' if quick else ''}.pt", build, meta)
    net = Classifier()
    net.load_state_dict(state["weights"])
    return net.eval(), {**state["info"], "settings": meta, "architecture": "CNN 32-32-pool-64-pool-128-10, BatchNorm, "
                        "random ±2 px shifts, Adam one-cycle; features = the 128-d penultimate layer"}


def autoencoder(data: dict, checkpoints: Path, quick: bool, decoder_width: int = 32,
                measure: bool = True) -> tuple[Encoder, ImageDecoder, dict]:
    """The shared autoencoder (encoder width 32; decoder fc → 4w×7×7 → 2w×14×14 → 28×28 at w = ``decoder_width``).

    Cached per decoder width: the default keeps ``mnist-autoencoder.pt``, another width its own
    ``mnist-autoencoder-decoder<w>.pt``, and the width is part of the meta a cached file must match.
    ``measure`` adds the card's test figures (the 50-label test takes most of a minute on 60,000 codes).
    """
    epochs = 1 if quick else AE_EPOCHS
    rows = 6000 if quick else len(data["x"])
    meta = {"epochs": epochs, "rows": rows, "seed": 0, "latent_dim": AE_LATENT, "decoder_width": decoder_width}

    def build():
        committed = restored("autoencoder", meta, {"encoder": (Encoder(AE_LATENT), "encoder.onnx", ""),
                                                   "decoder": (ImageDecoder(AE_LATENT, width=decoder_width),
                                                               "decoder.onnx", "decoder.")})
        if committed:
            return committed
        start = time.perf_counter()
        enc, dec = digits.train_autoencoder(data["x"][:rows], AE_LATENT, epochs=epochs, seed=0,
                                            decoder_width=decoder_width)
        seconds = time.perf_counter() - start
        return {"encoder": enc.state_dict(), "decoder": dec.state_dict(), "info": {"seconds": round(seconds, 1)}}

    name = f"mnist-autoencoder{'-quick' if quick else ''}{'' if decoder_width == 32 else f'-decoder{decoder_width}'}"
    state = _cached(checkpoints / f"{name}.pt", build, meta, defaults={"decoder_width": 32})
    enc, dec = Encoder(AE_LATENT), ImageDecoder(AE_LATENT, width=decoder_width)
    enc.load_state_dict(state["encoder"])
    dec.load_state_dict(state["decoder"])
    enc.eval(), dec.eval()
    if not measure:
        return enc, dec, {**state["info"], "settings": meta}
    with torch.no_grad():
        bce = float(torch.nn.functional.binary_cross_entropy(dec(enc(data["xt"][:2000])), data["xt"][:2000]))
    return enc, dec, {**state["info"], "settings": meta, "test_reconstruction_bce": bce,
                      **few_label_accuracy(enc, data, rows=rows)}


def few_label_accuracy(enc: Encoder, data: dict, per_digit: int = 5, seed: int = 0, rows: int | None = None) -> dict:
    """R4's test: classify the test set from latent codes with 50 labelled training images.

    Only those 50 labels are used: the other 59,950 training codes take part unlabelled, through
    scikit-learn's label spreading over a k-NN graph of the standardised, unit-length codes (the
    direction of a code carries the digit, its length mostly the stroke weight); the test set is
    then classified by 10-NN on the spread labels. A plain 1-NN on the 50 is reported beside it.
    """
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.preprocessing import StandardScaler, normalize
    from sklearn.semi_supervised import LabelSpreading

    x, y = data["x"][:rows], data["y"].numpy()[:rows]
    rng = np.random.default_rng(seed)
    chosen = np.concatenate([rng.choice(np.flatnonzero(y == d), per_digit, replace=False) for d in range(10)])
    codes = digits.encode(enc, x).numpy()
    scaler = StandardScaler().fit(codes)
    train = normalize(scaler.transform(codes))
    test = normalize(scaler.transform(digits.encode(enc, data["xt"]).numpy()))
    yt = data["yt"].numpy()
    nearest = KNeighborsClassifier(1).fit(train[chosen], y[chosen])
    partial = np.full(len(y), -1)
    partial[chosen] = y[chosen]
    spread = LabelSpreading(kernel="knn", n_neighbors=10, alpha=0.99, max_iter=300).fit(train, partial)
    spread_test = KNeighborsClassifier(10).fit(train, spread.transduction_).predict(test)
    return {"labels_used": int(len(chosen)),
            "fifty_label_1nn_accuracy": float((nearest.predict(test) == yt).mean()),
            "fifty_label_spreading_accuracy": float((spread_test == yt).mean())}


def load() -> dict:
    raw = load_mnist()
    return {"x": digits.as_images(raw["x_train"]), "y": torch.from_numpy(raw["y_train"].astype(np.int64)),
            "xt": digits.as_images(raw["x_test"]), "yt": torch.from_numpy(raw["y_test"].astype(np.int64))}


def parse_settings(archs: list[str], texts: list[str]) -> dict:
    """``--set key=value`` for digit models, typed like the default it replaces (e.g. ``--set width=16``);
    keys are the digits' names (``noise_dim``, ``batch``, ...)."""
    names = [DIGIT_NAMES.get(k, k) for k in Settings.names(FAMILY) if k not in ("frozen", "seed")]
    known = set(names).union(*(set(DIGIT_DEFAULTS[a]) & set(ARCH_KEYS) for a in archs))
    field = {v: k for k, v in DIGIT_NAMES.items()}
    out = {}
    for text in texts:
        key, _, raw = text.partition("=")
        if key not in known or not raw:
            raise ValueError(f"--set expects key=value with key one of {sorted(known)}, got {text!r}")
        lacking = [a for a in archs if key in ARCH_KEYS and key not in DIGIT_DEFAULTS[a]]
        if lacking:
            raise ValueError(f"--set {key}: not a setting of {', '.join(lacking)}")
        out[key] = typed(raw, getattr(digit_config(archs[0]), field.get(key, key)), key)
    return out


def main(arch: str, command: str, out: Path, checkpoints: Path, seed: int, epochs: int | None, quick: bool,
         suffix: str, threads: int, evaluate: bool = True, overrides: list[str] = (), resume: bool = False) -> list[Path]:
    """The digit half of ``training.run``: its parser has already read every option."""
    archs = list(ARCHS) if arch == "all" else [arch]
    if any(a not in ARCHS for a in archs):
        raise SystemExit(f"unknown MNIST architecture {arch!r}; choose one of {', '.join(ARCHS)} or all")
    field = {v: k for k, v in DIGIT_NAMES.items()}
    changed = {field.get(k, k): v for k, v in parse_settings(archs, list(overrides)).items()}
    torch.set_num_threads(threads)
    data = load()
    classifier, judge_info = judge(data, checkpoints, quick)
    # shared by both latent models: loaded (and its 50-label test run) once per command
    latent = [a for a in archs if a.startswith("latent")]
    decoder_width = digit_config(latent[0], **changed).decoder_width if latent else None
    shared_ae = autoencoder(data, checkpoints, quick, decoder_width) if latent else None
    written = []
    for arch in archs:
        ae = shared_ae if arch.startswith("latent") else None
        settings = digit_config(arch, seed, quick, epochs, **changed)
        model_id = f"mnist-{arch}{suffix}"
        modules, gan = build_and_train(arch, data, settings, ae, quick, checkpoints / f"{model_id}.pt", resume)
        config = digit_record(settings, arch)
        info = Training(command=command, seed=seed, epochs_run=settings.epochs, best_epoch=settings.epochs,
                        seconds=round(gan.seconds, 1), code_version=code_version(), torch=torch.__version__,
                        python=platform.python_version(), threads=threads, config=config,
                        rows=len(data["x"]) if not quick else QUICK_ROWS)
        path = write_atomically(out, model_id, lambda tmp: _write(
            tmp, model_id, arch, modules, classifier, judge_info, ae[2] if ae else None, gan.history, info, data,
            evaluate, quick))
        print(f"exported {path} ({gan.seconds:.0f} s)")
        written.append(path)
    return written


def build_and_train(arch: str, data: dict, s: Settings, ae, quick: bool, checkpoint: Path | None = None,
                    resume: bool = False) -> tuple[dict, digits.DigitGAN]:
    """Networks for ``arch``, trained (checkpointed every epoch); returns the modules to export and the estimator.

    ``s.width`` sets the pixel cGAN's generator (fc → 4w×7×7 → 2w×14×14 → 28×28); its discriminator stays at 32.
    """
    rows = QUICK_ROWS if quick else len(data["x"])
    x, onehot = data["x"][:rows], torch.eye(10)[data["y"][:rows]]
    torch.manual_seed(s.seed)
    fit = dict(checkpoint=checkpoint, resume=resume)
    if arch.startswith("latent"):
        enc, dec, _ = ae
        codes = digits.encode(enc, x)
        mean, std = codes.mean(0), codes.std(0)
        cond = arch == "latent-cgan"
        k = 0 if cond else s.categories
        if k > s.latent_dim:
            raise ValueError(f"categories ({k}) cannot exceed noise_dim ({s.latent_dim}): the code is drawn from the noise")
        G = LatentGenerator(s.latent_dim, AE_LATENT, 10 if cond else k, s.g_hidden, s.batchnorm)
        D = LatentDiscriminator(AE_LATENT, 10 if cond else 0, s.d_hidden, s.pac)
        G, Q = (CodedGenerator(G, k), CodeRecogniser(AE_LATENT, k)) if k else (G, None)
        gan = digits.DigitGAN(s, G, D, Q).fit((codes - mean) / std, onehot if cond else None, **fit)
        return {"generator": (StandardisedGenerator(gan.generator, mean, std), ["latent"]),
                "decoder": (LatentToImage(dec), ["image"]), "encoder": (enc, ["latent"]),
                "discriminator": (LatentJudge(enc, D.eval(), mean, std), ["logit"])}, gan
    if arch == "pixel-cgan":
        G, D = PixelGenerator(s.latent_dim, 10, width=s.width), PixelDiscriminator(10)
        gan = digits.DigitGAN(s, G, D).fit(x, onehot, **fit)
        return {"generator": (gan.generator, ["image"]), "discriminator": (D.eval(), ["logit"])}, gan
    G, D = MLPGenerator(s.latent_dim), MLPDiscriminator()
    gan = digits.DigitGAN(s, G, D).fit(x * 2 - 1, None, **fit)
    return {"generator": (TanhToUnit(gan.generator), ["image"]), "discriminator": (UnitToTanh(D.eval()), ["logit"])}, gan


def _inputs(name: str, module: nn.Module, noise_dim: int, conditional: bool):
    """Example inputs (batch 8) and their names for exporting one of the model's graphs."""
    gen = torch.Generator().manual_seed(1)
    label = torch.eye(10)[torch.arange(8) % 10]
    image = torch.rand(8, 28, 28, generator=gen)
    if name == "generator":
        z = torch.randn(8, noise_dim, generator=gen)
        return ((z, label), ["z", "label"]) if conditional else ((z,), ["z"])
    if name == "decoder":
        return (torch.randn(8, AE_LATENT, generator=gen),), ["latent"]
    if name == "discriminator" and conditional:
        return (image, label), ["image", "label"]
    return (image,), ["image"]


def _export_checked(module: nn.Module, args: tuple, names: list[str], outputs: list[str], path: Path) -> None:
    """ONNX export, then onnxruntime must reproduce torch on the same inputs."""
    import onnxruntime as ort

    module.eval()
    onnx_export(module, args, names, outputs, path)
    with torch.no_grad():
        expected = module(*args)
    expected = expected if isinstance(expected, tuple) else (expected,)
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {n: a.numpy() for n, a in zip(names, args)})
    for e, g, o in zip(expected, got, outputs):
        if not np.allclose(e.numpy(), g, atol=1e-4, rtol=1e-3):
            raise AssertionError(f"{path.name}: onnxruntime output {o!r} differs from torch "
                                 f"(max {np.abs(e.numpy() - g).max():.2e})")


def _write(tmp: Path, model_id: str, arch: str, modules: dict, classifier: Classifier, judge_info: dict,
           ae_info: dict | None, history: list, training: Training, data: dict, evaluate: bool, quick: bool) -> None:
    conditional = arch.endswith("cgan")
    noise_dim = training.config["noise_dim"]
    modules = {**modules, "classifier": (Judge(classifier), ["probs", "features"])}
    files = {}
    for name, (module, outputs) in modules.items():
        args, names = _inputs(name, module, noise_dim, conditional)
        _export_checked(module, args, names, outputs, tmp / f"{name}.onnx")
        files[name] = f"{name}.onnx"
    (tmp / "history.json").write_text(json.dumps(history))
    files["history"] = "history.json"
    counts = np.bincount(data["y"].numpy(), minlength=10)
    card = Card(
        id=model_id, title=TITLES[arch], kind="image", dataset="mnist",
        architecture=architecture(arch, training.config), latent_dim=noise_dim,
        latent_distribution="standard normal, drawn with numpy.random.default_rng(seed).standard_normal",
        condition=Condition(type="label", name="digit", classes=list(DIGITS),
                            train_share={d: float(c / counts.sum()) for d, c in zip(DIGITS, counts)}) if conditional else None,
        image=ImageSpec(shape=[28, 28], range=[0, 1]),
        files=file_entries(tmp, files),
        training=training,
        judge=judge_info,
        autoencoder=ae_info,
        data=DataSplit(train_rows=len(data["x"]), test_rows=len(data["xt"])),
    )
    (tmp / "card.json").write_text(card.to_json())
    if evaluate:
        metrics = evaluate_digits(Model.from_folder(tmp), data, n=2000 if quick else 10_000)
        (tmp / "card.json").write_text(card.replace(metrics=metrics).to_json())


TITLES = {"latent-gan": "MNIST latent GAN", "latent-cgan": "MNIST latent cGAN (digit)",
          "pixel-cgan": "MNIST pixel cGAN (digit)", "mlp-gan": "MNIST plain MLP GAN (R5 baseline)"}
ARCHITECTURES = {
    "latent-gan": f"MLP GAN in a {AE_LATENT}-d conv autoencoder latent: G {{noise}}{{code}} → {{g}} → {AE_LATENT}{{bn}}, "
                  f"D {{d}} → 1{{pac}}, {{loss}}, EMA generator; decoder {AE_LATENT} → {{c7}}×7×7 → {{c14}}×14×14 → "
                  "1×28×28",
    "latent-cgan": f"conditional MLP GAN in a {AE_LATENT}-d conv autoencoder latent: G 32+digit → 256-256 → "
                   f"{AE_LATENT}, D latent+digit → 256-256 → 1 (R4), BCE, EMA generator; decoder {AE_LATENT} → "
                   "{c7}×7×7 → {c14}×14×14 → 1×28×28",
    "pixel-cgan": "DCGAN-style conditional GAN: G {noise}+digit → {c7}×7×7 → {c14}×14×14 → 1×28×28; spectral-norm "
                  "CNN D with a projection head for the digit; hinge loss, EMA generator",
    "mlp-gan": "R5: G Linear(100,256)-ReLU-Linear(256,784)-Tanh; D Linear(784,256)-LeakyReLU(0.2)-Linear(256,1); "
               "BCE, Adam(2e-4, β1 0.5)",
}


def architecture(arch: str, config: dict) -> str:
    """The card's architecture line, with the network sizes the run used."""
    if arch == "latent-gan":
        config = {**digit_record(digit_config(arch), arch), **config}  # a partial config: the defaults fill in
        width, pac = config["decoder_width"], config["pac"]
        loss = {"bce": "BCE", "hinge": "hinge loss", "wgan-gp": f"WGAN-GP (λ {config['gp_weight']:g})"}[config["loss"]]
        return ARCHITECTURES[arch].format(
            noise=config["noise_dim"], g="-".join(map(str, config["g_hidden"])),
            code=(f" + a {config['categories']}-valued code from the noise (InfoGAN term × {config['info_weight']:g}, "
                  "no labels)" if config["categories"] else ""),
            bn=" (BatchNorm)" if config["batchnorm"] else "", d="-".join(map(str, config["d_hidden"])),
            pac=f" per pack of {pac} (PacGAN)" if pac > 1 else "", loss=loss, c7=4 * width, c14=2 * width)
    if arch.startswith("latent"):
        width = config.get("decoder_width", 32)
        return ARCHITECTURES[arch].format(c7=4 * width, c14=2 * width)
    if arch != "pixel-cgan":
        return ARCHITECTURES[arch]
    width = config.get("width", 32)
    return ARCHITECTURES[arch].format(noise=config["noise_dim"], c7=4 * width, c14=2 * width)


def evaluate_digits(model: Model, data: dict, n: int = 10_000, seed: int = 0, pairs: int = 50,
                    steps: int = 10) -> dict:
    """The card's metrics, measured through the exported ONNX graphs against the real test set."""
    session = model.sessions["classifier"]
    test = data["xt"].numpy()[:n]
    rng = np.random.default_rng(seed)
    train = data["x"].numpy()[rng.choice(len(data["x"]), min(n, len(data["x"])), replace=False)]
    _, f_test = dm.judge(session, test)
    _, f_train = dm.judge(session, train)
    codes = model.label_codes(n, seed, {d: 1.0 for d in DIGITS}) if model.classes else None
    images = generate_images(model, model.noise(n, seed), codes)
    probs, f_fake = dm.judge(session, images)
    reference, measured = dm.compare(f_test, f_train, seed=seed), dm.compare(f_test, f_fake, seed=seed)
    metrics = {"samples": n, "reference_real_train_vs_test": reference, **measured, **dm.relative(measured, reference),
               "confident_share": dm.confident_share(probs)}
    if codes is not None:
        acc = dm.conditional_accuracy(probs, codes)
        metrics.update(conditional_accuracy=acc["overall"], conditional_accuracy_per_digit=acc["per_digit"],
                       worst_digit_accuracy=min(acc["per_digit"].values()))
    else:
        metrics["digit_distribution"] = dm.digit_distribution(probs)
    metrics["interpolation"] = interpolation_metrics(model, data, pairs, steps, seed)
    return metrics


def interpolation_metrics(model: Model, data: dict, pairs: int, steps: int, seed: int) -> dict:
    """Share of frames the judge labels with confidence > 0.9 along latent paths (R4's claim)."""
    from explorer.runtime.images import decode_latents, encode_images

    session = model.sessions["classifier"]
    z = model.noise(2 * pairs, seed + 1)
    codes = np.repeat(np.arange(pairs) % 10, steps) if model.classes else None
    out = {}
    for method in ("linear", "spherical"):
        frames = np.concatenate([path(z[2 * i], z[2 * i + 1], steps, method) for i in range(pairs)])
        out[f"generated_{method}"] = dm.confident_share(dm.judge(session, generate_images(model, frames, codes))[0])
        if "encoder" in model.sessions:
            real = data["xt"].numpy()[np.random.default_rng(seed).choice(len(data["xt"]), 2 * pairs, replace=False)]
            latents = encode_images(model, real)
            frames = np.concatenate([path(latents[2 * i], latents[2 * i + 1], steps, method) for i in range(pairs)])
            out[f"encoded_real_{method}"] = dm.confident_share(dm.judge(session, decode_latents(model, frames))[0])
    out.update(pairs=pairs, steps=steps)
    return out
