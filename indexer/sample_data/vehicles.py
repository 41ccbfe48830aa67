"""The vehicles sample parts fit and customers mention: years, maker's number style, nicknames."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Vehicle:
    make: str
    model: str
    generation: str
    first_year: int
    last_year: int
    pn_style: str
    make_forms: tuple[str, ...]
    nicknames: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.make} {self.model} {self.generation} ({self.first_year}-{self.last_year})"


# Data tables stay hand-laid-out (one entry per line or block) so they read as tables.
# fmt: off
VEHICLES: tuple[Vehicle, ...] = (
    Vehicle("Volkswagen", "Golf", "Mk7", 2013, 2020, "vw", ("vw", "volkswagen"),
            ("golf", "vw golf", "golf mk7", "mk7 golf", "golf 7")),
    Vehicle("Volkswagen", "Polo", "6R", 2010, 2017, "vw", ("vw", "volkswagen"),
            ("polo", "vw polo", "polo 6r")),
    Vehicle("Toyota", "Corolla", "E170", 2014, 2019, "toyota", ("toyota",),
            ("corolla", "toyota corolla")),
    Vehicle("Toyota", "Camry", "XV50", 2012, 2017, "toyota", ("toyota",),
            ("camry", "toyota camry")),
    Vehicle("Honda", "Civic", "9th gen", 2012, 2015, "honda", ("honda",),
            ("civic", "honda civic", "civic 9th gen")),
    Vehicle("Ford", "Focus", "Mk3", 2011, 2018, "ford", ("ford",),
            ("focus", "ford focus", "focus mk3", "mk3 focus")),
    Vehicle("Ford", "F-150", "13th gen", 2015, 2020, "ford", ("ford",),
            ("f150", "f-150", "ford f150", "f 150")),
    Vehicle("BMW", "3 Series", "F30", 2012, 2019, "bmw", ("bmw",),
            ("3 series", "bmw 3 series", "f30", "320d", "bmw 320i")),
    Vehicle("Nissan", "Qashqai", "J11", 2014, 2021, "nissan", ("nissan",),
            ("qashqai", "nissan qashqai", "qashqai j11")),
)
# fmt: on

# Diesel-only parts would be nonsense on the petrol-only models.
DIESEL_MODELS = ("Golf", "Focus", "3 Series", "Qashqai", "Polo")
