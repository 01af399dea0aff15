"""The demo container's recipe, executed without Docker (opt-in: GAN_EXPLORER_CONTAINER_TEST=1, set by .ci/run).

The test reads the ``Dockerfile`` and carries out its instructions on this machine: a fresh
virtualenv stands for ``FROM python:3.11-slim``, ``RUN pip install -r requirements.txt`` runs in
it, every ``COPY`` copies the same files (filtered by ``.dockerignore``) into a folder that
stands for ``WORKDIR``, ``ENV`` is applied with the container paths mapped into that folder,
``USER`` becomes an unprivileged uid (``setpriv``, when the test runs as root), and the
``ENTRYPOINT`` runs on a free loopback port. Then the ``HEALTHCHECK`` command must pass, Home and
Sample must render in headless Chromium, torch must not be importable, and the virtualenv's
installed size is printed (the README quotes it). An instruction it does not know fails the
test, so the Dockerfile and this emulation cannot drift apart silently.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parent.parent
from explorer.app.server import free_port, serve  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
UNPRIVILEGED = 65534  # nobody: stands for the image's `app` user
enabled = os.environ.get("GAN_EXPLORER_CONTAINER_TEST") == "1"


# ---------------------------------------------------------------- reading the recipe (always tested)
def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order; comments dropped, backslash continuations joined."""
    steps, pending = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or (stripped.startswith("#") and not pending):
            continue
        if stripped.startswith("#"):
            continue
        pending += stripped[:-1] + " " if stripped.endswith("\\") else stripped
        if not stripped.endswith("\\"):
            word, _, rest = pending.partition(" ")
            steps.append((word.upper(), rest.strip()))
            pending = ""
    return steps


def ignore_patterns(text: str) -> list[tuple[bool, re.Pattern]]:
    """``.dockerignore`` lines as (exclude?, regex); ``**`` spans folders, ``*`` stays inside one."""
    patterns = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keep = line.startswith("!")
        glob = line.lstrip("!").strip("/")
        regex = "".join("(.*/)?" if part == "**/" else ".*" if part == "**" else "[^/]*" if part == "*"
                        else "[^/]" if part == "?" else re.escape(part)
                        for part in re.findall(r"\*\*/|\*\*|\*|\?|[^*?]+", glob))
        patterns.append((not keep, re.compile(f"{regex}(/.*)?")))
    return patterns


def ignored(relative: str, patterns) -> bool:
    verdict = False
    for exclude, pattern in patterns:
        if pattern.fullmatch(relative):
            verdict = exclude
    return verdict


def copy_context(source: str, dest: Path, patterns) -> list[str]:
    """``COPY source dest`` from the repository, skipping what .dockerignore excludes."""
    src = ROOT / source
    if not src.exists():
        raise AssertionError(f"COPY {source}: not in the repository")
    files = [src] if src.is_file() else sorted(p for p in src.rglob("*") if p.is_file())
    copied = []
    for path in files:
        relative = path.relative_to(ROOT).as_posix()
        if ignored(relative, patterns):
            continue
        target = dest if src.is_file() else dest / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        copied.append(relative)
    return copied


def test_dockerfile_recipe_is_what_the_issue_asks():
    steps = instructions((ROOT / "Dockerfile").read_text())
    kinds = [k for k, _ in steps]
    args = dict(steps)  # last of each kind
    assert steps[0] == ("FROM", "python:3.11-slim")
    assert "USER" in kinds and args["USER"] not in ("root", "0")
    assert kinds.index("USER") > max(i for i, k in enumerate(kinds) if k in ("RUN", "COPY"))
    assert args["EXPOSE"] == "8501"
    health = args["HEALTHCHECK"]
    assert "/_stcore/health" in health and "CMD" in health and "curl" not in health  # slim has no curl
    entry = json.loads(args["ENTRYPOINT"])
    assert entry[:3] == ["streamlit", "run", "serve.py"]  # streamlit_app.py behind the security headers
    assert "--server.address=0.0.0.0" in entry and "--server.port=8501" in entry
    runs = " ".join(a for k, a in steps if k == "RUN")
    assert "pip install -r requirements.txt" in runs and "requirements-dev" not in runs
    assert not [line for line in (ROOT / "requirements.txt").read_text().splitlines() if line.startswith("torch")]
    patterns = ignore_patterns((ROOT / ".dockerignore").read_text())
    for path in ["data/adult.data", "checkpoints/adult-cgan.pt", ".git/HEAD", "explorer/__pycache__/models.pyc",
                 "exported/.tmp-adult-gan-12/card.json", "exported/.old-adult-gan/generator.onnx",
                 "training/gan.py", "tests/test_app.py", ".pytest_cache/v", "docs/screenshot-home.png"]:
        assert ignored(path, patterns), path
    for path in ["streamlit_app.py", "serve.py", "explorer/models.py", "exported/adult-cgan/generator.onnx",
                 "app_pages/home.py", "requirements.txt", ".streamlit/config.toml", "results/seed_stability.csv"]:
        assert not ignored(path, patterns), path


