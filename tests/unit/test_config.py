"""Config loading: good files load, bad ones are refused with where and how to fix."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from pbxtui.config import ConfigError, DialupConfig, expand_extensions, load_config, parse_config
from pbxtui.redact import scrub

GOOD = """
[settings]
read_only = false

[[pbx]]
name = "hq"
kind = "pbxcloud"
url = "https://pbx.example.com/pbx/proxyapi.php"
tenant = "ACME"
key = { env = "HQ_API_KEY" }
poll_interval = 2.0

[[pbx]]
name = "ist"
kind = "iexpbx"
url = "https://pbx.example.com.tr/api/old/get"
username = "api"
password = { file = "ist.secret" }
protected = true

[[pbx]]
name = "branch"
kind = "dialup"
url = "https://voip.example.co.il/API/dialup.php"
user = "webuser"
pass = "CANARY-literal-pass"
org = "demo"
extensions = ["101", "200-203"]
brand = "cloudplus"
"""


def load(text: str, tmp_path: Path) -> object:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return load_config(path)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("HQ_API_KEY", "CANARY-env-key")
    (tmp_path / "ist.secret").write_text("CANARY-file-pass\n")
    (tmp_path / "ist.secret").chmod(0o600)
    return tmp_path


def test_good_config_loads_every_kind(env: Path) -> None:
    config = load(GOOD, env)
    hq, ist, branch = config.pbx  # type: ignore[attr-defined]
    assert hq.key.get_secret_value() == "CANARY-env-key"
    assert hq.poll_interval == 2.0
    assert ist.password.get_secret_value() == "CANARY-file-pass"
    assert ist.protected is True
    assert isinstance(branch, DialupConfig)
    assert branch.extensions == ("101", "200", "201", "202", "203")
    assert branch.pass_.get_secret_value() == "CANARY-literal-pass"
    assert "CANARY" not in repr(config) and "CANARY" not in str(config)


def error_for(text: str, tmp_path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load(text, tmp_path)
    return str(info.value)


def test_unset_environment_variable_is_named_value_never_printed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("HQ_API_KEY", raising=False)
    (tmp_path / "ist.secret").write_text("CANARY-file-pass")
    message = error_for(GOOD, tmp_path)
    assert "config.toml" in message
    assert 'line 10: [[pbx]] #1 "hq" field "key": ' in message
    assert "HQ_API_KEY is not set" in message
    assert "CANARY" not in message


def test_wrong_type_names_file_line_entry_and_field(env: Path) -> None:
    message = error_for(GOOD.replace("poll_interval = 2.0", 'poll_interval = "fast"'), env)
    assert str(env / "config.toml") in message
    assert 'line 11: [[pbx]] #1 "hq" field "poll_interval"' in message
    assert "valid number" in message


def test_unknown_kind_lists_the_kinds(env: Path) -> None:
    message = error_for(GOOD.replace('kind = "iexpbx"', 'kind = "asterisk"'), env)
    assert '[[pbx]] #2 "ist" field "kind"' in message
    assert '"pbxcloud", "iexpbx", "dialup"' in message


def test_missing_field_and_unknown_field(env: Path) -> None:
    text = GOOD.replace('tenant = "ACME"\n', 'tennant = "ACME"\n')
    message = error_for(text, env)
    assert 'field "tenant": Field required' in message
    assert '[[pbx]] #1 "hq": unknown field "tennant" — did you mean "tenant"?' in message


def test_duplicate_names_refused_naming_both_lines(env: Path) -> None:
    message = error_for(GOOD.replace('name = "ist"', 'name = "hq"'), env)
    assert 'lines 6 and 14: [[pbx]] #1 and #2 are both named "hq"' in message
    assert "names must be unique" in message


def test_three_of_one_name_and_two_of_another(env: Path) -> None:
    text = GOOD.replace('name = "ist"', 'name = "hq"').replace('name = "branch"', 'name = "hq"')
    text += text[text.index("[[pbx]]") :].replace('name = "hq"', 'name = "eu"')
    message = error_for(text, env)
    assert 'lines 6, 14 and 22: [[pbx]] #1, #2 and #3 are all named "hq"' in message
    assert '[[pbx]] #4, #5 and #6 are all named "eu"' in message


def test_bad_toml_syntax_gives_line(tmp_path: Path) -> None:
    message = error_for('[[pbx]]\nname = "hq\n', tmp_path)
    assert "not valid TOML" in message and "line 2" in message


def test_no_pbx_explains_fix(tmp_path: Path) -> None:
    message = error_for("[settings]\n", tmp_path)
    assert "no PBX configured" in message and "[[pbx]]" in message


def test_missing_file_points_to_demo(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="pbxtui --demo"):
        load_config(tmp_path / "nope.toml")


def test_url_with_query_string_refused_without_echoing_it(env: Path) -> None:
    text = GOOD.replace("proxyapi.php", "proxyapi.php?key=CANARY-in-url")
    message = error_for(text, env)
    assert 'field "url"' in message and "CANARY" not in message


def test_secret_file_missing(env: Path) -> None:
    (env / "ist.secret").unlink()
    message = error_for(GOOD, env)
    assert 'field "password"' in message and "cannot read secret file" in message


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        (["101"], ("101",)),
        (["200-202", "201", "9"], ("200", "201", "202", "9")),
        (["001-003"], ("001", "002", "003")),
    ],
)
def test_expand_extensions(items: list[str], expected: tuple[str, ...]) -> None:
    assert expand_extensions(items) == expected


@pytest.mark.parametrize("items", [["219-200"], ["abc"], [], ["1-99999"]])
def test_expand_extensions_refuses(items: list[str]) -> None:
    with pytest.raises(ValueError):
        expand_extensions(items)


def test_bad_extension_range_in_config(env: Path) -> None:
    message = error_for(GOOD.replace('"200-203"', '"203-200"'), env)
    assert 'line 28: [[pbx]] #3 "branch" field "extensions"' in message
    assert "runs backwards" in message


def test_parse_config_defaults() -> None:
    config = parse_config(
        '[[pbx]]\nname="a"\nkind="pbxcloud"\nurl="http://x/pbx/proxyapi.php"\ntenant="T"\nkey="k1234"'
    )
    assert config.pbx[0].timeout == 5.0 and config.settings.thresholds.long_call_alert == 3600


def test_a_typo_in_a_pbx_field_suggests_the_right_one(env: Path) -> None:
    message = error_for(GOOD.replace("poll_interval = 2.0", "pol_interval = 2.0"), env)
    assert message.startswith(f"{env / 'config.toml'}: the config is not valid:")
    assert (
        'line 11: [[pbx]] #1 "hq": unknown field "pol_interval" — did you mean "poll_interval"?'
        in message
    )


def test_a_typo_suggests_the_field_of_that_kind(env: Path) -> None:
    message = error_for(GOOD.replace('user = "webuser"', 'usr = "webuser"'), env)
    assert '[[pbx]] #3 "branch": unknown field "usr" — did you mean "user"?' in message
    message = error_for(GOOD.replace('pass = "CANARY-literal-pass"', 'pas = "x"'), env)
    assert 'unknown field "pas" — did you mean "pass"?' in message and "pass_" not in message


def test_a_typo_in_settings_and_thresholds(env: Path) -> None:
    text = GOOD.replace(
        "read_only = false", "readonly = false\n\n[settings.thresholds]\nlong_call_warm = 60"
    )
    message = error_for(text, env)
    assert 'line 3: [settings]: unknown field "readonly" — did you mean "read_only"?' in message
    assert (
        'line 6: [settings.thresholds]: unknown field "long_call_warm" — did you mean '
        '"long_call_warn"?' in message
    )


def test_an_unknown_field_far_from_any_lists_the_fields(env: Path) -> None:
    message = error_for(GOOD.replace("poll_interval = 2.0", "colour = 2"), env)
    assert 'line 11: [[pbx]] #1 "hq": unknown field "colour"' in message
    assert 'a "pbxcloud" entry has: name, url, poll_interval, ' in message
    assert "tenant, key, nodename, cdr_source)" in message


def test_a_typo_in_a_kind_or_a_table_suggests_the_right_one(env: Path) -> None:
    message = error_for(GOOD.replace('kind = "iexpbx"', 'kind = "iexbpx"'), env)
    assert (
        'line 15: [[pbx]] #2 "ist" field "kind": unknown kind "iexbpx" — did you mean "iexpbx"?'
        in message
    )
    message = error_for(GOOD.replace("[settings]", "[setings]"), env)
    assert 'line 2: unknown table "setings" — did you mean "settings"?' in message
    message = error_for(GOOD.replace("[[pbx]]", "[[pbxs]]"), env)
    assert 'no PBX configured: unknown table "pbxs" — did you mean "pbx"?' in message


def test_a_typo_inside_a_secret_table(env: Path) -> None:
    message = error_for(GOOD.replace('key = { env = "HQ_API_KEY" }', 'key = { evn = "X" }'), env)
    assert (
        'line 10: [[pbx]] #1 "hq" field "key": unknown field "evn" — did you mean "env"?' in message
    )


# -- hostile files: bounded reads, deep nesting ------------------------------------------------


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_secret_file_without_end_is_refused_not_read(env: Path) -> None:
    message = error_for(GOOD.replace('"ist.secret"', '"/dev/zero"'), env)
    assert 'field "password"' in message and "/dev/zero" in message
    assert "larger than 64 KiB" in message


def test_a_large_secret_file_is_refused(env: Path) -> None:
    (env / "ist.secret").write_text("x" * (64 * 1024 + 1))
    message = error_for(GOOD, env)
    assert "larger than 64 KiB" in message and "ist.secret" in message
    (env / "ist.secret").write_text("y" * (64 * 1024))
    assert load(GOOD, env)


def test_a_secret_file_that_is_not_text_is_refused(env: Path) -> None:
    (env / "ist.secret").write_bytes(b"\xff\xfe\x00secret")
    message = error_for(GOOD, env)
    assert 'field "password"' in message and "not UTF-8 text" in message


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_config_file_without_end_is_refused_not_read() -> None:
    with pytest.raises(ConfigError, match=r"/dev/zero: larger than 1 MiB"):
        load_config("/dev/zero")


@pytest.mark.parametrize(
    "deep",
    [
        "x = " + "[" * 100_000 + "]" * 100_000,
        "x = " + "{ a = " * 50_000 + "1" + " }" * 50_000,
        "[[pbx]]\nname = " + "[" * 3_000 + "]" * 3_000,
    ],
    ids=["array", "inline table", "pbx field"],
)
def test_deep_nesting_is_a_config_error_naming_the_file(tmp_path: Path, deep: str) -> None:
    message = error_for(deep, tmp_path)
    assert message.startswith(f"{tmp_path / 'config.toml'}: ")
    assert "nested too deeply" in message or "the config is not valid" in message


# -- insecure set-ups are said -------------------------------------------------------------------


def test_a_config_others_can_read_with_literal_secrets_is_warned(env: Path) -> None:
    path = env / "config.toml"
    path.write_text(GOOD)
    path.chmod(0o644)
    [warning] = load_config(path).warnings
    assert str(path) in warning and f"chmod 600 {path}" in warning
    assert 'the pass of "branch"' in warning and "hq" not in warning  # hq's key is { env }
    path.chmod(0o600)
    assert load_config(path).warnings == ()


def test_no_warning_without_literal_secrets(env: Path) -> None:
    path = env / "config.toml"
    path.write_text(GOOD.replace('"CANARY-literal-pass"', '{ env = "HQ_API_KEY" }'))
    path.chmod(0o644)
    assert load_config(path).warnings == ()


def test_a_secret_file_others_can_read_is_warned(env: Path) -> None:
    path = env / "config.toml"
    path.write_text(GOOD)
    path.chmod(0o600)
    secret = env / "ist.secret"
    secret.chmod(0o640)
    [warning] = load_config(path).warnings
    assert f"chmod 600 {secret.resolve()}" in warning and '"ist"' in warning


def test_credentials_in_the_url_are_scrubbed_as_httpx_sends_them(env: Path) -> None:
    text = GOOD.replace(
        "https://voip.example.co.il", "https://admin:CANARY%2Bauth@voip.example.co.il"
    )
    load(text, env)
    token = base64.b64encode(b"admin:CANARY+auth").decode()
    assert scrub(f"Basic {token} CANARY+auth CANARY%2Bauth") == "Basic *** *** ***"
