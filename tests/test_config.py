"""sources.yaml validation: a broken file is refused whole, every problem on its own line, exit 2, no traceback."""
from __future__ import annotations

import pytest

from monitor.config import ConfigError, load_config, parse_config, parse_duration, parse_size

GOOD = """
settings:
  interval: 6h
  timeout: 30
sources:
  - id: fl-sb-1180
    name: Florida CS/SB 1180 (Kratom Products)
    url: https://www.flsenate.gov/Session/Bill/2026/1180
    jurisdiction: US-FL
    kind: html
    select: "#tabBodyBillHistory"
    interval: 1h
    timeout: 20
  - id: fr.kratom
    url: https://www.federalregister.gov/api/v1/documents.json?conditions[term]=kratom
    jurisdiction: US
    kind: federal_register
  - id: san_diego
    url: http://example.org/x
    jurisdiction: US-CA-SAN-DIEGO
"""


def problems(text: str, env=None) -> list[str]:
    with pytest.raises(ConfigError) as e:
        parse_config(text, "sources.yaml", env or {})
    return e.value.problems


def test_good_file_gives_immutable_sources_with_defaults():
    config = parse_config(GOOD)
    fl, fr, sd = config.sources
    assert (fl.interval, fl.timeout, fl.select) == (3600, 20, "#tabBodyBillHistory")
    assert (fr.interval, fr.timeout, fr.kind) == (21600, 30, "federal_register")
    assert sd.jurisdiction == "US-CA-SAN-DIEGO" and sd.kind == "html"
    with pytest.raises(AttributeError):
        fl.url = "http://elsewhere"  # frozen


@pytest.mark.parametrize("snippet, expected", [
    ("  - id: a\n    url: ftp://nowhere\n    jurisdiction: US\n", "source 'a': line 3: url: 'ftp://nowhere' is not an http(s) URL"),
    ("  - id: a\n    jurisdiction: US\n", "source 'a': line 2: url: required"),
    ("  - url: http://x.org\n    jurisdiction: US\n", "sources[0]: line 2: id: required"),
    ("  - id: a\n    url: http://x.org\n    jurisdiction: US\n    selectr: main\n", "selectr: unknown key (did you mean 'select'?)"),
    ("  - id: a\n    url: http://x.org\n    jurisdiction: US\n    interval: soon\n", "interval: 'soon' is not a duration"),
    ("  - id: a\n    url: http://x.org\n    jurisdiction: US\n    kind: pdf\n", "kind: 'pdf' is not one of"),
    ("  - id: a\n    url: http://x.org\n    jurisdiction: US\n    select: 'div[['\n", "is not a valid CSS selector"),
    ("  - id: a\n    url: http://x.org\n    jurisdiction: florida\n", "jurisdiction: 'florida' is not an ISO 3166 code"),
    ("  - id: a\n    url: http://x.org\n    jurisdiction: us-fl\n", "is not an ISO 3166 code"),
    ("  - id: Bad Id\n    url: http://x.org\n    jurisdiction: US\n", "id: 'Bad Id' must be lowercase"),
    ("  - id: a\n    url: http://x.org\n    jurisdiction: US\n    min_severity: urgent\n", "min_severity: 'urgent' is not one of"),
    ("  - id: a\n    url: http://x.org\n    jurisdiction: US\n    kind: [html]\n", "line 5: kind: ['html'] is not one of"),
    ("  - id: a\n    url: http://x.gov bad\n    jurisdiction: US\n", "url: 'http://x.gov bad' is not an http(s) URL"),
    ("  - id: a\n    url: http://x.org\n    jurisdiction: US\n    interval: 0.01\n", "interval: 0.01 is shorter than 1s"),
    ("  - id: a\n    url: https://api.legiscan.com/?key=SECRET&op=getSearch\n    jurisdiction: US\n",
     "url: remove key=... from the URL: keys are secrets and belong in the environment"),
])
def test_each_problem_names_the_source_and_field(snippet, expected):
    found = problems("sources:\n" + snippet)
    assert any(expected in p for p in found), found


def test_a_key_in_the_url_is_never_echoed_back():
    [problem] = problems("sources:\n  - id: a\n    url: https://x.org/?apikey=SECRET\n    jurisdiction: US\n")
    assert "SECRET" not in problem


def test_every_problem_is_reported_not_just_the_first():
    found = problems("sources:\n  - id: a\n    url: ftp://x\n    jurisdiction: US\n"
                     "  - id: a\n    url: http://y.org\n    jurisdiction: nowhere\n    selectr: x\n")
    assert len(found) == 4, found
    assert any("duplicate id" in p for p in found)


def test_yaml_syntax_error_names_the_line():
    found = problems("sources:\n  - id: a\n    url: [http://x\n")
    assert len(found) == 1 and found[0].startswith("line ") and "YAML syntax error" in found[0]


def test_duplicate_yaml_key_is_refused():
    found = problems("sources:\n  - id: a\n    url: http://x.org\n    url: http://y.org\n    jurisdiction: US\n")
    assert any("duplicate key 'url'" in p for p in found)


@pytest.mark.parametrize("text", ["", "just text", "sources: 3", "settings: {}\n"])
def test_file_without_a_sources_list_is_refused(text):
    assert problems(text) == ["the file must be a mapping with a `sources:` list"]


def test_unknown_settings_and_bad_values():
    found = problems("settings:\n  intervall: 1h\n  timeout: -3\n  max_body: lots\nsources:\n"
                     "  - id: a\n    url: http://x.org\n    jurisdiction: US\n")
    assert any("intervall: unknown setting" in p for p in found)
    assert any(p.startswith("settings: timeout:") for p in found)
    assert any(p.startswith("settings: max_body:") for p in found)


def test_api_kinds_need_their_key_unless_disabled():
    text = "sources:\n  - id: ls\n    url: https://api.legiscan.com/?op=getSearch&state=ALL&query=kratom\n" \
           "    jurisdiction: US\n    kind: legiscan\n"
    assert any("LEGISCAN_API_KEY" in p for p in problems(text))
    assert parse_config(text, env={"LEGISCAN_API_KEY": "k"}).sources[0].kind == "legiscan"
    assert parse_config(text + "    enabled: false\n").sources[0].enabled is False


def test_durations_and_sizes():
    assert [parse_duration(v) for v in ("30s", "15m", "6h", "1d", 90, "2.5m")] == [30, 900, 21600, 86400, 90, 150]
    assert parse_size("10MB") == 10 * 1024 * 1024 and parse_size(2048) == 2048
    for bad in ("0s", "-1h", "1w", True):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_missing_file_is_a_clear_problem(tmp_path):
    with pytest.raises(ConfigError) as e:
        load_config(tmp_path / "nope.yaml")
    assert "file not found" in e.value.problems[0]


def test_shipped_sources_yaml_validates():
    from pathlib import Path

    config = load_config(Path(__file__).resolve().parent.parent / "sources.yaml", env={})
    assert len(config.sources) >= 30
    jurisdictions = {s.jurisdiction for s in config.sources}
    assert {"US", "TH", "GB", "AU", "MY"} <= {j.split("-")[0] for j in jurisdictions}
    assert len({j for j in jurisdictions if j.startswith("US-") and j.count("-") == 1}) >= 10
    assert len({j for j in jurisdictions if j.count("-") >= 2}) >= 2
    assert any(s.kind == "federal_register" for s in config.sources)
