"""Interpolate: walk the latent space from seed A to seed B (linear or spherical) and watch the rows morph."""
import numpy as np
import streamlit as st

from explorer import analysis as an
from explorer import app_state as state
from explorer import charts
from explorer.images import classify, generate_images, grid
from explorer.interpolate import METHODS, path

PAGE = "interpolate"
st.title("Interpolate")
st.write("Each seed fixes one latent point (the first one the Sample page draws for that seed). The path "
         "between them is straight (linear) or follows the sphere most latent points live near (spherical).")

cards, refused = state.catalog()
model_id = state.pick_model(PAGE, cards, refused)
if model_id is None:
    st.warning("No usable model: see the Home page.")
    st.stop()
model = state.open_model(model_id)
card = model.card

c1, c2, c3 = st.columns(3)
with c1:
    seed_a = state.pick_seed(PAGE, "Seed A", "seed", 0)
with c2:
    seed_b = state.pick_seed(PAGE, "Seed B", "seed_b", 1)
with c3:
    method0 = state.initial("method", "spherical")
    if method0 not in METHODS:
        st.error(f"Unknown method {method0!r} in the URL; use linear or spherical.", icon=state.ERROR_ICON)
        method0 = "spherical"
    method = st.radio("Path", METHODS, index=METHODS.index(method0), horizontal=True, key=f"{PAGE}:method")
    state.remember("method", method)

label = None
if model.classes:
    raw = state.initial("condition", None)
    first = raw if raw in model.classes else model.classes[0]
    label = st.selectbox(f"{model.condition['name']} (held fixed along the path)", model.classes,
                         index=model.classes.index(first), key=f"{PAGE}:class")
    state.remember("condition", label)


@st.fragment
def walk():
    """The steps slider and the path it draws: moving it reruns only this part."""
    try:
        steps0 = int(state.initial("steps", 8))
        if not 2 <= steps0 <= 30:
            raise ValueError
    except (TypeError, ValueError):
        st.error("steps in the URL must be a whole number from 2 to 30; using 8.", icon=state.ERROR_ICON)
        steps0 = 8
    steps = st.slider("Steps", 2, 30, steps0, key=f"{PAGE}:steps")
    state.remember("steps", steps)
    za, zb = state.seeded_latents(model.latent_dim, seed_a, seed_b)
    z = path(za, zb, steps, method)
    if card.get("kind") == "image":
        codes = np.full(steps, model.classes.index(label)) if label is not None else None
        images = generate_images(model, z, codes)
        probs = classify(model, images)
        cols = st.columns(min(steps, 10))
        for i, img in enumerate(images):
            caption = f"step {i}"
            if probs is not None:
                caption += f": {int(probs[i].argmax())} ({probs[i].max():.0%})"
            cols[i % len(cols)].image(grid(img[None], 1), caption=caption, width="stretch")
        return
    rows = model.generate(z, [label] * steps if label is not None else None)
    st.altair_chart(charts.paths(an.numeric_paths(rows, card)), width="stretch")
    st.dataframe(an.interpolation_frame(rows), hide_index=True, width="stretch")
    st.caption(f"{method} path, {steps} steps, seed {seed_a} → seed {seed_b}; latent distance "
               f"{float(np.linalg.norm(za - zb)):.2f}.")


walk()
