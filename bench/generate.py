"""Deterministic synthetic data for the benchmarks: threat-intelligence claims, their claimants,
sources, subjects, tags, verdicts and links.

The same seed always gives the same data. Two outputs share one generator, so that a flat CSV and
a database built with the same seed describe the same claims (in the same order):

- write_flat_csv(path, n_rows, seed): the flat claim format, one row per (claim, source)
  appearance, for bulk-import benchmarks;
- build_database(path, n_claims, seed): a tracker SQLite database, written with SQLAlchemy Core
  in one transaction (100,000 claims in a few seconds).

Run it directly to make either:  python bench/generate.py db out.db --claims 100000
                                 python bench/generate.py csv out.csv --rows 250000
                                 python bench/generate.py csv feed.csv --profile feed
"""

from __future__ import annotations

import argparse
import bisect
import calendar
import csv
import itertools
import random
import re
import string
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# Bump whenever the generated data changes, so cached databases are rebuilt.
GENERATOR_VERSION = 1

# How many sources a claim has, drawn uniformly from the tuple: the number of rows it takes in
# the flat CSV. "default" averages 1.67 rows per claim (claims reported again and again);
# "feed" is a threat-intelligence feed: one row per claim, 2% of claims seen in a second source.
PROFILES: dict[str, tuple[int, ...]] = {
    "default": (1, 1, 1, 2, 2, 3),
    "feed": (1,) * 49 + (2,),
}

FLAT_COLUMNS = [
    "text",
    "claimant",
    "quote",
    "stated",
    "about",
    "tags",
    "verdict",
    "note",
    "credibility",
    "source",
    "source_url",
    "source_publisher",
    "source_date",
    "source_kind",
]

N_CLAIMANTS = 2_000
N_SOURCES = 2_000
N_GROUPS = 500  # threat groups; the first HACKTIVISTS of them also make claims
HACKTIVISTS = 100
N_VICTIMS = 350

# --- vocabulary -------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return text.split()


