"""Home: one comparison table per dataset (every model, what it is conditioned on, headline metrics with
their direction, the best of each column marked, links to the model's pages), then a compact gallery
of previews. Refused models are listed with the reason."""
import numpy as np
import pandas as pd
import streamlit as st

from explorer.app import naming, state
from explorer.runtime.images import generate_images, grid, sample_images
from explorer.runtime.models import ModelError

st.title("GAN Explorer")
st.write("Generators trained on real tables and MNIST digits, served from ONNX. Compare the models of a dataset "
         "below, then open one to sample rows or digits, condition on a class, walk through its latent space, or "
         "see how its output holds up against the real data.")

cards, refused = state.catalog()
for model_id, reason in refused.items():
    st.error(f"**{model_id}** cannot be used: {reason}", icon=state.ERROR_ICON)
if not cards:
    st.warning("No usable model in the models folder. Train and export some with "
               "`python -m training.run`, or point the environment variable `GAN_EXPLORER_MODELS` "
               "at a folder of exported models.")
    state.stop()

titles = naming.titles(cards)
by_dataset: dict[str, list[str]] = {}
for model_id, card in cards.items():
    by_dataset.setdefault(card.dataset, []).append(model_id)
# tables first, then digits; within a dataset the plain GAN, then conditional ones
order = sorted(by_dataset, key=lambda d: (any(not cards[i].tabular for i in by_dataset[d]), d))
PAGES = {"Sample": "sample", "Condition": "condition", "Diagnostics": "diagnostics"}


def comparison(ids: list[str]) -> tuple[pd.DataFrame, dict]:
    """One row per model: title, kind, condition, headline metrics, links; and the column settings."""
    rows, keys = [], []
    for model_id in ids:
        card = cards[model_id]
        metrics = state.headline(card.metrics)
        keys += [k for k in metrics if k not in keys]
        links = {page: f"{path}?model={model_id}" for page, path in PAGES.items()
                 if page != "Condition" or card.condition}
        rows.append({"model": titles[model_id], "kind": naming.kind(card), "conditioned on": naming.condition_text(card),
                     **{naming.header(k): v for k, v in metrics.items()}, **links, "id": model_id})
    frame = pd.DataFrame(rows)
    for page in PAGES:
        if page not in frame:
            frame[page] = ""
    frame[list(PAGES)] = frame[list(PAGES)].fillna("")
    config = {naming.header(k): st.column_config.NumberColumn(help=naming.METRICS.get(k, ("", "", "", ""))[3])
              for k in keys}
    config.update({page: st.column_config.LinkColumn(page, display_text=page, width="small",
                                                     help=f"Open the {page} page (new tab)")
                   for page in PAGES})
    config["model"] = st.column_config.TextColumn("model", pinned=True)
    config["id"] = st.column_config.TextColumn("id", help="The model's folder name; use it in links and the CLI.")
    return frame[["model", *[naming.header(k) for k in keys], *PAGES, "kind", "conditioned on", "id"]], \
        {"config": config, "keys": keys}


def marked(frame: pd.DataFrame, keys: list[str]):
    """The frame styled: each metric column's best value bold with a ★ (numbers stay sortable)."""
    styler = frame.style.format("{:.3f}", subset=[naming.header(k) for k in keys], na_rep="—")
    for key in keys:
        column = naming.header(key)
        top = naming.best(key, frame[column].tolist())
        if top is None:
            continue
        styler = styler.format(lambda v, top=top: "—" if pd.isna(v) else f"{v:.3f} ★" if v == top else f"{v:.3f}",
                               subset=[column])
        styler = styler.apply(lambda s, top=top: ["font-weight: bold; background-color: rgba(46, 160, 67, 0.18)"
                                                  if v == top else "" for v in s], subset=[column])
    return styler


st.caption(f"{len(cards)} model(s)" + (f", {len(refused)} refused" if refused else "")
           + ". ↑ higher is better, ↓ lower is better (a detection AUC is best at 0.5, chance); ★ marks the best "
             "of each column. Click a column header to sort; the links open a model's page.")
for dataset in order:
    ids = by_dataset[dataset]
    st.subheader(f"{dataset}: {len(ids)} model{'s' if len(ids) > 1 else ''}")
    frame, settings = comparison(ids)
    # placeholder: a metric that does not apply to a model (no "Right digit" for an unconditional one) shows "—"
    st.dataframe(marked(frame, settings["keys"]), hide_index=True, width="stretch", column_config=settings["config"],
                 placeholder=naming.NOT_APPLICABLE)
    if frame[[naming.header(k) for k in settings["keys"]]].isna().any().any():
        st.caption(f"{naming.NOT_APPLICABLE}: not measured for that model — it does not apply (Right digit needs a "
                   "digit-conditional model; Judge sure is shown for the others, where Right digit cannot be) or "
                   "the model's card lacks it.")

st.header("Previews")
st.caption("Seed 0 of every model: five rows of a table model, one of each digit (or ten samples) of a digit model.")


def preview(model_id: str) -> None:
    card = cards[model_id]
    with st.container(border=True):
        st.markdown(f"**{titles[model_id]}**  \n{naming.kind(card)}"
                    + (f" · {naming.condition_text(card)}" if card.condition else ""))
        try:
            model = state.load_model(model_id)
        except ModelError as exc:
            st.error(str(exc), icon=state.ERROR_ICON)
            return
        if card.kind == "image":
            if model.classes:  # one of each digit
                images = generate_images(model, model.noise(len(model.classes), 0), np.arange(len(model.classes)))
            else:
                images, _ = sample_images(model, 10, 0)
            st.image(grid(images, 10), width="stretch")
        else:
            st.dataframe(state.shown(card, state.sample(model_id, 5, 0)), hide_index=True, width="stretch", height=213)
        with st.container(horizontal=True):
            for page in ("Sample", "Condition", "Interpolate", "Diagnostics", "Training"):
                if page != "Condition" or card.condition:
                    st.page_link(f"app_pages/{page.lower()}.py", label=page, query_params={"model": model_id})
        with st.expander("Details"):
            training = card.training
            size = sum(f.bytes or 0 for f in card.files.values())
            st.markdown(f"- id: `{model_id}`\n- architecture: {naming.plain(card.architecture)}\n"
                        f"- latent dimension: {card.latent_dim}\n- files: {size / 1024:,.0f} KiB\n"
                        f"- training: {training.epochs_run or '?'} epochs, {training.seconds} s, "
                        f"seed {training.seed}\n- runs on: {model.provider}")


for dataset in order:
    st.subheader(dataset)
    columns = st.columns(2 if any(cards[i].tabular for i in by_dataset[dataset]) else 3)
    for i, model_id in enumerate(by_dataset[dataset]):
        with columns[i % len(columns)]:
            preview(model_id)
