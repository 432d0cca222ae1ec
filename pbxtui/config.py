"""The TOML configuration: pydantic models, secret resolution, and errors a person can act on.

A bad file is refused with one message that names the file, the line, the ``[[pbx]]`` entry,
the field and what is expected. Secrets are resolved at load time into ``SecretStr`` (so a
``repr`` or a validation error never shows them) and registered for scrubbing.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
import zoneinfo
from collections.abc import Mapping, Sequence
from datetime import tzinfo
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from pbxtui import redact

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$"
MAX_SECRET_FILE_BYTES = 64 * 1024
MAX_CONFIG_BYTES = 1024 * 1024
SECRET_FIELDS = ("key", "password", "pass", "org_token", "panel_user", "panel_pass")
"""The config keys that hold a secret, in every kind (as written in the file)."""


class ConfigError(Exception):
    """A config that cannot be used, with a message that says where and how to fix it."""


class SecretSource(BaseModel):
    """A secret read from the environment or a file rather than written in the config."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: str | None = None
    file: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretSource:
        if (self.env is None) == (self.file is None):
            raise ValueError('give exactly one of { env = "VAR" } or { file = "path" }')
        return self


def _resolve_secret(value: Any, info: ValidationInfo) -> SecretStr:
    """Accept a literal string, ``{ env = "VAR" }`` or ``{ file = "path" }``."""
    if isinstance(value, SecretStr):
        secret = value.get_secret_value()
    elif isinstance(value, str):
        secret = value
    elif isinstance(value, Mapping):
        source = SecretSource.model_validate(value)
        if source.env is not None:
            if source.env not in os.environ:
                raise ValueError(f"environment variable {source.env} is not set")
            secret = os.environ[source.env]
        else:
            assert source.file is not None
            context = info.context or {}
            base = Path(context.get("base_dir", "."))
            path = (base / os.path.expanduser(source.file)).resolve()
            secret = _read_secret_file(path)
            if _others_can_read(path):
                context.get("warnings", []).append(
                    f"{path}: the secret file of {_entry_name(info)} is readable by other "
                    f"users: chmod 600 {path}"
                )
    else:
        raise ValueError('expected a string, { env = "VAR" } or { file = "path" }')
    if not secret:
        raise ValueError("the secret is empty")
    redact.secrets.add(secret)
    return SecretStr(secret)