FIRST_NAMES = _words(
    "Aisha Alex Amara Ana Andrei Anna Ben Bilal Carlos Chen Chloe Daniel Dana David Elena Emil "
    "Farah Fatima Felix Gabriel Hana Hiroshi Ines Ivan Jakob James Jin Julia Kamal Karin Kenji "
    "Lars Laura Lea Leo Lina Lucas Maya Mei Mikhail Nadia Noah Nora Olga Omar Pablo Priya Rafael "
    "Rosa Sam Sara Sofia Tariq Tomas Vera Wei Yara Yusuf Zoe"
)
LAST_NAMES = _words(
    "Abbott Adeyemi Almeida Andersen Bakker Becker Bianchi Brennan Castillo Chandra Costa Dahl "
    "Dubois Eriksson Farouk Fischer Garcia Gallagher Haddad Hansen Ivanova Jansen Kato Khan Kim "
    "Kowalski Larsen Lindqvist Lopez Marchetti Meyer Moreau Nakamura Nguyen Novak Okafor Olsen "
    "Ortega Park Petrov Quinn Rahman Reyes Rossi Sato Schmidt Silva Sorensen Tanaka Torres "
    "Varga Vogel Walsh Weber Whitfield Yilmaz Zhang Zielinski"
)
VENDOR_PREFIXES = _words(
    "Aegis Arbor Argus Basalt Beacon Bastion Blackwater Bluefin Borealis Cinder Cobalt Crimson "
    "Cypress Ember Falcon Fathom Flint Granite Halcyon Harbor Helix Ironclad Juniper Keystone "
    "Lantern Lodestar Meridian Nimbus Northwind Obsidian Onyx Paladin Polaris Quartz Rampart "
    "Redoubt Sable Sentinel Slate Sparrow Summit Talon Tessera Vantage Vigil Warden Zenith"
)
VENDOR_SUFFIXES = [
    "Labs",
    "Security",
    "Intelligence",
    "Cyber",
    "Defense",
    "Threat Research",
    "Networks",
    "Response",
    "Analytics",
    "Forensics",
    "Systems",
    "Research Group",
    "Advisory",
    "Signals",
]
CITIES = _words(
    "Amsterdam Athens Austin Berlin Boston Brussels Cairo Chicago Copenhagen Dallas Denver "
    "Dublin Geneva Hamburg Helsinki Houston Istanbul Lagos Lisbon London Madrid Manila Melbourne "
    "Miami Milan Montreal Mumbai Nairobi Oslo Ottawa Paris Prague Seattle Seoul Singapore "
    "Stockholm Sydney Taipei Toronto Vienna Warsaw Zurich"
)
PAPERS = [
    "Times",
    "Post",
    "Herald",
    "Tribune",
    "Gazette",
    "Ledger",
    "Chronicle",
    "Observer",
    "Journal",
    "Courier",
    "Dispatch",
    "Standard",
]
COUNTRIES = [
    "Albania",
    "Argentina",
    "Australia",
    "Austria",
    "Belgium",
    "Brazil",
    "Canada",
    "Chile",
    "China",
    "Colombia",
    "Czechia",
    "Denmark",
    "Egypt",
    "Estonia",
    "Finland",
    "France",
    "Germany",
    "Ghana",
    "Greece",
    "India",
    "Indonesia",
    "Iran",
    "Ireland",
    "Israel",
    "Italy",
    "Japan",
    "Kenya",
    "Latvia",
    "Lithuania",
    "Malaysia",
    "Mexico",
    "Morocco",
    "Netherlands",
    "New Zealand",
    "Nigeria",
    "North Korea",
    "Norway",
    "Pakistan",
    "Poland",
    "Portugal",
    "Romania",
    "Russia",
    "Saudi Arabia",
    "Singapore",
    "South Korea",
    "Spain",
    "Sweden",
    "Ukraine",
    "United Kingdom",
    "United States",
]
AGENCIES = [
    "Ministry of Foreign Affairs",
    "Ministry of Defence",
    "National Cyber Security Centre",
    "Computer Emergency Response Team",
    "Ministry of the Interior",
    "Foreign Intelligence Service",
    "Data Protection Authority",
    "Embassy",
]
THINK_TANK_ADJECTIVES = _words(
    "Atlantic Baltic Global Pacific Nordic Open Digital Civic Independent International "
    "Strategic Meridian Central Continental Free Northern Southern Eastern Western Allied"
)
THINK_TANK_TOPICS = [
    "Cyber Policy",
    "Security Studies",
    "Digital Rights",
    "Internet Governance",
    "Conflict Research",
    "Technology and Society",
    "Information Integrity",
    "Strategic Affairs",
    "Arms Control",
    "Critical Infrastructure",
    "Election Security",
    "Privacy Research",
    "Open Source Investigations",
    "Democracy Studies",
    "Emerging Threats",
]
GROUP_ADJECTIVES = _words(
    "Amber Ashen Bronze Cerulean Copper Crimson Dusky Ember Frosted Gilded Granite Hollow "
    "Indigo Iron Jade Lunar Midnight Obsidian Pale Quiet Rusty Scarlet Silent Silver Smoky "
    "Stone Thorny Twilight Velvet Wandering"
)
GROUP_ANIMALS = _words(
    "Panda Bear Kitten Chollima Spider Tiger Jackal Viper Hornet Typhoon Blizzard Sandstorm "
    "Falcon Mantis Badger Lynx Heron Scorpion Wolf Crane"
)
GROUP_PREFIXES = ["APT", "UNC", "TA", "FIN", "Storm-", "DEV-", "TAG-", "G"]
COMPANY_NAMES = _words(
    "Alder Ashford Bellmont Brightwater Calder Carrow Dunmore Eastlake Fairhaven Garrick "
    "Glenrock Halvorsen Hawthorne Kestrel Kingsbridge Larkspur Marlow Northgate Oakridge Pembrook "
    "Redfield Riverton Saltmarsh Silverline Stanwick Thornbury Tidewater Upland Westbrook "
    "Whitmore Windham Yardley Ashby Bramwell Corvel Dalton Everly Foxley Greystone Hollins"
)
INDUSTRIES = [
    "Energy",
    "Shipping",
    "Health",
    "Bank",
    "Telecom",
    "Aerospace",
    "Pharmaceuticals",
    "Logistics",
    "Insurance",
    "Mining",
    "Water",
    "Semiconductors",
    "Retail",
    "Airlines",
    "Utilities",
]
SECTORS = [
    "defense",
    "energy",
    "healthcare",
    "financial",
    "telecommunications",
    "government",
    "aerospace",
    "manufacturing",
    "education",
    "shipping",
    "retail",
    "legal",
    "media",
    "semiconductor",
    "water utility",
    "election",
    "pharmaceutical",
    "logistics",
    "mining",
    "satellite",
]
REGIONS = [
    "the United States",
    "Western Europe",
    "Southeast Asia",
    "the Middle East",
    "Eastern Europe",
    "Latin America",
    "East Africa",
    "the Baltic states",
    "South Korea",
    "Japan",
    "Taiwan",
    "India",
    "Australia",
    "Canada",
    "the Gulf states",
    "Central Asia",
    "Scandinavia",
    "the Balkans",
]
DATA = [
    "emails",
    "design documents",
    "customer records",
    "source code",
    "diplomatic cables",
    "payroll data",
    "patient records",
    "login credentials",
    "contract bids",
    "satellite imagery",
    "negotiation briefs",
    "research data",
]
MALWARE_HEADS = _words("Gloom Spectre Mantis Hollow Ember Quill Frost Viper Rust Onyx Lattice Murk")
MALWARE_TAILS = _words("Loader Rat Door Wiper Stealer Beacon Drop Shell Lock Bot")
PRODUCTS = [
    "VPN appliances",
    "mail servers",
    "file-transfer software",
    "firewalls",
    "content management systems",
    "remote desktop gateways",
    "help-desk software",
    "network routers",
    "identity providers",
    "backup servers",
]
CAMPAIGN_ADJECTIVES = _words("Silent Broken Hidden Iron Glass Paper Quiet Northern Shadow Cold")
CAMPAIGN_NOUNS = _words("Harbor Lantern Orchard Bridge Meadow Citadel Compass Ledger Anvil Beacon")
SOURCE_ADJECTIVES = ["persistent", "sprawling", "long-running", "stealthy", "wide-ranging"]
TAGS = [
    "espionage",
    "ransomware",
    "attribution",
    "apt",
    "supply-chain",
    "zero-day",
    "phishing",
    "sanctions",
    "data-breach",
    "election",
    "critical-infrastructure",
    "wiper",
    "hacktivism",
    "disinformation",
    "financial-crime",
    "needs-review",
    "translated",
    "follow-up",
]
NOTES = [
    "Needs a second, independent source.",
    "Translated from the original statement; wording may differ.",
    "Figures disputed by the vendor in a later post.",
    "Follow up with the publisher about the methodology.",
    "Attribution rests on infrastructure overlap only.",
    "The original post was edited after publication.",
    "Claimed numbers are not broken down by country.",
]
REVIEWERS = ["Desk A", "Desk B", "Verification team", "Dana Whitfield", "Omar Haddad"]
USERS = ["dana", "omar", "lea", "ops-import", "sam"]

