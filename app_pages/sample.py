"""Sample: model, n, seed → rows (or digits), a CSV / PNG download and summary statistics."""
import streamlit as st

from explorer.metrics import analysis as an
from explorer.app import state
from explorer.runtime.images import grid, png_bytes, sample_images

PAGE = "sample"
st.title("Sample")
cards, refused = state.catalog()
model_id = state.pick_model(PAGE, cards, refused)
if model_id is None:
    st.warning("No usable model: see the Home page.")
    state.stop()
card = cards[model_id]
image = card.get("kind") == "image"

c1, c2 = st.columns(2)
with c1:
    n = state.pick_n(PAGE, default=100 if image else 1000, limit=1000 if image else state.APP_MAX_ROWS,
                     label="Images" if image else "Rows")
with c2:
    seed = state.pick_seed(PAGE)
if n is None or seed is None:
    state.stop()

model = state.open_model(model_id)

if image:
    images, _ = sample_images(model, n, seed)
    picture = grid(images, cols=20 if n > 100 else 10)
    st.image(picture, caption=f"{n} samples, seed {seed}", width="stretch")
    st.download_button("Download PNG", lambda: png_bytes(picture), file_name=f"{model_id}-seed{seed}.png",
                       mime="image/png", on_click="ignore")
    state.stop()

rows = state.sample(model_id, n, seed)
preview, numeric, categorical = state.sample_view(model_id, n, seed, an.card_numeric(card))
if model.classes:
    st.caption(f"Class mix as in training ({model.condition['name']}); pick a class on the Condition page.")
st.dataframe(preview, hide_index=True, width="stretch")
shown = min(n, state.PREVIEW_ROWS)
st.caption(f"{n:,} rows generated with seed {seed}" + (f"; the first {shown:,} shown, the download has all."
                                                     if n > shown else "."))
st.download_button("Download CSV", lambda: rows.to_csv(index=False), file_name=f"{model_id}-n{n}-seed{seed}.csv",
                   mime="text/csv", on_click="ignore")

st.subheader("Summary statistics")
if numeric.num_rows:
    st.dataframe(numeric, hide_index=True, width="stretch")
if categorical.num_rows:
    st.dataframe(categorical, hide_index=True, width="stretch",
                 column_config={"share": st.column_config.NumberColumn(format="percent")})
