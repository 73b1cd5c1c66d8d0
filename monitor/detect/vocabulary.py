"""The words of the domain: kratom's names, the stages of a measure, and the direction of a change.

Kept as data, apart from the logic that uses it, so a compliance analyst can read and extend it.
"""
from __future__ import annotations

import re

# Longest names first, so "mitragynine pseudoindoxyl" is one match and not "mitragynine".
KRATOM_TERMS = sorted([
    "kratom consumer protection act", "kratom act", "kratom", "kratum", "krathom", "kratom leaf",
    "mitragyna speciosa", "mitragyna", "m. speciosa",
    "mitragynine pseudoindoxyl", "7-hydroxymitragynine", "7-hydroxy-mitragynine", "7-hydroxy mitragynine",
    "7-oh-mitragynine", "7-oh mitragynine", "7-oh", "7oh", "7 oh-mit", "mitragynine", "speciogynine",
    "speciociliatine", "paynantheine", "corynantheidine", "mgm-15", "mgm 15", "mgm15", "mgm-16", "mgm 16",
    "mgm16", "kcpa", "ketum", "daun ketum", "biak-biak", "biak", "kakuam", "kratom products",
    # the alkaloids' names in the languages of the registers we read (German, Polish, Spanish, Italian, French)
    "mitragynin", "7-hydroxymitragynin", "mitragynin-pseudoindoxyl", "mitragynina", "mitragyniny", "mitragyninę",
    "mitragyniną", "7-hydroksymitragynina", "7-hydroksymitragyniny", "pseudoindoksyl mitragyniny", "mitraginina",
    "7-hidroximitraginina", "7-idrossimitraginina", "mitragynine pseudo-indoxyl",
], key=len, reverse=True)
# Scripts without spaces between words: matched anywhere.
KRATOM_TERMS_UNBOUNDED = ["ใบกระท่อม", "พืชกระท่อม", "กระท่อม"]

KRATOM_RE = re.compile(
    "|".join([r"(?<![\w])(?:" + "|".join(re.escape(t).replace(r"\ ", r"[\s\-]+") for t in KRATOM_TERMS)
              + r")(?![\w])"] + [re.escape(t) for t in KRATOM_TERMS_UNBOUNDED]),
    re.I,
)

# Stage rank: the higher, the further the measure has moved. A pass reports the furthest event it saw.
EVENT_RANK = {"unclassified": 0, "mention": 1, "amended": 2, "introduced": 3, "advanced": 4, "passed": 5,
              "failed": 6, "enacted": 7}
DEFAULT_SEVERITY = {"enacted": "high", "passed": "high", "advanced": "high", "introduced": "medium",
                    "failed": "medium", "amended": "medium", "mention": "low", "unclassified": "low"}


def _any(*patterns: str) -> re.Pattern:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.I)


# The stages' wording lives in idioms/*.yaml (general and per jurisdiction); what is left here describes content.
FEDERAL_PROPOSAL_RE = _any(r"\bnotice\s+of\s+intent\b", r"\bproposed\s+rule", r"\bnotice\s+of\s+proposed\b",
                           r"\bNPRM\b", r"\bproposes?\s+to\s+(temporarily\s+)?(place|schedule|control)")
RESTRICTIVE_RE = _any(
    r"\bban(s|ned|ning)?\b", r"\bprohibit", r"\bschedul(e|ed|ing)\s+(i|1|ii|2)\b", r"\bplace[ds]?\s+in\s+schedule",
    r"\bcontrolled\s+substances?\b", r"\billegal\b", r"\bunlawful\b", r"\badulterat", r"\bimport\s+alert\b",
    r"\bseiz", r"\brestrict", r"\bage\s+(limit|requirement|of\s+21|21)\b", r"\bunder\s+(the\s+age\s+of\s+)?(18|21)\b",
    r"\b(21|18)\s+years\s+of\s+age\b", r"\bcap\b", r"\bthreshold\b", r"\bno\s+more\s+than\b", r"\blimit",
    r"\bwarning\s+letters?\b", r"\brecall", r"\bcriminal", r"\bpenalt", r"\bfelony\b", r"\bmisdemeanor\b",
    r"\bcrack\s*down\b", r"\benforcement\b", r"\bcriminali[sz]", r"\bnarcotic", r"\bpoisons?\b", r"\bdangerous\s+drug",
    r"\bcontrolled\s+drugs?\b", r"\bclass\s+[abc]\s+(drug|substance)", r"\btemporary\s+class\s+drug",
    r"\b(control|schedule|list)\s+\S+(\s+\S+)?\s+(as|under)\b",
)
PERMISSIVE_RE = _any(
    r"\brepeal", r"\blegali[sz]", r"\bdecriminali[sz]", r"\bdeschedul", r"\bremov(e|ed|al|es)\s+.{0,40}\bfrom\s+"
    r"(the\s+)?(schedule|list|narcotic)", r"\blift(s|ed|ing)?\s+(the\s+)?ban\b", r"\bconsumer\s+protection\s+act\b",
    r"\bkcpa\b", r"\bwithdraw(al|n|s)?\s+(of\s+)?(the\s+)?(notice|proposed|rule)", r"\bregulated\s+market\b",
    r"\bpermit(s|ted)?\s+(the\s+)?sale\b", r"\blawful\b(?<!unlawful)", r"\bkratom\s+act\b",
)