# Claim templates. {g} is a threat group, {c} a country, {v} a victim company: each such slot
# names a subject of the claim ("about"). The other fields are filled with vocabulary and numbers.
# The last item is the tag the template always carries.
CLAIM_TEMPLATES: list[tuple[str, str]] = [
    (
        "{g} compromised at least {n} {sector} organizations in {region} between {y1} and {y2}",
        "espionage",
    ),
    ("{g} exfiltrated {tb} terabytes of {data} from {sector} firms in {region}", "espionage"),
    (
        "{g} used the {malware} backdoor to keep access to victim networks for {months} months",
        "apt",
    ),
    ("{g} exploited {cve} in {product} weeks before a patch was available", "zero-day"),
    ("{g} is behind {campaign}, which targeted {sector} networks in {region}", "attribution"),
    ("{g} moved into ransomware operations against {sector} companies in {year}", "ransomware"),
    ("Phishing emails sent by {g} impersonated {sector} regulators in {region}", "phishing"),
    ("{g} deployed the {malware} wiper against {sector} operators in {region} in {year}", "wiper"),
    ("{g} operates on behalf of the government of {c}", "attribution"),
    ("{g} is a contractor working for the intelligence services of {c}", "attribution"),
    ("{c} directed the intrusions by {g} into {sector} networks in {region}", "attribution"),
    ("{g} stole {tb} terabytes of {data} for the benefit of state-owned firms in {c}", "espionage"),
    (
        "{c} denies any involvement in {campaign} and calls the accusations groundless",
        "attribution",
    ),
    ("{c} says it is itself a victim of cyber espionage from abroad", "espionage"),
    ("{c} will impose sanctions on {n} individuals over {campaign}", "sanctions"),
    ("{c} expelled {small} diplomats after the {campaign} disclosures", "sanctions"),
    ("{v} detected unauthorized access to {data} affecting {n} thousand customers", "data-breach"),
    ("A ransomware attack on {v} disrupted operations for {days} days", "ransomware"),
    ("{v} paid a ransom of {money} million dollars to restore its systems", "ransomware"),
    ("{v} lost {tb} terabytes of {data} in an intrusion discovered in {year}", "data-breach"),
    ("{g} breached {v} and stole {data} over {months} months", "data-breach"),
    ("{v} was not compromised by {g}, contrary to earlier reports", "attribution"),
    ("{g} reached {v} through a compromised update of its {product}", "supply-chain"),
    ("{c} blames {g} for the outage at {v} that lasted {days} days", "critical-infrastructure"),
]
QUOTE_TEMPLATES = [
    "We assess with high confidence that {s} was responsible.",
    "There is no evidence whatsoever that {s} was involved.",
    "We first saw this activity in {year} and it has not stopped since.",
    "The intrusion was contained within {days} days and no customer data left our network.",
    "These operations have been running since at least {year}.",
    "We will respond at a time and in a manner of our choosing.",
    "The accusations against {s} are baseless and politically motivated.",
    "We counted {n} victims, and that is only what we can see.",
]
SOURCE_TEMPLATES: list[tuple[str, tuple[str, ...]]] = [
    ("{campaign}: inside a {adj} espionage operation", ("report",)),
    ("{g} targets the {sector} sector with {malware}", ("report", "post")),
    ("Hackers linked to {c} breached {sector} firms, officials say", ("article",)),
    ("{v} confirms cyberattack that exposed {data}", ("article", "statement")),
    ("Statement on malicious cyber activity attributed to {c}", ("statement",)),
    ("Interview: the analyst who tracked {g} for {small} years", ("interview",)),
    ("{year} {sector} threat landscape", ("report", "dataset")),
    ("Indicators of compromise for {malware}", ("dataset", "post")),
    ("How {g} breached {v}", ("article", "post")),
    ("{c} rejects accusations over {campaign}", ("article", "statement")),
    ("Tracking {g}: {year} in review", ("report",)),
    ("{malware} and the {sector} sector: a technical analysis", ("report", "post")),
]
_FIELD = string.Formatter()


def _the(country: str) -> str:
    """A country's name as it reads after "of": "the United States", "Norway"."""
    return f"the {country}" if country.startswith(("United ", "Netherlands")) else country


def _fields(template: str) -> tuple[str, ...]:
    """The template's field names, each once, in order (a set's order would vary by run)."""
    return tuple(dict.fromkeys(name for _, name, _, _ in _FIELD.parse(template) if name))


# --- the generated world ----------------------------------------------------------------------


@dataclass(frozen=True)
class ActorSpec:
    name: str
    kind: str
    aliases: tuple[str, ...] = ()
    description: str | None = None


@dataclass(frozen=True)
class SourceSpec:
    title: str
    kind: str
    publisher: int | None  # index into World.actors
    authors: tuple[str, ...]
    url: str | None
    published: str | None
    retrieved: str | None
    reliability: str | None
    cites: tuple[int, ...]  # indexes of earlier sources, so citations never loop


@dataclass(frozen=True)
class ClaimSpec:
    text: str
    text_hash: str
    claimant: int  # index into World.actors
    quote: str | None
    stated: str | None
    about: tuple[int, ...]  # indexes into World.actors
    tags: tuple[str, ...]
    sources: tuple[int, ...]  # indexes into World.sources; the first is the first appearance
    verdicts: tuple[str, ...]  # oldest first; the last is the current verdict
    status: str
    note: str | None
    credibility: int | None


