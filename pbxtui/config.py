"""The TOML configuration: pydantic models, secret resolution, and errors a person can act on.

A bad file is refused with one message that names the file, the line, the ``[[pbx]]`` entry,
the field and what is expected. Secrets are resolved at load time into ``SecretStr`` (so a
``repr`` or a validation error never shows them) and registered for scrubbing.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
import tomllib
import zoneinfo
from collections.abc import Mapping, Sequence
from datetime import tzinfo
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
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
TABLE_SECRETS = (("webhooks", "token"), ("lookup", "token"))
"""The secrets of the tables outside ``[[pbx]]``: (table, key)."""
MAX_HOOK_BODY = 16 * 1024 * 1024


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
    if isinstance(name, str):
        return f'"{name}"'
    title = info.config.get("title") if info.config else None
    return title or "a [[pbx]] entry"


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
    # Recordings on GlobalEx: the link its licence gives, built from the call's record name
    # ({record}, or {record_b64} encoded); a URL, or a path on the dialup.php host.
    recording_link: str = ""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    _secret = field_validator("pass_", mode="before")(_resolve_secret)
    _optional_secrets = field_validator("org_token", "panel_user", "panel_pass", mode="before")(
        _resolve_secret
    )

    @field_validator("cdr_url", "panel_url")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        return _http_endpoint(value) if value else value

    @field_validator("recording_link")
    @classmethod
    def _link(cls, value: str) -> str:
        if not value:
            return value
        if not re.match(r"^(https?://[^/\s]+)?/", value):
            raise ValueError("give an http:// or https:// URL, or a path starting with /")
        if "{record}" not in value and "{record_b64}" not in value:
            raise ValueError("put {record} or {record_b64} where the recording's name goes")
        if urlsplit(value).password:
            raise ValueError("give credentials in their fields, not in the URL")
        return value

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


class While1Config(BaseModel):
    """A While1 Voice PBX: push-only. It has no polling API: it asks our caller-data
    webservice about each caller and sends its events to the [webhooks] receiver, so it has
    no URL and no credentials here."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    kind: Literal["while1"]
    read_only: bool = False
    protected: bool = False
    ring_timeout: Annotated[float, Field(gt=0, le=3600)] = 60.0
    """Seconds a caller-data request shows as a ringing call when no answer event follows."""

    # Code written for every kind (client pools, budgets, TLS badges) reads these; a push-only
    # PBX is never polled and never sent a request, so they are fixed, not settable.
    url: ClassVar[str] = ""
    poll_interval: ClassVar[float] = 1.0
    timeout: ClassVar[float] = 5.0
    verify_tls: ClassVar[bool] = True
    max_in_flight: ClassVar[int] = 1
    requests_per_second: ClassVar[float] = 1.0

    @property
    def zone(self) -> tzinfo | None:
        """None: a push-only PBX has no call history of its own to read local times from."""
        return None

    def secret_values(self) -> list[str]:
        return []


PbxConfig = Annotated[
    PbxCloudConfig | IexPbxConfig | DialupConfig | While1Config, Field(discriminator="kind")
]


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


LOOPBACK_NETWORKS = ("127.0.0.0/8", "::1/128")
ANY_NETWORK = ("0.0.0.0/0", "::/0")


def _network(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError:
        raise ValueError(
            f'{value!r} is not an IP address or network (e.g. "10.1.2.0/24", "192.0.2.7")'
        ) from None


def split_listen(value: str) -> tuple[str, int]:
    """``"127.0.0.1:8787"`` → ``("127.0.0.1", 8787)``; ``"[::1]:8787"`` → ``("::1", 8787)``."""
    match = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d{1,5})|([^:\[\]\s]+):(\d{1,5})", value.strip())
    if not match:
        raise ValueError('expected "HOST:PORT", e.g. "127.0.0.1:8787" or "[::1]:8787"')
    host = match.group(1) or match.group(3)
    port = int(match.group(2) or match.group(4))
    if port > 65535:
        raise ValueError(f"port {port} is not a port (0 to 65535; 0 = any free one)")
    if host != "localhost":
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise ValueError(
                f"{host!r} is not an IP address: give the address to listen on "
                '("127.0.0.1", "0.0.0.0", "[::]") or "localhost"'
            ) from None
    return host, port


def is_loopback(host: str) -> bool:
    return host == "localhost" or ipaddress.ip_address(host).is_loopback