def test_streamlit_config_for_the_demo():
    import tomllib
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["headless"] is True
    assert config["server"]["enableXsrfProtection"] is True
    assert config["server"]["maxUploadSize"] <= 10
    assert config["client"]["showErrorDetails"] == "none"
    assert config["browser"]["gatherUsageStats"] is False


# ---------------------------------------------------------------- executing it (opt-in)
def tree_size(folder: Path) -> int:
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


class Emulation:
    """The state a `docker build` would have after each instruction, on this machine."""

    def __init__(self, base: Path):
        self.base, self.env, self.workdir, self.user = base, {}, None, None
        self.venv, self.home = base / "venv", base / "home"
        self.health, self.entry, self.port, self.copied, self.users = None, None, None, [], set()
        self.patterns = ignore_patterns((ROOT / ".dockerignore").read_text())

    def path(self, container: str) -> Path:
        """A container path inside the emulated WORKDIR (other absolute paths are refused)."""
        pure = PurePosixPath(container if container.startswith("/") else f"{self.workdir}/{container}")
        if not str(pure).startswith(str(self.workdir)):
            raise AssertionError(f"{container}: only paths under WORKDIR {self.workdir} are emulated")
        return self.base / "app" / pure.relative_to(self.workdir)

    def mapped(self, value: str) -> str:
        return str(self.path(value)) if self.workdir and value.startswith(str(self.workdir)) else value

    def process_env(self) -> dict:
        return {"PATH": f"{self.venv / 'bin'}:/usr/bin:/bin", "HOME": str(self.home), "LANG": "C.UTF-8",
                **{k: self.mapped(v) for k, v in self.env.items()}}

    def run(self, command: str) -> None:
        for part in (p.strip() for p in command.split("&&")):
            words = shlex.split(part)
            if words[:2] == ["pip", "install"]:
                # pip keeps its download cache in the real HOME (the image's layer skips it: PIP_NO_CACHE_DIR)
                env = {k: v for k, v in {**os.environ, **self.process_env(), "HOME": os.environ.get("HOME", "/root")}.items()
                       if k != "PIP_NO_CACHE_DIR"}
                done = subprocess.run([str(self.venv / "bin" / "pip"), *words[1:]], cwd=self.path("."), env=env,
                                      capture_output=True, text=True)
                assert done.returncode == 0, f"RUN {part}:\n{done.stderr[-4000:]}"
            elif words[0] == "useradd":
                self.users.add(words[-1])
                self.home.mkdir()
                os.chown(self.home, UNPRIVILEGED, UNPRIVILEGED) if os.geteuid() == 0 else None
            elif words[:2] == ["mkdir", "-p"]:
                for folder in words[2:]:
                    self.path(folder).mkdir(parents=True, exist_ok=True)
            elif words[0] == "chown":
                assert words[1].split(":")[0] in self.users, f"{part}: unknown user"
                for target in words[2:]:
                    os.chown(self.path(target), UNPRIVILEGED, UNPRIVILEGED) if os.geteuid() == 0 else None
            else:
                raise AssertionError(f"RUN {part!r}: the emulation does not know this step; teach test_container.py")

    def apply(self, kind: str, args: str) -> None:
        if kind == "FROM":
            assert args.startswith("python:3.11") and sys.version_info[:2] == (3, 11), (args, sys.version)
            subprocess.run([sys.executable, "-m", "venv", str(self.venv)], check=True)
        elif kind == "ENV":
            self.env.update(dict(word.split("=", 1) for word in shlex.split(args)))
        elif kind == "WORKDIR":
            self.workdir = PurePosixPath(args)
            (self.base / "app").mkdir()
        elif kind == "COPY":
            assert not args.startswith("--"), f"COPY flags are not emulated: {args}"
            source, dest = shlex.split(args)
            self.copied += copy_context(source.rstrip("/"), self.path(dest), self.patterns)
        elif kind == "RUN":
            self.run(args)
        elif kind == "USER":
            assert args in self.users, f"USER {args} was never created"
            self.user = args
        elif kind == "EXPOSE":
            self.port = int(args)
        elif kind == "HEALTHCHECK":
            self.health = json.loads(args[args.index("CMD") + 3:])
        elif kind == "ENTRYPOINT":
            self.entry = json.loads(args)
        else:
            raise AssertionError(f"{kind} {args}: the emulation does not know this instruction")

    def as_user(self) -> list[str]:
        if os.geteuid() == 0 and self.user and shutil.which("setpriv"):
            return ["setpriv", f"--reuid={UNPRIVILEGED}", f"--regid={UNPRIVILEGED}", "--clear-groups", "--"]
        return []