def _read_secret_file(path: Path) -> str:
    """The file's text, read at most ``MAX_SECRET_FILE_BYTES`` (``/dev/zero`` has no end)."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_SECRET_FILE_BYTES + 1)
    except OSError as exc:
        raise ValueError(f"cannot read secret file {path}: {exc.strerror}") from None
    if len(data) > MAX_SECRET_FILE_BYTES:
        raise ValueError(
            f"secret file {path} is larger than {MAX_SECRET_FILE_BYTES // 1024} KiB: "
            "a key or password file holds one line"
        )
    try:
        return data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise ValueError(f"secret file {path} is not UTF-8 text") from None


def _others_can_read(path: Path) -> bool:
    try:
        return bool(path.stat().st_mode & 0o077)
    except OSError:
        return False


@lru_cache(maxsize=1)
def _zone_names() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def check_zone(name: str) -> str:
    """A zoneinfo name as given (``Europe/Istanbul``), or a ValueError that suggests one."""
    name = name.strip()
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        known = _zone_names()
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f' — did you mean "{close[0]}"?' if close else ""
        if not known:
            hint = " (no time zone database on this machine: pip install tzdata)"
        raise ValueError(
            f'unknown time zone "{name}"{hint} (expected a zoneinfo name such as '
            '"Europe/Istanbul", "Asia/Jerusalem" or "UTC")'
        ) from None
    return name


def _http_endpoint(value: str) -> str:
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError("expected an http:// or https:// URL")
    if "?" in value:
        raise ValueError("give the endpoint without a query string; credentials go in fields")
    if urlsplit(value).password:
        raise ValueError("give credentials in their fields, not in the URL")
    return value


def _entry_name(info: ValidationInfo) -> str:
    name = info.data.get("name") if info.data else None
    return f'"{name}"' if isinstance(name, str) else "a [[pbx]] entry"


class _PbxBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    url: str
    poll_interval: Annotated[float, Field(ge=0.2, le=3600)] = 1.0
    timeout: Annotated[float, Field(gt=0, le=120)] = 5.0
    verify_tls: bool = True
    read_only: bool = False
    protected: bool = False
    # The PBX's request budget, shared by polls, refreshes and actions (drivers/budget.py).
    max_in_flight: Annotated[int, Field(ge=1, le=32)] = 6
    requests_per_second: Annotated[float, Field(gt=0, le=200)] = 20.0
    # The zone the PBX writes its local times in (CDRs name none); None: this machine's.
    timezone: str | None = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return check_zone(value) if value is not None else None

    @property
    def zone(self) -> tzinfo | None:
        """The PBX's time zone; None means this machine's local time (DST and all)."""
        return zoneinfo.ZoneInfo(self.timezone) if self.timezone else None

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("expected an http:// or https:// URL")
        if "?" in value:
            raise ValueError("give the endpoint without a query string; credentials go in fields")
        parts = urlsplit(value)
        if parts.password:
            # httpx sends user:password@ as basic auth: scrub it as written and as sent.
            password = unquote(parts.password)
            redact.secrets.add(parts.password)
            redact.secrets.add_basic_auth(unquote(parts.username or ""), password)
        return value

    def secret_values(self) -> list[str]:
        return [
            getattr(self, name).get_secret_value()
            for name, field in type(self).model_fields.items()
            if field.annotation is SecretStr
        ]


class PbxCloudConfig(_PbxBase):
    kind: Literal["pbxcloud"]
    tenant: Annotated[str, Field(min_length=1)]
    key: SecretStr
    nodename: str = ""
    # History: SIMPLECDRS (the observed sc_* rows), or INFO cdrs in CSV (fuller rows: billable
    # seconds, queue, recording; and compact).
    cdr_source: Literal["simplecdrs", "cdrs"] = "simplecdrs"

    _secret = field_validator("key", mode="before")(_resolve_secret)


class IexPbxConfig(_PbxBase):
    kind: Literal["iexpbx"]
    username: Annotated[str, Field(min_length=1)]
    password: SecretStr

    _secret = field_validator("password", mode="before")(_resolve_secret)


def expand_extensions(items: Sequence[str]) -> tuple[str, ...]:
    """``["101", "200-203"]`` → ``("101", "200", "201", "202", "203")``, order kept."""
    seen: dict[str, None] = {}
    for item in items:
        text = str(item).strip()
        match = re.fullmatch(r"(\d+)\s*-\s*(\d+)", text)
        if match:
            low, high = match.groups()
            if int(high) < int(low):
                raise ValueError(f"range {text!r} runs backwards")
            if int(high) - int(low) > 2000:
                raise ValueError(f"range {text!r} is larger than 2000 extensions")
            width = len(low) if low.startswith("0") else 0
            for number in range(int(low), int(high) + 1):
                seen[str(number).zfill(width)] = None
        elif re.fullmatch(r"[0-9*#]+", text):
            seen[text] = None
        else:
            raise ValueError(f'{text!r} is not an extension number or a range like "200-219"')
    if not seen:
        raise ValueError("list at least one extension to watch")
    return tuple(seen)


class DialupConfig(_PbxBase):
    kind: Literal["dialup"]
    user: Annotated[str, Field(min_length=1)]
    pass_: SecretStr = Field(alias="pass")
    org: Annotated[str, Field(min_length=1)]
    extensions: tuple[str, ...]
    brand: Literal["globalex", "cloudplus"] = "globalex"
    max_in_flight: Annotated[int, Field(ge=1, le=32)] = 4  # one request per extension
    # History: cdr.php with the organisation's token, or the panel's reports (CloudPlus's
    # panel; the brands share its Elastix base), logged in as the panel user, not the API user.
    org_token: SecretStr | None = None
    cdr_url: str = ""  # default: cdr.php beside dialup.php
    panel_url: str = ""  # default: the root of the dialup.php host
    panel_user: SecretStr | None = None
    panel_pass: SecretStr | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    _secret = field_validator("pass_", mode="before")(_resolve_secret)
    _optional_secrets = field_validator("org_token", "panel_user", "panel_pass", mode="before")(
        _resolve_secret
    )

    @field_validator("cdr_url", "panel_url")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        return _http_endpoint(value) if value else value

    @model_validator(mode="after")
    def _panel(self) -> DialupConfig:
        if (self.panel_user is None) != (self.panel_pass is None):
            raise ValueError("give both panel_user and panel_pass (the panel's own login), or none")
        return self

    @property
    def cdr_endpoint(self) -> str:
        """cdr.php: as configured, else beside dialup.php on the same host."""
        if self.cdr_url:
            return self.cdr_url
        return re.sub(r"dialup\.php$", "cdr.php", self.url, flags=re.IGNORECASE)

    @property
    def panel_endpoint(self) -> str:
        """The panel's root (``https://host/``), where ``index.php`` logs in."""
        if self.panel_url:
            return self.panel_url.rstrip("/") + "/"
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}/"

    @field_validator("extensions", mode="before")
    @classmethod
    def _expand(cls, value: Any) -> tuple[str, ...]:
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise ValueError('expected a list such as ["101", "200-219"]')
        return expand_extensions(value)