class WebhooksConfig(BaseModel):
    """``[webhooks]``: the receiver of what the PBXs push (off unless the table is there)."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="[webhooks]")

    listen: str = "127.0.0.1:8787"
    token: SecretStr | None = None
    allow_from: tuple[str, ...] | None = None
    """Senders allowed; unset: any source when a token is set, loopback only otherwise."""
    trusted_proxies: tuple[str, ...] = ()
    """Peers whose ``X-Forwarded-For`` names the sender (a TLS reverse proxy); none by default."""
    max_body: Annotated[int, Field(ge=1024, le=MAX_HOOK_BODY)] = 65536
    rate: Annotated[float, Field(gt=0, le=10_000)] = 50.0
    """Requests per second per source (bursts of as many)."""

    _secret = field_validator("token", mode="before")(_resolve_secret)

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        split_listen(value)
        return value.strip()

    @field_validator("allow_from", "trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise ValueError('expected a list such as ["10.1.2.0/24", "192.0.2.7"]')
        return tuple(_network(str(item)) for item in value)

    @property
    def host(self) -> str:
        return split_listen(self.listen)[0]

    @property
    def port(self) -> int:
        return split_listen(self.listen)[1]

    def allowed_networks(self) -> tuple[str, ...]:
        """``allow_from``, or its default: any source with a token, loopback only without."""
        if self.allow_from is not None:
            return self.allow_from
        return ANY_NETWORK if self.token is not None else LOOPBACK_NETWORKS


class ContactsConfig(BaseModel):
    """``[contacts]``: caller names from a CSV file (``number,name,id,backend_link,...``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="[contacts]")

    csv: Path
    country_code: Annotated[str, Field(pattern=r"^[1-9][0-9]{0,2}$")] | None = None
    """Digits (e.g. "972"): numbers are then matched exactly in national and E.164 forms."""

    @field_validator("csv", mode="before")
    @classmethod
    def _csv_file(cls, value: Any, info: ValidationInfo) -> Path:
        if not isinstance(value, str) or not value.strip():
            raise ValueError('expected the path of a CSV file, e.g. "contacts.csv"')
        base = Path((info.context or {}).get("base_dir", "."))
        path = (base / os.path.expanduser(value)).resolve()
        if not path.is_file():
            raise ValueError(f"{path}: no such file (a CSV with a header row: number,name,...)")
        return path


class LookupConfig(BaseModel):
    """``[lookup]``: a CRM that answers in the While1 caller-data format, asked in the
    background for each caller number not yet known."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="[lookup]")

    url: str
    token: SecretStr | None = None
    ttl: Annotated[float, Field(ge=0, le=7 * 86400)] = 600.0
    concurrency: Annotated[int, Field(ge=1, le=64)] = 4
    timeout: Annotated[float, Field(gt=0, le=60)] = 2.0
    verify_tls: bool = True

    _secret = field_validator("token", mode="before")(_resolve_secret)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s?#]+", value):
            raise ValueError("expected an http:// or https:// URL")
        if urlsplit(value).password:
            raise ValueError("give the token in the token field, not in the URL")
        return value


UNIQUE_NAMES = "PBX names must be unique"


FLEET_PATTERN = r"^[A-Za-z0-9_-]{1,40}$"


class BrokerConfig(BaseModel):
    """``[broker]``: one collector (``pbxtui collect``) polls the PBXs and publishes to NATS
    JetStream; every console given this config subscribes there instead of polling."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="[broker]")

    url: str = "nats://127.0.0.1:4222"
    """The NATS server (``nats://host:port``; ``tls://`` for TLS)."""
    fleet: Annotated[str, Field(pattern=FLEET_PATTERN)] = "pbxtui"
    """Names the streams and subjects: several fleets may share one server."""
    token: SecretStr | None = None
    """The server's auth token, if it asks for one."""
    keyframe_seconds: Annotated[float, Field(ge=1, le=300)] = 10.0
    """How often the collector publishes each PBX whole (a console joining starts there)."""
    keep_seconds: Annotated[float, Field(ge=30, le=86_400)] = 120.0
    """How long the broker keeps the messages (more than a keyframe's spacing)."""

    _secret = field_validator("token", mode="before")(_resolve_secret)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip()
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if scheme not in ("nats", "tls", "ws", "wss"):
            raise ValueError('expected a NATS server address such as "nats://127.0.0.1:4222"')
        password = urlsplit(value).password
        if password:
            redact.secrets.add(password)  # masked wherever the address is shown
        return value


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    settings: Settings = Settings()
    pbx: Annotated[list[PbxConfig], Field(min_length=1)]
    webhooks: WebhooksConfig | None = None
    contacts: ContactsConfig | None = None
    lookup: LookupConfig | None = None
    broker: BrokerConfig | None = None
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
    for table, field in TABLE_SECRETS:
        section = data.get(table)
        if isinstance(section, dict) and isinstance(section.get(field), str):
            found.append(f"the {field} of [{table}]")
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
    _check_push_only(config, text, source)
    warnings.extend(_webhook_warnings(config.webhooks, source))
    literal = _literal_secrets(data)
    if exposed and literal:
        warnings.insert(
            0,
            f"{source}: readable by other users, and holds secrets written in it "
            f"({', '.join(literal)}): chmod 600 {source} (or move them to "
            '{ env = "VAR" } or { file = "path" })',
        )
    return config.model_copy(update={"source": source, "warnings": tuple(warnings)})


