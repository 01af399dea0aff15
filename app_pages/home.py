"""Home: every exported model with its card, a sample preview and links; refused models with the reason."""
import numpy as np
import streamlit as st

from explorer.app import state
from explorer.runtime.images import generate_images, grid, sample_images
from explorer.runtime.models import ModelError, models_root

st.title("GAN Explorer")
st.write("Generators trained on real tables and MNIST digits, served from ONNX. Pick a model to sample rows "
         "or digits, condition on a class, walk through its latent space, or see how its output holds up against "
         "the real data.")

cards, refused = state.catalog()
for model_id, reason in refused.items():
    st.error(f"**{model_id}** cannot be used: {reason}", icon=state.ERROR_ICON)
if not cards:
    st.warning(f"No usable model in `{models_root()}`. Train and export some with "
               "`python -m training.run`, or point the environment variable `GAN_EXPLORER_MODELS` "
               "at a folder of exported models.")
    st.stop()

LABELS = {"detection_rf_auc": ("Detect RF", "Random-forest detection AUC on the holdout: 0.5 = real and synthetic "
                                             "rows indistinguishable, 1 = always told apart"),
          "detection_lr_auc": ("Detect LR", "Logistic-regression detection AUC: 0.5 = indistinguishable"),
          "efficacy_ratio": ("Efficacy", "AUC of a classifier trained on synthetic / trained on real rows, "
                                         "both tested on real holdout rows; 1 = as useful as real data"),
          "mean_ks_tv_complement": ("KS/TV", "Mean over columns of 1 − KS (numeric) / TV (categorical) distance; "
                                             "1 = identical marginals"),
          "conditional_accuracy": ("Cond. accuracy", "Share of samples the judge classifier labels as the digit "
                                                     "asked for (every digit equally often)"),
          "confident_share": ("Judge sure", "Share of samples the judge classifier labels with confidence > 0.9"),
          "frechet_vs_reference": ("Fréchet × ref", "Fréchet distance of samples to real test images on the judge's "
                                                    "features, as a multiple of real training images' own distance; "
                                                    "1 = as close as real data"),
          "precision": ("Precision", "Share of samples inside the real images' k-NN balls (k = 3): fidelity"),
          "recall": ("Recall", "Share of real images inside the samples' k-NN balls (k = 3): diversity")}
REFERENCE = {"frechet_vs_reference": "frechet", "precision": "precision", "recall": "recall"}

st.caption(f"{len(cards)} model(s) from `{models_root()}`" + (f", {len(refused)} refused" if refused else ""))
for model_id, card in cards.items():
    with st.container(border=True):
        st.subheader(card.get("title", model_id))
        condition = card.get("condition")
        size = sum(int(f.get("bytes", 0)) for f in card.get("files", {}).values())
        try:
            model = state.load_model(model_id)
            provider = model.provider
        except ModelError as exc:
            st.error(str(exc), icon=state.ERROR_ICON)
            continue
        training = card.get("training", {})
        facts = {
            "id": model_id, "dataset": card.get("dataset"), "kind": card.get("kind"),
            "architecture": card.get("architecture"),
            "condition": f"{condition['name']} ∈ {{{', '.join(map(str, condition.get('classes', [])))}}}"
                         if condition else "none",
            "latent dim": card.get("latent_dim"), "files": f"{size / 1024:,.0f} KiB", "runs on": provider,
            "training": f"{training.get('epochs_run', '?')} epochs, {training.get('seconds', '?')} s, seed {training.get('seed', '?')}",
        }
        left, right = st.columns([2, 3])
        left.table({"value": {k: str(v) for k, v in facts.items()}})
        metrics = state.headline(card.get("metrics") or {})
        reference = (card.get("metrics") or {}).get("reference_real_train_vs_test") or {}
        if metrics:
            cols = right.columns(len(metrics))
            for col, (key, value) in zip(cols, metrics.items()):
                label, help_text = LABELS.get(key, (key, None))
                if REFERENCE.get(key) in reference:
                    help_text += f". Real training images vs test: {reference[REFERENCE[key]]:.3f}"
                col.metric(label, f"{value:.3f}", help=help_text)
        if card.get("kind") == "image":
            if model.classes:  # one of each digit
                images = generate_images(model, model.noise(len(model.classes), 0), np.arange(len(model.classes)))
            else:
                images, _ = sample_images(model, 10, 0)
            right.image(grid(images, 10), caption="seed 0" + (", one of each digit" if model.classes else ""),
                        width="stretch")
        else:
            right.dataframe(state.sample(model_id, 5, 0), hide_index=True, width="stretch")
            right.caption("5 rows, seed 0")
        targets = [("app_pages/sample.py", "Sample"), ("app_pages/condition.py", "Condition"),
                   ("app_pages/interpolate.py", "Interpolate"), ("app_pages/diagnostics.py", "Diagnostics"),
                   ("app_pages/training.py", "Training")]
        targets = [t for t in targets if condition or t[1] != "Condition"]
        with right.container(horizontal=True):
            for page, label in targets:
                st.page_link(page, label=label, query_params={"model": model_id})