# Dates, numbers and thresholds: what "amended" is made of when no status word changed.
DATE_RE = re.compile(
    r"\b(\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}-\d{2}-\d{2}|(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)"
    r"[a-z]*\.?\s+\d{1,2}(,?\s+\d{4})?|\d{1,2}\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*"
    r"(\s+\d{4})?|(19|20)\d{2})\b", re.I)
QUANTITY_RE = re.compile(r"\d+(\.\d+)?\s*(%|percent|ppm|parts\s+per\s+million|mg/(g|kg|ml)|mg|milligrams?|"
                         r"grams?|g\b|ounces?|oz\b|years?(\s+(of\s+age|old))?|days?|\$)|\$\s*\d|"
                         r"\b(age|aged|under|over)\s+(of\s+)?\d+", re.I)
# A <dt> or row label that gives a value its meaning: "Effective date", "Minimum age", "7-OH limit".
VALUE_LABEL_RE = _any(r"\beffective\b", r"\bdate\b", r"\bdeadline\b", r"\bage\b", r"\blimit\b", r"\bthreshold\b",
                      r"\bcap\b", r"\bmaximum\b", r"\bminimum\b", r"\bconcentration\b", r"\bppm\b", r"\bpercent",
                      r"\bfee\b", r"\bpenalty\b", r"\bexpir", r"\bsunset\b", r"\bcommenc", r"\bstart",
                      r"\bin\s+force\b", r"\bappl(y|ies)\b")
SUBSTANTIVE_DATE_RE = _any(r"\beffective\b", r"\bbegin", r"\bstarting\b", r"\bfrom\b", r"\buntil\b",
                           r"\bexpires?\b", r"\bdeadline\b", r"\bno\s+later\s+than\b", r"\benforce", r"\bon\s+or\s+after\b",
                           r"\bthrough\b", r"\bsunset\b")
NOT_SUBSTANTIVE_RE = _any(r"\bupdated\b", r"\breviewed\b", r"\brevised\b", r"\bposted\b", r"\bas\s+of\b",
                          r"\baccessed\b", r"\bshowing\b", r"\bresults?\b", r"\bviews?\b", r"\bvisitors?\b",
                          r"\bpage\s+\d", r"\bprinted\b", r"\bcurrent\s+(as|through)\b",
                          r"\b(days?|hours?|weeks?)\s+(left|remaining|to\s+go|until|ago)\b", r"\bcountdown\b",
                          r"\blegislative\s+day\b", r"\bday\s+\d+\s+of\b",
                          r"\b(date\s+)?published(\s+date)?\s*:")

# A status heading over a list ("Ordinances Introduced", "Bills Signed") gives its rows their event.
LIST_HEADING_RE = re.compile(r"\b(introduced|filed|laid|ratified|registration|registered|made|pending|proposed|adopted|passed|enacted|signed|approved|vetoed|"
                             r"withdrawn|failed|effective|new\s+laws?|chaptered|in\s+force)\b", re.I)
# The heading of a schedule's own list ("§ 1308.11 Schedule I.", "Schedule I controlled substances").
SCHEDULE_HEADING_RE = re.compile(r"^\W*(§+\s*[\d.]+\s*)?schedules?\s+(i|1)\b(?!\s*\?)(?![^?]*\?)", re.I)
# Meeting agendas and hearing notices list what will be discussed, not what was decided.
# (Not "minutes" or "meeting": minutes record what was decided.)
AGENDA_RE = re.compile(r"\b(agenda|hearing|for\s+discussion|consideration|to\s+be\s+considered|workshop)\b", re.I)
# Words that carry a rule's substance; a rewording that keeps all of them (and every number) changes nothing.
SUBSTANCE_RE = re.compile(
    r"\d+(?:\.\d+)?|\b(not|no|never|nor|only|must|shall|may|cannot|prohibit\w*|ban\w*|illegal|legal|lawful|"
    r"unlawful|allow\w*|permit\w*|require\w*|restrict\w*|schedul\w*|controlled|approved|unapproved|regulat\w*|"
    r"misdemeanor|felony|penalt\w*|fine[sd]?|age|minors?|under|older|younger|over|percent|mg|adulterat\w*|"
    r"exempt\w*|licen[cs]\w*|effective|until|before|after|repeal\w*)\b", re.I)
CONTRACTIONS_RE = re.compile(r"n't\b", re.I)
CHAMBER_RE = re.compile(r"\b(senate|house|assembly|dewan\s+rakyat|dewan\s+negara|commons|lords)\b", re.I)
CORRECTION_RE = re.compile(r"(;|\b)\s*(correction|correcting\s+amendment|technical\s+amendment)s?\b", re.I)
# Item fields whose change is a change in the measure's status; links, dates of publication and ranks are not.
STATUS_FIELDS = ("event", "status", "type", "effective_on", "comments_close_on", "title", "measure")
# The date a history row starts with: classification reads the action after it.
LEADING_DATE_RE = re.compile(r"^\W*(\d{1,2}[/.-]\d{1,2}([/.-]\d{2,4})?|\d{4}-\d{2}-\d{2}|(jan|feb|mar|apr|may|jun|jul|"
                             r"aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(,?\s+\d{4})?)\b[\s,;:\u2022|-]*", re.I)
