"""Build hooks: the sdist and the wheel carry the built approval page.

pyproject.toml holds the package's metadata; this file only adds the page build. A
clean source tree (a git URL, `git archive`) has no `web/dist/`: building the wheel
or the sdist from it runs `npm ci` and `npm run build` in `web/`, so it needs Node.js.
A wheel, and an sdist, already carry the page: installing them needs no Node.
"""

import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

WEB = Path(__file__).resolve().parent / "web"
NO_NODE = (
    "approvals: building from source builds the approval page, which needs Node.js 20+ and npm on PATH "
    "(https://nodejs.org). Install Node, or install a released wheel of approvals, which carries the page."
)


def build_page() -> None:
    """Build web/dist unless this tree already carries it (an sdist, or a clone after `make web`)."""
    if (WEB / "dist" / "index.html").is_file():
        return
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise SystemExit(NO_NODE)
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
