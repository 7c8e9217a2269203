"""Build hooks: the sdist and the wheel carry the built approval page.

pyproject.toml holds the package's metadata; this file only adds the page build.
Building the sdist or the wheel from a source tree (a clone, a git URL, `git archive`)
runs `npm ci` and `npm run build` in `web/`, so it needs Node.js 20+. A wheel and an
sdist already carry the page: installing them needs no Node.
"""

import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

ROOT = Path(__file__).resolve().parent
WEB = ROOT / "web"
NODE_MAJOR = 20
NO_NODE = (
    "approvals: building from source builds the approval page, which needs Node.js 20+ and npm on PATH "
    "(https://nodejs.org). Install Node, or install a released wheel of approvals, which carries the page."
)


def build_page() -> None:
    """Build web/dist from web/src, unless this tree is an sdist, which carries the built page.

    A source tree always builds it, so a release never ships a page older than its sources.
    """
    if (ROOT / "PKG-INFO").is_file() and (WEB / "dist" / "index.html").is_file():
        return
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        raise SystemExit(NO_NODE)
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout
    if not version.startswith("v") or int(version[1:].split(".")[0]) < NODE_MAJOR:
        raise SystemExit(f"{NO_NODE} Found node {version.strip() or 'that does not say its version'}.")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=WEB, check=True)
    subprocess.run([npm, "run", "build"], cwd=WEB, check=True)


class BuildPyWithPage(build_py):
    def run(self) -> None:
        # An editable install serves web/dist from the clone, where `make web` keeps it current.
        if not self.editable_mode:
            build_page()
        super().run()


class SdistWithPage(sdist):
    def run(self) -> None:
        build_page()
        super().run()


setup(cmdclass={"build_py": BuildPyWithPage, "sdist": SdistWithPage})
