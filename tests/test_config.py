"""Configuration: keyword arguments > environment > linkmsg.toml > the memory default."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import ClassVar

import attrs
import pytest

import linkmsg
from linkmsg.errors import ConfigError
from linkmsg.model import Capability
from linkmsg.provider import Provider, Settings, secret
from tests.fakes import isolate, use_providers

SECRET = "sk-live-4f9c2b7e1d"


@attrs.frozen(kw_only=True, slots=True)
class TinySettings(Settings):
    api_key: str = secret()
    region: str = "eu"
    page_size: int = 20
    timeout: float = 30.0
    verbose: bool = False
    account_id: str | None = None


class Tiny(Provider):
    """A provider with a required secret and typed settings; it never makes a request here."""

    name: ClassVar[str] = "tiny"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.LIST_CONVERSATIONS})
    settings_class: ClassVar[type[Settings]] = TinySettings


@pytest.fixture(autouse=True)
def cwd(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    use_providers(monkeypatch, Tiny)
    return isolate(monkeypatch, tmp_path)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def tiny(client: linkmsg.Client) -> TinySettings:
    assert client.provider_name == "tiny"
    settings = client.provider.settings
    assert isinstance(settings, TinySettings)
    return settings


WORK = """
    [profiles.work]
    provider = "tiny"
    api_key = "file-key"
    region = "file"
    page_size = 1