@dataclass(frozen=True)
class LinkSpec:
    from_claim: int  # claim indexes
    relation: str
    to_claim: int
    note: str | None


class Picker:
    """Draws items with a Zipf-like popularity: a few are used often, most rarely."""

    def __init__(self, rng: random.Random, items: Sequence[int], exponent: float = 0.9) -> None:
        self.items = list(items)
        rng.shuffle(self.items)
        weights = [1.0 / (rank + 1) ** exponent for rank in range(len(self.items))]
        self.cumulative = list(itertools.accumulate(weights))

    def one(self, rng: random.Random) -> int:
        position = bisect.bisect(self.cumulative, rng.random() * self.cumulative[-1])
        return self.items[min(position, len(self.items) - 1)]

    def distinct(self, rng: random.Random, k: int) -> tuple[int, ...]:
        chosen: list[int] = []
        while len(chosen) < k:
            item = self.one(rng)
            if item not in chosen:
                chosen.append(item)
        return tuple(chosen)


@dataclass
class World:
    """Actors and sources, and who tends to be picked for what."""

    actors: list[ActorSpec]
    sources: list[SourceSpec]
    claimants: Picker
    groups: Picker
    countries: Picker
    victims: Picker
    source_picker: Picker
    country_names: dict[str, int] = field(default_factory=dict)


def _name_key(name: str) -> str:
    from tracker.text import name_key

    return name_key(name)


def _combinations(
    rng: random.Random, parts: Sequence[Sequence[str]], joiner: Callable[..., str]
) -> list[str]:
    names = [joiner(*combo) for combo in itertools.product(*parts)]
    rng.shuffle(names)
    return names


def _take(candidates: Sequence[str], n: int, taken: set[str]) -> list[str]:
    """The first `n` candidates whose name key is still free; their keys become taken."""
    chosen = []
    for name in candidates:
        key = _name_key(name)
        if key in taken:
            continue
        taken.add(key)
        chosen.append(name)
        if len(chosen) == n:
            return chosen
    raise ValueError(f"only {len(chosen)} distinct names available, {n} wanted")


def _partial_date(rng: random.Random, first_year: int, last_year: int, full: float) -> str:
    """A partial date: a full day with probability `full`, else mostly a month, else a year."""
    year = rng.randint(first_year, last_year)
    roll = rng.random()
    if roll >= full + (1 - full) * 0.6:
        return f"{year:04d}"
    month = rng.randint(1, 12)
    if roll >= full:
        return f"{year:04d}-{month:02d}"
    day = rng.randint(1, calendar.monthrange(year, month)[1])
    return f"{year:04d}-{month:02d}-{day:02d}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]


def build_world(seed: int) -> World:
    rng = random.Random(f"claim-tracker-bench:{seed}:world")
    taken: set[str] = set()
    actors: list[ActorSpec] = []

    def add(names: Sequence[str], kind: str, describe: Callable[[str], str | None]) -> list[int]:
        start = len(actors)
        actors.extend(ActorSpec(name, kind, description=describe(name)) for name in names)
        return list(range(start, len(actors)))

    def nothing(_: str) -> None:
        return None

    # Threat groups first: their aliases draw on the same name pools.
    animal_names = _combinations(rng, [GROUP_ADJECTIVES, GROUP_ANIMALS], "{} {}".format)
    numbered = [f"{p}{n}" for p in GROUP_PREFIXES for n in range(1, 100)]
    numbered += [f"UNC{n}" for n in range(1000, 6000, 7)]
    numbered += [f"Storm-{n:04d}" for n in range(1, 2000, 3)]
    rng.shuffle(numbered)
    group_names = _take(animal_names, N_GROUPS // 2, taken) + _take(
        numbered, N_GROUPS - N_GROUPS // 2, taken
    )
    rng.shuffle(group_names)
    spare_aliases = iter(_take(animal_names + numbered, N_GROUPS, taken))
    for name in group_names:
        aliases = tuple(next(spare_aliases) for _ in range(rng.choice((0, 0, 0, 1, 1, 2))))
        description = (
            f"Threat group tracked since {rng.randint(2006, 2023)}" if rng.random() < 0.3 else None
        )
        actors.append(ActorSpec(name, "group", aliases, description))
    groups = list(range(len(actors)))
    hacktivists = groups[:HACKTIVISTS]

    countries = add(_take(COUNTRIES, len(COUNTRIES), taken), "government", nothing)
    companies = _combinations(rng, [COMPANY_NAMES, INDUSTRIES], "{} {}".format)
    victims = add(_take(companies, N_VICTIMS, taken), "company", nothing)

    # Claimants: vendors, newsrooms, agencies, institutes, people, and some of the groups.
    vendors = _combinations(rng, [VENDOR_PREFIXES, VENDOR_SUFFIXES], "{} {}".format)
    media = _combinations(rng, [CITIES, PAPERS], "The {} {}".format)
    agencies = _combinations(rng, [AGENCIES, [_the(c) for c in COUNTRIES]], "{} of {}".format)
    tanks = _combinations(
        rng, [THINK_TANK_ADJECTIVES, THINK_TANK_TOPICS], "{} Institute for {}".format
    )
    people = _combinations(rng, [FIRST_NAMES, LAST_NAMES], "{} {}".format)
    n_people = N_CLAIMANTS - HACKTIVISTS - 450 - 300 - 250 - 200
    vendor_ids = add(_take(vendors, 450, taken), "company", nothing)
    media_ids = add(_take(media, 300, taken), "media", nothing)
    agency_ids = add(_take(agencies, 250, taken), "government", nothing)
    tank_ids = add(_take(tanks, 200, taken), "organization", nothing)
    people_ids = add(
        _take(people, n_people, taken),
        "person",
        lambda _: rng.choice(("Security researcher", "Journalist", "Official", None, None)),
    )
    claimants = vendor_ids + media_ids + agency_ids + tank_ids + people_ids + hacktivists

    sources = _build_sources(
        rng, actors, Picker(rng, groups), Picker(rng, countries), Picker(rng, victims),
        publishers={
            "report": vendor_ids + tank_ids,
            "post": vendor_ids + people_ids,
            "dataset": vendor_ids + tank_ids,
            "article": media_ids,
            "interview": media_ids,
            "statement": agency_ids + victims,
        },
    )  # fmt: skip
    return World(
        actors=actors,
        sources=sources,
        claimants=Picker(rng, claimants, exponent=0.8),
        groups=Picker(rng, groups),
        countries=Picker(rng, countries, exponent=1.1),
        victims=Picker(rng, victims),
        source_picker=Picker(rng, range(len(sources)), exponent=0.8),
        country_names={actors[i].name: i for i in countries},
    )


