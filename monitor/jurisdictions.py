"""ISO 3166 codes -> names a compliance officer reads ("US-FL" -> "Florida", "US-CA-SAN-DIEGO" -> "San Diego, California")."""
from __future__ import annotations

US_STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California", "CO": "Colorado",
    "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia", "FL": "Florida", "GA": "Georgia",
    "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas",
    "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan",
    "MN": "Minnesota", "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York", "NC": "North Carolina",
    "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania",
    "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas",
    "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington", "WV": "West Virginia",
    "WI": "Wisconsin", "WY": "Wyoming", "PR": "Puerto Rico", "GU": "Guam", "VI": "U.S. Virgin Islands",
}
COUNTRIES = {
    "US": "United States (federal)", "TH": "Thailand", "GB": "United Kingdom", "AU": "Australia",
    "MY": "Malaysia", "EU": "European Union", "CA": "Canada", "NZ": "New Zealand", "DE": "Germany",
    "FR": "France", "IT": "Italy", "PL": "Poland", "SE": "Sweden", "DK": "Denmark", "IE": "Ireland",
    "LV": "Latvia", "LT": "Lithuania", "RO": "Romania", "CH": "Switzerland", "NL": "Netherlands",
    "BE": "Belgium", "ES": "Spain", "PT": "Portugal", "FI": "Finland", "NO": "Norway", "AT": "Austria",
    "ID": "Indonesia", "SG": "Singapore", "JP": "Japan", "KR": "South Korea", "MM": "Myanmar", "VN": "Vietnam",
    "IN": "India", "IL": "Israel", "CZ": "Czechia", "HR": "Croatia", "LU": "Luxembourg", "MX": "Mexico",
}


def jurisdiction_name(code: str) -> str:
    parts = code.split("-", 2)
    country = parts[0]
    if len(parts) == 1:
        return COUNTRIES.get(country, country)
    region = US_STATES.get(parts[1]) if country == "US" else None
    region = region or f"{COUNTRIES.get(country, country)} {parts[1]}"
    if len(parts) == 3:
        return f"{parts[2].replace('-', ' ').replace('_', ' ').title()}, {region}"
    return region
