"""The customer-text generator: a text asking for a given part, or one that names no part."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from indexer.sample_data.catalog import GeneratedPart
from indexer.sample_data.kinds import Kind
from indexer.sample_data.vehicles import VEHICLES, Vehicle
from indexer.sample_data.vocabulary import (
    ABBREVIATIONS,
    DAYS,
    KEYBOARD,
    LEADING_VEHICLE,
    NO_PART_TEXTS,
    PAYMENTS,
    PHONETIC_HELD,
    PHONETIC_SHARED,
    PLACES,
    PN_FORMATS,
    PN_PHRASES,
    POSITION_FORMS,
    POSITION_PHRASES,
    SIDE_FORMS,
    SIDE_PHRASES,
    TYPO_HELD,
    TYPO_SHARED,
    VEHICLE_PHRASES,
    WRAPPERS,
)


@dataclass
class TextGen:
    """Makes customer texts; ``heldout`` turns on options kept out of history."""

    rng: random.Random
    heldout: bool

    def part_text(self, part: GeneratedPart) -> str:
        rng, kind = self.rng, part.kind
        pn_mention = ""
        if part.part_number and rng.random() < 0.15:
            pn_mention = self._pn_phrase(part.part_number)
            if rng.random() < 0.4:
                return self._finish(pn_mention, typo_ok=False)
        lay = kind.lay if self.heldout or len(kind.lay) < 2 else kind.lay[:-1]
        use_lay = bool(lay) and rng.random() < 0.1
        noun = rng.choice(lay) if use_lay else self._noun(kind)
        pos = side = ""
        lone = len(kind.positions) == 1
        if part.position and (not lone or rng.random() < 0.4):
            # Lay descriptions read better with "at the front" than with "front".
            pool = POSITION_PHRASES.get(part.position) if use_lay else None
            pos = (pool or POSITION_FORMS[part.position]).pick(rng, self.heldout)
        if part.side:
            side = (SIDE_PHRASES if use_lay else SIDE_FORMS)[part.side].pick(rng, self.heldout)
        size = rng.choice(part.size[1]) if part.size is not None else ""
        quals = [q for q in (pos, side) if q]
        if use_lay:
            words = [noun, *quals, size]
        else:
            if len(quals) == 2 and rng.random() < 0.3:
                quals.reverse()
            words = [*quals, noun, size] if rng.random() < 0.7 else [noun, size, *quals]
        core = " ".join(" ".join(words).split())
        vehicle = part.vehicle
        if vehicle is None and rng.random() < 0.12:
            # Customers mention their car even for universal parts.
            vehicle = rng.choice(VEHICLES)
        if vehicle is not None and not (pn_mention and rng.random() < 0.5):
            if not use_lay and rng.random() < 0.3:
                core = f"{self._vehicle(vehicle, LEADING_VEHICLE)} {core}"
            else:
                core = f"{core} {self._vehicle(vehicle, None)}"
        if pn_mention:
            core = f"{core} {pn_mention}"
        return self._finish(core, typo_ok=True)

    def no_part_text(self) -> str:
        rng = self.rng
        text = NO_PART_TEXTS.pick(rng, self.heldout).format(
            order=rng.choice(("#", "", "PM", "no ")) + str(rng.randint(10000, 999999)),
            day=rng.choice(DAYS),
            place=rng.choice(PLACES),
            payment=rng.choice(PAYMENTS),
            vehicle=self._vehicle(rng.choice(VEHICLES), LEADING_VEHICLE),
        )
        if rng.random() < 0.3:
            text = f"{rng.choice(('hi', 'hello', 'hey', 'hi there'))} {text}"
        return self._style(self._typos(text) if rng.random() < 0.2 else text)

    def _noun(self, kind: Kind) -> str:
        aliases = kind.aliases if self.heldout or len(kind.aliases) < 2 else kind.aliases[:-1]
        # Customers mostly use the everyday words, sometimes the catalog's aliases.
        if aliases and self.rng.random() < 0.25:
            return self.rng.choice(aliases)
        return self.rng.choice(kind.terms)

    def _vehicle(self, vehicle: Vehicle, templates: tuple[str, ...] | None) -> str:
        rng = self.rng
        template = rng.choice(templates) if templates else VEHICLE_PHRASES.pick(rng, self.heldout)
        year = rng.randint(vehicle.first_year, vehicle.last_year)
        yy = rng.choice(("{:02d}", "'{:02d}")).format(year % 100)
        return template.format(
            year=year,
            yy=yy,
            nick=rng.choice(vehicle.nicknames),
            make=rng.choice(vehicle.make_forms),
            model=vehicle.model.lower(),
            gen=vehicle.generation.lower(),
        )

    def _pn_phrase(self, pn: str) -> str:
        bare = re.sub(r"[^A-Za-z0-9]", "", pn)
        grouped = " ".join(bare[i : i + 3] for i in range(0, len(bare), 3))
        formatted = PN_FORMATS.pick(self.rng, self.heldout).format(
            pn=pn,
            lower=pn.lower(),
            bare=bare,
            spaced=re.sub(r"[^A-Za-z0-9]", " ", pn),
            bare_lower=bare.lower(),
            dotted=re.sub(r"[^A-Za-z0-9]", ".", pn),
            grouped=grouped,
        )
        return PN_PHRASES.pick(self.rng, self.heldout).format(p=formatted)

    def _finish(self, core: str, typo_ok: bool) -> str:
        rng = self.rng
        core = self._abbreviate(core)
        if typo_ok:
            roll = rng.random()
            if roll < 0.3:
                core = self._typos(core)
            if roll < 0.05:
                core = self._typos(core)
        return self._style(WRAPPERS.pick(rng, self.heldout).format(x=core))

    def _abbreviate(self, text: str) -> str:
        words = text.split(" ")
        for i, word in enumerate(words):
            pool = ABBREVIATIONS.get(word.lower())
            if pool is not None and self.rng.random() < 0.3:
                words[i] = pool.pick(self.rng, self.heldout)
        return " ".join(words)

    def _typos(self, text: str) -> str:
        rng = self.rng
        words = text.split(" ")
        patterns = TYPO_SHARED + TYPO_HELD if self.heldout else TYPO_SHARED
        pattern = rng.choice(patterns)
        if pattern.startswith("phonetic"):
            table = PHONETIC_HELD if pattern == "phonetic_held" else PHONETIC_SHARED
            hits = [i for i, w in enumerate(words) if w.lower() in table]
            if hits:
                i = rng.choice(hits)
                words[i] = rng.choice(table[words[i].lower()])
                return " ".join(words)
            pattern = "neighbour" if self.heldout else "swap"
        candidates = [i for i, w in enumerate(words) if w.isalpha() and len(w) >= 4]
        if not candidates:
            return text
        i = rng.choice(candidates)
        w = words[i]
        j = rng.randrange(1, len(w) - 1)
        if pattern == "swap":
            w = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
        elif pattern == "drop":
            w = w[:j] + w[j + 1 :]
        elif pattern == "double":
            w = w[:j] + w[j] + w[j:]
        else:
            near = KEYBOARD.get(w[j].lower(), w[j])
            w = w[:j] + rng.choice(near) + w[j + 1 :]
        words[i] = w
        return " ".join(words)

    def _style(self, text: str) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.6:
            text = text.lower()
        elif roll < 0.63:
            text = text.upper()
        elif roll < 0.7:
            text = text[:1].upper() + text[1:]
        if rng.random() < 0.4:
            # Strip sentence punctuation but keep "2.5in" or "5w-30" intact.
            text = re.sub(r"[?!.,;:]+(?=\s|$)", "", text).replace("'", "")
        elif rng.random() < 0.1:
            text += rng.choice(("?", "??", "!", " thanks", " cheers", " ta"))
        return " ".join(text.split())
