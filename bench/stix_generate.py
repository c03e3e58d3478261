"""An ATT&CK-Enterprise-sized STIX 2.1 bundle, scaled up from the small checked-in sample
(tests/data/stix/sample-bundle.json): each object of the bundle is a copy of a sample object
of its type with a new id, name, ATT&CK id, description and references.

Shape (late-2026 ATT&CK Enterprise): one MITRE identity and marking definition, ~190
intrusion sets, ~700 malware, ~90 tools, ~830 attack patterns (about 60% sub-techniques), ~50
campaigns, ~270 courses of action, ~14 tactics and ~1,800 x-mitre data components and analytics,
and ~20,000 relationships (uses, mitigates, subtechnique-of, attributed-to, detects), most with a
description citing 1-3 of ~9,000 references; a few objects revoked or deprecated. Written
streamed; about 45 MB at the default scale. Deterministic for a seed.

Usage: python bench/stix_generate.py OUT.json [--scale 1.0] [--seed 1]
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

SAMPLE = Path(__file__).resolve().parent.parent / "tests" / "data" / "stix" / "sample-bundle.json"
_WORDS = (
    "spear phishing credential dumping lateral movement exfiltration persistence registry "
    "scheduled task service execution remote desktop web shell backdoor loader dropper "
    "keylogger screenshot archive compress encrypt upload command control beacon proxy tunnel "
    "domain fronting obfuscation packing signed binary proxy discovery account network share "
    "process injection token manipulation privilege escalation defense evasion collection"
)
WORDS = _WORDS.split()
VENDORS = (
    "Mandiant",
    "CrowdStrike",
    "Symantec",
    "Kaspersky",
    "ESET",
    "Palo Alto Networks Unit 42",
    "Microsoft Threat Intelligence",
    "Cisco Talos",
    "Secureworks",
    "Trend Micro",
)


def _id(kind: str, rng: random.Random) -> str:
    return f"{kind}--{uuid.UUID(int=rng.getrandbits(128), version=4)}"


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def _prose(rng: random.Random, sentences: int) -> str:
    return " ".join(_sentence(rng, rng.randint(8, 20)) for _ in range(sentences))


class World:
    def __init__(self, scale: float, seed: int) -> None:
        self.rng = random.Random(seed)
        self.scale = scale
        sample = json.loads(SAMPLE.read_text(encoding="utf-8"))["objects"]
        self.templates: dict[str, dict[str, Any]] = {}
        for obj in sample:
            self.templates.setdefault(obj["type"], obj)
        self.identity = self.templates["identity"]
        self.marking = self.templates["marking-definition"]
        self.citations = [self._reference(n) for n in range(self.count(9_000))]

    def count(self, n: int) -> int:
        return max(2, round(n * self.scale))

    def _reference(self, n: int) -> dict[str, str]:
        rng = self.rng
        vendor = rng.choice(VENDORS)
        year = rng.randint(2008, 2026)
        title = _sentence(rng, rng.randint(4, 9)).rstrip(".")
        return {
            "source_name": f"{vendor} {title.split()[0]} {year} {n}",
            "url": f"https://research.example/{vendor.split()[0].lower()}/{year}/{n}-"
            + "-".join(title.lower().split()[:5]),
            "description": f"{vendor}. ({year}, {rng.choice(['January', 'March', 'June'])} "
            f"{rng.randint(1, 28)}). {title}. Retrieved {rng.choice(['May', 'July'])} "
            f"{rng.randint(1, 28)}, {min(2026, year + 1)}.",
        }

    def _copy(self, kind: str, name: str, attack_id: str | None, **changes: Any) -> Any:
        obj = copy.deepcopy(self.templates[kind])
        obj["id"] = _id(kind, self.rng)
        obj["name"] = name
        for key in ("aliases", "x_mitre_aliases", "revoked", "x_mitre_deprecated"):
            obj.pop(key, None)
        obj["description"] = f"[{name}](https://attack.mitre.org/x/{attack_id}) " + _prose(
            self.rng, 3
        )
        refs = []
        if attack_id:
            refs.append(
                {
                    "source_name": "mitre-attack",
                    "url": f"https://attack.mitre.org/x/{attack_id}",
                    "external_id": attack_id,
                }
            )
        refs.extend(self.rng.sample(self.citations, 2))
        obj["external_references"] = refs
        obj.update(
            x_mitre_version="1.2",
            x_mitre_attack_spec_version="3.2.0",
            x_mitre_modified_by_ref=self.identity["id"],
            x_mitre_domains=["enterprise-attack"],
            object_marking_refs=[self.marking["id"]],
        )
        obj.update(changes)
        return obj

    def objects(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        yield self.marking
        yield self.identity
        groups = []
        for n in range(self.count(190)):
            name = f"Group {n:04d} {rng.choice(WORDS).title()}"
            aliases = [name, f"{rng.choice(WORDS).title()} Panda {n}", f"TA{n:04d}"]
            groups.append(self._copy("intrusion-set", name, f"G{n:04d}", aliases=aliases))
        software = []
        for n in range(self.count(790)):
            kind = "tool" if n % 9 == 0 else "malware"
            name = f"{rng.choice(WORDS).title()}{rng.choice(WORDS).title()} {n}"
            software.append(
                self._copy(kind, name, f"S{n:04d}", x_mitre_aliases=[name, f"{name}-v2"])
            )
        techniques = []
        parents: list[dict[str, Any]] = []
        for n in range(self.count(830)):
            sub = n % 5 >= 2 and parents
            detection = _prose(rng, 24)
            if sub:
                parent = parents[-1]
                number = sum(1 for t in techniques if t.get("_parent") is parent) + 1
                attack_id = f"{parent['_attack']}.{number:03d}"
                name = f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()}"
            else:
                attack_id = f"T{1000 + n}"
                name = f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()} {n}"
            obj = self._copy(
                "attack-pattern",
                name,
                attack_id,
                x_mitre_is_subtechnique=bool(sub),
                x_mitre_detection=detection,
                x_mitre_platforms=["Windows", "Linux", "macOS"],
                kill_chain_phases=[{"kill_chain_name": "mitre-attack", "phase_name": "execution"}],
            )
            # Technique pages are the long ones: procedure, detection and mitigation text.
            obj["description"] += " " + _prose(rng, 30)
            obj["_attack"] = attack_id
            if sub:
                obj["_parent"] = parents[-1]
            else:
                parents.append(obj)
            techniques.append(obj)
        campaigns = [
            self._copy(
                "campaign",
                f"Operation {rng.choice(WORDS).title()} {n}",
                f"C{n:04d}",
                first_seen=f"{rng.randint(2010, 2020)}-0{rng.randint(1, 9)}-01T00:00:00.000Z",
                last_seen="2024-01-01T00:00:00.000Z",
            )
            for n in range(self.count(50))
        ]
        mitigations = [
            self._copy("course-of-action", f"Mitigation {n}", f"M{1000 + n}")
            for n in range(self.count(270))
        ]
        tactics = [self._copy("x-mitre-tactic", f"Tactic {n}", f"TA{n:04d}") for n in range(14)]
        components = [
            {
                "type": "x-mitre-data-component",
                "spec_version": "2.1",
                "id": _id("x-mitre-data-component", rng),
                "created": "2021-10-20T15:05:19.272Z",
                "modified": "2025-04-25T14:44:25.813Z",
                "created_by_ref": self.identity["id"],
                "name": f"Component {n}",
                "description": _prose(rng, 30),
                "x_mitre_log_sources": [
                    {"name": "WinEventLog:Security", "channel": f"EventCode={4000 + n}"}
                ],
                "object_marking_refs": [self.marking["id"]],
            }
            for n in range(self.count(1_800))
        ]
        for obj in [*groups, *software, *techniques, *campaigns]:
            obj.pop("_parent", None)
        # A few revoked and deprecated, as every ATT&CK release has.
        for obj in software[::60]:
            obj["revoked"] = True
        for obj in techniques[::45]:
            obj["x_mitre_deprecated"] = True
        yield from groups
        yield from software
        for obj in techniques:
            out = {k: v for k, v in obj.items() if k not in ("_attack",)}
            yield out
        yield from campaigns
        yield from mitigations
        yield from tactics
        yield from components
        yield from self.relationships(groups, software, techniques, campaigns, mitigations)

    def _relationship(
        self, source: Any, target: Any, kind: str, cited: Sequence[dict[str, str]], **more: Any
    ) -> dict[str, Any]:
        rng = self.rng
        obj = copy.deepcopy(self.templates["relationship"])
        obj.pop("confidence", None)
        obj.update(
            id=_id("relationship", rng),
            relationship_type=kind,
            source_ref=source["id"],
            target_ref=target["id"],
            external_references=list(cited),
            x_mitre_version="1.0",
            x_mitre_attack_spec_version="3.2.0",
            x_mitre_modified_by_ref=self.identity["id"],
            x_mitre_domains=["enterprise-attack"],
            **more,
        )
        if cited:
            marks = "".join(f"(Citation: {c['source_name']})" for c in cited)
            obj["description"] = (
                f"[{source['name']}](https://attack.mitre.org/x/1) has used "
                f"[{target['name']}](https://attack.mitre.org/x/2) to "
                + _sentence(rng, rng.randint(10, 30)).lower()
                + marks
            )
        else:
            obj.pop("description", None)
        return obj

    def relationships(
        self, groups: Any, software: Any, techniques: Any, campaigns: Any, mitigations: Any
    ) -> Iterator[dict[str, Any]]:
        rng = self.rng
        users = [*groups, *software, *campaigns]
        targets = [*software, *techniques]

        def cites() -> list[dict[str, str]]:
            return rng.sample(self.citations, rng.choice((1, 1, 2, 2, 3)))

        for _ in range(self.count(16_000)):
            source, target = rng.choice(users), rng.choice(targets)
            if source is target:
                continue
            yield self._relationship(source, target, "uses", cites())
        for _ in range(self.count(1_400)):
            yield self._relationship(
                rng.choice(mitigations), rng.choice(techniques), "mitigates", cites()
            )
        for technique in techniques:
            if technique.get("x_mitre_is_subtechnique"):
                parent = next(t for t in techniques if t["_attack"] == technique["_attack"][:5])
                yield self._relationship(technique, parent, "subtechnique-of", [])
        for campaign in campaigns:
            yield self._relationship(
                campaign,
                rng.choice(groups),
                "attributed-to",
                cites(),
                confidence=rng.choice((15, 50, 85)),
            )


def write_bundle(path: Path, scale: float = 1.0, seed: int = 1) -> int:
    """Write the bundle; returns how many objects it holds."""
    world = World(scale, seed)
    n = 0
    with open(path, "w", encoding="utf-8") as out:
        out.write('{"type": "bundle", "id": "bundle--' + str(uuid.UUID(int=seed)) + '", ')
        out.write('"objects": [\n')
        for n, obj in enumerate(world.objects(), 1):
            if n > 1:
                out.write(",\n")
            out.write(json.dumps(obj, ensure_ascii=False))
        out.write("\n]}\n")
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    n = write_bundle(args.out, args.scale, args.seed)
    print(f"{n:,} objects, {args.out.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
