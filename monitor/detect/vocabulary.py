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
], key=len, reverse=True)
# Scripts without spaces between words: matched anywhere.
KRATOM_TERMS_UNBOUNDED = ["ใบกระท่อม", "พืชกระท่อม", "กระท่อม"]

KRATOM_RE = re.compile(
    "|".join([r"(?<![\w])(?:" + "|".join(re.escape(t).replace(r"\ ", r"[\s\-]+") for t in KRATOM_TERMS)
              + r")(?![\w])"] + [re.escape(t) for t in KRATOM_TERMS_UNBOUNDED]),
    re.I,
)

# Stage rank: the higher, the further the measure has moved. A pass reports the furthest event it saw.
EVENT_RANK = {"mention": 1, "amended": 2, "introduced": 3, "advanced": 4, "passed": 5, "failed": 6, "enacted": 7}
DEFAULT_SEVERITY = {"enacted": "critical", "passed": "high", "advanced": "high", "introduced": "medium",
                    "failed": "medium", "amended": "medium", "mention": "low"}


def _any(*patterns: str) -> re.Pattern:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.I)


# Each event's phrases, as they appear in legislative histories, rule notices and agency pages.
EVENT_PATTERNS: dict[str, re.Pattern] = {
    "enacted": _any(
        r"\bveto(es)?\s+overrid(den|e)\b", r"\boverr(ode|idden)\b.{0,20}\bveto",
        r"\b(signed|approved)\s+by\s+(the\s+)?(governor|president|mayor|county\s+executive)",
        r"\bsigned\b(?!\s+by\s+(the\s+)?(officers|speaker|president\s+of\s+the\s+senate|presiding|chief\s+clerk|"
        r"secretary|clerk|sponsor|members?)|\s+in\s+(the\s+)?(house|senate|assembly))"
        r"(?![^.;]{0,60}\b(presented|sent|transmitted|delivered)\s+to)",
        r"\bnew\s+laws?\b", r"\b(laws?|acts?|rules?|ordinances?|regulations?)\s+(now\s+)?effective\b",
        r"\bpublic\s+law\b", r"\bcoming\s+into\s+force\b", r"\b(gov(ernor)?\.?|president|mayor)\s+(\w+\s+){0,2}signs\b",
        r"\bsigns?\s+(\w+\s+){0,4}(bill|law|act|ordinance)\s+into\s+law\b",
        r"\b(council|commission|board\s+of\s+supervisors|commissioners|aldermen)\s+(unanimously\s+)?(approved|adopted|"
        r"passed|enacted)\b", r"ประกาศใช้",
        # A restriction dated to start: "Beginning January 1, 2027, ... is prohibited"; "illegal as of Jan 1".
        r"\b(beginning|starting|effective|as\s+of)\s+(on\s+)?((jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*"
        r"\.?\s+\d{1,2},?\s+\d{4}|\d{1,2}/\d{1,2}/\d{2,4})\b[^.]{0,200}?\b(prohibit|ban|illegal|unlawful|schedule\s+"
        r"(i|1)\b|may\s+not|must\s+not|shall\s+not|no\s+person)",
        r"\b(illegal|prohibited|banned|unlawful)\s+(as\s+of|beginning|starting|effective|from)\b",
        # German, Polish, French, Spanish, Dutch: in force, prohibited, ordinance published.
        r"\bin\s+kraft\b", r"\bverboten\b", r"\bunterstellt\b", r"\bwchodzi\s+w\s+życie\b", r"\bweszło\s+w\s+życie\b",
        r"\bentre(ra)?\s+en\s+vigueur\b", r"\bentra(rá)?\s+en\s+vigor\b", r"\bin\s+werking\b", r"\bverboden\b",
        r"\bgovernor\s+(signed|approved)\b", r"\bsigned\s+into\s+law\b", r"\bbec(ame|omes)\s+(law|act|effective)\b",
        r"\bbec(ame|omes)\s+(public\s+)?act\s+(no\.?\s*)?\d", r"\bact\s+no\.?\s*\d+", r"\bpublic\s+act\s+\d",
        r"\bchaptered\b", r"\bchapter\s+no\.?\s*\d", r"\bchapter\s+(19|20)\d\d-\d+", r"\bsession\s+law\b", r"\bsigned\s+by\s+governor",
        r"\bwithout\s+(the\s+)?governor'?s\s+signature", r"\blaw\s+without\s+signature",
        r"\b(takes?|took|taking)\s+effect\b", r"\bnow\s+in\s+effect\b", r"\b(went|goes|go)\s+into\s+effect\b",
        r"\beffective\s+upon\s+(passage|adoption|signature|approval|publication)\b", r"\bfinal\s+decisions?\b", r"\b(entered|enters|come|comes|came)\s+into\s+force\b",
        r"\bnow\s+in\s+force\b", r"\bfinal\s+rule\b", r"\binterim\s+final\s+rule\b",
        r"\btemporary\s+(scheduling\s+)?order\b", r"\btemporary\s+placement\b.{0,60}\bschedule\b",
        r"\bemergency\s+(rule|regulation|scheduling|order)\b", r"\bplaced?\s+(temporarily\s+)?in(to)?\s+schedule\b",
        r"\bplacement\s+(of\s+.{0,80})?in(to)?\s+schedule\s+(i|1)\b", r"\bschedule\s+(i|1)\s+controlled\s+substance",
        r"\b(is|are)\s+(now\s+|hereby\s+)?(prohibited|banned|illegal|unlawful|outlawed)\b",
        r"\bban\s+(takes|took|is\s+now|went)\b", r"\b(rule|regulation|ordinance)\s+(was\s+|is\s+|has\s+been\s+)?"
        r"(adopted|finali[sz]ed|approved|promulgated|filed\s+and\s+effective)\b", r"\benacted\b",
        r"\bordinance\s+(adopted|passed|approved)\b", r"\b(adopted|passed)\s+(an?\s+)?ordinance\b",
        r"\broyal\s+assent\b", r"\bpublished\s+in\s+the\s+(royal\s+)?gazette\b", r"\bgazetted\b",
        r"\bprom(ulgated|ulgation)\b", r"\bnow\s+(illegal|banned|prohibited|scheduled)\b",
        r"\bcame\s+into\s+effect\b",
        # Malay: royal assent, gazetted, in force. Thai: in force, a committee's or ministry's notification, the Gazette.
        r"\bperkenan\s+diraja\b", r"\bdiwartakan\b", r"\bberkuat\s?kuasa\b",
        r"มีผลบังคับใช้|มีผลใช้บังคับ|ประกาศคณะกรรมการ|ประกาศกระทรวง|ราชกิจจานุเบกษา",
    ),
    "failed": _any(
        r"\bveto(ed|es)?\b(?!\s+overrid)", r"\bdied\b", r"\bdead\b", r"\bfail(ed|s)\b", r"\bwithdrawn\b",
        r"\bwithdr(ew|awal\s+of)\b", r"\btabled\b", r"\blaid\s+on\s+(the\s+)?table\b", r"\blaid\s+over\b",
        r"\bindefinitely\s+postponed\b", r"\bpostponed\s+indefinitely\b", r"\bkilled\b", r"\bdefeated\b",
        r"\brejected\b", r"\bdo\s+not\s+pass\b", r"\bunfavorabl[ey]\b", r"\binexpedient\s+to\s+legislate\b",
        r"\bstricken\s+from\b", r"\bnot\s+(be\s+)?(adopted|enacted|proceed)", r"\bno\s+further\s+action\b",
        r"\b(motion|bill)\s+(lost|failed)\b", r"\brescind(ed|s)?\b", r"\brepeal(ed|s)?\s+(the\s+)?(emergency\s+)?rule\b",
        r"\baccompanied\s+(a\s+)?study\s+order\b", r"\bsent\s+to\s+study\b", r"\bleave\s+to\s+withdraw\b",
        r"\bought\s+not\s+to\s+pass\b", r"\breported\s+adversely\b", r"\bditarik\s+balik\b", r"\bditolak\b",
    ),
    "passed": _any(
        r"\bpassed\s+both\s+(houses|chambers)\b", r"\benrolled\b", r"\benrollment\b",
        r"\b(presented|sent|transmitted|delivered|forwarded)\s+to\s+(the\s+)?(governor|president)\b",
        r"\bto\s+governor\b", r"\bawaiting\s+(the\s+)?governor", r"\bconcurred\s+in\b", r"\bconcurrence\b",
        r"\bconference\s+(committee\s+)?report\s+adopted\b", r"\bfinal\s+passage\b",
        r"\bpassed\s+(the\s+)?(senate|house|assembly)\s+and\s+(the\s+)?(senate|house|assembly)\b",
        r"\bready\s+for\s+(the\s+)?governor\b", r"\bsent\s+to\s+(the\s+)?mayor\b",
        r"\badopted\s+(but\s+)?not\s+(yet\s+)?(in\s+force|effective)\b",
    ),
    "advanced": _any(
        r"\bpassed\b", r"\bthird\s+reading\b", r"\bsecond\s+reading\b", r"\b(2nd|3rd)\s+reading\b",
        r"\bread\s+(a\s+)?(second|third|2nd|3rd)\s+time\b", r"\bengrossed\b", r"\bengrossment\b",
        r"\breported\s+(out|favorabl[ye]|favourabl[ye]|with|as\s+amended|do\s+pass|back|by)\b",
        r"\bfavorabl[ey]\b", r"\bfavourabl[ey]\b", r"\bdo\s+pass\b", r"\bcommittee\s+substitute\b",
        r"\bCS\s+by\b", r"\bCS/(?:CS/)*[SH]B\b.{0,40}\b(adopted|passed|by)\b", r"\bplaced\s+on\s+(the\s+)?(\w+\s+)?(calendar|reading|order)",
        r"\bvoted\s+out\b", r"\breceived\s+from\s+(the\s+)?(senate|house|assembly)\b", r"\bin\s+messages\b",
        r"\bnow\s+in\b", r"\brecommended\s+(for\s+passage|do\s+pass|as\s+amended)\b", r"\bordered\s+(to|engrossed)",
        r"\byeas?\s*[:\-]?\s*\d+\s*[,;]?\s*nays?\s*[:\-]?\s*\d+", r"\bayes\s*\d+", r"\bcrossed\s+over\b",
        r"\breport\s+(filed|adopted)\b", r"\bcommittee\s+report\b", r"\bsubstituted\s+for\b",
        r"\breported\s*[-:\u2013]?\s*(substitute|amended|favorabl|from\s+committee)", r"^\W*((senate|house|assembly|joint|[SHAJ])\s+)?(committee\s+)?reported\b",
        r"\bdiluluskan\b", r"\bbacaan\s+kali\s+(kedua|ketiga)\b",
    ),
    "introduced": _any(
        r"\bintroduced\b", r"\bpre-?filed\b", r"\bfiled\b", r"\bfirst\s+reading\b", r"\b1st\s+reading\b",
        r"\bread\s+(a\s+)?(first|1st)\s+time\b", r"\breferred\s+to\b", r"\breferred\b",
        r"\bnotice\s+of\s+intent\b", r"\bproposed\s+rule(making)?\b", r"\bnotice\s+of\s+proposed\b", r"\bNPRM\b",
        r"\bcomment\s+period\b", r"\bcomments?\s+(are\s+)?(due|must\s+be\s+received|accepted)\b",
        r"\brequest\s+for\s+(comments?|information)\b", r"\bpublic\s+comment\b", r"\bpublic\s+consultation\b",
        r"\bconsultation\s+(on|opens|period)\b", r"\bproposed\s+(amendments?|regulations?|changes?|ordinance|ban)\b",
        r"\bdraft\s+(bill|regulation|rule|ordinance|decision)\b", r"\binterim\s+decision\b",
        r"\bscope\s+statement\b", r"\bEntwurf\b", r"\bprojekt\s+(ustawy|rozporządzenia)\b", r"\bprojet\s+de\b",
        r"\brulemaking\b", r"\bnotice\s+of\s+(rule\s+development|public\s+hearing)\b",
        r"\bfirst\s+read\b", r"\bassigned\s+to\s+(the\s+)?committee\b", r"\bsponsor(ed|s)?\s+by\b",
        r"\bbacaan\s+kali\s+pertama\b", r"\bdibentangkan\b", r"ร่างพระราชบัญญัติ|ร่างประกาศ|ร่างกฎ|รับฟังความคิดเห็น",
    ),
    "amended": _any(
        r"\bamended\b", r"\bamendments?\s+(adopted|filed|offered|agreed)\b", r"\bamends?\b",
        r"\beffective\s+date\s+(changed|moved|delayed|extended|postponed)\b", r"\b(delay(ed|s)?|postpone[ds]?)\s+"
        r"(the\s+)?(effective|enforcement|implementation)\b",
    ),
}