PbxConfig = Annotated[PbxCloudConfig | IexPbxConfig | DialupConfig, Field(discriminator="kind")]


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    long_call_warn: Annotated[int, Field(ge=1)] = 30 * 60
    long_call_alert: Annotated[int, Field(ge=1)] = 60 * 60
    queue_waiting_warn: Annotated[int, Field(ge=1)] = 3
    queue_waiting_alert: Annotated[int, Field(ge=1)] = 8
    longest_wait_warn: Annotated[int, Field(ge=1)] = 60
    longest_wait_alert: Annotated[int, Field(ge=1)] = 180
    paused_warn: Annotated[int, Field(ge=1)] = 15 * 60
    paused_alert: Annotated[int, Field(ge=1)] = 30 * 60


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    read_only: bool = False
    mask_numbers: bool = False
    theme: str = "textual-dark"
    pause_reasons: tuple[str, ...] = ("Break", "Lunch", "Meeting", "Training", "After-call work")
    thresholds: Thresholds = Thresholds()


UNIQUE_NAMES = "PBX names must be unique"


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    settings: Settings = Settings()
    pbx: Annotated[list[PbxConfig], Field(min_length=1)]
    source: str = Field("", exclude=True)
    warnings: tuple[str, ...] = Field((), exclude=True)
    """Set-ups that work but are unsafe (secrets others can read), to say at start-up."""

    @model_validator(mode="after")
    def _unique_names(self) -> Config:
        names = [p.name for p in self.pbx]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"{UNIQUE_NAMES}; repeated: {', '.join(duplicates)}")
        return self

    def get(self, name: str) -> PbxConfig:
        for pbx in self.pbx:
            if pbx.name == name:
                return pbx
        known = ", ".join(p.name for p in self.pbx)
        raise ConfigError(
            f"no PBX named {name!r} in {self.source or 'the config'} (known: {known})"
        )