@pytest.fixture(scope="module")
def container():
    if not enabled:
        pytest.skip("opt-in: GAN_EXPLORER_CONTAINER_TEST=1 (set by .ci/run) builds a virtualenv from requirements.txt")
    base = Path(tempfile.mkdtemp(prefix="gan-explorer-container-"))
    base.chmod(0o755)  # the unprivileged user must reach the virtualenv and the app
    try:
        box = Emulation(base)
        for kind, args in instructions((ROOT / "Dockerfile").read_text()):
            box.apply(kind, args)
        yield box
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def running(container):
    port = free_port()
    command = [str(container.venv / "bin" / container.entry[0]), *container.entry[1:]]
    command = [f"--server.port={port}" if w.startswith("--server.port") else
               "--server.address=127.0.0.1" if w.startswith("--server.address") else w for w in command]
    log = container.base / "server.log"
    with serve(container.as_user() + command, port, container.path("."), container.process_env(), log,
               timeout=120) as (base, proc):
        yield base, port, proc.pid


@pytest.mark.slow
def test_image_holds_the_app_and_models_and_nothing_else(container):
    copied = set(container.copied)
    assert {"streamlit_app.py", "serve.py", "app_pages/home.py", ".streamlit/config.toml"} <= copied
    assert {f"exported/{p.parent.name}/card.json" for p in (ROOT / "exported").glob("*/card.json")} <= copied
    assert not [p for p in copied if p.startswith(("training/", "tests/", "checkpoints/", "data/"))
                or "__pycache__" in p or "/.tmp-" in p]


@pytest.mark.slow
def test_serving_virtualenv_has_no_torch_and_reports_its_size(container):
    python = str(container.venv / "bin" / "python")
    probe = "import importlib.util as u, sys; sys.exit(u.find_spec('torch') is not None)"
    assert subprocess.run([python, "-c", probe]).returncode == 0, "torch is importable in the serving virtualenv"
    site = next(container.venv.glob("lib/python*/site-packages"))
    packages = sorted(((tree_size(p), p.name) for p in site.iterdir() if p.is_dir() and not p.name.endswith("-info")),
                      reverse=True)
    total = tree_size(container.venv)
    print(f"\nserving virtualenv: {total / 1e6:,.0f} MB installed ({tree_size(site) / 1e6:,.0f} MB site-packages); "
          "largest: " + ", ".join(f"{name} {size / 1e6:,.0f} MB" for size, name in packages[:6]))
    assert total < 2_000e6


@pytest.mark.slow
def test_entrypoint_is_healthy_and_runs_unprivileged(container, running):
    base, port, pid = running
    probe = [str(container.venv / "bin" / container.health[0]), *container.health[1:]]
    probe = [w.replace(f":{container.port}/", f":{port}/") for w in probe]
    assert subprocess.run(probe, env=container.process_env(), timeout=30).returncode == 0
    import urllib.error
    import urllib.request
    headers = urllib.request.urlopen(base, timeout=30).headers
    assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    with pytest.raises(urllib.error.HTTPError, match="404"):
        urllib.request.urlopen(f"{base}/_stcore/metrics", timeout=30)
    if container.as_user():
        uid = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("Uid:"))
        assert uid.split()[1] == str(UNPRIVILEGED), uid


@pytest.mark.slow
def test_pages_render_in_headless_chromium(container, running):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is absent")
    sync_api = pytest.importorskip("playwright.sync_api")
    base = running[0]
    ids = sorted(p.parent.name for p in (ROOT / "exported").glob("*/card.json"))
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(90_000)
            page.goto(base)
            sync_api.expect(page.get_by_role("heading", name="GAN Explorer", level=1)).to_be_visible(timeout=90_000)
            cards = {i: json.loads((ROOT / "exported" / i / "card.json").read_text()) for i in ids}
            tables = [i for i in ids if cards[i]["kind"] == "tabular"]
            datasets = {c["dataset"] for c in cards.values()}
            # one comparison table per dataset; tabular models preview rows (a dataframe), digit models images
            sync_api.expect(page.locator('[data-testid="stDataFrame"]')).to_have_count(len(datasets) + len(tables),
                                                                                       timeout=90_000)
            body = page.locator("body").inner_text()
            from explorer.app.naming import titles  # the gallery names each model by its distinct title
            from explorer.runtime.models import discover
            shown = titles(discover(ROOT / "exported")[0])
            assert all(shown[model_id] in body for model_id in ids) and "cannot be used" not in body
            page.goto(f"{base}/sample?model={ids[0]}&seed=3")
            sync_api.expect(page.get_by_text("1,000 rows generated with seed 3.")).to_be_visible(timeout=90_000)
            assert page.locator('[data-testid="stException"]').count() == 0
        finally:
            browser.close()