# Words that make a substantive statement a proposal: "notice of intent to place ... in Schedule I" is no ban.
PROPOSAL_RE = _any(
    r"\bnotice\s+of\s+intent\b", r"\bintent\s+to\b", r"\bpropos(ed|es|al|ing)\b", r"\bdraft\b", r"\bwould\b",
    r"\bconsultation\b", r"\bseeks?\s+comments?\b", r"\brequest\s+for\s+comments?\b", r"\bcomment\s+period\b",
    r"\bconsider(s|ing)?\b", r"\bplans?\s+to\b", r"\bintends?\s+to\b", r"\brecommend(s|ed|ation)?\b",
)
FEDERAL_PROPOSAL_RE = _any(r"\bnotice\s+of\s+intent\b", r"\bproposed\s+rule", r"\bnotice\s+of\s+proposed\b",
                           r"\bNPRM\b", r"\bproposes?\s+to\s+(temporarily\s+)?(place|schedule|control)")
# Substantive 'enacted' phrases a proposal marker downgrades to 'introduced'; procedural ones are not downgraded.
SUBSTANTIVE_ENACTED_RE = _any(
    r"\bschedule\s+(i|1)\b", r"\bplace", r"\bplacement\b", r"\b(prohibited|banned|illegal|unlawful)\b", r"\bban\b",
    r"\btemporary\s+(scheduling\s+)?order\b", r"\b(final|emergency|interim)\s+rule\b", r"\b(takes?|take)\s+effect\b",
)