"""


# ------------------------------------------------------------------ defaults and precedence


def test_no_configuration_at_all_is_the_memory_demo() -> None:
    client = linkmsg.Client()
    assert client.provider_name == "memory"
    assert client.is_demo is True
    assert len(client.list_conversations(limit=3)) == 3


def test_naming_memory_explicitly_is_not_the_demo() -> None:
    assert linkmsg.Client("memory").is_demo is False


def test_file_profile_is_used(cwd: Path) -> None:
    write(cwd / "linkmsg.toml", WORK)
    client = linkmsg.Client()
    assert client.is_demo is False
    settings = tiny(client)
    assert (settings.api_key, settings.region, settings.page_size) == ("file-key", "file", 1)


def test_environment_beats_file_and_keywords_beat_environment(cwd: Path, monkeypatch) -> None:
    write(cwd / "linkmsg.toml", WORK)
    monkeypatch.setenv("LINKMSG_REGION", "env")
    monkeypatch.setenv("LINKMSG_API_KEY", "env-key")
    settings = tiny(linkmsg.Client())
    assert (settings.region, settings.api_key, settings.page_size) == ("env", "env-key", 1)

    settings = tiny(linkmsg.Client(region="kw"))
    assert (settings.region, settings.api_key) == ("kw", "env-key")


def test_keyword_none_means_not_given(cwd: Path, monkeypatch) -> None:
    write(cwd / "linkmsg.toml", WORK)
    monkeypatch.setenv("LINKMSG_REGION", "env")
    assert tiny(linkmsg.Client(region=None, account_id=None)).region == "env"


def test_settings_default_when_nobody_sets_them() -> None:
    settings = tiny(linkmsg.Client("tiny", api_key="k"))
    assert (settings.region, settings.page_size, settings.timeout, settings.verbose) == ("eu", 20, 30.0, False)


def test_environment_strings_are_converted_to_the_setting_type(monkeypatch) -> None:
    monkeypatch.setenv("LINKMSG_PAGE_SIZE", "50")
    monkeypatch.setenv("LINKMSG_TIMEOUT", "2.5")
    monkeypatch.setenv("LINKMSG_VERBOSE", "yes")
    settings = tiny(linkmsg.Client("tiny", api_key="k"))
    assert (settings.page_size, settings.timeout, settings.verbose) == (50, 2.5, True)


def test_environment_settings_a_provider_does_not_have_are_ignored(monkeypatch) -> None:
    # Switching vendor must not break because of another vendor's leftover variables.
    monkeypatch.setenv("LINKMSG_LOGIN_TOKEN", "left-over")
    monkeypatch.setenv("LINKMSG_API_KEY", "k")
    assert linkmsg.Client().provider_name == "memory"
    assert tiny(linkmsg.Client("tiny")).api_key == "k"


def test_linkmsg_provider_picks_the_provider(monkeypatch) -> None:
    monkeypatch.setenv("LINKMSG_PROVIDER", "tiny")
    monkeypatch.setenv("LINKMSG_API_KEY", "k")
    client = linkmsg.Client()
    assert client.provider_name == "tiny" and client.is_demo is False
    assert linkmsg.Client("memory").provider_name == "memory"  # keyword beats environment


def test_linkmsg_provider_beats_the_profile(cwd: Path, monkeypatch) -> None:
    write(cwd / "linkmsg.toml", WORK)
    monkeypatch.setenv("LINKMSG_PROVIDER", "memory")
    assert linkmsg.Client().provider_name == "memory"


def test_linkmsg_provider_uses_the_default_profile_when_it_is_for_that_provider(cwd: Path, monkeypatch) -> None:
    write(cwd / "linkmsg.toml", WORK)
    monkeypatch.setenv("LINKMSG_PROVIDER", "tiny")
    assert tiny(linkmsg.Client()).api_key == "file-key"


def test_explicit_provider_does_not_borrow_another_providers_profile(cwd: Path) -> None:
    write(cwd / "linkmsg.toml", WORK)
    assert linkmsg.Client("memory").provider_name == "memory"


# ------------------------------------------------------------------ where the file is


def test_user_config_dir(tmp_path: Path) -> None:
    write(tmp_path / "xdg" / "linkmsg" / "linkmsg.toml", WORK)
    assert tiny(linkmsg.Client()).region == "file"


def test_current_directory_beats_user_config_dir(cwd: Path, tmp_path: Path) -> None:
    write(tmp_path / "xdg" / "linkmsg" / "linkmsg.toml", WORK)
    write(cwd / "linkmsg.toml", WORK.replace('region = "file"', 'region = "cwd"'))
    assert tiny(linkmsg.Client()).region == "cwd"


def test_linkmsg_config_beats_current_directory(cwd: Path, tmp_path: Path, monkeypatch) -> None:
    write(cwd / "linkmsg.toml", WORK)
    chosen = write(tmp_path / "elsewhere" / "team.toml", WORK.replace('region = "file"', 'region = "team"'))
    monkeypatch.setenv("LINKMSG_CONFIG", str(chosen))
    assert tiny(linkmsg.Client()).region == "team"


def test_config_path_argument_beats_linkmsg_config(tmp_path: Path, monkeypatch) -> None:
    team = write(tmp_path / "team.toml", WORK.replace('region = "file"', 'region = "team"'))
    mine = write(tmp_path / "mine.toml", WORK.replace('region = "file"', 'region = "mine"'))
    monkeypatch.setenv("LINKMSG_CONFIG", str(team))
    assert tiny(linkmsg.Client(config_path=mine)).region == "mine"
    assert tiny(linkmsg.Client.from_config(mine)).region == "mine"


@pytest.mark.parametrize("how", ["env", "argument"])
def test_missing_config_file_is_an_error_naming_it(tmp_path: Path, monkeypatch, how: str) -> None:
    missing = tmp_path / "nope.toml"
    if how == "env":
        monkeypatch.setenv("LINKMSG_CONFIG", str(missing))
        call = linkmsg.Client
    else:

        def call() -> linkmsg.Client:
            return linkmsg.Client(config_path=missing)

    with pytest.raises(ConfigError, match=r"nope\.toml"):
        call()


# ------------------------------------------------------------------ profiles


PROFILES = """
    default_profile = "work"

    [profiles.work]
    provider = "tiny"
    api_key = "work-key"

    [profiles.personal]
    provider = "tiny"
    api_key = "personal-key"

    [profiles.demo]
    provider = "memory"