def _build_sources(
    rng: random.Random,
    actors: list[ActorSpec],
    groups: Picker,
    countries: Picker,
    victims: Picker,
    publishers: dict[str, list[int]],
) -> list[SourceSpec]:
    sources: list[SourceSpec] = []
    titles: set[str] = set()
    templates = [(t, kinds, _fields(t)) for t, kinds in SOURCE_TEMPLATES]
    while len(sources) < N_SOURCES:
        template, kinds, fields = rng.choice(templates)
        values = _fill(rng, fields, groups, countries, victims, actors)[0]
        title = template.format(**values)
        title = title[0].upper() + title[1:]
        key = _name_key(title)
        if key in titles:
            continue
        titles.add(key)
        kind = rng.choice(kinds)
        publisher = rng.choice(publishers[kind]) if rng.random() < 0.92 else None
        published = _partial_date(rng, 2008, 2025, full=0.8) if rng.random() < 0.95 else None
        url = None
        if rng.random() < 0.9:
            host = _slug(actors[publisher].name if publisher is not None else "archive")
            year = (published or "2020")[:4]
            url = (
                f"https://www.{host.replace('-', '')}.example/{year}/{_slug(title)}-{len(sources)}"
            )
        retrieved = None
        if published is not None and rng.random() < 0.5:
            retrieved = _partial_date(rng, int(published[:4]), 2025, full=1.0)
        cites: tuple[int, ...] = ()
        if sources and rng.random() < 0.15:
            earlier = range(len(sources))
            cites = tuple(sorted(set(rng.sample(earlier, min(len(earlier), rng.randint(1, 2))))))
        sources.append(
            SourceSpec(
                title=title,
                kind=kind,
                publisher=publisher,
                authors=tuple(
                    f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
                    for _ in range(rng.choice((0, 1, 1, 2, 3)))
                ),
                url=url,
                published=published,
                retrieved=retrieved,
                reliability=rng.choice("AABBBCCCDEF") if rng.random() < 0.5 else None,
                cites=cites,
            )
        )
    return sources


def _fill(
    rng: random.Random,
    fields: tuple[str, ...],
    groups: Picker,
    countries: Picker,
    victims: Picker,
    actors: Sequence[ActorSpec],
) -> tuple[dict[str, Any], list[int]]:
    """Values for a template's fields, and the actors its subject slots name (in slot order)."""
    values: dict[str, Any] = {}
    subjects: list[int] = []
    for slot, picker in (("g", groups), ("c", countries), ("v", victims)):
        if slot in fields:
            index = picker.one(rng)
            subjects.append(index)
            values[slot] = _the(actors[index].name) if slot == "c" else actors[index].name
    for name in fields:
        if name not in values:
            values[name] = _FILLERS[name](rng)
    return values, subjects


def _year(rng: random.Random) -> int:
    return rng.randint(2008, 2025)


_FILLERS: dict[str, Callable[[random.Random], Any]] = {
    "n": lambda r: r.choice((r.randint(3, 40), r.randint(40, 400), r.randint(100, 2000))),
    "small": lambda r: r.randint(2, 12),
    "sector": lambda r: r.choice(SECTORS),
    "region": lambda r: r.choice(REGIONS),
    "year": _year,
    "y1": lambda r: r.randint(2006, 2016),
    "y2": lambda r: r.randint(2017, 2025),
    "tb": lambda r: r.choice((r.randint(2, 20), r.randint(20, 900))),
    "data": lambda r: r.choice(DATA),
    "malware": lambda r: r.choice(MALWARE_HEADS) + r.choice(MALWARE_TAILS),
    "months": lambda r: r.randint(2, 60),
    "days": lambda r: r.randint(1, 45),
    "money": lambda r: f"{r.randint(1, 40)}.{r.randint(0, 9)}",
    "cve": lambda r: f"CVE-{r.randint(2014, 2025)}-{r.randint(1000, 49999)}",
    "product": lambda r: r.choice(PRODUCTS),
    "adj": lambda r: r.choice(SOURCE_ADJECTIVES),
    "campaign": lambda r: f"Operation {r.choice(CAMPAIGN_ADJECTIVES)} {r.choice(CAMPAIGN_NOUNS)}",
}