RESTRICTIVE_RE = _any(
    r"\bban(s|ned|ning)?\b", r"\bprohibit", r"\bschedul(e|ed|ing)\s+(i|1|ii|2)\b", r"\bplace[ds]?\s+in\s+schedule",
    r"\bcontrolled\s+substances?\b", r"\billegal\b", r"\bunlawful\b", r"\badulterat", r"\bimport\s+alert\b",
    r"\bseiz", r"\brestrict", r"\bage\s+(limit|requirement|of\s+21|21)\b", r"\bunder\s+(the\s+age\s+of\s+)?(18|21)\b",
    r"\b(21|18)\s+years\s+of\s+age\b", r"\bcap\b", r"\bthreshold\b", r"\bno\s+more\s+than\b", r"\blimit",
    r"\bwarning\s+letters?\b", r"\brecall", r"\bcriminal", r"\bpenalt", r"\bfelony\b", r"\bmisdemeanor\b",
    r"\bcrack\s*down\b", r"\benforcement\b", r"\bcriminali[sz]", r"\bnarcotic", r"\bpoisons?\b", r"\bdangerous\s+drug",
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
QUANTITY_RE = re.compile(r"\d+(\.\d+)?\s*(%|percent|mg|milligrams?|grams?|g\b|years?|days?|\$)|\$\s*\d", re.I)
SUBSTANTIVE_DATE_RE = _any(r"\beffective\b", r"\bbegin", r"\bstarting\b", r"\bfrom\b", r"\buntil\b",
                           r"\bexpires?\b", r"\bdeadline\b", r"\bno\s+later\s+than\b", r"\benforce", r"\bon\s+or\s+after\b",
                           r"\bthrough\b", r"\bsunset\b")
NOT_SUBSTANTIVE_RE = _any(r"\bupdated\b", r"\breviewed\b", r"\brevised\b", r"\bposted\b", r"\bas\s+of\b",
                          r"\baccessed\b", r"\bshowing\b", r"\bresults?\b", r"\bviews?\b", r"\bvisitors?\b",
                          r"\bpage\s+\d", r"\bprinted\b", r"\bcurrent\s+(as|through)\b")

# Actions on an amendment or a motion, not on the measure: "Amendment 2 failed" does not kill the bill.
SUBSIDIARY_ACTION_RE = re.compile(
    r"\b(floor\s+|committee\s+)?(amendments?|motions?(\s+to\s+\w+)?)\s*(no\.?\s*)?[\w.\-]*\s*(\([^)]*\)\s*)?"
    r"(was\s+|were\s+)?(failed|fails|withdrawn|tabled|rejected|lost|not\s+adopted|laid\s+on\s+(the\s+)?table|"
    r"ruled\s+out\s+of\s+order)", re.I)

# Statements that something is NOT yet law: removed before matching, so "not yet in effect" is no enactment.
NEGATED_RE = re.compile(
    r"\b(is\s+|are\s+)?not\s+(yet\s+)?(in\s+effect|effective|in\s+force|law|final|adopted|enacted)\b|"
    r"\b(has|have|had|was|were|is|are|did|does|do)\s*n[o']t\s+(yet\s+|been\s+)*\w+(ed|en)\b|"
    r"\bno\s+(bill|legislation|rule|ordinance|measure|law)s?\b[^.;]{0,80}?\b(filed|introduced|passed|enacted|"
    r"adopted|proposed|signed)\b|\bnever\s+(been\s+)?\w+ed\b", re.I)
# Where Westminster usage holds, a bill "tabled" in parliament is introduced, not killed.
WESTMINSTER = {"GB", "AU", "MY", "NZ", "CA", "IN", "SG", "IE", "ZA"}
TABLED_RE = re.compile(r"\btabled\b", re.I)
# A status heading over a list ("Ordinances Introduced", "Bills Signed") gives its rows their event.
LIST_HEADING_RE = re.compile(r"\b(introduced|pending|proposed|adopted|passed|enacted|signed|approved|vetoed|"
                             r"withdrawn|failed|effective|new\s+laws?|chaptered|in\s+force)\b", re.I)
# The heading of a schedule's own list ("§ 1308.11 Schedule I.", "Schedule I controlled substances").
SCHEDULE_HEADING_RE = re.compile(r"^\W*(§+\s*[\d.]+\s*)?schedules?\s+(i|1)\b(?!\s*\?)(?![^?]*\?)", re.I)
# Meeting agendas and hearing notices list what will be discussed, not what was decided.
AGENDA_RE = re.compile(r"\b(agenda|meeting|hearing|for\s+discussion|consideration|to\s+be\s+considered|"
                       r"workshop|minutes)\b", re.I)
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
