"""A larger fleet of vehicles for scaled catalogs: real makes and models, generations drawn.

The sample's own nine vehicles (`vehicles.VEHICLES`) are hand-written down to their nicknames.
A catalog of 10,000 or 100,000 parts needs hundreds of vehicles; these come from a table of
real makes and models, each given consecutive generations with seeded year spans, so that a
large catalog is many vehicles times many part kinds, not copies of the sample.
"""

from __future__ import annotations

import random

from indexer.sample_data.vehicles import VEHICLES, Vehicle

# Make, the maker's part-number style (see part_numbers.py), and models.
# fmt: off
_MODELS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Volkswagen", "vw", ("Golf", "Polo", "Passat", "Tiguan", "Touran", "Jetta", "Up", "Arteon",
                          "Sharan", "Caddy", "Transporter", "T-Roc")),
    ("Audi", "vw", ("A1", "A3", "A4", "A5", "A6", "Q3", "Q5", "Q7", "TT")),
    ("Skoda", "vw", ("Fabia", "Octavia", "Superb", "Kodiaq", "Karoq", "Yeti", "Rapid")),
    ("Seat", "vw", ("Ibiza", "Leon", "Ateca", "Arona", "Alhambra", "Toledo")),
    ("Toyota", "toyota", ("Corolla", "Camry", "Yaris", "RAV4", "Auris", "Avensis", "Prius",
                          "Hilux", "Land Cruiser", "C-HR", "Aygo")),
    ("Lexus", "toyota", ("IS", "RX", "NX", "CT", "GS")),
    ("Honda", "honda", ("Civic", "Accord", "Jazz", "CR-V", "HR-V", "Odyssey", "Pilot")),
    ("Ford", "ford", ("Focus", "Fiesta", "Mondeo", "Kuga", "Galaxy", "S-Max", "Ranger",
                      "Transit", "Puma", "EcoSport", "Mustang", "Explorer", "F-150")),
    ("BMW", "bmw", ("1 Series", "3 Series", "5 Series", "7 Series", "X1", "X3", "X5", "Z4",
                    "2 Series")),
    ("Mini", "bmw", ("Hatch", "Countryman", "Clubman", "Paceman")),
    ("Nissan", "nissan", ("Qashqai", "Juke", "Micra", "Note", "X-Trail", "Navara", "Leaf",
                          "Altima", "Sentra", "Pathfinder")),
    ("Mercedes-Benz", "aftermarket", ("A-Class", "B-Class", "C-Class", "E-Class", "S-Class",
                                      "GLA", "GLC", "Sprinter", "Vito")),
    ("Renault", "aftermarket", ("Clio", "Megane", "Captur", "Kadjar", "Scenic", "Laguna",
                                "Trafic", "Kangoo", "Twingo")),
    ("Peugeot", "aftermarket", ("208", "308", "508", "2008", "3008", "5008", "Partner",
                                "Expert")),
    ("Citroen", "aftermarket", ("C1", "C3", "C4", "C5", "Berlingo", "Picasso", "Dispatch")),
    ("Opel", "aftermarket", ("Astra", "Corsa", "Insignia", "Mokka", "Zafira", "Meriva",
                             "Vivaro")),
    ("Fiat", "aftermarket", ("500", "Panda", "Punto", "Tipo", "Doblo", "Ducato", "Bravo")),
    ("Hyundai", "aftermarket", ("i10", "i20", "i30", "i40", "Tucson", "Santa Fe", "Kona",
                                "Elantra", "Sonata", "ix35")),
    ("Kia", "aftermarket", ("Picanto", "Rio", "Ceed", "Sportage", "Sorento", "Niro", "Optima",
                            "Soul", "Stonic")),
    ("Mazda", "aftermarket", ("Mazda2", "Mazda3", "Mazda6", "CX-3", "CX-5", "CX-30", "MX-5")),
    ("Subaru", "aftermarket", ("Impreza", "Forester", "Outback", "XV", "Legacy")),
    ("Mitsubishi", "aftermarket", ("Outlander", "ASX", "L200", "Colt", "Lancer",
                                   "Eclipse Cross")),
    ("Suzuki", "aftermarket", ("Swift", "Vitara", "SX4", "Jimny", "Ignis", "Baleno")),
    ("Volvo", "aftermarket", ("V40", "V60", "V70", "XC40", "XC60", "XC90", "S60", "S80")),
    ("Chevrolet", "aftermarket", ("Cruze", "Malibu", "Spark", "Silverado", "Equinox", "Tahoe",
                                  "Camaro", "Aveo")),
    ("Dacia", "aftermarket", ("Sandero", "Duster", "Logan", "Jogger", "Lodgy")),
    ("Land Rover", "aftermarket", ("Defender", "Discovery", "Freelander", "Range Rover Evoque",
                                   "Range Rover Sport")),
    ("Jeep", "aftermarket", ("Wrangler", "Cherokee", "Grand Cherokee", "Renegade", "Compass")),
    ("Tesla", "aftermarket", ("Model 3", "Model S", "Model X", "Model Y")),
    ("Alfa Romeo", "aftermarket", ("Giulietta", "Giulia", "Stelvio", "MiTo", "159")),
    ("Dodge", "aftermarket", ("Charger", "Challenger", "Durango", "Journey", "Ram 1500")),
    ("Porsche", "aftermarket", ("911", "Cayenne", "Macan", "Panamera", "Boxster")),
    ("Jaguar", "aftermarket", ("XE", "XF", "F-Pace", "E-Pace", "XJ")),
)
# fmt: on

# Model years the generated generations start from, and how long each one runs.
_FIRST_YEAR = (1988, 2006)
_SPAN = (5, 8)


def fleet(seed: int) -> tuple[Vehicle, ...]:
    """The sample's vehicles, then two to four generations of every model in the table."""
    rng = random.Random(f"partmatch-fleet-{seed}")
    known = {(v.make, v.model, v.generation) for v in VEHICLES}
    vehicles = list(VEHICLES)
    for make, style, models in _MODELS:
        for model in models:
            year = rng.randint(*_FIRST_YEAR)
            for number in range(rng.randint(1, 3), rng.randint(6, 8)):
                generation = f"Mk{number}"
                last = min(year + rng.randint(*_SPAN), 2025)
                if (make, model, generation) not in known:
                    vehicles.append(_vehicle(make, model, generation, year, last, style))
                year = last + 1
                if year > 2024:
                    break
    return tuple(vehicles)


def _vehicle(make: str, model: str, generation: str, first: int, last: int, style: str) -> Vehicle:
    short = model.lower()
    full = f"{make} {model}".lower()
    return Vehicle(
        make=make,
        model=model,
        generation=generation,
        first_year=first,
        last_year=last,
        pn_style=style,
        make_forms=(make.lower(),),
        nicknames=(short, full, f"{short} {generation.lower()}"),
    )
