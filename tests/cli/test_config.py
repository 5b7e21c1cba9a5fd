"""Where the client finds its server and key: option > environment > profile > default."""

from pathlib import Path

import pytest

from descent.client import DEFAULT_URL
from descent.config import ConfigError, Options, config_path, resolve

CONFIG = """
default = "work"

[profiles.work]
url = "https://work.example"
api_key_file = "work.key"

[profiles.local]
url = "http://127.0.0.1:9000"
api_key = "local-key"
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "descent" / "config.toml"
    path.parent.mkdir()
    path.write_text(CONFIG)
    (path.parent / "work.key").write_text("work-key\n")
    return path


def test_without_options_environment_or_file_the_built_in_default_applies(tmp_path: Path):
    server = resolve(Options(), {}, tmp_path / "absent.toml")
    assert (server.url, server.api_key, server.profile) == (DEFAULT_URL, None, None)


def test_the_default_profile_gives_its_url_and_the_key_from_its_file(config: Path):
    server = resolve(Options(), {}, config)
    assert (server.url, server.api_key, server.profile) == (
        "https://work.example",
        "work-key",
        "work",
    )


def test_a_named_profile_beats_the_default_and_the_option_beats_the_environment(config: Path):
    assert resolve(Options(), {"DESCENT_PROFILE": "local"}, config).url == "http://127.0.0.1:9000"
    chosen = resolve(Options(profile="work"), {"DESCENT_PROFILE": "local"}, config)
    assert chosen.profile == "work"


def test_the_environment_beats_the_profile(config: Path):
    env = {"DESCENT_URL": "http://env", "DESCENT_API_KEY": "env-key"}
    server = resolve(Options(), env, config)
    assert (server.url, server.api_key) == ("http://env", "env-key")


def test_an_option_beats_the_environment(config: Path, tmp_path: Path):
    key_file = tmp_path / "option.key"
    key_file.write_text("option-key")
    env = {"DESCENT_URL": "http://env", "DESCENT_API_KEY": "env-key"}
    server = resolve(Options(url="http://option", api_key_file=str(key_file)), env, config)
    assert (server.url, server.api_key) == ("http://option", "option-key")


def test_a_key_file_in_the_environment_is_read(tmp_path: Path):
    key_file = tmp_path / "k"
    key_file.write_text("  from-file \n")
    server = resolve(Options(), {"DESCENT_API_KEY_FILE": str(key_file)}, tmp_path / "none")
    assert server.api_key == "from-file"


def test_a_key_and_a_key_file_at_the_same_level_are_refused(tmp_path: Path):
    with pytest.raises(ConfigError, match="--api-key and --api-key-file are both given"):
        resolve(Options(api_key="a", api_key_file="b"), {}, tmp_path / "none")


def test_an_unreadable_key_file_is_named(tmp_path: Path):
    with pytest.raises(ConfigError, match="cannot read the API key file .*missing.key"):
        resolve(Options(api_key_file=str(tmp_path / "missing.key")), {}, tmp_path / "none")


def test_an_unknown_default_profile_names_the_file_and_the_known_profiles(config: Path):
    config.write_text('default = "gone"\n[profiles.local]\nurl = "http://x"\n')
    with pytest.raises(ConfigError, match=r"no profile 'gone' \(the default in .*\); .*: local"):
        resolve(Options(), {}, config)


def test_a_file_that_is_not_toml_gives_the_parser_message(config: Path):
    config.write_text("default = \n")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        resolve(Options(), {}, config)


def test_the_file_is_under_xdg_config_home_when_it_is_set(tmp_path: Path):
    assert config_path({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "descent/config.toml"
    assert config_path({}) == Path.home() / ".config/descent/config.toml"
