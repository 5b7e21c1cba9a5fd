"""Where the client commands find their server and key: options, environment, a profile.

The config file is ``$XDG_CONFIG_HOME/descent/config.toml`` (``~/.config/descent/config.toml``
by default)::

    default = "work"                  # the profile used when none is named

    [profiles.work]
    url = "https://descent.example.com"
    api_key_file = "~/.config/descent/work.key"   # relative paths: from this file's folder

    [profiles.local]
    url = "http://127.0.0.1:8000"
    api_key = "dsk_..."               # a key written here; a file of its own can be chmod 600

Each setting is taken from the first place that has it: the command-line option, then the
environment (``DESCENT_URL``, ``DESCENT_API_KEY`` or ``DESCENT_API_KEY_FILE``), then the
profile (``--profile``, else ``DESCENT_PROFILE``, else the file's ``default``), then the
built-in default (``http://127.0.0.1:8000``, no key). A key and a key file given at the same
level are refused as ambiguous.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from descent.client import DEFAULT_URL


class ConfigError(Exception):
    """The config file, a profile or a key file cannot be used: the message says why."""


@dataclass(frozen=True)
class Options:
    """What the command line said (``None``: not given)."""

    url: str | None = None
    api_key: str | None = None
    api_key_file: str | None = None
    profile: str | None = None


@dataclass(frozen=True)
class Server:
    url: str
    api_key: str | None
    profile: str | None  # the profile read, if one was


def config_path(environ: Mapping[str, str]) -> Path:
    base = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "descent" / "config.toml"


def load_config(path: Path) -> dict[str, Any]:
    """The config file as a table; an absent file is an empty one."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None


def resolve(options: Options, environ: Mapping[str, str], path: Path | None = None) -> Server:
    """The server and key to use: option > environment > profile > built-in default."""
    path = path or config_path(environ)
    config = load_config(path)
    name, profile = _profile(options, environ, config, path)
    url = options.url or environ.get("DESCENT_URL") or profile.get("url") or DEFAULT_URL
    if not isinstance(url, str):
        raise ConfigError(f"{path}: profile {name}'s url must be a string")
    key = (
        _key(options.api_key, options.api_key_file, "--api-key", "--api-key-file", Path.cwd())
        or _key(
            environ.get("DESCENT_API_KEY"), environ.get("DESCENT_API_KEY_FILE"),
            "DESCENT_API_KEY", "DESCENT_API_KEY_FILE", Path.cwd(),
        )
        or _key(
            profile.get("api_key"), profile.get("api_key_file"),
            f"profile {name}'s api_key", "api_key_file", path.parent,
        )
    )  # fmt: skip
    return Server(url=url, api_key=key, profile=name)


def _profile(
    options: Options, environ: Mapping[str, str], config: dict[str, Any], path: Path
) -> tuple[str | None, dict[str, Any]]:
    profiles = config.get("profiles", {})
    if not isinstance(profiles, dict):
        raise ConfigError(f"{path}: profiles must be a table of [profiles.NAME] tables")
    named = options.profile or environ.get("DESCENT_PROFILE")
    name = named or config.get("default")
    if name is None:
        return None, {}
    if not isinstance(name, str):
        raise ConfigError(f'{path}: default must name a profile, e.g. default = "local"')
    if name not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        where = "" if named else f" (the default in {path})"
        raise ConfigError(
            f"no profile {name!r}{where}; the profiles in {path} are: {known}. "
            f"Add a [profiles.{name}] table with url = ... (and api_key_file = ...)"
        )
    profile = profiles[name]
    if not isinstance(profile, dict):
        raise ConfigError(f"{path}: profiles.{name} must be a table (url, api_key_file)")
    return name, profile


def _key(key: Any, key_file: Any, key_name: str, file_name: str, base: Path) -> str | None:
    """The key given at one level: as it is, or read from its file (blanks stripped)."""
    if key and key_file:
        raise ConfigError(f"{key_name} and {file_name} are both given: use one of them")
    if key:
        return str(key)
    if not key_file:
        return None
    file = base / Path(str(key_file)).expanduser()
    try:
        text = file.read_text().strip()
    except OSError as exc:
        raise ConfigError(
            f"cannot read the API key file {file} ({file_name}): {exc.strerror or exc}"
        ) from None
    if not text:
        raise ConfigError(f"the API key file {file} ({file_name}) is empty")
    return text
