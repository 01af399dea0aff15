"""The app's shared state and caches: URL query parameters, model sessions, samples, real data.

The parsers (``parse_seed``, ``parse_n``, ``parse_condition``: explorer/inputs.py) raise ``ValueError``
with the message the user sees; the ``pick_*`` helpers draw the widgets, read their start value from the
URL (``?model=adult-cgan&seed=7&condition=>50K``) or from the previous page, and write the
choice back to the URL so any view can be shared. No torch here.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
import pandas as pd
import pyarrow as pa
import streamlit as st
from streamlit.runtime.scriptrunner import StopException, get_script_run_ctx

from explorer import inputs
from explorer.contract import Card
from explorer.inputs import SEED_MAX
from explorer.runtime.frames import typed_frame
from explorer.runtime.models import MAX_ROWS, Model, ModelError, discover, models_root
from explorer.text import brief
from explorer.app.failures import fragment as guarded_fragment
from explorer.app.gate import heavy

# explorer.data.tables (scikit-learn, scipy) is imported only by the functions that read real data,
# so the pages that need none (Home, Sample, Interpolate, Training) start in about a second.

APP_MAX_ROWS = 100_000  # per request in the app; the library allows more from Python
# Every cache is bounded in entries and age (docs/reliability.md, Memory): results are recomputed after
# CACHE_TTL seconds at most, models, real tables and indexes are reloaded after RESOURCE_TTL.
CACHE_TTL = 30 * 60
RESOURCE_TTL = 60 * 60
LARGE_SAMPLE = 10_000  # rows: larger samples (up to 20 MB each) share a cache of LARGE_ENTRIES
LARGE_ENTRIES = 4
PREVIEW_ROWS = 1_000  # rows rendered in a table; the CSV download holds them all
ERROR_ICON = ":material/error:"


# ---------------------------------------------------------------- parsers (no streamlit): explorer/inputs.py
parse_seed = inputs.seed
parse_condition = inputs.parse_mix  # the bulk CLI's --mix reads the same grammar
format_condition = inputs.format_mix


def parse_n(value, limit: int = APP_MAX_ROWS) -> int:
    """A row count: a whole number from 1 to ``limit`` (the message names the limit)."""
    return inputs.rows(value, limit)


# ---------------------------------------------------------------- URL state
# The URL holds only what differs from a page's defaults, and a run writes it once (``flush``): the browser
# adds one history entry per change, so Back goes to the previous view, not to the same view half-built.
# Sidebar navigation keeps the query string, so choices follow the user from page to page.
MODEL_KEYS = ("condition", "class", "confidence", "row", "grid", "between", "image_a", "image_b", "bank")
_PENDING, _PAGE = "url:pending", "url:page"
URL_SCRIPT = "<script>(() => { const q = new URLSearchParams(location.search);"  # how flush's script starts


def initial(key: str, default):
    """Start value of a control: the URL (a shared link), else what the user chose on the last page
    (Streamlit clears the query string on page changes), else ``default``."""
    pending = st.session_state.get(_PENDING, {})
    if key in pending:
        return default if pending[key] is None else pending[key]
    if key in st.query_params:
        return st.query_params[key]
    if len(st.query_params):  # a link or a history entry: it says all that differs from the defaults
        return default
    value = st.session_state.get(f"shared:{key}")
    return default if value is None else value


def remember(key: str, value, default=None) -> None:
    """Keep a choice for the URL and the next page; a value equal to ``default`` is left out of both
    (another page, or another model, may have another default). Written at the end of the run."""
    kept = None if value is None or value == default else str(value)
    st.session_state.setdefault(_PENDING, {})[key] = kept
    st.session_state[f"shared:{key}"] = kept


def flush() -> None:
    """Write the run's choices to the URL in one update. A user's change adds one browser history entry;
    the first run of a page (arriving from the sidebar, a link, Back) only completes the URL the browser
    already shows, so it replaces that entry: Streamlit's frontend would push a second one for the same view,
    and Back would then land on the same page, half-built."""
    pending = st.session_state.pop(_PENDING, None) or {}
    ctx = get_script_run_ctx()
    page = ctx.page_script_hash if ctx else None
    arrival = st.session_state.get(_PAGE) != page
    st.session_state[_PAGE] = page
    current = st.query_params.to_dict()
    wanted = {k: v for k, v in {**current, **pending}.items() if v is not None}
    if wanted == current:
        return
    if not arrival or ctx is None:
        st.query_params.from_dict(wanted)
        return
    with ctx.session_state.query_params() as params:  # the server's copy, without a message to the browser
        params.clear_with_no_forward_msg(preserve_embed=True)
        for key, value in wanted.items():
            params.set_with_no_forward_msg(key, value)
    ctx.query_string = urlencode(wanted)
    # No Streamlit call replaces the browser's URL without a new history entry, hence this script. It applies
    # only the run's own, validated choices to the URL the browser shows, so no raw input is echoed into it.
    changes = json.dumps({k: v for k, v in pending.items() if current.get(k) != v})
    changes = changes.replace("<", "\\u003c")  # JSON that can never close the script tag
    st.html(URL_SCRIPT + f" for (const [k, v] of Object.entries({changes})) {{ v === null ? q.delete(k) : q.set(k, v); }}"
            " const s = q.toString(); history.replaceState(history.state, '', location.pathname + (s ? '?' + s : ''));"
            " })();</script>", unsafe_allow_javascript=True)


def flush_after_run() -> None:
    """``flush`` at the end of every run (the app's ``finally``). A run ended by ``stop()`` has flushed
    already, and any Streamlit call, even reading the session state, raises again after a stop."""
    try:
        flush()
    except StopException:
        pass


def fragment(func):
    """``explorer.app.failures.fragment`` (``st.fragment`` with errors reported) whose URL choices are
    written when the fragment's own rerun ends."""
    def run(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        finally:
            flush()
    run.__name__, run.__doc__, run.__qualname__ = func.__name__, func.__doc__, func.__qualname__
    return guarded_fragment(run)


def stop():
    """``st.stop()`` after writing the run's URL choices (a stopped run sends nothing more)."""
    flush()
    st.stop()


def clamp_notice(what: str, asked, used, why: str) -> None:
    """Say once, where the control is, that a value from the link or another model was changed to fit."""
    st.info(f"{what}: {asked:,} {why}; using {used:,}.", icon=":material/tune:")


# ---------------------------------------------------------------- caches
def folder_signature(root: Path) -> tuple:
    """Names, sizes and mtimes of every model file under the models folder: a changed file invalidates
    the catalogue."""
    if not root.is_dir():
        return ()
    return tuple(sorted((str(p.relative_to(root)), s.st_size, s.st_mtime_ns)
                        for p in root.glob("*/*") for s in [p.stat()] if p.is_file()))


def signature_key(signature: tuple) -> str:
    """A short digest of a folder signature: Streamlit hashes a string argument far faster than
    a tuple of ~60 tuples (≈ 1 ms per call, on every rerun)."""
    return hashlib.blake2b(repr(signature).encode(), digest_size=16).hexdigest()


def model_signature(model_id: str) -> str:
    """Cache key of one model: its card's bytes (which hold every file's sha256) and each file's size
    and mtime, so a re-export or a changed file is served at once, without a restart."""
    from explorer.runtime.models import model_folders
    folder = model_folders(models_root()).get(model_id) if models_root().is_dir() else None
    if folder is None:
        return "missing"
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(folder.iterdir()):
        try:
            stat = path.stat()
            digest.update(repr((path.name, stat.st_size, stat.st_mtime_ns)).encode())
            if path.name == "card.json" and path.is_file():
                digest.update(path.read_bytes())
        except OSError:
            digest.update(path.name.encode())
    return digest.hexdigest()


# A resource, not cache_data: one shared ({id: card}, {id: reason}) that every rerun reads (the cards
# are never modified; each cached Model shares its card the same way), instead of unpickling all
# twelve cards on every click.
@st.cache_resource(show_spinner="Checking the exported models…", max_entries=8, ttl=RESOURCE_TTL)
def _discover(root: str, signature: str) -> tuple[dict, dict]:
    cards, refused = discover(Path(root))
    for model_id in list(cards):  # a card can verify while its graphs break it: loading holds them to it
        try:
            _load(root, model_id, model_signature(model_id))
        except ModelError as exc:
            refused[model_id] = str(exc)
            del cards[model_id]
    return cards, dict(sorted(refused.items()))


def per_model(max_entries: int):
    """``st.cache_data`` for a function of (model_id, ...) whose entries also key on the model's signature,
    so a re-exported model never gets results computed from the old files; bounded in entries and age."""
    def wrap(func):
        def cached(model_id, signature, *args, **kwargs):
            return func(model_id, *args, **kwargs)
        cached.__qualname__ = f"{func.__qualname__}.cached"  # Streamlit tells caches apart by name and source
        cached.__module__ = func.__module__
        cached = st.cache_data(show_spinner=False, max_entries=max_entries, ttl=CACHE_TTL)(cached)

        @functools.wraps(func)
        def call(model_id, *args, **kwargs):
            return cached(model_id, model_signature(model_id), *args, **kwargs)
        call.clear = cached.clear
        return call
    return wrap


def catalog() -> tuple[dict[str, dict], dict[str, str]]:
    """({id: card} verified and loadable, {id: reason} refused) for the models folder, cached by file stats."""
    root = models_root()
    if not root.is_dir():
        return {}, {}
    return _discover(str(root), signature_key(folder_signature(root)))


@st.cache_resource(show_spinner="Loading the model…", max_entries=32, ttl=RESOURCE_TTL)
def _load(root: str, model_id: str, signature: str) -> Model:
    return Model.load(model_id, Path(root))


def load_model(model_id: str) -> Model:
    root = models_root()
    return _load(str(root), model_id, model_signature(model_id))


def open_model(model_id: str) -> Model:
    """The page's model, or its refusal reason shown in place of the page."""
    try:
        return load_model(model_id)
    except ModelError as exc:
        st.error(str(exc), icon=ERROR_ICON)
        stop()


# Samples are shared resources, not cache_data: cache_data pickles each new sample into the cache (a
# 100,000-row sample of 26 MB took 86 MB at its peak to pickle) and unpickles a copy for every reader (each
# Diagnostics section, each session's Condition download). Readers get a shallow copy (``sample``), which
# pandas' copy-on-write keeps from changing the shared rows.
@st.cache_resource(show_spinner=False, max_entries=32, ttl=CACHE_TTL)
def _sample(root: str, model_id: str, signature: str, n: int, seed: int, mix) -> pd.DataFrame:
    model = _load(root, model_id, signature)
    with heavy():
        return model.sample(n, seed=seed, mix=mix)


@st.cache_resource(show_spinner=False, max_entries=LARGE_ENTRIES, ttl=CACHE_TTL)
def _large_sample(root: str, model_id: str, signature: str, n: int, seed: int, mix) -> pd.DataFrame:
    model = _load(root, model_id, signature)
    with heavy():
        return model.sample(n, seed=seed, mix=mix)


def _rows(root: str, model_id: str, signature: str, n: int, seed: int, mix) -> pd.DataFrame:
    """The cached sample, from the cache that fits its size (32 small ones, LARGE_ENTRIES large ones), as a
    shallow copy: the caller may add, drop or change columns without touching the shared rows."""
    cached = (_large_sample if n > LARGE_SAMPLE else _sample)(root, model_id, signature, n, seed, mix)
    return cached.copy(deep=False)


def sample(model_id: str, n: int, seed: int, mix=None) -> pd.DataFrame:
    """Cached ``Model.sample``: the same model, n, seed and condition give the same rows."""
    root = models_root()
    return _rows(str(root), model_id, model_signature(model_id), n, seed, mix)


def sample_csv(model_id: str, n: int, seed: int, mix):
    """A download button's deferred CSV, in the types a person reads (``shown``): only the keys are kept with
    the button (Streamlit holds it while the session shows it), and the rows come from the cache when clicked,
    not a copy per session."""
    card = load_model(model_id).card
    return lambda: shown(card, sample(model_id, n, seed, mix)).to_csv(index=False)


@st.cache_data(show_spinner=False, max_entries=16, ttl=CACHE_TTL)
def _between(root: str, model_id: str, signature: str, n: int, seed: int, low: float, high: float):
    model = _load(root, model_id, signature)
    with heavy():
        return model.sample_between(n, seed, low, high), model.range_mix(low, high)


def sample_between(model_id: str, n: int, seed: int, low: float, high: float) -> tuple[pd.DataFrame, dict]:
    """Cached ``Model.sample_between`` and the mix of ranges it asked for; ValueError when impossible."""
    root = models_root()
    return _between(str(root), model_id, model_signature(model_id), n, seed, float(low), float(high))


def arrow(frame: pd.DataFrame) -> pa.Table:
    """A frame as a pyarrow Table for ``st.dataframe`` (index dropped), built column by column: for
    the app's small tables this is several times cheaper than Streamlit's own conversion through
    pyarrow's pandas layer (≈ 5 ms for a 6 × 8 summary), which it would repeat on every rerun."""
    columns = {}
    for name in frame.columns:
        column = frame[name]
        if column.dtype.kind in "biuf":
            columns[str(name)] = pa.array(column.to_numpy(), from_pandas=True)  # NaN → null, as Streamlit shows it
        elif hasattr(column.array, "__arrow_array__"):  # pandas' arrow-backed strings
            values = pa.array(column.array)
            values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
            # a copy of just these rows: a slice (the head of a sample) keeps, and pickles into the cache, the
            # buffers of every row it was cut from (a 100,000-row sample's preview: 14.5 MB instead of 0.2 MB)
            columns[str(name)] = pa.concat_arrays([values])
        else:
            try:
                columns[str(name)] = pa.array(column.astype(object).to_numpy(), from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
                columns[str(name)] = pa.array(column.astype("string").array)  # mixed types: text, as Streamlit does
    return pa.table(columns)


@st.cache_data(show_spinner=False, max_entries=32, ttl=CACHE_TTL)
def _view(root: str, model_id: str, signature: str, n: int, seed: int, mix, numeric: tuple):
    from explorer.metrics.analysis import summary
    rows = _rows(root, model_id, signature, n, seed, mix)
    with heavy():
        num, cat = summary(rows, list(numeric))
        preview = shown(_load(root, model_id, signature).card, rows.head(PREVIEW_ROWS))
        return arrow(preview), arrow(num.rename_axis("column").reset_index()), arrow(cat)


def shown(card, rows: pd.DataFrame) -> pd.DataFrame:
    """Rows as a person reads them: a user table's dates as dates, its integers and booleans as such."""
    return typed_frame(card, rows)


def sample_view(model_id: str, n: int, seed: int, numeric: list[str], mix=None) -> tuple[pa.Table, pa.Table, pa.Table]:
    """What the Sample page shows of ``sample(model_id, n, seed, mix)``, ready for ``st.dataframe`` and
    cached: (the first PREVIEW_ROWS rows, numeric summary with a ``column`` column, categorical summary)."""
    root = models_root()
    return _view(str(root), model_id, model_signature(model_id), n, seed, mix, tuple(numeric))


# One shared Table per dataset, not a copy per call: cache_data would unpickle the whole table on
# every rerun (≈ 54 ms for Adult, on each Condition click). Callers only read it (filters, samples
# and column selections make new frames; pandas' copy-on-write keeps the shared one intact).
@st.cache_resource(show_spinner="Loading the real data…", max_entries=4, ttl=RESOURCE_TTL)
def _real_table(name: str, folder: str):
    from explorer.data.tables import load_table
    return load_table(name)


@st.cache_resource(show_spinner="Loading the real data…", max_entries=4, ttl=RESOURCE_TTL)
def _user_table(key: str, folder: str):
    from explorer.data.user_tables import load_for_card
    return load_for_card(json.loads(key))


def real_table(card: Card | str):
    """The real ``explorer.data.tables.Table`` a model (its card, or a built-in dataset's name) was judged on;
    raises ``DataUnavailable`` (a FileNotFoundError) when missing. A user table's is rebuilt from its source
    file. Cached per data folder, so pointing ``GAN_EXPLORER_DATA`` elsewhere takes effect at once."""
    folder = os.environ.get("GAN_EXPLORER_DATA", "data")
    if isinstance(card, Card) and card.source:
        data = card.to_dict()
        key = json.dumps({k: data.get(k) for k in ("dataset", "source", "schema", "target_column")}, sort_keys=True)
        return _user_table(key, folder)
    return _real_table(card.dataset if isinstance(card, Card) else card, folder)


def data_help(exc: Exception, dataset: str) -> str:
    """How to make real data available, for the pages that need it (no server path in it)."""
    from explorer.data.tables import DATA_ENV, OPENML_IDS, data_dir
    from explorer.data.user_tables import SourceUnavailable
    details = str(exc)
    for folder in {str(data_dir().resolve()), str(data_dir())}:
        details = details.replace(folder, "the data folder")
    if isinstance(exc, SourceUnavailable):  # a user's table: only its own file will do
        return (f"The real **{dataset}** data is not available, so this comparison cannot be made "
                f"(sampling, conditioning and interpolation still work from the model alone).\n\n{details}")
    ident = OPENML_IDS.get(dataset, "?")
    return (f"The real **{dataset}** data is not available, so this comparison cannot be made "
            f"(sampling, conditioning and interpolation still work from the models alone).\n\n"
            f"Set the environment variable `{DATA_ENV}` on the server to a folder holding the dataset files, "
            f"or run the app once on a machine that is online so it downloads OpenML dataset {ident} into that "
            f"folder.\n\nDetails: {details}")


# ---------------------------------------------------------------- widgets
@st.cache_data(show_spinner=False, max_entries=64, ttl=CACHE_TTL)
def _spec(builder: str, args: tuple, kwargs: dict) -> dict:
    from explorer.app import charts
    return getattr(charts, builder)(*args, **kwargs).to_dict()


def chart(builder: str, *args, where=None, **kwargs) -> None:
    """Draw ``explorer.app.charts.<builder>(*args, **kwargs)``; the Vega-Lite spec is cached, so a rerun
    with unchanged inputs skips building and validating the altair chart (≈ 35 ms per chart)."""
    (where or st).vega_lite_chart(spec=_spec(builder, args, kwargs), width="stretch")


HEADLINE = ("detection_rf_auc", "detection_lr_auc", "efficacy_ratio", "mean_ks_tv_complement")
# digit models: the judge's conditional accuracy (or, unconditional, its confident share), the Fréchet
# distance as a multiple of real data's own, and k-NN precision / recall on the judge's features
IMAGE_HEADLINE = ("conditional_accuracy", "confident_share", "frechet_vs_reference", "precision", "recall")


def headline(metrics: dict) -> dict:
    """The card's headline numbers: the four of ``explorer.metrics.report.headline`` for tables (without
    importing scikit-learn); for digit models those of IMAGE_HEADLINE (conditional accuracy
    replaces the confident share when the model is conditional)."""
    if any(k in metrics for k in HEADLINE):
        return {k: round(float(metrics[k]), 3) for k in HEADLINE if k in metrics}
    keys = [k for k in IMAGE_HEADLINE if not (k == "confident_share" and "conditional_accuracy" in metrics)]
    return {k: round(float(metrics[k]), 3) for k in keys if isinstance(metrics.get(k), (int, float))}


def _titles(cards: dict) -> dict[str, str]:
    from explorer.app.naming import titles
    return titles(cards)


def pick_model(page: str, cards: dict, refused: dict[str, str] | None = None,
               where=None, what: str = "models") -> str | None:
    """Model select box; an unknown or refused id in the URL gets a clear message, not a traceback.
    Called first on every page: after Back or Forward the page's controls start again from the URL."""
    ctx = get_script_run_ctx()
    if ctx is not None and ctx.is_history_navigation:
        for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(f"{page}:")]:
            del st.session_state[key]
    options = [i for i, c in cards.items() if where is None or where(c)]
    if not options:
        return None
    wanted = initial("model", None)
    if wanted is not None and wanted not in options:
        if refused and wanted in refused:
            st.error(f"Model {brief(wanted)} is refused: {refused[wanted]}", icon=ERROR_ICON)
        elif wanted in cards:
            st.warning(f"Model {brief(wanted)} does not fit this page (it shows {what}); "
                       f"showing {brief(options[0])} instead.")
        else:
            st.error(f"Unknown model {brief(wanted)} in the URL; available: {', '.join(options)}.", icon=ERROR_ICON)
        wanted = None
    index = options.index(wanted) if wanted in options else 0
    names = _titles(cards)
    choice = st.selectbox("Model", options, index=index, key=f"{page}:model",
                          format_func=lambda i: f"{names[i]} ({i})")
    if choice != options[index]:  # picked by the user: the model's own settings of the last one go
        for key in MODEL_KEYS:
            remember(key, None)
        remember("model", choice)
    elif wanted is not None:
        remember("model", choice)
    return choice


def pick_seed(page: str, label: str = "Seed", key: str = "seed", default: int = 0) -> int | None:
    """Seed box; returns None (after saying why, worded like a bad row count) when the value is not usable."""
    raw = initial(key, default)
    try:
        start = parse_seed(raw)
    except ValueError as exc:
        st.error(f"{label} = {brief(raw)} (from the link): {exc}; using {default}.", icon=ERROR_ICON)
        remember(key, None)
        start = default
    # no min/max on the box: a typed -3 gets the message below instead of the browser's bare red outline
    value = st.number_input(label, value=start, step=1, key=f"{page}:{key}",
                            help=f"A whole number from 0 to {SEED_MAX:,}. The same model, seed and condition "
                                 "always give the same output.")
    try:
        seed = parse_seed(value)
    except ValueError as exc:
        st.error(f"{label}: {exc}", icon=ERROR_ICON)
        return None
    remember(key, seed, default)
    return seed


def _over(value, limit: int) -> bool:
    """A whole count above ``limit``: clamped, not refused."""
    try:
        return inputs.rows(value, MAX_ROWS) > limit
    except ValueError:
        return False


def pick_n(page: str, default: int = 1000, limit: int = APP_MAX_ROWS, label: str = "Rows") -> int | None:
    """Row count box; a count over this page's and model's limit is clamped to it, saying so once (the
    box shows the clamped value); returns None (after showing why) when the value is not usable."""
    key = f"{page}:n"
    raw = st.session_state[key] if key in st.session_state else initial("n", default)  # the box, else the URL
    start = default
    if _over(raw, limit):  # typed, from the link, or kept from a model that allows more
        clamp_notice(label, int(float(raw)), limit, f"is more than this model allows here (at most {limit:,})")
        start = limit
        if key in st.session_state:
            st.session_state[key] = limit
    elif key not in st.session_state:
        try:
            start = parse_n(raw, limit)
        except ValueError as exc:
            st.error(f"{label} = {brief(raw)} (from the link): {exc}; using {default:,} instead.", icon=ERROR_ICON)
            remember("n", None)
    value = st.number_input(label, value=start, step=100, key=key, help=f"At most {limit:,} per request.")
    try:
        n = parse_n(value, limit)
    except ValueError as exc:
        st.error(f"{label}: {exc}", icon=ERROR_ICON)
        return None
    remember("n", n, default)
    return n


def seeded_latents(dim: int, seed_a: int, seed_b: int) -> tuple[np.ndarray, np.ndarray]:
    """The latent points the Sample page would draw first for each seed."""
    rng = lambda s: np.random.default_rng(s).standard_normal((1, dim), dtype=np.float32)[0]  # noqa: E731
    return rng(seed_a), rng(seed_b)


__all__ = ["APP_MAX_ROWS", "ModelError", "catalog", "load_model", "sample",
           "real_table", "parse_seed", "parse_n", "parse_condition", "format_condition"]
