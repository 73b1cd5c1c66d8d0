"""sources.yaml -> validated, immutable Config.

A broken watch list is refused whole: every problem is collected (not just the first) so an operator fixes the
file in one go, and nothing downstream ever sees a half-valid source.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import parse_qsl, urlsplit

from .limits import (COUNTS, HOST_DELAY, INTERVAL, MAX_BODY, MAX_ID, MAX_URL, MAX_USER_AGENT, TIMEOUT, parse_count,
                     parse_delay, parse_duration, parse_size, show, show_key)
from .redact import redact_url
from .yamlload import YamlRefused, load_yaml

__all__ = ["Config", "ConfigError", "Route", "Settings", "Source", "load_config", "parse_config", "parse_delay",
           "parse_duration", "parse_size"]

KINDS = ("html", "feed", "federal_register", "legiscan", "openstates")
SEVERITIES = ("info", "low", "medium", "high", "critical")
# API kinds read their key from the environment, never from the file (sources.yaml is not a secret store).
API_KEY_ENV = {"legiscan": "LEGISCAN_API_KEY", "openstates": "OPENSTATES_API_KEY"}

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
# ISO 3166-1 alpha-2 (US), ISO 3166-2 (US-FL, TH-10), optionally a locality (US-CA-SAN-DIEGO).
_JURISDICTION_RE = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3}(-[A-Z0-9][A-Z0-9_-]*)?)?$")
_URL_RE = re.compile(r"^https?://[^\s/?#]+[^\s]*$", re.I)
SECRET_PARAMS = {"key", "apikey", "api_key", "api-key", "x-api-key", "token", "access_token", "auth", "password"}

DEFAULT_USER_AGENT = "kratom-monitor/0.1 (+https://github.com/kratom-monitor/kratom-monitor; compliance change monitor)"


@dataclass(frozen=True)
class Route:
    """Send alerts at or above `min_severity` whose jurisdiction starts with `jurisdiction` to `channel`."""

    channel: str
    min_severity: str = "info"
    jurisdiction: str = ""


@dataclass(frozen=True)
class Settings:
    interval: float = 6 * 3600.0
    timeout: float = 30.0
    min_severity: str = "info"
    user_agent: str = DEFAULT_USER_AGENT
    max_body_bytes: int = 10 * 1024**2
    max_redirects: int = 10
    concurrency: int = 16
    per_host_concurrency: int = 4
    host_delay: float = 0.0
    host_delays: Mapping[str, float] = field(default_factory=dict)
    retries: int = 2
    failure_threshold: int = 3
    suspect_passes: int = 3
    # The most elements one page may open and the deepest they may nest (monitor/extract/budget.py): generous for
    # government pages (a long bill history: tens of thousands of elements, nested a few dozen deep), small enough
    # that one page cannot take the worker's memory. Browsers stop nesting at 512 levels too (Blink's HTML parser).
    max_elements: int = 200_000
    max_depth: int = 512
    routes: tuple[Route, ...] = ()
    ops_channel: str | None = None


@dataclass(frozen=True)
class Source:
    id: str
    url: str
    jurisdiction: str
    name: str = ""
    kind: str = "html"
    select: str | None = None
    exclude: tuple[str, ...] = ()
    interval: float = 6 * 3600.0
    timeout: float = 30.0
    min_severity: str = "info"
    measure: str | None = None
    enabled: bool = True
    # An https page may redirect to plain http only when the operator says so (see redirects.py).
    allow_insecure_redirect: bool = False

    @property
    def title(self) -> str:
        return self.name or self.id

    @property
    def definition(self) -> str:
        """What decides which text is extracted: when it changes, old snapshots no longer compare."""
        import hashlib

        return hashlib.sha256(repr((self.kind, self.url, self.select, self.exclude)).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Config:
    settings: Settings
    sources: tuple[Source, ...]
    path: str = "sources.yaml"

    @property
    def enabled(self) -> tuple[Source, ...]:
        return tuple(s for s in self.sources if s.enabled)


class ConfigError(Exception):
    """The file is refused; `problems` holds one human-readable line per problem."""

    def __init__(self, path: str, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__("\n".join(f"{path}: {p}" for p in problems))


class SourcesNotFound(ConfigError):
    """There is no file at `path`: usually a command run from the wrong directory, which deserves its own words
    ("not found"), not a list of problems with a file that is not there."""


SETTINGS_KEYS = {
    "interval", "timeout", "min_severity", "user_agent", "max_body", "max_redirects", "concurrency",
    "per_host_concurrency", "host_delay", "host_delays", "retries", "failure_threshold", "suspect_passes",
    "max_elements", "max_depth", "slack",
}
SLACK_KEYS = {"routes", "ops_channel"}
ROUTE_KEYS = {"channel", "min_severity", "jurisdiction"}
SOURCE_KEYS = {
    "id", "name", "url", "jurisdiction", "kind", "select", "exclude", "interval", "timeout", "min_severity",
    "measure", "enabled", "allow_insecure_redirect",
}


def load_config(path: str | os.PathLike, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate `path`. Raises ConfigError listing every problem."""
    path = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourcesNotFound(path, ["file not found (use --sources PATH or MONITOR_SOURCES)"]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(path, [f"cannot read: {e}"]) from None
    return parse_config(text, path, os.environ if env is None else env)


def parse_config(text: str, path: str = "sources.yaml", env: Mapping[str, str] | None = None) -> Config:
    env = {} if env is None else env
    try:
        data, lines = load_yaml(text)
    except YamlRefused as e:
        raise ConfigError(path, [str(e)]) from None
    problems: list[str] = []
    if not isinstance(data, dict) or not isinstance(data.get("sources"), list):
        raise ConfigError(path, ["the file must be a mapping with a `sources:` list"])
    for key in sorted(set(data) - {"settings", "sources"}, key=str):
        problems.append(f"unknown top-level key {show(key)} (expected settings, sources)")
    settings = _parse_settings(data.get("settings") or {}, problems)
    sources: list[Source] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(data["sources"]):
        line = lines.get(id(raw))
        where = f"line {line}: " if line else ""
        if not isinstance(raw, dict):
            problems.append(f"sources[{index}]: {where}each source must be a mapping")
            continue
        sid = raw.get("id")
        label = f"source {show(sid)}" if isinstance(sid, str) and sid else f"sources[{index}]"
        errors: list[str] = []
        source = _parse_source(raw, settings, env, errors)
        for msg in errors:  # name the line of the key at fault when there is one
            key_line = lines.get((id(raw), re.split(r"[:\[. ]", msg, 1)[0]), line)
            problems.append(f"{label}: line {key_line}: {msg}" if key_line else f"{label}: {msg}")
        if isinstance(sid, str) and sid:
            if sid in seen:
                problems.append(f"{label}: {where}id: duplicate id (first used at line {seen[sid]})")
            else:
                seen[sid] = line or 0
        if source is not None and not errors:
            sources.append(source)
    if not data["sources"]:
        problems.append("`sources` is empty: nothing to watch")
    if problems:
        raise ConfigError(path, problems)
    return Config(settings=settings, sources=tuple(sources), path=path)


def _check_severity(value: Any, field_name: str, errors: list[str]) -> str:
    if value not in SEVERITIES:
        errors.append(f"{field_name}: {show(value)} is not one of {', '.join(SEVERITIES)}")
        return "info"
    return value


def _parse_settings(raw: Any, problems: list[str]) -> Settings:
    if not isinstance(raw, dict):
        problems.append("settings: must be a mapping")
        return Settings()
    errors: list[str] = []
    for key in sorted(set(raw) - SETTINGS_KEYS, key=str):
        errors.append(f"{show_key(key)}: unknown setting (known: {', '.join(sorted(SETTINGS_KEYS))})")
    values: dict[str, Any] = {}
    parsers = {"interval": lambda v: parse_duration(v, INTERVAL), "timeout": lambda v: parse_duration(v, TIMEOUT),
               "host_delay": lambda v: parse_delay(v, HOST_DELAY), "max_body": lambda v: parse_size(v, MAX_BODY),
               **{key: lambda v, bound=bound: parse_count(v, bound) for key, bound in COUNTS.items()}}
    for key, parse in parsers.items():
        if key in raw:
            try:
                values["max_body_bytes" if key == "max_body" else key] = parse(raw[key])
            except ValueError as e:
                errors.append(f"{key}: {e}")
    if "min_severity" in raw:
        values["min_severity"] = _check_severity(raw["min_severity"], "min_severity", errors)
    if "user_agent" in raw:
        agent = raw["user_agent"]
        if not isinstance(agent, str) or not agent.strip():
            errors.append("user_agent: must be a non-empty string")
        elif len(agent) > MAX_USER_AGENT or not (agent.isascii() and agent.isprintable()):
            errors.append(f"user_agent: {show(agent)} must be printable ASCII of at most {MAX_USER_AGENT} "
                          f"characters (it is sent as an HTTP header)")
        else:
            values["user_agent"] = agent.strip()
    if "host_delays" in raw:
        delays = raw["host_delays"]
        if not isinstance(delays, dict):
            errors.append("host_delays: must map host names to durations")
        else:
            parsed = {}
            for host, delay in delays.items():
                try:
                    parsed[str(host).lower()] = parse_delay(delay, HOST_DELAY)
                except ValueError as e:
                    errors.append(f"host_delays.{show_key(host)}: {e}")
            values["host_delays"] = parsed
    if "slack" in raw:
        _parse_slack(raw["slack"], values, errors)
    problems.extend(f"settings: {e}" for e in errors)
    return Settings(**values)


def _parse_slack(raw: Any, values: dict[str, Any], errors: list[str]) -> None:
    if not isinstance(raw, dict):
        errors.append("slack: must be a mapping (routes, ops_channel); tokens belong in the environment")
        return
    for key in sorted(set(raw) - SLACK_KEYS, key=str):
        errors.append(f"slack.{show_key(key)}: unknown key (known: routes, ops_channel; tokens belong in "
                      "the environment)")
    if raw.get("ops_channel") is not None:
        if not isinstance(raw["ops_channel"], str) or not raw["ops_channel"].strip():
            errors.append("slack.ops_channel: must be a channel name or id")
        else:
            values["ops_channel"] = raw["ops_channel"].strip()
    routes = raw.get("routes") or []
    if not isinstance(routes, list):
        errors.append("slack.routes: must be a list")
        return
    parsed = []
    for i, route in enumerate(routes):
        if not isinstance(route, dict):
            errors.append(f"slack.routes[{i}]: must be a mapping")
            continue
        for key in sorted(set(route) - ROUTE_KEYS, key=str):
            errors.append(f"slack.routes[{i}].{show_key(key)}: unknown key (known: "
                          f"{', '.join(sorted(ROUTE_KEYS))})")
        channel = route.get("channel")
        if not isinstance(channel, str) or not channel.strip():
            errors.append(f"slack.routes[{i}].channel: required")
            continue
        severity = _check_severity(route.get("min_severity", "info"), f"slack.routes[{i}].min_severity", errors)
        prefix = route.get("jurisdiction", "")
        if prefix and not (isinstance(prefix, str) and _JURISDICTION_RE.fullmatch(prefix)):
            errors.append(f"slack.routes[{i}].jurisdiction: {show(prefix)} is not a jurisdiction code (US, US-FL)")
            prefix = ""
        parsed.append(Route(channel=channel.strip(), min_severity=severity, jurisdiction=prefix or ""))
    values["routes"] = tuple(parsed)


def _parse_source(raw: dict, settings: Settings, env: Mapping[str, str], errors: list[str]) -> Source | None:
    for key in sorted(set(raw) - SOURCE_KEYS, key=str):
        hint = _closest(key, SOURCE_KEYS)
        errors.append(f"{show_key(key)}: unknown key" + (f" (did you mean {hint!r}?)" if hint else
                                                          f" (known: {', '.join(sorted(SOURCE_KEYS))})"))
    sid = raw.get("id")
    if sid is None or sid == "":
        errors.append("id: required")
    elif not isinstance(sid, str) or not _ID_RE.fullmatch(sid) or len(sid) > MAX_ID:
        errors.append(f"id: {show(sid)} must be lowercase letters, digits, '-', '_' or '.' (at most {MAX_ID})")
    url = raw.get("url")
    if not url:
        errors.append("url: required")
    else:
        problem = _url_problem(url)
        if problem:
            errors.append(f"url: {problem}")
    jurisdiction = raw.get("jurisdiction")
    if not jurisdiction:
        errors.append("jurisdiction: required (ISO 3166 code such as US, US-FL, TH, GB)")
    elif not isinstance(jurisdiction, str) or not _JURISDICTION_RE.fullmatch(jurisdiction):
        errors.append(f"jurisdiction: {show(jurisdiction)} is not an ISO 3166 code (US, US-FL, GB; a city may add "
                      "-NAME)")
    kind = raw.get("kind", "html")
    if not isinstance(kind, str) or kind not in KINDS:
        errors.append(f"kind: {show(kind)} is not one of {', '.join(KINDS)}")
        kind = "html"
    name = raw.get("name", "")
    if not isinstance(name, str):
        errors.append("name: must be text")
    select = raw.get("select")
    if select is not None:
        _check_selector(select, "select", errors)
    exclude = raw.get("exclude", [])
    if isinstance(exclude, str):
        exclude = [exclude]
    if not isinstance(exclude, list):
        errors.append("exclude: must be a CSS selector or a list of them")
        exclude = []
    for i, sel in enumerate(exclude):
        _check_selector(sel, f"exclude[{i}]", errors)
    if (select or exclude) and kind not in ("html",):
        errors.append(f"select/exclude apply to html sources only, not kind {kind!r}")
    values: dict[str, Any] = {}
    for key, default, bound in (("interval", settings.interval, INTERVAL), ("timeout", settings.timeout, TIMEOUT)):
        try:
            values[key] = parse_duration(raw[key], bound) if key in raw else default
        except ValueError as e:
            errors.append(f"{key}: {e}")
    min_severity = _check_severity(raw.get("min_severity", settings.min_severity), "min_severity", errors)
    measure = raw.get("measure")
    if measure is not None and not isinstance(measure, str):
        errors.append("measure: must be text, e.g. 'SB 1180'")
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        errors.append("enabled: must be true or false")
    insecure = raw.get("allow_insecure_redirect", False)
    if not isinstance(insecure, bool):
        errors.append("allow_insecure_redirect: must be true or false")
    if enabled and kind in API_KEY_ENV and not env.get(API_KEY_ENV[kind]):
        errors.append(f"kind {kind}: set the {API_KEY_ENV[kind]} environment variable, or add `enabled: false`")
    if errors:
        return None
    return Source(id=sid, url=url, jurisdiction=jurisdiction, name=name.strip(), kind=kind, select=select,
                  exclude=tuple(exclude), min_severity=min_severity, measure=measure, enabled=enabled,
                  allow_insecure_redirect=insecure, **values)


def _url_problem(url: Any) -> str | None:
    """Why `url` cannot be watched, or None. A refused URL is echoed redacted (no userinfo, no query values)."""
    if not isinstance(url, str) or not _URL_RE.fullmatch(url) or not url.isprintable() or len(url) > MAX_URL:
        shown = show(redact_url(url)) if isinstance(url, str) else show(url)
        return f"{shown} is not an http(s) URL" + (f" of at most {MAX_URL:,} characters" if isinstance(url, str) and
                                                    len(url) > MAX_URL else "")
    parts = urlsplit(url)
    if "@" in parts.netloc:
        return ("remove the user name and password (user:password@) from the URL: credentials are secrets, and "
                "sources.yaml, alerts and the state are no place for them")
    try:
        parts.port
    except ValueError:
        return f"{show(redact_url(url))} has a port that is not a number from 0 to 65535"
    secret = sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True) if k.lower() in SECRET_PARAMS})
    if secret:
        return (f"remove {', '.join(secret)}=... from the URL: keys are secrets and belong in the environment "
                f"({' or '.join(API_KEY_ENV.values())}), never in sources.yaml")
    return None


def _check_selector(selector: Any, field_name: str, errors: list[str]) -> None:
    if not isinstance(selector, str) or not selector.strip():
        errors.append(f"{field_name}: must be a CSS selector")
        return
    import soupsieve  # here: ~0.1 s to import, and most watch lists have no selectors

    try:
        soupsieve.compile(selector)
    except Exception as e:  # soupsieve raises SelectorSyntaxError and, for some inputs, other errors
        errors.append(f"{field_name}: {show(selector)} is not a valid CSS selector "
                      f"({show(str(e).splitlines()[0], 120)[1:-1]})")


def _closest(key: Any, known: set[str]) -> str | None:
    import difflib

    if not isinstance(key, str) or len(key) > 40:
        return None
    match = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.7)
    return match[0] if match else None
