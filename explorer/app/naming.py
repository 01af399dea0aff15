"""What a person reads about a model: a distinct title, what it is conditioned on, and the headline
metrics with their direction. Derived from the cards in code (the committed cards stay as exported);
no Streamlit here, so the rules are tested directly."""
from __future__ import annotations

import re

from explorer.contract import Card

# key: (label, arrow, best, help). best: "high", "low" or "half" (an AUC whose ideal is 0.5, chance).
METRICS = {
    "detection_rf_auc": ("Detection RF", "↓", "half", "Random-forest AUC telling synthetic from real holdout rows: "
                         "0.5 = indistinguishable (best), 1 = always told apart."),
    "detection_lr_auc": ("Detection LR", "↓", "half", "Logistic-regression AUC telling synthetic from real rows: "
                         "0.5 = indistinguishable (best)."),
    "efficacy_ratio": ("Efficacy", "↑", "high", "AUC of a classifier trained on synthetic rows ÷ trained on real rows, "
                       "both tested on real holdout rows; 1 = as useful as real data."),
    "mean_ks_tv_complement": ("KS/TV", "↑", "high", "Mean over columns of 1 − KS (numeric) or total-variation "
                              "(categorical) distance; 1 = identical column distributions."),
    "conditional_accuracy": ("Right digit", "↑", "high", "Share of samples the judge classifier labels as the digit "
                             "asked for (every digit equally often)."),
    "confident_share": ("Judge sure", "↑", "high", "Share of samples the judge classifier labels with "
                        "confidence > 0.9."),
    "frechet_vs_reference": ("Fréchet × real", "↓", "low", "Fréchet distance of samples to real test images on the "
                             "judge's features, as a multiple of real training images' own distance; 1 = as close "
                             "as real data."),
    "precision": ("Precision", "↑", "high", "Share of samples inside the real images' k-NN balls (k = 3): fidelity."),
    "recall": ("Recall", "↑", "high", "Share of real images inside the samples' k-NN balls (k = 3): diversity."),
}
NOT_APPLICABLE = "—"  # a metric cell that does not apply to the model (the comparison table's placeholder)
KINDS = {None: "unconditional", "label": "class-conditional", "confidence": "confidence-conditioned",
         "instance": "instance-conditioned", "range": "range-conditioned"}
_JARGON = re.compile(r"\bR\d+\b:?\s*")  # the reference reports' short names (R1 … R5) mean nothing to a reader


def plain(text: str) -> str:
    """``text`` without the internal reference-report names: 'MLP GAN (R5 baseline)' → 'MLP GAN (baseline)'."""
    return re.sub(r"\(\s*\)", "", _JARGON.sub("", str(text))).strip()


def titles(cards: dict[str, Card]) -> dict[str, str]:
    """A distinct title per model id. Titles that several cards share get the words of their id that the
    shortest id of the group lacks ('adult-cgan-balanced' → 'adult cGAN, balanced'); the id ends it
    if that still leaves two alike."""
    base = {i: plain(c.title or i) for i, c in cards.items()}
    groups: dict[str, list[str]] = {}
    for model_id, title in base.items():
        groups.setdefault(title, []).append(model_id)
    out = {}
    for title, ids in groups.items():
        if len(ids) == 1:
            out[ids[0]] = title
            continue
        shortest = set(min(ids, key=len).split("-"))
        for model_id in ids:
            extra = [w for w in model_id.split("-") if w not in shortest]
            out[model_id] = f"{title}, {' '.join(extra)}" if extra else title
    # a derived model ('adult-cgan-balanced-int8', titled 'adult cGAN, int8') takes its source's new title;
    # a model whose title adds nothing to the other's ('adult-cgan-balanced-pairs') is not derived from it
    for model_id in sorted(out, key=len):
        source = max((o for o in out if model_id.startswith(o + "-") and base[model_id].startswith(base[o])
                      and base[model_id] != base[o]), key=len, default=None)
        if source is not None and out[source] != base[source]:
            out[model_id] = out[source] + base[model_id][len(base[source]):]
    seen: dict[str, int] = {}
    for title in out.values():
        seen[title] = seen.get(title, 0) + 1
    return {i: (f"{t} ({i})" if seen[t] > 1 else t) for i, t in out.items()}


def kind(card: Card) -> str:
    return KINDS.get(card.condition_type, "conditional")


def condition_text(card: Card) -> str:
    """What a user can ask the model for, in words: 'income: <=50K or >50K', 'digit 0–9',
    'confidence that class = bad', 'a real row to imitate', or '—' for none."""
    c = card.condition
    if c is None:
        return "—"
    if c.type == "confidence":
        return f"confidence that {c.target or 'the target'} = {c.positive_class or '?'}"
    if c.type == "instance":
        return "a real row to imitate"
    if c.type == "range":
        return f"{c.column} in {len(c.classes or [])} ranges"
    classes = [str(x) for x in c.classes or []]
    if not classes:
        return c.name
    if len(classes) > 4 and all(x.isdigit() for x in classes):
        return f"{c.name} {classes[0]}–{classes[-1]}"
    shown = " or ".join(classes) if len(classes) <= 4 else ", ".join(classes[:3]) + f" … ({len(classes)})"
    return f"{c.name}: {shown}"


def header(key: str) -> str:
    """Column header with its direction arrow, e.g. 'Efficacy ↑'."""
    label, arrow, _, _ = METRICS.get(key, (key, "", "high", ""))
    return f"{label} {arrow}".strip()


def best(key: str, values: list[float]) -> float | None:
    """The best of ``values`` for metric ``key`` (ties share it); None when there is nothing to compare."""
    finite = [v for v in values if v is not None and v == v]
    if len(finite) < 2:
        return None
    rule = METRICS.get(key, ("", "", "high", ""))[2]
    if rule == "low":
        return min(finite)
    if rule == "half":
        return min(finite, key=lambda v: abs(v - 0.5))
    return max(finite)


_SIGNS = (("<=", "le"), (">=", "ge"), ("<", "lt"), (">", "gt"), ("=", "eq"))


def file_name(model_id: str, *parts, ext: str) -> str:
    """A download's name from the model and what was asked (condition, rows, seed), safe on every system:
    ``file_name("adult-cgan", "income gt50K", "n10000", "seed0", ext="csv")``."""
    words = []
    for part in (model_id, *parts):
        text = str(part)
        for sign, word in _SIGNS:
            text = text.replace(sign, word)
        text = re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-.")
        if text:
            words.append(text)
    return "-".join(words) + f".{ext}"
