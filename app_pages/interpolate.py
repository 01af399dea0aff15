"""Interpolate: walk the latent space from seed A to seed B (linear or spherical) and watch the rows morph;
for latent-space digit models also between two real test images (encoded, walked, decoded)."""
import numpy as np
import streamlit as st

from explorer import inputs
from explorer.metrics import analysis as an
from explorer.app import digits as dd
from explorer.app import state
from explorer.app import charts
from explorer.data.tables import DataUnavailable
from explorer.runtime.images import classify, generate_images, grid
from explorer.runtime.interpolate import METHODS, path
from explorer.text import brief

PAGE = "interpolate"
SEEDS, REAL = "two seeds", "two real test images"
st.title("Interpolate")
st.write("Each seed fixes one latent point (the first one the Sample page draws for that seed). The path "
         "between them is straight (linear) or follows the sphere most latent points live near (spherical). "
         "Latent-space digit models can also start and end at two real test images, encoded by their autoencoder.")

cards, refused = state.catalog()
model_id = state.pick_model(PAGE, cards, refused)
if model_id is None:
    st.warning("No usable model: see the Home page.")
    state.stop()
model = state.open_model(model_id)
card = model.card

ends = SEEDS
if "encoder" in model.sessions:  # latent-space digit model: real images can be encoded too
    raw = state.initial("between", SEEDS)
    ends = st.radio("Between", [SEEDS, REAL], index=1 if raw == REAL else 0, horizontal=True, key=f"{PAGE}:between",
                    help="Two real test images are encoded by the model's autoencoder, the path runs between their "
                         "latents, and every frame is decoded.")
    state.remember("between", ends if ends == REAL else None)


def pick_test_image(label: str, key: str, default: int) -> int | None:
    """Index of a real test image (from the URL or the box); None, after saying why, when out of range."""
    raw = state.initial(key, default)
    try:
        start = dd.parse_index(raw, dd.TEST_IMAGES)
    except ValueError as exc:
        st.error(f"{label} from the link: {exc}; using {default}.", icon=state.ERROR_ICON)
        start = default
    value = st.number_input(label, value=start, step=1, key=f"{PAGE}:{key}",
                            help=f"Index into the MNIST test set (0 to {dd.TEST_IMAGES - 1:,}).")
    try:
        index = dd.parse_index(value, dd.TEST_IMAGES)
    except ValueError as exc:
        st.error(str(exc), icon=state.ERROR_ICON)
        return None
    state.remember(key, index, default)
    return index


c1, c2, c3 = st.columns(3)
with c1:
    if ends == REAL:
        image_a = pick_test_image("Test image A", "image_a", 0)
    else:
        seed_a = state.pick_seed(PAGE, "Seed A", "seed", 0)
with c2:
    if ends == REAL:
        image_b = pick_test_image("Test image B", "image_b", 1)
    else:
        seed_b = state.pick_seed(PAGE, "Seed B", "seed_b", 1)
with c3:
    method0 = state.initial("method", "spherical")
    if method0 not in METHODS:
        st.error(f"Unknown method {brief(method0)} in the URL; use linear or spherical.", icon=state.ERROR_ICON)
        method0 = "spherical"
    method = st.radio("Path", METHODS, index=METHODS.index(method0), horizontal=True, key=f"{PAGE}:method")
    state.remember("method", method, "spherical")

label = None
if model.classes and ends == SEEDS:
    raw = state.initial("condition", None)
    first = raw if raw in model.classes else model.classes[0]
    label = st.selectbox(f"{model.condition.name} (held fixed along the path)", model.classes,
                         index=model.classes.index(first), key=f"{PAGE}:class")
    state.remember("condition", label, model.classes[0])


@state.fragment
def walk():
    """The steps slider and the path it draws: moving it reruns only this part."""
    try:
        steps0 = inputs.whole(state.initial("steps", 8), "steps", 2, 30)
    except inputs.InputError as exc:
        st.error(f"In the URL: {exc}; using 8.", icon=state.ERROR_ICON)
        steps0 = 8
    steps = st.slider("Steps", 2, 30, steps0, key=f"{PAGE}:steps")
    state.remember("steps", steps, 8)
    if ends == REAL:
        between_real_images(steps)
        return
    za, zb = state.seeded_latents(model.latent_dim, seed_a, seed_b)
    z = path(za, zb, steps, method)
    if card.kind == "image":
        codes = np.full(steps, model.classes.index(label)) if label is not None else None
        strip(generate_images(model, z, codes))
        st.caption(f"{method} path, {steps} steps, seed {seed_a} → seed {seed_b}"
                   + (f", digit {label} held fixed" if label is not None else "") + "; under each frame the judge's "
                   "label and confidence.")
        return
    held, fixed = {}, ""  # a confidence or instance condition is held fixed along the path, like a class
    if model.confidence_conditioned:
        held["confidence"] = np.full(steps, float(np.median(model.condition.train_quantiles)))
        fixed = f", the training rows' median confidence ({held['confidence'][0]:.2f}) held fixed"
    if model.instance_conditioned:
        held["instance"] = np.repeat(model.instances(1, seed_a), steps, axis=0)
        fixed = f", the real row that seed {seed_a} draws held fixed"
    rows = model.generate(z, [label] * steps if label is not None else None, **held)
    st.altair_chart(charts.paths(an.numeric_paths(rows, card.columns)), width="stretch")
    st.dataframe(an.interpolation_frame(rows), hide_index=True, width="stretch")
    st.caption(f"{method} path, {steps} steps, seed {seed_a} → seed {seed_b}; latent distance "
               f"{float(np.linalg.norm(za - zb)):.2f}{fixed}.")


def strip(images: np.ndarray) -> None:
    """The frames in rows of up to 10, each with the judge classifier's label and confidence."""
    probs = classify(model, images)
    cols = st.columns(min(len(images), 10))
    for i, img in enumerate(images):
        caption = f"step {i}"
        if probs is not None:
            caption += f": {int(probs[i].argmax())} ({probs[i].max():.0%})"
        cols[i % len(cols)].image(grid(img[None], 1), caption=caption, width="stretch")


def between_real_images(steps: int) -> None:
    if image_a is None or image_b is None:
        return
    try:
        walked = dd.real_path(model_id, image_a, image_b, steps, method)
    except DataUnavailable as exc:
        st.warning(state.data_help(exc, "mnist"))
        return
    cols = st.columns(10)
    for col, name, index, picture, digit in zip(cols, "AB", (image_a, image_b), walked["ends"], walked["labels"]):
        col.image(grid(picture[None], 1), caption=f"{name}: test #{index:,} (digit {digit})", width="stretch")
    strip(walked["frames"])
    st.caption(f"{method} path, {steps} steps between the encoded test images #{image_a:,} and #{image_b:,} "
               f"(latent distance {walked['distance']:.2f}); every frame, the ends included, is the decoder's "
               "image, so it differs from the real image by the autoencoder's reconstruction error.")


if ends == REAL or (seed_a is not None and seed_b is not None):
    walk()
