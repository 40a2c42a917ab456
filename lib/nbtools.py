"""Maintenance of the committed notebooks (used by ``make execute`` and the tests).

python -m lib.nbtools clean notebooks/00_introduction.ipynb   # strip run-specific metadata
python -m lib.nbtools sync-colab                                # write the repo URL into install cells
python -m lib.nbtools check                                     # the notebook contract, as the tests check it
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
MAX_NOTEBOOK_BYTES = 5 * 1024 * 1024
LOCAL_PATH = re.compile(
    r"(/home/[\w.-]+/|/root/|/Users/[\w.-]+/|[A-Z]:\\\\Users|site-packages/|/tmp/|/work/)"
)
COLAB_MARKER = "# Colab only: install the book's helper package"
# The Colab cell names the repository once, on a line of its own (exempt from the line limit,
# since a fork's URL may be longer).
REPOSITORY_LINE = re.compile(r'^REPOSITORY = "(?P<url>[^"]+)"$', re.M)
MAX_CODE_LINE = (
    88  # characters a code cell shows in the rendered book without scrolling
)


def notebooks() -> list[Path]:
    return sorted(p for p in NOTEBOOK_DIR.glob("*.ipynb"))


def read(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def write(path: Path, nb: dict) -> None:
    Path(path).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def repository_url() -> str:
    """The repository URL from ``book/_config.yml`` (the single place it is configured)."""
    import yaml

    config = yaml.safe_load((ROOT / "book" / "_config.yml").read_text())
    return config["repository"]["url"].rstrip("/")


def clean(path: Path) -> None:
    """Remove papermill's per-run metadata (timestamps, durations) so re-executions diff cleanly."""
    nb = read(path)
    nb.get("metadata", {}).pop("papermill", None)
    nb["metadata"]["kernelspec"] = {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    for cell in nb["cells"]:
        meta = cell.get("metadata", {})
        meta.pop("papermill", None)
        meta.pop("execution", None)
        if cell["cell_type"] == "code":
            for out in cell.get("outputs", []):
                out.get("metadata", {}).pop("papermill", None)
    write(path, nb)


def sync_colab(paths: list[Path] | None = None) -> list[Path]:
    """Point every notebook's Colab install cell at the configured repository URL."""
    url, changed = repository_url(), []
    for path in paths or notebooks():
        nb = read(path)
        for cell in nb["cells"]:
            text = source(cell)
            if COLAB_MARKER in text:
                new = REPOSITORY_LINE.sub(f'REPOSITORY = "{url}"', text)
                if new != text:
                    cell["source"] = new.splitlines(keepends=True)
                    changed.append(path)
        write(path, nb)
    return changed


def contract_problems(path: Path) -> list[str]:
    """Every way ``path`` breaks the notebook contract (see README, "The notebook contract")."""
    nb, problems = read(path), []
    name = path.name
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        problems.append(
            f"{name}: {path.stat().st_size / 1e6:.1f} MB, over the 5 MB limit"
        )
    if nb.get("metadata", {}).get("kernelspec", {}).get("name") != "python3":
        problems.append(f"{name}: kernelspec name must be 'python3'")
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    if not code or "parameters" not in code[0].get("metadata", {}).get("tags", []):
        problems.append(f"{name}: the first code cell must be tagged 'parameters'")
    else:
        params = source(code[0])
        for param in ("device", "seed", "quick", "train"):
            if not re.search(rf"^{param}\s*=", params, re.M):
                problems.append(f"{name}: the parameters cell does not set {param!r}")
    if not any(COLAB_MARKER in source(c) for c in code[:3]):
        problems.append(f"{name}: no Colab install cell among the first code cells")
    counts = [c.get("execution_count") for c in code]
    if counts != list(range(1, len(code) + 1)):
        problems.append(
            f"{name}: execution counts {counts} are not 1..{len(code)} (restart and run all)"
        )
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            for number, line in enumerate(source(cell).splitlines(), start=1):
                if len(line) > MAX_CODE_LINE and not REPOSITORY_LINE.match(line):
                    problems.append(
                        f"{name}: cell {i} line {number} has {len(line)} characters "
                        f"(at most {MAX_CODE_LINE}, or the rendered book cuts it)"
                    )
        if LOCAL_PATH.search(source(cell)):
            problems.append(f"{name}: cell {i} source holds a machine-local path")
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                problems.append(
                    f"{name}: cell {i} holds an error output ({out.get('ename')})"
                )
            text = "".join(out.get("text", "")) + json.dumps(
                out.get("data", {}).get("text/plain", "")
            )
            if LOCAL_PATH.search(text):
                problems.append(f"{name}: cell {i} output holds a machine-local path")
            if out.get("name") == "stderr" and "Traceback" in "".join(
                out.get("text", "")
            ):
                problems.append(f"{name}: cell {i} printed a traceback to stderr")
    return problems


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("clean", "sync-colab", "check"):
        print(__doc__)
        return 2
    paths = [Path(p) for p in argv[1:]] or notebooks()
    if argv[0] == "clean":
        for p in paths:
            clean(p)
        return 0
    if argv[0] == "sync-colab":
        print("updated:", [p.name for p in sync_colab(paths)])
        return 0
    problems = [msg for p in paths for msg in contract_problems(p)]
    print("\n".join(problems) or f"{len(paths)} notebooks follow the contract")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
