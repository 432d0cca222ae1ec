"""Property tests of the config loader: whatever the file holds, the only outcomes are a
``Config`` or a ``ConfigError`` naming the file, and no secret written in it is echoed."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pbxtui.config import KINDS, Config, ConfigError, field_names, load_config, parse_config
from tests.unit.test_config import GOOD

SOURCE = "<fuzzed config>"
FIELDS = sorted({name for model in KINDS.values() for name in field_names(model)})
SECRET_KEYS = ("key", "password", "pass")
ENV = {"PBXTUI_PROP_KEY": "env-secret-value", "PBXTUI_PROP_EMPTY": ""}

printable = st.characters(codec="utf-8", exclude_categories=("Cs",))
text = st.text(printable, max_size=24)
scalar = st.one_of(text, st.integers(), st.floats(), st.booleans())
anything = st.recursive(
    scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3)),
    max_leaves=6,
)
files = st.sampled_from(
    ["secret.txt", "missing.txt", "big.txt", "binary.txt", "empty.txt", ".", "/dev/zero"]
)
secret = st.one_of(
    st.text(printable, min_size=8, max_size=30),
    st.fixed_dictionaries({"env": st.sampled_from([*ENV, "PBXTUI_PROP_UNSET"])}),
    st.fixed_dictionaries({"file": st.one_of(files, text)}),
    st.fixed_dictionaries({}, optional={"env": text, "file": files, "other": anything}),
    anything,
)
number = st.one_of(st.integers(-10, 10_000), st.floats(allow_nan=True), text)
PLAUSIBLE: dict[str, st.SearchStrategy[Any]] = {
    "name": st.one_of(st.sampled_from(["hq", "eu", "hq", "", "a" * 40, "h q"]), text),
    "kind": st.one_of(st.sampled_from(["pbxcloud", "iexpbx", "dialup", "pbxclod"]), anything),
    "url": st.one_of(
        st.sampled_from(
            [
                "https://pbx.example.com/pbx/proxyapi.php",
                "http://127.0.0.1:1/api/old/get",
                "https://u:p%2Bq@h.example/x",
                "https://h/p?key=leak",
                "ftp://h/x",
            ]
        ),
        text,
    ),
    "extensions": st.one_of(
        st.lists(st.sampled_from(["101", "200-219", "9-1", "x", "0-5000", "*9#"]), max_size=4),
        anything,
    ),
    "brand": st.one_of(st.sampled_from(["globalex", "cloudplus"]), text),
    **{key: secret for key in SECRET_KEYS},
    **{key: number for key in ("poll_interval", "timeout", "max_in_flight")},
}
entry = st.fixed_dictionaries(
    {},
    optional={key: PLAUSIBLE.get(key, anything) for key in [*FIELDS, "pol_interval", "x"]},
)
document = st.fixed_dictionaries(
    {},
    optional={
        "pbx": st.one_of(st.lists(entry, max_size=4), anything),
        "settings": st.one_of(
            st.dictionaries(
                st.sampled_from(["read_only", "mask_numbers", "theme", "thresholds", "x"]),
                anything,
                max_size=3,
            ),
            anything,
        ),
        "extra": anything,
    },
)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    return toml_key(str(value))


def toml_key(key: str) -> str:
    # A JSON string is a TOML basic string, save DEL (then the document is not valid TOML,
    # which is one more input to refuse).
    return json.dumps(key, ensure_ascii=False)


def to_toml(doc: dict[str, Any]) -> str:
    lines = []
    settings_table = doc.get("settings")
    for key, value in doc.items():
        if key not in ("pbx", "settings") or not isinstance(value, dict | list):
            lines.append(f"{toml_key(key)} = {toml_value(value)}")
    if isinstance(settings_table, dict):
        lines.append("[settings]")
        lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in settings_table.items()]
    pbx = doc.get("pbx")
    if isinstance(pbx, list) and all(isinstance(e, dict) for e in pbx):
        for item in pbx:
            lines.append("[[pbx]]")
            lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in item.items()]
    elif "pbx" in doc:
        lines.insert(0, f"pbx = {toml_value(pbx)}")
    return "\n".join(lines) + "\n"


def literal_secrets(doc: dict[str, Any]) -> list[str]:
    pbx = doc.get("pbx")
    entries = pbx if isinstance(pbx, list) else []
    return [
        e[key]
        for e in entries
        if isinstance(e, dict)
        for key in SECRET_KEYS
        if isinstance(e.get(key), str) and len(e[key]) >= 8
    ]


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("secrets")
    (base / "secret.txt").write_text("file-secret-value\n")
    (base / "big.txt").write_text("x" * 70_000)
    (base / "binary.txt").write_bytes(b"\xff\xfe\x00\x80")
    (base / "empty.txt").write_text("")
    for path in base.iterdir():
        path.chmod(0o600)
    return base


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("PBXTUI_PROP_UNSET", raising=False)


def outcome(text: str, base_dir: Path) -> Config | ConfigError:
    """parse_config's result or its ConfigError; anything else raised fails the test."""
    try:
        return parse_config(text, source=SOURCE, base_dir=base_dir)
    except ConfigError as exc:
        assert str(exc).startswith(SOURCE), str(exc)
        return exc


