"""Channel settings as a plugin author reads them: the environment first, then the
settings file, then the default; secrets from the environment or a file; every mistake a
``PluginError`` that says which variable or file to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from followup import PluginError, Settings

SETTINGS = """\
[channels.email]
host = "smtp.file.example"
port = 2525
timeout = 2.5

[channels.web-hook]
url = "https://file.example/hook"
"""


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(SETTINGS, encoding="utf-8")
    return path


def test_the_environment_comes_before_the_file_and_the_file_before_the_default(
        settings_file: Path) -> None:
    env = {"FOLLOWUP_EMAIL_HOST": "smtp.env.example", "FOLLOWUP_SETTINGS": str(settings_file)}
    settings = Settings(environ=env)
    assert settings.get("email", "host") == "smtp.env.example"
    assert settings.get("email", "port") == "2525"  # the file's, as text
    assert settings.get("email", "user") is None
    assert settings.get("email", "user", "ada") == "ada"
    assert settings.get("console", "host", "x") == "x"  # no table for it
    # A file given by name wins over FOLLOWUP_SETTINGS, and no file at all is fine.
    assert Settings(environ={"FOLLOWUP_SETTINGS": "/nowhere.toml"},
                    file=settings_file).get("email", "host") == "smtp.file.example"
    assert Settings(environ={}).get("email", "host") is None


def test_a_channel_name_with_a_hyphen_reads_an_underscored_variable(settings_file: Path) -> None:
    settings = Settings(environ={"FOLLOWUP_WEB_HOOK_URL": "https://env.example"},
                        file=settings_file)
    assert settings.get("web-hook", "url") == "https://env.example"
    assert Settings(environ={}, file=settings_file).get("web-hook", "url") == (
        "https://file.example/hook")


def test_configured_means_anything_set_in_the_environment_or_the_file(
        settings_file: Path) -> None:
    settings = Settings(environ={"FOLLOWUP_SMS_TOKEN": "t", "FOLLOWUP_SMSX": "no"},
                        file=settings_file)
    assert settings.configured("sms")  # from the environment
    assert settings.configured("email") and settings.configured("web-hook")  # from the file
    assert not settings.configured("console")
    assert not Settings(environ={"FOLLOWUP_SMSX": "1", "OTHER_SMS_TOKEN": "1"}).configured("sms")


def test_required_settings_say_which_variable_and_which_file_to_set(
        settings_file: Path) -> None:
    settings = Settings(environ={"FOLLOWUP_EMAIL_USER": "  "}, file=settings_file)
    assert settings.require("email", "host") == "smtp.file.example"
    with pytest.raises(PluginError) as missing:
        settings.require("email", "password")
    assert str(missing.value) == (
        f"channel 'email' needs 'password': set FOLLOWUP_EMAIL_PASSWORD or "
        f"[channels.email] password in {settings_file}")
    with pytest.raises(PluginError, match="needs 'user': set FOLLOWUP_EMAIL_USER or"):
        settings.require("email", "user")  # blank is not set
    with pytest.raises(PluginError) as no_file:
        Settings(environ={}).require("email", "host")
    assert str(no_file.value) == "channel 'email' needs 'host': set FOLLOWUP_EMAIL_HOST"


def test_numbers_are_read_or_refused_naming_the_variable(settings_file: Path) -> None:
    env = {"FOLLOWUP_EMAIL_RETRIES": "three", "FOLLOWUP_EMAIL_WAIT": "soon"}
    settings = Settings(environ=env, file=settings_file)
    assert settings.integer("email", "port", 25) == 2525
    assert settings.integer("email", "missing", 25) == 25
    assert settings.number("email", "timeout", 10.0) == 2.5
    assert settings.number("email", "missing", 10.0) == 10.0
    with pytest.raises(PluginError) as whole:
        settings.integer("email", "retries", 3)
    assert str(whole.value) == (
        "channel 'email': FOLLOWUP_EMAIL_RETRIES must be a whole number, not 'three'")
    with pytest.raises(PluginError) as number:
        settings.number("email", "wait", 1.0)
    assert str(number.value) == "channel 'email': FOLLOWUP_EMAIL_WAIT must be a number, not 'soon'"


def test_a_secret_comes_from_the_environment_or_its_file(tmp_path: Path) -> None:
    secret = tmp_path / "smtp"
    secret.write_text("  hunter2\n", encoding="utf-8")
    from_file = Settings(environ={"FOLLOWUP_EMAIL_PASSWORD_FILE": str(secret)})
    assert from_file.secret("email", "password") == "hunter2"
    both = Settings(environ={"FOLLOWUP_EMAIL_PASSWORD": "env",
                             "FOLLOWUP_EMAIL_PASSWORD_FILE": str(secret)})
    assert both.secret("email", "password", required=True) == "env"
    assert Settings(environ={}).secret("email", "password") is None


def test_a_missing_secret_or_an_unreadable_secret_file_says_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(PluginError) as missing:
        Settings(environ={}).secret("email", "password", required=True)
    assert str(missing.value) == (
        "channel 'email' needs the secret 'password': set FOLLOWUP_EMAIL_PASSWORD or "
        "FOLLOWUP_EMAIL_PASSWORD_FILE (secrets never go in a rule pack or the settings file)")
    gone = Settings(environ={"FOLLOWUP_EMAIL_PASSWORD_FILE": str(tmp_path / "gone")})
    with pytest.raises(PluginError) as unreadable:
        gone.secret("email", "password")
    assert str(unreadable.value) == (
        "channel 'email': cannot read the secret file named by FOLLOWUP_EMAIL_PASSWORD_FILE: "
        "No such file or directory")


def test_a_settings_file_that_cannot_be_read_or_parsed_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PluginError) as gone:
        Settings(environ={"FOLLOWUP_SETTINGS": str(tmp_path / "gone.toml")})
    assert str(gone.value) == (
        f"cannot read the settings file {tmp_path / 'gone.toml'}: No such file or directory")
    bad = tmp_path / "bad.toml"
    bad.write_text("[channels.email\n", encoding="utf-8")
    with pytest.raises(PluginError, match=f"^{bad}: not valid TOML: "):
        Settings(environ={}, file=bad)


def test_options_are_given_by_name() -> None:
    with pytest.raises(TypeError):
        Settings(environ={}).secret("email", "password", True)  # type: ignore[misc]
    with pytest.raises(TypeError):
        Settings({})  # type: ignore[misc]