def pbx_names(path: Path) -> list[tuple[str, str]]:
    """``(name, kind)`` of each ``[[pbx]]`` in the file, read without validating it or
    resolving any secret (for shell completion); [] when it cannot be read."""
    try:
        with Path(path).expanduser().open("rb") as handle:
            data = tomllib.loads(handle.read(MAX_CONFIG_BYTES).decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return []
    entries = data.get("pbx", [])
    if not isinstance(entries, list):
        return []
    return [
        (entry["name"], str(entry.get("kind", "")))
        for entry in entries
        if isinstance(entry, dict) and isinstance(entry.get("name"), str)
    ]


def example_config() -> str:
    """A commented config setting every key of every kind (``pbxtui config example``)."""
    return resources.files("pbxtui").joinpath("config_example.toml").read_text(encoding="utf-8")


def load_config(path: Path | str) -> Config:
    path = Path(path).expanduser()
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such file.\n  Create it (`pbxtui config example > {path}` writes a "
            "commented one to edit), point PBXTUI_CONFIG or --config at one, or try the "
            "built-in demo: pbxtui --demo"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it: {exc.strerror}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{path}: larger than {MAX_CONFIG_BYTES // 1024 // 1024} MiB: not a config"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    exposed = _others_can_read(path)
    return parse_config(text, source=str(path), base_dir=path.parent, exposed=exposed)


def _literal_secrets(data: dict[str, Any]) -> list[str]:
    """``the key of "hq"`` for each secret written in the file rather than referred to."""
    found = []
    for entry in _entries(data):
        for field in SECRET_FIELDS:
            if isinstance(entry.get(field), str):
                found.append(f'the {field} of "{entry.get("name", "?")}"')
    return found


def _entries(data: dict[str, Any]) -> list[dict[str, Any]]:
    entries = data.get("pbx", [])
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def _entry_at(data: dict[str, Any], index: int) -> dict[str, Any]:
    """The ``index``-th ``[[pbx]]`` table as written, or {} (``pbx = [""]`` is refused too)."""
    entries = data.get("pbx")
    if isinstance(entries, list) and 0 <= index < len(entries):
        entry = entries[index]
        return entry if isinstance(entry, dict) else {}
    return {}


def parse_config(
    text: str, *, source: str = "<config>", base_dir: Path | None = None, exposed: bool = False
) -> Config:
    """``exposed``: the file holding ``text`` is readable by other users (warned of when it
    holds secrets written in it)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{source}: not valid TOML: arrays or tables nested too deeply") from None
    if "pbx" not in data:
        typo = next((k for k in data if _suggest(k, ["pbx"])), "")
        raise ConfigError(
            f"{source}: no PBX configured"
            + (f': unknown table "{typo}" — did you mean "pbx"?' if typo else "")
            + ".\n  fix: add at least one [[pbx]] table, e.g.\n"
            '  [[pbx]]\n  name = "hq"\n  kind = "pbxcloud"\n  url = "https://pbx.example.com/pbx/'
            'proxyapi.php"\n  tenant = "ACME"\n  key = { env = "HQ_API_KEY" }'
        )
    warnings: list[str] = []
    context = {"base_dir": str(base_dir or Path.cwd()), "warnings": warnings}
    try:
        config = Config.model_validate(data, context=context)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, text, data, source)) from None
    except RecursionError:
        raise ConfigError(f"{source}: the config is not valid: nested too deeply") from None
    literal = _literal_secrets(data)
    if exposed and literal:
        warnings.insert(
            0,
            f"{source}: readable by other users, and holds secrets written in it "
            f"({', '.join(literal)}): chmod 600 {source} (or move them to "
            '{ env = "VAR" } or { file = "path" })',
        )
    return config.model_copy(update={"source": source, "warnings": tuple(warnings)})


_SECRET_HINT = 'a string, { env = "VAR" } or { file = "path" }'
_FIELD_HINTS = {
    "kind": 'one of "pbxcloud", "iexpbx", "dialup"',
    **{field: _SECRET_HINT for field in SECRET_FIELDS},
}


KINDS: dict[str, type[_PbxBase]] = {
    "pbxcloud": PbxCloudConfig,
    "iexpbx": IexPbxConfig,
    "dialup": DialupConfig,
}


def _suggest(word: str, known: Sequence[str]) -> str:
    """The known word ``word`` is most likely a typo of, or ""."""
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    return close[0] if close else ""


def field_names(model: type[BaseModel]) -> list[str]:
    """The keys a table of this model takes, as written in the file (``pass``, not ``pass_``)."""
    return [info.alias or name for name, info in model.model_fields.items() if not info.exclude]


def _table_fields(loc: list[Any], data: dict[str, Any]) -> tuple[str, list[str]]:
    """(what the table is, the keys it takes) for the table holding the key at ``loc``."""
    if loc[:1] == ["pbx"] and len(loc) > 1 and isinstance(loc[1], int):
        if len([p for p in loc[2:] if p not in KINDS]) > 1:  # inside { env = … } of a secret
            return "a secret", field_names(SecretSource)
        kind = _entry_at(data, loc[1]).get("kind")
        model = KINDS.get(kind) if isinstance(kind, str) else None
        return (f'a "{kind}" entry', field_names(model)) if model else ("", [])
    if loc[:2] == ["settings", "thresholds"]:
        return "[settings.thresholds]", field_names(Thresholds)
    if loc[:1] == ["settings"]:
        return "[settings]", field_names(Settings)
    return "the file", field_names(Config)


def _unknown_field(field: str, loc: list[Any], data: dict[str, Any], *, table: bool) -> str:
    """``unknown field "pol_interval" — did you mean "poll_interval"?``, or the fields known."""
    what, known = _table_fields(loc, data)
    noun = "table" if table else "field"
    guess = _suggest(field, known)
    if guess:
        return f'unknown {noun} "{field}" — did you mean "{guess}"?'
    return f'unknown {noun} "{field}" ({what} has: {", ".join(known)})'


def _duplicates(text: str, data: dict[str, Any]) -> list[str]:
    """``lines 6 and 14: [[pbx]] #1 and #2 are both named "hq"…`` for each repeated name."""
    entries = data.get("pbx", [])
    at: dict[str, list[int]] = {}
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            at.setdefault(entry["name"], []).append(index)
    found = []
    for name, indexes in at.items():
        if len(indexes) < 2:
            continue
        lines = [_line_of(text, "[[pbx]]", i, "name") for i in indexes]
        numbers = [str(n) for n in lines if n is not None]
        where = f"lines {_and(numbers)}: " if len(numbers) == len(lines) else ""
        both = "both" if len(indexes) == 2 else "all"
        found.append(
            f"  {where}[[pbx]] {_and([f'#{i + 1}' for i in indexes])} are {both} named "
            f'"{name}": names must be unique (each row is labelled with its PBX\'s name)'
        )
    return found


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _describe(exc: ValidationError, text: str, data: dict[str, Any], source: str) -> str:
    lines = [f"{source}: the config is not valid:"]
    duplicates = _duplicates(text, data)
    for error in exc.errors(include_url=False, include_input=False):
        loc = list(error["loc"])
        if duplicates and not loc and UNIQUE_NAMES in error["msg"]:
            continue  # said below, with the lines
        where, field, line = _locate(loc, text, data)
        message = redact.scrub(error["msg"]).removeprefix("Value error, ")
        hint = ""
        if error["type"] == "extra_forbidden" and field:
            key = str(loc[-1])
            message = _unknown_field(key, loc, data, table=not where)
            if field.rsplit(".", 1)[-1] == key:
                field = ""  # named in the message; a secret's table keeps its field's name
            line = line or _top_line(text, key)
        elif error["type"] == "union_tag_invalid" or (
            error["type"] == "union_tag_not_found" and field == "kind"
        ):
            field, message = "kind", "missing or unknown kind"
            kind = _pbx_value(data, loc, "kind")
            guess = _suggest(kind, list(KINDS)) if isinstance(kind, str) else ""
            if guess:
                message = f'unknown kind "{kind}" — did you mean "{guess}"?'
            if len(loc) > 1 and isinstance(loc[1], int):
                line = _line_of(text, "[[pbx]]", loc[1], "kind")
        hint = "" if "did you mean" in message else _FIELD_HINTS.get(field, "")
        prefix = f"line {line}: " if line else ""
        location = " ".join(part for part in (where, f'field "{field}"' if field else "") if part)
        head = f"{prefix}{location}: " if location else prefix
        lines.append(f"  {head}{message}" + (f" (expected {hint})" if hint else ""))
    return "\n".join(lines + duplicates)


def _pbx_value(data: dict[str, Any], loc: list[Any], key: str) -> Any:
    if len(loc) > 1 and isinstance(loc[1], int):
        return _entry_at(data, loc[1]).get(key)
    return None


def _top_line(text: str, key: str) -> int | None:
    """The line of a top-level ``key = …`` or ``[key]`` / ``[[key]]`` table."""
    pattern = re.compile(rf"^\s*(\[\[?\s*{re.escape(key)}\s*\]|{re.escape(key)}\s*=)")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return None


def _locate(loc: list[Any], text: str, data: dict[str, Any]) -> tuple[str, str, int | None]:
    """Turn a pydantic error location into ('[[pbx]] #2 "eu"', 'timeout', line number)."""
    if loc and loc[0] == "pbx" and len(loc) > 1 and isinstance(loc[1], int):
        index = loc[1]
        name = _entry_at(data, index).get("name")
        where = f"[[pbx]] #{index + 1}" + (f' "{name}"' if isinstance(name, str) else "")
        rest = [p for p in loc[2:] if p not in ("pbxcloud", "iexpbx", "dialup")]
        field = str(rest[0]) if rest else ""
        field = "pass" if field == "pass_" else field
        return where, field, _line_of(text, "[[pbx]]", index, field)
    if loc[:2] == ["settings", "thresholds"] and len(loc) > 2:
        field = ".".join(str(p) for p in loc[2:])
        header = "[settings.thresholds]"
        return header, field, _line_of(text, header, 0, str(loc[-1]))
    if loc and loc[0] == "settings":
        field = ".".join(str(p) for p in loc[1:])
        return "[settings]", field, _line_of(text, "[settings]", 0, str(loc[-1]))
    return "", ".".join(str(p) for p in loc), None


def _line_of(text: str, header: str, index: int, field: str) -> int | None:
    """The line of ``field`` inside the ``index``-th ``header`` table (or of the header)."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip().startswith(header)]
    if index >= len(starts):
        return None
    start = starts[index]
    if not field:
        return start + 1
    for offset, line in enumerate(lines[start + 1 :], start=start + 1):
        stripped = line.strip()
        if stripped.startswith("["):
            break
        if re.match(rf"^{re.escape(field)}\s*=", stripped):
            return offset + 1
    return start + 1