def _check_push_only(config: Config, text: str, source: str) -> None:
    """A push-only PBX hears nothing without the receiver: say so where it is declared."""
    if config.webhooks is not None:
        return
    problems = [
        f"  line {_line_of(text, '[[pbx]]', index, 'kind')}: [[pbx]] #{index + 1} "
        f'"{pbx.name}" field "kind": a "while1" PBX is push-only (it has no API to poll): '
        "add a [webhooks] table so its events and caller-data requests can reach pbxtui, "
        'e.g. [webhooks] listen = "0.0.0.0:8787" and token = { env = "PBXTUI_HOOK_TOKEN" }'
        for index, pbx in enumerate(config.pbx)
        if pbx.kind == "while1"
    ]
    if problems:
        raise ConfigError("\n".join([f"{source}: the config is not valid:", *problems]))


def _webhook_warnings(hooks: WebhooksConfig | None, source: str) -> list[str]:
    """Receiver set-ups that work but may not be what was meant."""
    if hooks is None or is_loopback(hooks.host):
        return []
    if hooks.token is None and hooks.allow_from is None:
        return [
            f"{source}: [webhooks] listens on {hooks.listen} but, with neither a token nor "
            "allow_from, accepts only senders on this machine (loopback): set token, or list "
            "the PBXs' addresses in allow_from"
        ]
    if hooks.token is not None:
        return [
            f"{source}: [webhooks] listens on {hooks.listen} over plain HTTP: the token crosses "
            "the network unencrypted; put the receiver behind a TLS reverse proxy (README: "
            '"What the PBXs push") or keep it to a trusted network with allow_from'
        ]
    return []


_SECRET_HINT = 'a string, { env = "VAR" } or { file = "path" }'
_FIELD_HINTS = {
    "kind": 'one of "pbxcloud", "iexpbx", "dialup", "while1"',
    **{field: _SECRET_HINT for field in SECRET_FIELDS},
    "token": _SECRET_HINT,
}


KINDS: dict[str, type[BaseModel]] = {
    "pbxcloud": PbxCloudConfig,
    "iexpbx": IexPbxConfig,
    "dialup": DialupConfig,
    "while1": While1Config,
}
TABLES: dict[str, type[BaseModel]] = {
    "settings": Settings,
    "webhooks": WebhooksConfig,
    "contacts": ContactsConfig,
    "lookup": LookupConfig,
}
"""The single tables of the file, by name (``[settings.thresholds]`` is said on its own)."""


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
    if loc and loc[0] in TABLES:
        if len(loc) > 2 and (loc[0], loc[1]) in TABLE_SECRETS:  # inside { env = … }
            return "a secret", field_names(SecretSource)
        return f"[{loc[0]}]", field_names(TABLES[loc[0]])
    return "the file", field_names(Config)


def _polled_only(field: str) -> bool:
    """A key of the polled kinds that a push-only PBX does not take (url, credentials…)."""
    polled = {f for m in (PbxCloudConfig, IexPbxConfig, DialupConfig) for f in field_names(m)}
    return field in polled - set(field_names(While1Config))


def _unknown_field(field: str, loc: list[Any], data: dict[str, Any], *, table: bool) -> str:
    """``unknown field "pol_interval" — did you mean "poll_interval"?``, or the fields known."""
    what, known = _table_fields(loc, data)
    if what == 'a "while1" entry' and _polled_only(field):
        name = _pbx_value(data, loc, "name")
        name = name if isinstance(name, str) else "NAME"
        return (
            f'field "{field}" does not apply to a "while1" PBX: it is push-only (no URL, no '
            "credentials, nothing polled): its events and caller-data requests come to the "
            f"[webhooks] receiver at /hook/{name}/events and /hook/{name}/caller_data"
        )
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
        rest = [p for p in loc[2:] if p not in KINDS]
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
    if loc and loc[0] in TABLES:
        header = f"[{loc[0]}]"
        field = str(loc[1]) if len(loc) > 1 else ""
        return header, field, _line_of(text, header, 0, field)
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