"""


def test_default_profile(cwd: Path) -> None:
    write(cwd / "linkmsg.toml", PROFILES)
    assert tiny(linkmsg.Client()).api_key == "work-key"


def test_linkmsg_profile_beats_default_and_profile_argument_beats_linkmsg_profile(cwd: Path, monkeypatch) -> None:
    write(cwd / "linkmsg.toml", PROFILES)
    monkeypatch.setenv("LINKMSG_PROFILE", "personal")
    assert tiny(linkmsg.Client()).api_key == "personal-key"
    assert linkmsg.Client(profile="demo").provider_name == "memory"
    assert tiny(linkmsg.Client.from_config(profile="work")).api_key == "work-key"


def test_a_single_profile_needs_no_default(cwd: Path) -> None:
    write(cwd / "linkmsg.toml", WORK)
    assert tiny(linkmsg.Client()).api_key == "file-key"


def test_several_profiles_and_no_default_is_an_error_not_the_demo(cwd: Path) -> None:
    write(cwd / "linkmsg.toml", PROFILES.replace('default_profile = "work"', ""))
    with pytest.raises(ConfigError, match=r"default_profile.*LINKMSG_PROFILE"):
        linkmsg.Client()
    assert tiny(linkmsg.Client(profile="personal")).api_key == "personal-key"
    assert linkmsg.Client("memory").provider_name == "memory"


@pytest.mark.parametrize("how", ["argument", "env"])
def test_unknown_profile(cwd: Path, monkeypatch, how: str) -> None:
    write(cwd / "linkmsg.toml", PROFILES)
    if how == "env":
        monkeypatch.setenv("LINKMSG_PROFILE", "wrok")
    with pytest.raises(ConfigError) as info:
        linkmsg.Client(profile="wrok" if how == "argument" else None)
    assert "'wrok'" in str(info.value)
    assert "demo, personal, work" in str(info.value)


def test_unknown_profile_without_a_config_file() -> None:
    with pytest.raises(ConfigError, match=r"'work'.*no config file"):
        linkmsg.Client(profile="work")


def test_undefined_default_profile(cwd: Path) -> None:
    write(cwd / "linkmsg.toml", PROFILES.replace('default_profile = "work"', 'default_profile = "wrok"'))
    with pytest.raises(ConfigError, match="'wrok'"):
        linkmsg.Client()


def test_profile_without_provider(cwd: Path) -> None:
    write(cwd / "linkmsg.toml", '[profiles.work]\napi_key = "k"\n')
    with pytest.raises(ConfigError, match=r"'work'.*'provider'"):
        linkmsg.Client()


# ------------------------------------------------------------------ env: references


def test_env_reference_is_resolved(cwd: Path, monkeypatch) -> None:
    write(cwd / "linkmsg.toml", WORK.replace('"file-key"', '"env:TINY_API_KEY"'))
    monkeypatch.setenv("TINY_API_KEY", SECRET)
    assert tiny(linkmsg.Client()).api_key == SECRET


def test_unset_env_reference_names_the_variable(cwd: Path, monkeypatch) -> None:
    write(cwd / "linkmsg.toml", WORK.replace('"file-key"', '"env:TINY_API_KEY"'))
    monkeypatch.delenv("TINY_API_KEY", raising=False)
    with pytest.raises(ConfigError) as info:
        linkmsg.Client()
    message = str(info.value)
    assert "'TINY_API_KEY'" in message and "not set" in message
    assert "'api_key'" in message and "'work'" in message


def test_a_referenced_value_never_appears_in_an_error(cwd: Path, monkeypatch) -> None:
    # A typo points a number setting at the API key variable: the error must not print the key.
    write(cwd / "linkmsg.toml", WORK.replace("page_size = 1", 'page_size = "env:TINY_API_KEY"'))
    monkeypatch.setenv("TINY_API_KEY", SECRET)
    with pytest.raises(ConfigError) as info:
        linkmsg.Client()
    assert "'page_size'" in str(info.value)
    assert SECRET not in str(info.value)


# ------------------------------------------------------------------ errors


def test_unknown_key_names_profile_and_key(cwd: Path) -> None:
    write(cwd / "linkmsg.toml", WORK + '    api_kye = "oops"\n')
    with pytest.raises(ConfigError) as info:
        linkmsg.Client()
    message = str(info.value)
    assert "'api_kye'" in message and "'work'" in message and "'tiny'" in message
    assert "api_key" in message  # the known settings are listed
    assert "file-key" not in message


def test_unknown_keyword_setting() -> None:
    with pytest.raises(ConfigError, match="'regoin'"):
        linkmsg.Client("tiny", api_key="k", regoin="us")


def test_missing_required_setting_says_how_to_set_it() -> None:
    with pytest.raises(ConfigError) as info:
        linkmsg.Client("tiny")
    message = str(info.value)
    assert "'api_key'" in message and "LINKMSG_API_KEY" in message and "'tiny'" in message


def test_bad_toml_is_a_config_error_naming_the_file(cwd: Path) -> None:
    write(cwd / "linkmsg.toml", '[profiles.work\nprovider = "tiny"\n')
    with pytest.raises(ConfigError, match=r"linkmsg.toml.*not valid TOML"):
        linkmsg.Client()


@pytest.mark.parametrize(
    "toml",
    [
        'api_key = "k"\n',  # a setting outside any profile
        'profiles = "work"\n',
        "[profiles]\nwork = 1\n",
    ],
)
def test_badly_shaped_file(cwd: Path, toml: str) -> None:
    write(cwd / "linkmsg.toml", toml)
    with pytest.raises(ConfigError, match=r"linkmsg\.toml"):
        linkmsg.Client()


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("region = 5", "region"),
        ('page_size = "many"', "page_size"),
        ("page_size = true", "page_size"),
        ("page_size = 2.5", "page_size"),
        ('timeout = "fast"', "timeout"),
        ("timeout = false", "timeout"),
        ('verbose = "maybe"', "verbose"),
        ("verbose = 1", "verbose"),
        ("account_id = [1, 2]", "account_id"),
        ("api_key = 12345", "api_key"),
    ],
)
def test_bad_types_are_config_errors_naming_the_key(cwd: Path, line: str, key: str) -> None:
    api_key = "" if key == "api_key" else 'api_key = "k"\n'
    write(cwd / "linkmsg.toml", f'[profiles.work]\nprovider = "tiny"\n{api_key}{line}\n')
    with pytest.raises(ConfigError) as info:
        linkmsg.Client()
    assert f"'{key}'" in str(info.value) and "'work'" in str(info.value)


@pytest.mark.parametrize(("var", "value"), [("LINKMSG_PAGE_SIZE", "abc"), ("LINKMSG_VERBOSE", "sometimes")])
def test_bad_environment_values(monkeypatch, var: str, value: str) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError, match=var[len("LINKMSG_") :].lower()):
        linkmsg.Client("tiny", api_key="k")


def test_toml_numbers_are_accepted_where_they_fit(cwd: Path) -> None:
    write(cwd / "linkmsg.toml", WORK + '    timeout = 5\n    verbose = true\n    account_id = "acc_1"\n')
    settings = tiny(linkmsg.Client())
    assert settings.timeout == 5.0 and isinstance(settings.timeout, float)
    assert settings.verbose is True


# ------------------------------------------------------------------ secrets


def test_secrets_are_masked_in_reprs(cwd: Path, monkeypatch) -> None:
    write(cwd / "linkmsg.toml", WORK.replace('"file-key"', '"env:TINY_API_KEY"'))
    monkeypatch.setenv("TINY_API_KEY", SECRET)
    client = linkmsg.Client()
    settings = tiny(client)
    for text in (repr(settings), str(settings), repr(client), repr(client.provider)):
        assert SECRET not in text
    assert "***" in repr(settings) and "region='file'" in repr(settings)
    assert settings.secret_values() == (SECRET,)


def test_secret_given_as_keyword_is_masked_too() -> None:
    client = linkmsg.Client("tiny", api_key=SECRET)
    assert SECRET not in repr(client)
    assert tiny(client).api_key == SECRET


def test_errors_about_other_settings_do_not_show_the_secret() -> None:
    with pytest.raises(ConfigError) as info:
        linkmsg.Client("tiny", api_key=SECRET, page_size="lots")
    assert SECRET not in str(info.value)