def iter_claims(world: World, seed: int, profile: str = "default") -> Iterator[ClaimSpec]:
    """An endless, deterministic stream of claims; every claimant's texts are distinct. The
    profile (PROFILES) sets how many sources each claim has."""
    source_counts = PROFILES[profile]
    from tracker.services.claims import text_hash

    rng = random.Random(f"claim-tracker-bench:{seed}:claims")
    templates = [(t, tag, _fields(t)) for t, tag in CLAIM_TEMPLATES]
    quote_templates = [(t, _fields(t)) for t in QUOTE_TEMPLATES]
    seen: set[tuple[int, str]] = set()
    while True:
        claimant = world.claimants.one(rng)
        template, tag, fields = rng.choice(templates)
        values, about = _fill(
            rng, fields, world.groups, world.countries, world.victims, world.actors
        )
        text = template.format(**values)
        text = text[0].upper() + text[1:]
        digest = text_hash(text)
        if (claimant, digest) in seen or claimant in about:
            continue
        seen.add((claimant, digest))
        quote = None
        if rng.random() < 0.3:
            quote_template, quote_fields = rng.choice(quote_templates)
            quote_values = {"s": world.actors[about[0]].name}
            quote_values.update({f: _FILLERS[f](rng) for f in quote_fields if f != "s"})
            quote = quote_template.format(**quote_values)
        tags = [tag, *rng.sample(TAGS, rng.choice((0, 0, 1, 1, 2)))]
        n_verdicts = 0 if rng.random() < 0.8 else rng.choice((1, 1, 1, 2))
        verdicts = tuple(rng.choice(VERDICTS) for _ in range(n_verdicts))
        status = "reviewed" if verdicts else rng.choice(("unreviewed",) * 6 + ("in-progress",))
        yield ClaimSpec(
            text=text,
            text_hash=digest,
            claimant=claimant,
            quote=quote,
            stated=_partial_date(rng, 2008, 2025, full=0.6) if rng.random() < 0.85 else None,
            about=tuple(about),
            tags=tuple(sorted(set(tags))),
            sources=world.source_picker.distinct(rng, rng.choice(source_counts)),
            verdicts=verdicts,
            status=status,
            note=rng.choice(NOTES) if rng.random() < 0.08 else None,
            credibility=rng.randint(1, 6) if rng.random() < 0.6 else None,
        )


VERDICTS = [
    "true",
    "mostly-true",
    "mixed",
    "misleading",
    "exaggerated",
    "false",
    "unverifiable",
    "not-a-claim",
]
RELATIONS = [
    ("disputes", 35),
    ("supports", 30),
    ("refutes", 10),
    ("repeats", 10),
    ("cites", 5),
    ("qualifies", 5),
    ("supersedes", 5),
]
LINK_NOTES = ["Same campaign, different numbers.", "Official response.", "Vendor rebuttal."]


