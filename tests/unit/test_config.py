"""Config loading: good files load, bad ones are refused with where and how to fix."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from pbxtui.config import (
    ConfigError,
    DialupConfig,
    While1Config,
    expand_extensions,
    load_config,
    parse_config,
)
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


# -- what the PBXs push: [webhooks], [contacts], [lookup] and the push-only kind -------------

PUSH = """
[[pbx]]
name = "cc"
kind = "while1"

[webhooks]
listen = "0.0.0.0:8787"
token = { env = "HOOK_TOKEN" }
allow_from = ["10.1.2.0/24", "192.0.2.7"]
max_body = 4096
rate = 5
"""


@pytest.fixture
def hook_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("HOOK_TOKEN", "CANARY-hook-token")
    return tmp_path


def test_a_push_only_pbx_and_the_receiver_load(hook_env: Path) -> None:
    config = load(PUSH, hook_env)
    [cc] = config.pbx  # type: ignore[attr-defined]
    assert isinstance(cc, While1Config) and cc.url == "" and cc.secret_values() == []
    hooks = config.webhooks  # type: ignore[attr-defined]
    assert (hooks.host, hooks.port, hooks.max_body, hooks.rate) == ("0.0.0.0", 8787, 4096, 5)
    assert hooks.allowed_networks() == ("10.1.2.0/24", "192.0.2.7/32")
    assert hooks.token.get_secret_value() == "CANARY-hook-token"
    assert "CANARY" not in repr(config)
    assert scrub("?token=CANARY-hook-token") == "?token=***"  # registered for scrubbing


@pytest.mark.parametrize(
    ("token", "expected"),
    [("", ("127.0.0.0/8", "::1/128")), ('token = "CANARY-t0ken"', ("0.0.0.0/0", "::/0"))],
    ids=["no token: loopback only", "a token: any source"],
)
def test_allow_from_defaults_on_the_token(token: str, expected: tuple[str, ...]) -> None:
    config = parse_config(f'[[pbx]]\nname = "cc"\nkind = "while1"\n[webhooks]\n{token}\n')
    assert config.webhooks is not None
    assert config.webhooks.listen == "127.0.0.1:8787" and config.webhooks.max_body == 65536
    assert config.webhooks.allowed_networks() == expected
    assert config.webhooks.trusted_proxies == ()


def test_no_webhooks_table_no_receiver() -> None:
    config = parse_config(
        '[[pbx]]\nname="a"\nkind="pbxcloud"\nurl="http://x/pbx/proxyapi.php"\ntenant="T"\nkey="k1234"'
    )
    assert config.webhooks is None and config.contacts is None and config.lookup is None


@pytest.mark.parametrize(
    ("line", "field", "says"),
    [
        ('listen = "8787"', "listen", 'expected "HOST:PORT"'),
        ('listen = "127.0.0.1:99999"', "listen", "is not a port"),
        ('listen = "pbx.example.com:8787"', "listen", "is not an IP address"),
        ('allow_from = ["10.1.2.0/33"]', "allow_from", "is not an IP address or network"),
        ('allow_from = "10.1.2.0/24"', "allow_from", "expected a list"),
        ("max_body = 10", "max_body", "greater than or equal to 1024"),
        ("rate = 0", "rate", "greater than 0"),
    ],
)
def test_a_bad_webhooks_key_names_its_line_and_field(
    hook_env: Path, line: str, field: str, says: str
) -> None:
    key = line.split(" ", 1)[0]
    text = "\n".join(line if row.startswith(f"{key} =") else row for row in PUSH.splitlines())
    if f"{key} =" not in PUSH:
        text += f"\n{line}\n"
    message = error_for(text, hook_env)
    number = text.splitlines().index(line) + 1
    assert f'line {number}: [webhooks] field "{field}": ' in message, message
    assert says in message


def test_the_token_is_a_secret_like_the_others(
    hook_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOOK_TOKEN")
    message = error_for(PUSH, hook_env)
    assert 'line 8: [webhooks] field "token": environment variable HOOK_TOKEN is not set' in message
    message = error_for(PUSH.replace("{ env =", "{ evn ="), hook_env)
    assert '[webhooks] field "token": unknown field "evn" — did you mean "env"?' in message
    (hook_env / "hook.secret").write_text("CANARY-filed-token\n")
    (hook_env / "hook.secret").chmod(0o644)
    config = load(PUSH.replace('{ env = "HOOK_TOKEN" }', '{ file = "hook.secret" }'), hook_env)
    assert any("[webhooks]" in w and "chmod 600" in w for w in config.warnings)  # type: ignore[attr-defined]


def test_a_literal_token_in_a_file_others_read_is_warned(hook_env: Path) -> None:
    path = hook_env / "config.toml"
    path.write_text(PUSH.replace('{ env = "HOOK_TOKEN" }', '"CANARY-literal-token"'))
    path.chmod(0o644)
    warnings = load_config(path).warnings
    assert any("the token of [webhooks]" in w for w in warnings)
    assert not any("CANARY" in w for w in warnings)


def test_typos_in_the_new_tables_suggest_the_right_key(hook_env: Path) -> None:
    message = error_for(PUSH.replace("allow_from", "alow_from"), hook_env)
    assert 'line 9: [webhooks]: unknown field "alow_from" — did you mean "allow_from"?' in message
    message = error_for(PUSH.replace("[webhooks]", "[webhook]"), hook_env)
    assert 'unknown table "webhook" — did you mean "webhooks"?' in message


def test_a_push_only_pbx_takes_no_url_nor_credentials(hook_env: Path) -> None:
    text = PUSH.replace('kind = "while1"', 'kind = "while1"\nurl = "https://x/api"\npassword = "p"')
    message = error_for(text, hook_env)
    assert 'line 5: [[pbx]] #1 "cc": field "url" does not apply to a "while1" PBX' in message
    assert 'field "password" does not apply' in message and "push-only" in message


def test_a_push_only_pbx_needs_the_receiver(hook_env: Path) -> None:
    message = error_for(PUSH[: PUSH.index("[webhooks]")], hook_env)
    assert 'line 4: [[pbx]] #1 "cc" field "kind": a "while1" PBX is push-only' in message
    assert "add a [webhooks] table" in message


def test_receiver_warnings(hook_env: Path) -> None:
    open_without_guard = PUSH.replace('token = { env = "HOOK_TOKEN" }\n', "").replace(
        'allow_from = ["10.1.2.0/24", "192.0.2.7"]\n', ""
    )
    [warning] = load(open_without_guard, hook_env).warnings  # type: ignore[attr-defined]
    assert "accepts only senders on this machine" in warning
    [warning] = load(PUSH, hook_env).warnings  # type: ignore[attr-defined]
    assert "plain HTTP" in warning and "TLS reverse proxy" in warning
    assert load(PUSH.replace("0.0.0.0:8787", "127.0.0.1:0"), hook_env).warnings == ()  # type: ignore[attr-defined]


def test_contacts_and_lookup(hook_env: Path) -> None:
    (hook_env / "people.csv").write_text("number,name\n0501234567,Dana\n")
    text = PUSH + (
        '\n[contacts]\ncsv = "people.csv"\ncountry_code = "972"\n'
        '\n[lookup]\nurl = "https://crm.example.com/w1"\ntoken = "CANARY-crm"\nttl = 60\n'
    )
    config = load(text, hook_env)
    assert config.contacts.csv == (hook_env / "people.csv").resolve()  # type: ignore[attr-defined]
    assert config.contacts.country_code == "972"  # type: ignore[attr-defined]
    lookup = config.lookup  # type: ignore[attr-defined]
    assert (lookup.ttl, lookup.concurrency, lookup.timeout, lookup.verify_tls) == (60, 4, 2.0, True)
    assert scrub("CANARY-crm") == "***"
    message = error_for(text.replace("people.csv", "nobody.csv"), hook_env)
    assert '[contacts] field "csv": ' in message and "nobody.csv: no such file" in message
    message = error_for(text.replace('"972"', '"+972"'), hook_env)
    assert '[contacts] field "country_code"' in message
    message = error_for(text.replace("https://crm.example.com/w1", "crm.example.com"), hook_env)
    assert '[lookup] field "url": expected an http:// or https:// URL' in message