# The same examples on every run (a suite that fails now and then blocks everyone); a longer
# hunt is a matter of raising max_examples by hand (3,000 per test found nothing more).
FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@FUZZ
@given(doc=document)
def test_any_document_is_a_config_or_a_config_error(doc: dict[str, Any], base_dir: Path) -> None:
    text = to_toml(doc)
    result = outcome(text, base_dir)
    if isinstance(result, ConfigError):
        message = str(result)
        for value in literal_secrets(doc):
            if text.count(toml_key(value)[1:-1]) == 1:  # not also someone's name or url
                assert value not in message
    else:
        assert result.pbx and len({p.name for p in result.pbx}) == len(result.pbx)


@FUZZ
@given(text=st.text(printable, max_size=400))
def test_any_text_is_a_config_or_a_config_error(text: str, base_dir: Path) -> None:
    outcome(text, base_dir)


@FUZZ
@given(
    cuts=st.lists(
        st.tuples(st.integers(0, len(GOOD)), st.integers(0, 8), st.text(printable, max_size=6)),
        min_size=1,
        max_size=4,
    )
)
def test_a_good_config_damaged_anywhere(
    cuts: list[tuple[int, int, str]], base_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HQ_API_KEY", "CANARY-env-key")
    (base_dir / "ist.secret").write_text("CANARY-file-pass\n")
    text = GOOD
    for at, length, insert in cuts:
        text = text[:at] + insert + text[at + length :]
    result = outcome(text, base_dir)
    if isinstance(result, ConfigError):
        assert "CANARY-env-key" not in str(result) and "CANARY-file-pass" not in str(result)


@FUZZ
@given(data=st.binary(max_size=300))
def test_any_file_is_a_config_or_a_config_error(data: bytes, base_dir: Path) -> None:
    path = base_dir / "fuzzed.toml"
    path.write_bytes(data)
    try:
        load_config(path)
    except ConfigError as exc:
        assert str(exc).startswith(str(path))


@pytest.mark.parametrize("depth", [10, 100, 1_000, 100_000])
@pytest.mark.parametrize(
    ("opening", "closing"),
    [("[", "]"), ("{ a = ", " }"), ("[{ a = ", "}]")],
    ids=["arrays", "tables", "mixed"],
)
def test_nesting_of_any_depth(depth: int, opening: str, closing: str, base_dir: Path) -> None:
    inner = opening * depth + "1" + closing * depth
    for text in (f"x = {inner}\n", f'[[pbx]]\nname = "hq"\nkey = {inner}\n'):
        assert isinstance(outcome(text, base_dir), ConfigError)