def make_links(n_claims: int, seed: int, share: float = 0.08) -> list[LinkSpec]:
    """Links from later claims to earlier ones; a few "hot" claims draw many disputes."""
    rng = random.Random(f"claim-tracker-bench:{seed}:links")
    if n_claims < 2:
        return []
    hot = rng.sample(range(n_claims), max(1, n_claims // 100))
    relations = [r for r, _ in RELATIONS]
    weights = [w for _, w in RELATIONS]
    links: list[LinkSpec] = []
    seen: set[tuple[int, str, int]] = set()
    for _ in range(int(n_claims * share)):
        relation = rng.choices(relations, weights)[0]
        to_claim = rng.choice(hot) if rng.random() < 0.3 else rng.randrange(n_claims - 1)
        if to_claim == n_claims - 1:
            continue
        from_claim = rng.randrange(to_claim + 1, n_claims)
        if (from_claim, relation, to_claim) in seen:
            continue
        seen.add((from_claim, relation, to_claim))
        note = rng.choice(LINK_NOTES) if rng.random() < 0.1 else None
        links.append(LinkSpec(from_claim, relation, to_claim, note))
    return links


# --- output 1: the flat claim CSV -------------------------------------------------------------


def iter_flat_rows(seed: int = 1, profile: str = "default") -> Iterator[tuple[int, list[str]]]:
    """Every row of the flat claim format this seed gives, endlessly: (claim number, row)."""
    world = build_world(seed)
    actors, sources = world.actors, world.sources
    for number, claim in enumerate(iter_claims(world, seed, profile)):
        common = [
            claim.text,
            actors[claim.claimant].name,
            claim.quote or "",
            claim.stated or "",
            ";".join(actors[i].name for i in claim.about),
            ";".join(claim.tags),
            claim.verdicts[-1] if claim.verdicts else "",
            claim.note or "",
            "" if claim.credibility is None else str(claim.credibility),
        ]
        for index in claim.sources:
            source = sources[index]
            publisher = actors[source.publisher].name if source.publisher is not None else ""
            yield (
                number,
                [
                    *common,
                    source.title,
                    source.url or "",
                    publisher,
                    source.published or "",
                    source.kind,
                ],
            )


def write_flat_csv(
    path: Path | str,
    n_rows: int,
    seed: int = 1,
    *,
    skip_rows: int = 0,
    n_claims: int = 0,
    profile: str = "default",
) -> int:
    """Write `n_rows` rows of the flat claim format (one per claim and source); returns the number
    of claims written. The last claim may lose some of its sources to the row limit.

    `skip_rows` continues a file of that many rows: the claim cut short by its limit gets its
    other sources first. With `n_claims`, rows go on until that many claims begin in this file
    (`n_rows` is then ignored)."""
    rows = 0
    claims: set[int] = set()
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(FLAT_COLUMNS)
        flat = iter_flat_rows(seed, profile)
        # The claim of the skipped file's last row, which goes on here without beginning here.
        cut = next(itertools.islice(flat, skip_rows - 1, None))[0] if skip_rows else None
        for number, row in flat:
            begins_here = number != cut
            if n_claims:
                if begins_here and len(claims) >= n_claims and number not in claims:
                    break
            elif rows >= n_rows:
                break
            if begins_here:
                claims.add(number)
            writer.writerow(row)
            rows += 1
    return len(claims)


# --- output 2: a tracker database -------------------------------------------------------------

START = datetime(2021, 1, 4, 9, 0, tzinfo=UTC)
SPAN = timedelta(days=4 * 365)
BATCH = 10_000


@dataclass
class BuildStats:
    claims: int = 0
    actors: int = 0
    sources: int = 0
    appearances: int = 0
    subjects: int = 0
    tags: int = 0
    links: int = 0
    verdicts: int = 0
    history: int = 0
    seconds: float = 0.0


class _History:
    """History rows, written in batches alongside the records they describe."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.rows: list[dict[str, Any]] = []

    def add(
        self, entity: str, entity_id: int, action: str, changes: dict[str, Any], at: datetime
    ) -> None:
        self.rows.append(
            {
                "uid": _uid(self.rng),
                "entity": entity,
                "entity_id": entity_id,
                "action": action,
                "changes": changes,
                "by": self.rng.choice(USERS),
                "at": at,
            }
        )


def _uid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def build_database(path: Path | str, n_claims: int, seed: int = 1) -> BuildStats:
    """Create a tracker database at `path` (which must not exist) holding `n_claims` claims."""
    from sqlalchemy import Connection, Table

    from tracker.db import open_database
    from tracker.models import Base
    from tracker.text import name_key

    target = Path(path)
    if target.exists():
        raise FileExistsError(f"{target} already exists")
    started = time.perf_counter()
    world = build_world(seed)
    rng = random.Random(f"claim-tracker-bench:{seed}:rows")
    tables = Base.metadata.tables
    stats = BuildStats(actors=len(world.actors), sources=len(world.sources), claims=n_claims)
    history = _History(rng)

    def insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
        if rows:
            conn.execute(table.insert(), rows)

    database = open_database(str(target))
    try:
        with database.connect(write=True) as conn:
            conn.exec_driver_sql("PRAGMA cache_size = -262144")  # 256 MiB while building
            setup = START - timedelta(days=30)
            actor_rows: list[dict[str, Any]] = []
            name_rows: list[dict[str, Any]] = []
            for index, actor in enumerate(world.actors):
                at = setup + timedelta(seconds=index)
                actor_rows.append(
                    {
                        "id": index + 1,
                        "uid": _uid(rng),
                        "name": actor.name,
                        "kind": actor.kind,
                        "description": actor.description,
                        "created_at": at,
                        "updated_at": at,
                    }
                )
                for name, primary in [(actor.name, True), *((a, False) for a in actor.aliases)]:
                    name_rows.append(
                        {
                            "actor_id": index + 1,
                            "name": name,
                            "key": name_key(name),
                            "is_primary": primary,
                        }
                    )
                history.add(
                    "actor",
                    index + 1,
                    "created",
                    {"name": actor.name, "aliases": list(actor.aliases)},
                    at,
                )
            insert(conn, tables["actor"], actor_rows)
            insert(conn, tables["actor_name"], name_rows)

            source_rows: list[dict[str, Any]] = []
            citation_rows: list[dict[str, Any]] = []
            for index, source in enumerate(world.sources):
                at = setup + timedelta(days=1, seconds=index)
                source_rows.append(
                    {
                        "id": index + 1,
                        "uid": _uid(rng),
                        "title": source.title,
                        "title_key": name_key(source.title),
                        "kind": source.kind,
                        "publisher_id": None if source.publisher is None else source.publisher + 1,
                        "authors": list(source.authors),
                        "url": source.url,
                        "published": source.published,
                        "retrieved": source.retrieved,
                        "reliability": source.reliability,
                        "created_at": at,
                        "updated_at": at,
                    }
                )
                citation_rows.extend(
                    {"source_id": index + 1, "cited_id": cited + 1} for cited in source.cites
                )
                history.add("source", index + 1, "created", {"title": source.title}, at)
            insert(conn, tables["source"], source_rows)
            insert(conn, tables["source_citation"], citation_rows)
            insert(conn, tables["history"], history.rows)
            stats.history += len(history.rows)
            history.rows.clear()

            last_event = _write_claims(conn, insert, world, seed, n_claims, rng, history, stats)
            _write_links(conn, insert, make_links(n_claims, seed), last_event, rng, history, stats)
    finally:
        database.close()  # closing the last connection checkpoints the WAL into the file
    stats.seconds = time.perf_counter() - started
    return stats


Insert = Callable[[Any, Any, list[dict[str, Any]]], None]


def _write_claims(
    conn: Any,
    insert: Insert,
    world: World,
    seed: int,
    n_claims: int,
    rng: random.Random,
    history: _History,
    stats: BuildStats,
) -> list[datetime]:
    from tracker.models import Base

    tables = Base.metadata.tables
    actors, sources = world.actors, world.sources
    step = SPAN / max(n_claims, 1)
    last_event: list[datetime] = []
    batch: dict[str, list[dict[str, Any]]] = {
        name: [] for name in ("claim", "claim_subject", "claim_tag", "appearance", "verdict")
    }

    def flush() -> None:
        for name, rows in batch.items():
            insert(conn, tables[name], rows)
            rows.clear()
        insert(conn, tables["history"], history.rows)
        stats.history += len(history.rows)
        history.rows.clear()

    for index, claim in enumerate(itertools.islice(iter_claims(world, seed), n_claims)):
        claim_id = index + 1
        created = START + step * index + timedelta(seconds=rng.randint(0, 59))
        uid = _uid(rng)
        history.add(
            "claim",
            claim_id,
            "created",
            {
                "uid": uid,
                "text": claim.text,
                "quote": claim.quote,
                "claimant": actors[claim.claimant].name,
                "about": [actors[i].name for i in sorted(claim.about)],
                "sources": [sources[i].title for i in claim.sources],
                "stated": claim.stated,
                "tags": list(claim.tags),
                "credibility": claim.credibility,
                "status": "unreviewed",
                "verdict": None,
                "note": claim.note,
            },
            created,
        )
        updated = created
        status, verdict = "unreviewed", None
        if claim.status == "in-progress":
            updated = created + timedelta(hours=rng.randint(1, 72))
            history.add(
                "claim", claim_id, "edited", {"status": ["unreviewed", "in-progress"]}, updated
            )
            status = "in-progress"
        for value in claim.verdicts:
            updated = updated + timedelta(days=rng.randint(1, 30), minutes=rng.randint(0, 600))
            reviewer = rng.choice(REVIEWERS) if rng.random() < 0.7 else None
            note = rng.choice(NOTES) if rng.random() < 0.4 else None
            batch["verdict"].append(
                {
                    "uid": _uid(rng),
                    "claim_id": claim_id,
                    "verdict": value,
                    "reviewer": reviewer,
                    "note": note,
                    "created_at": updated,
                }
            )
            changes: dict[str, Any] = {"verdict": [verdict, value]}
            if note:
                changes["reason"] = note
            if reviewer:
                changes["reviewer"] = reviewer
            if status != "reviewed":
                changes["status"] = [status, "reviewed"]
            history.add("claim", claim_id, "rated", changes, updated)
            status, verdict = "reviewed", value
        batch["claim"].append(
            {
                "id": claim_id,
                "uid": uid,
                "text": claim.text,
                "text_hash": claim.text_hash,
                "quote": claim.quote,
                "claimant_id": claim.claimant + 1,
                "stated": claim.stated,
                "note": claim.note,
                "credibility": claim.credibility,
                "status": status,
                "verdict": verdict,
                "created_at": created,
                "updated_at": updated,
            }
        )
        batch["claim_subject"].extend(
            {"claim_id": claim_id, "actor_id": actor + 1} for actor in claim.about
        )
        batch["claim_tag"].extend({"claim_id": claim_id, "tag": tag} for tag in claim.tags)
        batch["appearance"].extend(
            {"claim_id": claim_id, "source_id": source + 1, "position": position}
            for position, source in enumerate(claim.sources)
        )
        stats.subjects += len(claim.about)
        stats.tags += len(claim.tags)
        stats.appearances += len(claim.sources)
        stats.verdicts += len(claim.verdicts)
        last_event.append(updated)
        if claim_id % BATCH == 0:
            flush()
    flush()
    return last_event


def _write_links(
    conn: Any,
    insert: Insert,
    links: list[LinkSpec],
    last_event: list[datetime],
    rng: random.Random,
    history: _History,
    stats: BuildStats,
) -> None:
    from tracker.models import Base

    rows = []
    for link in links:
        at = max(last_event[link.from_claim], last_event[link.to_claim]) + timedelta(
            hours=rng.randint(1, 500)
        )
        from_id, to_id = link.from_claim + 1, link.to_claim + 1
        rows.append(
            {
                "uid": _uid(rng),
                "from_id": from_id,
                "relation": link.relation,
                "to_id": to_id,
                "note": link.note,
                "created_at": at,
            }
        )
        change = {"from": from_id, "relation": link.relation, "to": to_id}
        history.add("claim", from_id, "linked", change, at)
        history.add("claim", to_id, "linked", change, at)
    insert(conn, Base.metadata.tables["link"], rows)
    insert(conn, Base.metadata.tables["history"], history.rows)
    stats.links = len(rows)
    stats.history += len(history.rows)
    history.rows.clear()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate benchmark data.")
    parser.add_argument("--seed", type=int, default=1)
    outputs = parser.add_subparsers(dest="output", required=True)
    db = outputs.add_parser("db", help="a tracker SQLite database")
    db.add_argument("path", type=Path)
    db.add_argument("--claims", type=int, default=100_000)
    flat = outputs.add_parser("csv", help="the flat claim CSV (one row per claim and source)")
    flat.add_argument("path", type=Path)
    flat.add_argument("--rows", type=int, default=100_000)
    flat.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default="default",
        help="default: 1.67 rows per claim; feed: one row per claim, 2%% seen twice",
    )
    args = parser.parse_args(argv)
    if args.output == "db":
        stats = build_database(args.path, args.claims, args.seed)
        print(f"wrote {args.path}: {stats}", file=sys.stderr)
    else:
        started = time.perf_counter()
        claims = write_flat_csv(args.path, args.rows, args.seed, profile=args.profile)
        seconds = time.perf_counter() - started
        print(f"wrote {args.path}: {args.rows} rows, {claims} claims in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
