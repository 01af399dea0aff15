"""Sample: model, n, seed → rows (or digits), a CSV / PNG download and summary statistics."""
import streamlit as st

from explorer.metrics import analysis as an
from explorer.app import naming, state
from explorer.runtime.images import grid, png_bytes, sample_images

PAGE = "sample"
st.title("Sample")
cards, refused = state.catalog()
model_id = state.pick_model(PAGE, cards, refused)
if model_id is None:
    st.warning("No usable model: see the Home page.")
    state.stop()
card = cards[model_id]
image = card.kind == "image"

TRAINING = "the training mix"
c1, c2, c3 = st.columns(3)
with c1:
    n = state.pick_n(PAGE, default=100 if image else 1000, limit=1000 if image else state.APP_MAX_ROWS,
                     label="Images" if image else "Rows")
with c2:
    seed = state.pick_seed(PAGE)
model = state.open_model(model_id)
condition = None
if model.classes:
    with c3:
        name, raw = model.condition.name, state.initial("condition", None)
        options = [TRAINING, *model.classes]
        choice = st.selectbox(name, options, index=options.index(raw) if raw in model.classes else 0, key=f"{PAGE}:class",
                              help="Every row of the class you pick (the model takes it as an input), or the classes "
                                   "mixed as in the training data. Exact mixes: the Condition page.")
        condition = None if choice == TRAINING else choice
        if condition is not None or raw in model.classes:  # a mix from the Condition page stays in the link
            state.remember("condition", condition)
if n is None or seed is None:
    state.stop()
asked = [f"{model.condition.name} {condition}"] if condition is not None else []

if image:
    images, _ = sample_images(model, n, seed, condition)
    picture = grid(images, cols=20 if n > 100 else 10)
    st.image(picture, caption=f"{n} samples" + (f", {asked[0]}" if asked else "") + f", seed {seed}", width="stretch")
    st.download_button("Download PNG", lambda: png_bytes(picture), on_click="ignore", mime="image/png",
                       file_name=naming.file_name(model_id, *asked, f"n{n}", f"seed{seed}", ext="png"))
    state.stop()

preview, numeric, categorical = state.sample_view(model_id, n, seed, an.card_numeric(card), condition)
st.dataframe(preview, hide_index=True, width="stretch")
shown = min(n, state.PREVIEW_ROWS)
st.caption(f"{n:,} rows generated with seed {seed}" + (f"; the first {shown:,} shown, the download has all."
                                                     if n > shown else "."))
st.download_button("Download CSV", state.sample_csv(model_id, n, seed, condition), mime="text/csv",
                   on_click="ignore",
                   file_name=naming.file_name(model_id, *asked, f"n{n}", f"seed{seed}", ext="csv"))

st.subheader("Summary statistics")
if numeric.num_rows:
    st.dataframe(numeric, hide_index=True, width="stretch")
if categorical.num_rows:
    st.dataframe(categorical, hide_index=True, width="stretch",
                 column_config={"share": st.column_config.NumberColumn(format="percent")})
