"""Install an npm-published agent once into a project-local cache and find its native binary.

Real agents ship as a thin npm wrapper whose platform binary arrives as an optional dependency
package (``opencode-linux-x64``, ``@kilocode/cli-linux-x64``, ...). We run the binary directly
rather than the wrapper's ``bin`` script: the wrapper only re-executes it through node, and its
postinstall (which links the binary into place) may be skipped by npm's install-script policy.

Each ``pkg@version`` gets its own folder, ``<cache>/<pkg>@<version>/``; a file lock serialises
parallel runs (``--jobs``, several tox envs) so they never install into the same folder at once,
and a marker written last tells a finished install from an interrupted one.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import platform
import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.errors import TargetError

__all__ = [
    "CACHE_ENV",
    "DEFAULT_CACHE",
    "InstalledPackage",
    "cache_root",
    "ensure_installed",
    "platform_package_names",
    "tail",
]

CACHE_ENV = "FRESHNESS_NPM_CACHE"
DEFAULT_CACHE = Path(".freshness/npm")
_MARKER = ".freshness-installed"
INSTALL_TIMEOUT = 600.0


@dataclass(frozen=True)
class InstalledPackage:
    package: str
    version: str
    prefix: Path
    binary: Path
    install_seconds: float
    """0.0 when the cache already held it."""


def cache_root() -> Path:
    """Where installs live: ``$FRESHNESS_NPM_CACHE`` or ``.freshness/npm`` (gitignored)."""
    configured = os.environ.get(CACHE_ENV)
    return Path(configured).expanduser() if configured else DEFAULT_CACHE


def tail(text: str, lines: int = 20) -> str:
    """The last lines of a log, indented, for an error message a person reads."""
    kept = [line for line in text.strip().splitlines() if line.strip()][-lines:]
    return "\n".join(f"    {line}" for line in kept) or "    (empty)"


def _has_avx2() -> bool:
    try:
        return " avx2" in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def _is_musl() -> bool:
    libc, _ = platform.libc_ver()
    return libc != "glibc" and any(Path("/lib").glob("ld-musl-*"))


def platform_package_names(stem: str) -> list[str]:
    """Candidate platform packages for this machine, best first.

    ``stem`` is the package name without the platform suffix (``opencode``, ``@kilocode/cli``).
    The non-baseline build needs AVX2; the baseline build runs everywhere. Only the variants npm
    actually installed (its os/cpu/libc filters decide) will exist on disk.
    """
    system = {"linux": "linux", "darwin": "darwin", "windows": "windows"}.get(
        platform.system().lower(), platform.system().lower()
    )
    machine = platform.machine().lower()
    arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64"}.get(machine, machine)
    libc = "-musl" if system == "linux" and _is_musl() else ""
    variants = ["", "-baseline"] if arch != "x64" or _has_avx2() else ["-baseline", ""]
    return [f"{stem}-{system}-{arch}{variant}{libc}" for variant in variants]


def _find_binary(prefix: Path, stems: Sequence[str], binary: str) -> Path | None:
    for stem in stems:
        for package in platform_package_names(stem):
            candidate = prefix / "node_modules" / package / "bin" / binary
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return candidate
    return None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_installed(
    package: str,
    version: str,
    *,
    binary: str,
    platform_stems: Sequence[str],
    cache: Path | None = None,
) -> InstalledPackage:
    """Install ``package@version`` unless the cache holds it; return where its binary is.

    Blocking (npm takes 10-20 s the first time); call it from a thread in async code. Raises
    :class:`TargetError` naming the step (npm missing, npm failed, binary missing).
    """
    root = (cache or cache_root()).resolve()
    prefix = root / f"{package.replace('/', '+')}@{version}"
    with _locked(root / f".{package.replace('/', '+')}@{version}.lock"):
        found = _find_binary(prefix, platform_stems, binary)
        if found is not None and (prefix / _MARKER).exists():
            return InstalledPackage(package, version, prefix, found, 0.0)
        npm = shutil.which("npm")
        if npm is None:
            raise TargetError(f"install {package}@{version}: npm is not on PATH")
        # A half-finished folder from an interrupted install is not trusted: start clean.
        shutil.rmtree(prefix, ignore_errors=True)
        prefix.mkdir(parents=True)
        command = [
            npm,
            "install",
            "--no-audit",
            "--no-fund",
            "--no-save",
            "--prefix",
            str(prefix),
            f"{package}@{version}",
        ]
        started = time.monotonic()
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT,
                check=False,
                # npm must not pick up a package.json or .npmrc from wherever we were started.
                cwd=prefix,
            )
        except subprocess.TimeoutExpired as error:
            output = "".join(
                part.decode(errors="replace") if isinstance(part, bytes) else part
                for part in (error.stdout or "", error.stderr or "")
            )
            raise TargetError(
                f"install {package}@{version}: npm install did not finish within "
                f"{INSTALL_TIMEOUT:g}s\n{tail(output)}"
            ) from None
        seconds = time.monotonic() - started
        log = f"$ {' '.join(command)}\n{done.stdout}\n{done.stderr}"
        (prefix / "npm-install.log").write_text(log, encoding="utf-8")
        if done.returncode != 0:
            raise TargetError(
                f"install {package}@{version}: npm install exited {done.returncode}\n{tail(log)}"
            )
        found = _find_binary(prefix, platform_stems, binary)
        if found is None:
            tried = [p for stem in platform_stems for p in platform_package_names(stem)]
            raise TargetError(
                f"install {package}@{version}: no platform binary '{binary}' found under "
                f"{prefix / 'node_modules'} (looked in {', '.join(tried)}); is a build for this "
                f"platform published for this version?\n{tail(log)}"
            )
        (prefix / _MARKER).write_text(f"{package}@{version}\n", encoding="utf-8")
        return InstalledPackage(package, version, prefix, found, seconds)
