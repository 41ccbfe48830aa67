"""Seeded generator for partmatch's sample data: a car-parts catalog and customer texts.

The catalog is about 300 parts in the project's documented ``catalog.jsonl``
format.  ``history.csv`` (training), ``valid.csv`` and ``test.csv`` hold texts
as customers type them, labelled with the SKU they ask for (empty when the text
names no part).

The evaluation splits are meant to be honest: wrapper templates, vehicle
phrasings, lay descriptions, one regional alias per part kind, some
abbreviations and some misspelling patterns are held out of history and used
only in valid/test; a handful of "cold" parts never occur in history; and any
valid/test text that is a near-copy of a history text with the same label is
regenerated.  Everything is driven by ``random.Random`` instances seeded with
strings, so a seed always yields byte-identical files.

Run ``python -m indexer.sample_data --out data/sample`` to write the files.
"""

from __future__ import annotations

import argparse
import csv
import json
import pathlib
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

DEFAULT_SEED = 7
DEFAULT_HISTORY_SIZE = 6000
VALID_SIZE = 800
TEST_SIZE = 800
NO_PART_SHARE = 0.05
# Share of valid/test texts drawn from parts that never appear in history, so
# that matching against catalog text (not just past texts) is measured.
COLD_TEST_SHARE = 0.10
COLD_PART_SHARE = 0.05
# Chance that a held-out option is picked in valid/test where a dimension has
# one; the rest come from the shared pool, as in real traffic.
HELDOUT_RATE = 0.5
# Two texts with the same label whose token sets overlap at least this much
# count as near-copies.
NEAR_COPY_JACCARD = 0.6
MAX_ATTEMPTS = 400

CATALOG_FILE = "catalog.jsonl"
HISTORY_FILE = "history.csv"
VALID_FILE = "valid.csv"
TEST_FILE = "test.csv"


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


Size = tuple[str, tuple[str, ...]]


@dataclass(frozen=True)
class Kind:
    code: str
    name: str
    blurb: str
    terms: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    lay: tuple[str, ...] = ()
    positions: tuple[str, ...] = ()
    sided: bool = False
    sizes: tuple[Size, ...] = ()
    fits: int = 0
    models: tuple[str, ...] = ()
    pn: float = 0.5
    weight: float = 1.0
    demand: float = 1.0

    @property
    def category(self) -> str:
        return CATEGORY_NAMES[self.code]


def _tyre(size: str) -> Size:
    m = re.fullmatch(r"(\d+)/(\d+)R(\d+)", size)
    assert m is not None
    w, p, r = m.groups()
    return size, (
        size,
        size.lower(),
        f"{w} {p} {r}",
        f"{w}/{p}/{r}",
        f"{w}/{p} r{r}",
        f"{w} {p} r{r}",
    )


def _inches(inch: int) -> Size:
    mm = inch * 25
    return f'{inch}"', (f'{inch}"', f"{inch} inch", f"{inch}in", f"{inch} inches", f"{mm}mm")


def _litres(amount: str) -> Size:
    forms = {
        "500ml": ("500ml", "500 ml", "half litre"),
        "1L": ("1l", "1 litre", "1 liter", "1ltr"),
        "2L": ("2l", "2 litre", "2 liter", "2ltr"),
        "4L": ("4l", "4 litre", "4 liter", "gallon"),
        "5L": ("5l", "5 litre", "5 liter", "5ltr"),
        "10L": ("10l", "10 litre", "10 liter"),
        "20L": ("20l", "20 litre", "20 liter"),
    }
    return amount, forms[amount]


# fmt: off
FR = ("front", "rear")
BRK, ENG, ELE, COO, SUS, STE, EXH = "BRK", "ENG", "ELE", "COO", "SUS", "STE", "EXH"
BOD, LGT, INT, FIL, FUE, TRN, WHL, WIP = "BOD", "LGT", "INT", "FIL", "FUE", "TRN", "WHL", "WIP"
CATEGORY_NAMES = {
    BRK: "brakes", ENG: "engine", ELE: "electrical", COO: "cooling", SUS: "suspension",
    STE: "steering", EXH: "exhaust", BOD: "body", LGT: "lighting", INT: "interior",
    FIL: "filters", FUE: "fuel", TRN: "transmission", WHL: "wheels_tyres", WIP: "wipers",
}


# Aliases are ordered on purpose: the last alias of a kind with two or more is
# held out of history, so the common regional names go first.
KINDS: tuple[Kind, ...] = (
    # --- brakes
    Kind(BRK, "Brake Pad Set", "Low-dust brake pad set for disc brakes, with fitting clips.",
        ("brake pads", "pads", "brake pad set", "disc pads"),
        aliases=("disc brake pads", "brake pad kit"),
        lay=("the thing that stops the car", "the bits that squeal when i brake",
             "the pads that squeeze the disc"),
        positions=FR, fits=3, pn=0.75, weight=1.8, demand=3.0),
    Kind(BRK, "Brake Disc", "Vented cast-iron brake disc, sold individually.",
        ("brake discs", "discs", "brake disc", "rotors"), aliases=("brake rotor", "disc rotor"),
        lay=("the round metal plate behind the wheel", "the shiny disc the pads grab"),
        positions=FR, fits=2, pn=0.75, weight=6.5, demand=2.0),
    Kind(BRK, "Brake Caliper", "Remanufactured brake caliper with bleed nipple, exchange unit.",
        ("brake caliper", "caliper", "calliper"), aliases=("brake calliper", "caliper assembly"),
        lay=("the clamp that holds the brake pads",),
        positions=FR, sided=True, fits=2, pn=0.8, weight=3.2),
    Kind(BRK, "Brake Drum", "Brake drum for rear drum brakes.",
        ("brake drum", "drum", "rear drum"), aliases=("drum brake",),
        positions=("rear",), fits=2, pn=0.6, weight=5.0, demand=0.6),
    Kind(BRK, "Brake Shoe Set", "Brake shoe set for rear drum brakes, pair per axle.",
        ("brake shoes", "shoes", "brake shoe set"), aliases=("drum brake shoes",),
        positions=("rear",), fits=2, pn=0.6, weight=1.5, demand=0.6),
    Kind(BRK, "Brake Fluid DOT 4", "DOT 4 hydraulic brake fluid for brake and clutch systems.",
        ("brake fluid", "dot 4", "dot4 brake fluid"),
        aliases=("hydraulic brake fluid", "brake and clutch fluid"),
        lay=("the liquid for the brakes",),
        sizes=(_litres("500ml"), _litres("1L")), pn=0.3, weight=0.6, demand=1.5),
    Kind(BRK, "Brake Hose", "Flexible rubber brake hose with banjo fittings.",
        ("brake hose", "brake line", "flexi brake hose"), aliases=("brake flex hose",),
        positions=FR, sided=True, fits=1, pn=0.6, weight=0.2, demand=0.5),
    Kind(BRK, "Parking Brake Cable",
        "Parking brake cable running from the lever to the rear brake.",
        ("parking brake cable", "handbrake cable", "hand brake cable", "e-brake cable"),
        aliases=("handbrake cable", "emergency brake cable"),
        lay=("the cable for the lever you pull when you park",),
        positions=("rear",), sided=True, fits=1, pn=0.6, weight=0.7, demand=0.6),
    Kind(BRK, "Brake Master Cylinder", "Brake master cylinder with fluid reservoir.",
        ("brake master cylinder", "master cylinder"), aliases=("brake master",),
        fits=2, pn=0.7, weight=2.1, demand=0.5),
    Kind(BRK, "ABS Wheel Speed Sensor", "ABS wheel speed sensor with connector lead.",
        ("abs sensor", "wheel speed sensor", "abs wheel sensor"),
        aliases=("wheel speed sensor", "abs pickup"),
        positions=FR, sided=True, fits=1, pn=0.75, weight=0.2),
    Kind(BRK, "Brake Pad Wear Sensor", "Electronic brake pad wear warning sensor.",
        ("brake wear sensor", "pad wear sensor", "brake pad sensor"), aliases=("wear indicator",),
        positions=FR, fits=1, pn=0.7, weight=0.1, demand=0.7),
    # --- engine
    Kind(ENG, "Timing Belt Kit", "Timing belt kit with tensioner and idler pulleys.",
        ("timing belt kit", "timing belt", "cambelt", "cam belt"),
        aliases=("cambelt kit", "timing belt set"),
        lay=("the belt inside the engine that keeps it in time",
             "the belt that has to be changed every 60k"),
        fits=2, pn=0.7, weight=1.9, demand=1.5),
    Kind(ENG, "Timing Chain Kit", "Timing chain kit with guides, tensioner and sprockets.",
        ("timing chain kit", "timing chain", "cam chain"), aliases=("timing chain set",),
        fits=2, pn=0.7, weight=2.8, demand=0.7),
    Kind(ENG, "Spark Plug", "Iridium spark plug, sold individually.",
        ("spark plugs", "spark plug", "plugs"), aliases=("ignition plug",),
        lay=("the things that make the spark", "the little plugs that fire the engine"),
        fits=2, pn=0.7, weight=0.1, demand=2.0),
    Kind(ENG, "Ignition Coil", "Pencil-type ignition coil pack.",
        ("ignition coil", "coil pack", "coil"), aliases=("coil pack", "ignition coil pack"),
        fits=2, pn=0.75, weight=0.4, demand=1.2),
    Kind(ENG, "Engine Mount", "Hydraulic engine mount.",
        ("engine mount", "engine mounting", "motor mount"),
        aliases=("engine mounting", "motor mount"),
        sided=True, fits=1, pn=0.7, weight=1.6),
    Kind(ENG, "Valve Cover Gasket", "Rubber valve cover gasket set.",
        ("valve cover gasket", "rocker cover gasket", "cam cover gasket"),
        aliases=("rocker cover gasket", "cam cover gasket"),
        fits=2, pn=0.6, weight=0.2),
    Kind(ENG, "Cylinder Head Gasket", "Multi-layer steel cylinder head gasket.",
        ("head gasket", "cylinder head gasket"), aliases=("head gasket",),
        lay=("the gasket between the engine block and the head",),
        fits=2, pn=0.7, weight=0.4, demand=0.8),
    Kind(ENG, "Serpentine Belt", "Ribbed serpentine drive belt for engine accessories.",
        ("serpentine belt", "fan belt", "drive belt", "aux belt"),
        aliases=("auxiliary belt", "fan belt", "poly v belt"),
        lay=("the long rubber belt at the front of the engine",
             "the belt that squeals on cold mornings"),
        fits=2, pn=0.6, weight=0.2, demand=1.3),
    Kind(ENG, "Belt Tensioner", "Automatic belt tensioner with pulley.",
        ("belt tensioner", "tensioner pulley", "tensioner"), aliases=("auxiliary belt tensioner",),
        fits=2, pn=0.7, weight=0.9, demand=0.6),
    Kind(ENG, "Turbocharger", "Remanufactured turbocharger with gasket kit.",
        ("turbo", "turbocharger", "turbo charger"), aliases=("turbo unit",),
        lay=("the snail shaped thing that boosts the engine",),
        fits=2, models=DIESEL_MODELS, pn=0.8, weight=8.5, demand=0.6),
    Kind(ENG, "Throttle Body", "Electronic throttle body with position sensor.",
        ("throttle body", "throttle valve"), aliases=("throttle housing",),
        fits=2, pn=0.75, weight=1.1, demand=0.6),
    Kind(ENG, "Oil Pan", "Pressed-steel oil pan with drain plug.",
        ("oil pan", "sump", "oil sump"), aliases=("sump pan", "engine sump"),
        fits=2, pn=0.6, weight=3.0, demand=0.5),
    Kind(ENG, "Camshaft Position Sensor", "Hall-effect camshaft position sensor.",
        ("camshaft sensor", "cam sensor", "camshaft position sensor"), aliases=("cmp sensor",),
        fits=2, pn=0.75, weight=0.1, demand=0.7),
    Kind(ENG, "Crankshaft Position Sensor", "Crankshaft position sensor with lead.",
        ("crankshaft sensor", "crank sensor", "crank position sensor"), aliases=("ckp sensor",),
        fits=2, pn=0.75, weight=0.1, demand=0.7),
    Kind(ENG, "Engine Oil", "Fully synthetic engine oil.",
        ("engine oil", "motor oil", "oil"), aliases=("motor oil",),
        lay=("oil for the engine",),
        sizes=(("5W-30 1L", ("5w30 1l", "5w-30 1 litre", "5w30 1 liter")),
              ("5W-30 5L", ("5w30 5l", "5w-30 5 litre", "5w30 5 liter")),
              ("0W-20 5L", ("0w20 5l", "0w-20 5 litre", "0w20 5 liter")),
              ("10W-40 5L", ("10w40 5l", "10w-40 5 litre", "10w40 5 liter"))),
        pn=0.2, weight=4.5, demand=2.5),
    Kind(ENG, "Oil Drain Plug", "Oil drain plug with crush washer.",
        ("sump plug", "oil drain plug", "drain plug"), aliases=("sump plug", "oil pan plug"),
        sizes=(("M14x1.5", ("m14x1.5", "m14", "14mm")), ("M12x1.5", ("m12x1.5", "m12", "12mm"))),
        pn=0.3, weight=0.05, demand=0.6),
    # --- electrical
    Kind(ELE, "Alternator", "Remanufactured alternator, exchange unit.",
        ("alternator", "alt", "generator"), aliases=("generator", "dynamo"),
        lay=("the thing that charges the battery",
             "the part that makes electricity when the engine runs"),
        fits=3, pn=0.8, weight=6.0, demand=1.8),
    Kind(ELE, "Starter Motor", "Remanufactured starter motor, exchange unit.",
        ("starter motor", "starter", "starter moter"), aliases=("starter", "starting motor"),
        lay=("the thing that cranks the engine",
             "the bit that turns the engine over when you turn the key"),
        fits=3, pn=0.8, weight=4.2, demand=1.6),
    Kind(ELE, "Car Battery", "Maintenance-free 12V car battery.",
        ("battery", "car battery", "12v battery"), aliases=("accumulator", "starter battery"),
        lay=("the box that powers everything", "the thing you jump start"),
        sizes=(("063", ("063", "type 063", "45ah")), ("075", ("075", "type 075", "60ah")),
              ("096", ("096", "type 096", "70ah")), ("110", ("110", "type 110", "85ah"))),
        pn=0.4, weight=16.0, demand=2.5),
    Kind(ELE, "Glow Plug", "Diesel glow plug, sold individually.",
        ("glow plug", "glow plugs", "heater plug"), aliases=("heater plug",),
        fits=2, models=DIESEL_MODELS, pn=0.7, weight=0.1, demand=0.8),
    Kind(ELE, "Mass Air Flow Sensor", "Mass air flow sensor with housing.",
        ("maf sensor", "mass air flow sensor", "air flow meter"),
        aliases=("air mass meter", "airflow meter"),
        fits=2, pn=0.8, weight=0.3, demand=0.8),
    Kind(ELE, "Oxygen Sensor", "Heated oxygen sensor.",
        ("oxygen sensor", "o2 sensor", "lambda sensor"), aliases=("lambda sensor", "lambda probe"),
        positions=("upstream", "downstream"), fits=2, pn=0.75, weight=0.2, demand=0.9),
    Kind(ELE, "Horn", "Universal 12V disc horn.",
        ("horn", "car horn"), aliases=("disc horn",),
        lay=("the thing that beeps", "the beeper at the front"),
        sizes=(("high tone", ("high tone", "high pitch")), ("low tone", ("low tone", "low pitch"))),
        pn=0.3, weight=0.4, demand=0.5),
    Kind(ELE, "Blade Fuse Assortment", "Assorted standard blade fuses, 100 pieces.",
        ("fuses", "blade fuses", "fuse kit"), aliases=("fuse assortment",),
        pn=0.2, weight=0.2, demand=0.6),
    Kind(ELE, "Window Regulator", "Electric window regulator with motor.",
        ("window regulator", "window motor", "window mechanism"),
        aliases=("window lifter", "window winder mechanism"),
        lay=("the mechanism that moves the window up and down",),
        positions=("front",), sided=True, fits=1, pn=0.75, weight=2.3, demand=1.0),
    Kind(ELE, "Door Lock Actuator", "Central locking door lock actuator.",
        ("door lock actuator", "lock actuator", "central locking motor"),
        aliases=("door lock motor",),
        positions=("front",), sided=True, fits=1, pn=0.75, weight=0.6, demand=0.6),
    Kind(ELE, "Jump Leads", "Heavy duty jump leads, 3.5 m.",
        ("jump leads", "jumper cables", "booster cables"),
        aliases=("jumper cables", "booster cables"),
        lay=("cables to start a flat battery",),
        pn=0.1, weight=1.8, demand=0.8),
    Kind(ELE, "Ignition Switch", "Ignition switch with connector.",
        ("ignition switch", "ignition barrel switch"), aliases=("starter switch",),
        fits=1, pn=0.7, weight=0.2, demand=0.4),
    # --- cooling
    Kind(COO, "Radiator", "Aluminium core radiator with plastic tanks.",
        ("radiator", "rad", "engine radiator"), aliases=("cooling radiator",),
        lay=("the thing that keeps the engine cool at the front",
             "the big cooler behind the grille"),
        fits=3, pn=0.75, weight=5.2, demand=1.6),
    Kind(COO, "Thermostat", "Thermostat with housing and seal.",
        ("thermostat", "stat", "thermostat housing"), aliases=("coolant thermostat",),
        lay=("the valve that controls engine temperature",),
        fits=2, pn=0.7, weight=0.4, demand=1.2),
    Kind(COO, "Water Pump", "Water pump with gasket.",
        ("water pump", "coolant pump"), aliases=("coolant pump",),
        lay=("the pump that moves the coolant round",),
        fits=2, pn=0.75, weight=1.5, demand=1.2),
    Kind(COO, "Coolant", "Long-life antifreeze coolant, ready mixed.",
        ("coolant", "antifreeze", "anti freeze"), aliases=("antifreeze", "engine coolant"),
        lay=("the pink liquid for the radiator", "the stuff that stops the engine freezing"),
        sizes=(_litres("1L"), _litres("5L")), pn=0.2, weight=3.0, demand=1.5),
    Kind(COO, "Radiator Hose", "Reinforced rubber radiator hose.",
        ("radiator hose", "coolant hose", "rad hose"), aliases=("coolant hose",),
        positions=("upper", "lower"), fits=2, pn=0.6, weight=0.5, demand=0.8),
    Kind(COO, "Expansion Tank", "Coolant expansion tank with cap.",
        ("expansion tank", "coolant reservoir", "header tank"),
        aliases=("coolant reservoir", "header tank"),
        lay=("the plastic bottle the coolant goes in",),
        fits=2, pn=0.6, weight=0.7, demand=0.7),
    Kind(COO, "Radiator Fan", "Electric radiator cooling fan with shroud.",
        ("radiator fan", "cooling fan", "rad fan"), aliases=("cooling fan", "engine fan"),
        lay=("the fan behind the radiator",),
        fits=2, pn=0.7, weight=3.5, demand=0.8),
    Kind(COO, "Heater Core", "Heater core for the cabin heater.",
        ("heater core", "heater matrix"), aliases=("heater matrix",),
        fits=1, pn=0.7, weight=1.2, demand=0.4),
    Kind(COO, "Radiator Cap", "Pressure radiator cap, 1.1 bar.",
        ("radiator cap", "rad cap", "pressure cap"), aliases=("pressure cap",),
        pn=0.4, weight=0.1, demand=0.5),
    Kind(COO, "Coolant Temperature Sensor", "Coolant temperature sensor.",
        ("coolant temp sensor", "temperature sensor", "coolant temperature sensor"),
        aliases=("temp sender",),
        fits=1, pn=0.75, weight=0.05, demand=0.5),
    # --- suspension
    Kind(SUS, "Shock Absorber", "Gas-filled shock absorber, sold individually.",
        ("shock absorber", "shocks", "shock", "strut"), aliases=("damper", "suspension strut"),
        lay=("the bouncy things", "the part that stops the car bouncing"),
        positions=FR, fits=2, pn=0.75, weight=3.4, demand=1.8),
    Kind(SUS, "Coil Spring", "Coil spring, sold individually.",
        ("coil spring", "spring", "road spring"), aliases=("road spring", "suspension spring"),
        positions=FR, fits=2, pn=0.6, weight=2.6, demand=0.9),
    Kind(SUS, "Control Arm", "Lower control arm with bushes and ball joint.",
        ("control arm", "lower arm", "wishbone"), aliases=("wishbone", "track control arm"),
        lay=("the arm that holds the wheel on",),
        positions=("front",), sided=True, fits=1, pn=0.75, weight=3.1, demand=1.0),
    Kind(SUS, "Ball Joint", "Lower ball joint.",
        ("ball joint", "lower ball joint"), aliases=("suspension ball joint",),
        positions=("front",), sided=True, fits=1, pn=0.7, weight=0.6, demand=0.7),
    Kind(SUS, "Sway Bar Link", "Stabiliser link with nuts.",
        ("sway bar link", "anti roll bar link", "drop link", "stabiliser link"),
        aliases=("anti-roll bar link", "drop link", "stabilizer link"),
        lay=("the little rod that clunks over bumps",),
        positions=("front",), sided=True, fits=1, pn=0.7, weight=0.4, demand=1.0),
    Kind(SUS, "Strut Top Mount", "Strut top mount with bearing.",
        ("top mount", "strut mount", "strut top mount"), aliases=("top strut mount",),
        positions=("front",), fits=2, pn=0.7, weight=0.9, demand=0.6),
    Kind(SUS, "Wheel Bearing Kit", "Wheel bearing and hub assembly.",
        ("wheel bearing", "hub bearing", "wheel hub"), aliases=("hub bearing", "hub assembly"),
        lay=("the thing that hums when i drive", "the bit the wheel spins on"),
        positions=FR, fits=2, pn=0.75, weight=2.7, demand=1.4),
    Kind(SUS, "Control Arm Bush", "Rubber control arm bush.",
        ("control arm bush", "wishbone bush", "bushing"), aliases=("control arm bushing",),
        fits=1, pn=0.6, weight=0.3, demand=0.5),
    # --- steering
    Kind(STE, "Tie Rod End", "Outer tie rod end with nut.",
        ("tie rod end", "track rod end", "tie rod"),
        aliases=("track rod end", "steering tie rod end"),
        lay=("the joint at the end of the steering arm",),
        sided=True, fits=2, pn=0.75, weight=0.5, demand=1.2),
    Kind(STE, "Inner Tie Rod", "Inner tie rod (rack end).",
        ("inner tie rod", "rack end", "inner track rod"), aliases=("rack end", "axial joint"),
        sided=True, fits=1, pn=0.7, weight=0.6, demand=0.6),
    Kind(STE, "Power Steering Pump", "Hydraulic power steering pump.",
        ("power steering pump", "ps pump", "steering pump"), aliases=("steering pump",),
        fits=2, pn=0.8, weight=3.8, demand=0.7),
    Kind(STE, "Steering Rack", "Remanufactured steering rack, exchange unit.",
        ("steering rack", "rack and pinion"), aliases=("rack and pinion", "steering gear"),
        fits=2, pn=0.8, weight=9.5, demand=0.5),
    Kind(STE, "Steering Wheel", "Leather-wrapped steering wheel rim (airbag not included).",
        ("steering wheel", "wheel rim"), aliases=("driving wheel",),
        lay=("the round thing you steer with", "the wheel you hold when driving"),
        fits=2, pn=0.7, weight=1.6, demand=0.4),
    Kind(STE, "Power Steering Fluid", "Power steering fluid (CHF type).",
        ("power steering fluid", "ps fluid", "steering fluid"), aliases=("chf fluid",),
        sizes=(_litres("1L"),), pn=0.2, weight=1.0, demand=0.7),
    Kind(STE, "Steering Rack Boot", "Universal steering rack boot (gaiter) with clips.",
        ("steering rack boot", "rack gaiter", "steering gaiter"),
        aliases=("rack gaiter", "steering boot"),
        pn=0.3, weight=0.1, demand=0.5),
    # --- exhaust
    Kind(EXH, "Muffler", "Rear exhaust muffler with hangers.",
        ("muffler", "silencer", "back box", "exhaust box"),
        aliases=("silencer", "rear box", "exhaust back box"),
        lay=("the thing that makes the exhaust quiet", "the box at the end of the exhaust"),
        positions=("rear",), fits=2, pn=0.6, weight=7.0, demand=1.3),
    Kind(EXH, "Catalytic Converter", "Approved catalytic converter with fitting kit.",
        ("catalytic converter", "cat", "cat converter"), aliases=("catalyst",),
        lay=("the thing thieves steal from under the car", "the emissions box in the exhaust"),
        fits=2, pn=0.75, weight=6.5, demand=1.0),
    Kind(EXH, "Exhaust Manifold Gasket", "Exhaust manifold gasket.",
        ("exhaust manifold gasket", "manifold gasket"), aliases=("header gasket",),
        fits=2, pn=0.6, weight=0.1, demand=0.5),
    Kind(EXH, "Flexi Pipe", "Universal stainless exhaust flexi pipe.",
        ("flexi pipe", "flex pipe", "exhaust flex"),
        aliases=("flex pipe", "exhaust flexible joint"),
        sizes=(("50mm", ("50mm", "2 inch", "2in")), ("63mm", ("63mm", "2.5 inch", "2.5in"))),
        pn=0.4, weight=0.9, demand=0.6),
    Kind(EXH, "Exhaust Clamp", "Universal exhaust pipe clamp.",
        ("exhaust clamp", "pipe clamp", "exhaust clip"), aliases=("exhaust clip", "u bolt clamp"),
        lay=("the ring that holds the exhaust pipes together",),
        sizes=(("45mm", ("45mm", "45 mm")), ("51mm", ("51mm", "51 mm")),
               ("60mm", ("60mm", "60 mm"))),
        pn=0.3, weight=0.2, demand=0.7),
    Kind(EXH, "Diesel Particulate Filter", "Diesel particulate filter with fitting kit.",
        ("dpf", "diesel particulate filter", "particulate filter"), aliases=("dpf", "soot filter"),
        fits=2, models=DIESEL_MODELS, pn=0.8, weight=9.0, demand=0.7),
    Kind(EXH, "EGR Valve", "Exhaust gas recirculation valve.",
        ("egr valve", "egr", "exhaust gas recirculation valve"),
        aliases=("exhaust gas recirculation valve",),
        fits=2, pn=0.8, weight=1.0, demand=0.9),
    Kind(EXH, "Exhaust Hanger", "Rubber exhaust hanger, pack of 2.",
        ("exhaust hanger", "exhaust rubber", "exhaust mount"), aliases=("exhaust mounting rubber",),
        pn=0.3, weight=0.1, demand=0.6),
    # --- body
    Kind(BOD, "Hood", "Steel hood panel, primed and ready to paint.",
        ("hood", "bonnet", "hood panel"), aliases=("bonnet", "engine cover panel"),
        lay=("the lid over the engine", "the panel you lift to check the oil"),
        fits=2, pn=0.7, weight=14.0, demand=0.7),
    Kind(BOD, "Trunk Lid", "Trunk lid panel, primed.",
        ("trunk lid", "boot lid", "tailgate"), aliases=("boot lid", "decklid"),
        lay=("the lid at the back where the luggage goes",),
        fits=1, pn=0.7, weight=12.0, demand=0.4),
    Kind(BOD, "Front Fender", "Front fender panel, primed.",
        ("fender", "wing", "front wing", "front fender"),
        aliases=("wing", "front wing panel", "mudguard panel"),
        lay=("the panel above the front wheel",),
        sided=True, fits=1, pn=0.7, weight=3.5, demand=0.8),
    Kind(BOD, "Bumper Cover", "Bumper cover, primed plastic.",
        ("bumper", "bumper cover", "bumper bar"), aliases=("bumper bar", "fascia"),
        lay=("the plastic bit that takes the knocks",),
        positions=FR, fits=1, pn=0.7, weight=4.5, demand=1.0),
    Kind(BOD, "Side Mirror", "Power-adjustable heated side mirror.",
        ("side mirror", "wing mirror", "door mirror"),
        aliases=("wing mirror", "door mirror", "outside mirror"),
        lay=("the mirror on the outside of the door", "the mirror that sticks out the side"),
        sided=True, fits=2, pn=0.75, weight=1.3, demand=1.5),
    Kind(BOD, "Mirror Glass", "Heated replacement mirror glass with backing plate.",
        ("mirror glass", "wing mirror glass", "side mirror glass"),
        aliases=("wing mirror glass", "door mirror glass"),
        sided=True, fits=1, pn=0.6, weight=0.2, demand=0.9),
    Kind(BOD, "Windshield", "Laminated windshield with rain-sensor bracket.",
        ("windshield", "windscreen", "front glass"), aliases=("windscreen", "front screen"),
        lay=("the big glass at the front",),
        fits=2, pn=0.7, weight=14.0, demand=0.6),
    Kind(BOD, "Hood Gas Strut", "Hood gas strut, sold individually.",
        ("hood strut", "bonnet strut", "hood gas strut"),
        aliases=("bonnet strut", "bonnet gas spring"),
        fits=1, pn=0.6, weight=0.3, demand=0.5),
    Kind(BOD, "Tailgate Gas Strut", "Tailgate gas strut, sold individually.",
        ("tailgate strut", "boot strut", "trunk strut", "hatch strut"),
        aliases=("boot strut", "tailgate gas spring"),
        lay=("the pistons that hold the boot open",),
        fits=2, pn=0.6, weight=0.3, demand=0.9),
    Kind(BOD, "License Plate Frame", "Universal license plate frame.",
        ("license plate frame", "number plate surround", "plate frame"),
        aliases=("number plate surround", "number plate holder"),
        pn=0.1, weight=0.2, demand=0.5),
    Kind(BOD, "Front Grille", "Front radiator grille.",
        ("grille", "front grille", "grill"), aliases=("radiator grille",),
        fits=2, pn=0.7, weight=1.4, demand=0.6),
    Kind(BOD, "Mud Flap Set", "Universal mud flap set, pair.",
        ("mud flaps", "mudflaps", "splash guards"), aliases=("splash guards", "mud guards"),
        positions=FR, pn=0.2, weight=0.8, demand=0.5),
    Kind(BOD, "Exterior Door Handle", "Exterior door handle, primed.",
        ("door handle", "outside door handle", "exterior handle"), aliases=("outer door handle",),
        positions=("front",), sided=True, fits=1, pn=0.7, weight=0.3, demand=0.7),
    # --- lighting
    Kind(LGT, "Headlight Assembly", "Halogen headlight assembly with adjuster motor.",
        ("headlight", "headlamp", "head light", "headlight assembly"),
        aliases=("headlamp", "headlight unit", "front lamp"),
        lay=("the big light at the front", "the lamp you see with at night"),
        sided=True, fits=2, pn=0.75, weight=3.1, demand=1.8),
    Kind(LGT, "Tail Light", "Tail light assembly with bulb holder.",
        ("tail light", "rear light", "tail lamp"),
        aliases=("rear lamp", "tail lamp", "back light cluster"),
        lay=("the red light at the back",),
        sided=True, fits=2, pn=0.75, weight=1.2, demand=1.2),
    Kind(LGT, "Fog Light", "Front fog light with bulb.",
        ("fog light", "fog lamp", "foglight"), aliases=("fog lamp",),
        lay=("the low light in the bumper",),
        sided=True, fits=1, pn=0.7, weight=0.6, demand=0.6),
    Kind(LGT, "Headlight Bulb", "Halogen headlight bulb, pair.",
        ("headlight bulb", "bulb", "headlamp bulb"), aliases=("headlamp bulb", "halogen bulb"),
        sizes=(("H7", ("h7",)), ("H4", ("h4",)), ("H11", ("h11",)), ("9005", ("9005", "hb3"))),
        pn=0.3, weight=0.1, demand=2.2),
    Kind(LGT, "Turn Signal Bulb", "Amber PY21W turn signal bulb, pair.",
        ("turn signal bulb", "indicator bulb", "blinker bulb"),
        aliases=("indicator bulb", "flasher bulb"),
        lay=("the orange blinker bulb",),
        pn=0.2, weight=0.05, demand=1.0),
    Kind(LGT, "Brake Light Bulb", "P21/5W brake and tail light bulb, pair.",
        ("brake light bulb", "stop light bulb", "p21w bulb"), aliases=("stop lamp bulb",),
        pn=0.2, weight=0.05, demand=1.0),
    Kind(LGT, "License Plate Light", "LED license plate light.",
        ("license plate light", "number plate light", "plate lamp"),
        aliases=("number plate lamp", "registration plate light"),
        fits=1, pn=0.6, weight=0.1, demand=0.5),
    Kind(LGT, "Side Marker Light", "Side marker light, amber.",
        ("side marker light", "side repeater", "side indicator"),
        aliases=("side repeater", "side indicator lamp"),
        lay=("the small orange light on the side",),
        sided=True, fits=1, pn=0.6, weight=0.1, demand=0.5),
    Kind(LGT, "Third Brake Light", "High-mounted third brake light.",
        ("third brake light", "high level brake light", "third stop light"),
        aliases=("high level brake light",),
        lay=("the brake light in the back window",),
        fits=1, pn=0.6, weight=0.3, demand=0.4),
    Kind(LGT, "Dome Light Bulb", "C5W festoon interior bulb, pack of 2.",
        ("dome light bulb", "interior light bulb", "festoon bulb"),
        aliases=("interior light bulb", "courtesy light bulb"),
        pn=0.2, weight=0.02, demand=0.5),
    # --- interior
    Kind(INT, "Floor Mat Set", "Tailored carpet floor mat set, 4 pieces.",
        ("floor mats", "car mats", "mats"), aliases=("car mats", "carpet mats"),
        lay=("the carpets that go on the floor",),
        fits=2, pn=0.3, weight=2.5, demand=1.0),
    Kind(INT, "Seat Cover Set", "Universal water-resistant seat cover set.",
        ("seat covers", "seat cover set"), aliases=("seat protectors",),
        sizes=(("front pair", ("front pair", "front seats")),
               ("full set", ("full set", "all seats"))),
        pn=0.1, weight=1.5, demand=0.7),
    Kind(INT, "Steering Wheel Cover", "Universal leather-look steering wheel cover.",
        ("steering wheel cover", "wheel cover"), aliases=("steering wheel wrap",),
        lay=("the cover for the round thing you steer with",),
        pn=0.1, weight=0.3, demand=0.5),
    Kind(INT, "Gear Knob", "Leather gear knob.",
        ("gear knob", "gear shift knob", "shifter knob"), aliases=("gear stick knob", "shift knob"),
        lay=("the knob on top of the gear stick",),
        fits=1, pn=0.6, weight=0.2, demand=0.4),
    Kind(INT, "Sun Visor", "Sun visor with vanity mirror.",
        ("sun visor", "visor"), aliases=("sun shade",),
        sided=True, fits=1, pn=0.6, weight=0.4, demand=0.4),
    Kind(INT, "Window Switch", "Electric window switch.",
        ("window switch", "electric window switch", "window button"),
        aliases=("power window switch",),
        positions=("front",), sided=True, fits=1, pn=0.7, weight=0.1, demand=0.6),
    Kind(INT, "Power Socket", "12V accessory socket with cap.",
        ("12v socket", "cigarette lighter", "power socket"),
        aliases=("cigarette lighter socket", "accessory socket"),
        pn=0.2, weight=0.1, demand=0.4),
    Kind(INT, "Rear View Mirror", "Interior rear view mirror.",
        ("rear view mirror", "interior mirror"), aliases=("interior mirror",),
        pn=0.3, weight=0.3, demand=0.4),
    Kind(INT, "Seat Belt Buckle", "Seat belt buckle with warning switch.",
        ("seat belt buckle", "seatbelt clip", "belt buckle"), aliases=("seatbelt receiver",),
        positions=("front",), sided=True, fits=1, pn=0.7, weight=0.3, demand=0.4),
    # --- filters
    Kind(FIL, "Oil Filter", "Spin-on oil filter.",
        ("oil filter", "oil filter element"), aliases=("engine oil filter",),
        lay=("the thing that cleans the oil",),
        fits=4, pn=0.75, weight=0.4, demand=3.0),
    Kind(FIL, "Air Filter", "Panel engine air filter.",
        ("air filter", "engine air filter", "air filter element"),
        aliases=("engine air filter", "intake filter"),
        lay=("the thing that cleans the air going into the engine",),
        fits=4, pn=0.7, weight=0.3, demand=2.5),
    Kind(FIL, "Cabin Air Filter", "Activated-carbon cabin air filter.",
        ("cabin filter", "cabin air filter", "pollen filter"),
        aliases=("pollen filter", "ac filter", "interior air filter"),
        lay=("the filter for the air con",
             "the filter that stops dust coming in through the vents"),
        fits=3, pn=0.7, weight=0.3, demand=2.2),
    Kind(FIL, "Fuel Filter", "Inline fuel filter.",
        ("fuel filter", "gas filter", "diesel filter"), aliases=("gas filter", "petrol filter"),
        fits=2, pn=0.7, weight=0.4, demand=1.2),
    Kind(FIL, "Transmission Filter", "Automatic transmission filter with pan gasket.",
        ("transmission filter", "gearbox filter", "atf filter"), aliases=("gearbox filter",),
        fits=1, pn=0.7, weight=0.4, demand=0.4),
    # --- fuel
    Kind(FUE, "Fuel Pump", "In-tank electric fuel pump module.",
        ("fuel pump", "gas pump", "petrol pump"),
        aliases=("gas pump", "petrol pump", "fuel sender pump"),
        lay=("the thing that pumps fuel to the engine",),
        fits=2, pn=0.8, weight=1.4, demand=1.2),
    Kind(FUE, "Fuel Injector", "Fuel injector, sold individually.",
        ("fuel injector", "injector", "injectors"), aliases=("injector nozzle",),
        fits=2, pn=0.8, weight=0.1, demand=0.8),
    Kind(FUE, "Fuel Cap", "Locking fuel cap.",
        ("fuel cap", "gas cap", "petrol cap", "filler cap"),
        aliases=("gas cap", "petrol cap", "tank cap"),
        lay=("the lid where you put the fuel in",),
        fits=2, pn=0.5, weight=0.2, demand=0.7),
    Kind(FUE, "Fuel Tank", "Fuel tank with sender flange.",
        ("fuel tank", "gas tank", "petrol tank"), aliases=("gas tank", "petrol tank"),
        fits=1, pn=0.7, weight=9.0, demand=0.3),
    Kind(FUE, "Fuel Pressure Regulator", "Universal adjustable fuel pressure regulator.",
        ("fuel pressure regulator", "fpr"), aliases=("fuel regulator",),
        pn=0.5, weight=0.3, demand=0.4),
    Kind(FUE, "Jerry Can", "Steel jerry can for fuel.",
        ("jerry can", "fuel can", "gas can", "petrol can"),
        aliases=("gas can", "petrol can", "fuel canister"),
        lay=("a can for carrying fuel",),
        sizes=(_litres("5L"), _litres("10L"), _litres("20L")), pn=0.1, weight=3.0, demand=0.6),
    # --- transmission
    Kind(TRN, "Clutch Kit", "Three-piece clutch kit: cover, disc and release bearing.",
        ("clutch kit", "clutch", "clutch set"), aliases=("clutch set", "three piece clutch"),
        lay=("the thing that slips when i change gear",),
        fits=3, pn=0.75, weight=6.5, demand=1.5),
    Kind(TRN, "Clutch Master Cylinder", "Clutch master cylinder.",
        ("clutch master cylinder", "clutch master"), aliases=("clutch master",),
        fits=1, pn=0.7, weight=0.5, demand=0.4),
    Kind(TRN, "Clutch Slave Cylinder", "Clutch slave cylinder.",
        ("clutch slave cylinder", "slave cylinder", "clutch slave"), aliases=("slave cylinder",),
        fits=2, pn=0.7, weight=0.4, demand=0.6),
    Kind(TRN, "Dual Mass Flywheel", "Dual mass flywheel.",
        ("flywheel", "dual mass flywheel", "dmf"), aliases=("dmf",),
        fits=2, pn=0.8, weight=9.0, demand=0.6),
    Kind(TRN, "Automatic Transmission Fluid", "Multi-vehicle automatic transmission fluid.",
        ("atf", "transmission fluid", "auto gearbox oil"),
        aliases=("gearbox fluid", "auto trans fluid"),
        sizes=(_litres("1L"), _litres("4L")), pn=0.2, weight=2.0, demand=0.8),
    Kind(TRN, "Manual Gearbox Oil", "75W-90 manual gearbox oil.",
        ("gearbox oil", "gear oil", "manual transmission oil"),
        aliases=("gear oil", "manual transmission fluid"),
        pn=0.2, weight=1.0, demand=0.6),
    Kind(TRN, "CV Axle", "Complete CV axle (driveshaft) with both joints.",
        ("cv axle", "driveshaft", "drive shaft", "half shaft"),
        aliases=("driveshaft", "half shaft"),
        lay=("the shaft that turns the wheel", "the thing that clicks when i turn full lock"),
        positions=("front",), sided=True, fits=1, pn=0.75, weight=6.0, demand=1.0),
    Kind(TRN, "CV Boot Kit", "Universal CV joint boot kit with grease and clips.",
        ("cv boot", "cv joint boot", "driveshaft boot"), aliases=("cv gaiter", "driveshaft gaiter"),
        positions=("inner", "outer"), pn=0.3, weight=0.3, demand=0.7),
    Kind(TRN, "Gearbox Mount", "Gearbox mount.",
        ("gearbox mount", "transmission mount", "gearbox mounting"),
        aliases=("transmission mount",),
        fits=2, pn=0.7, weight=1.2, demand=0.5),
    # --- wheels and tyres
    Kind(WHL, "Tyre", "All-season passenger tyre.",
        ("tyre", "tire", "tyres", "tires"), aliases=("tire", "car tyre"),
        lay=("the rubber round the wheel",),
        sizes=(_tyre("185/65R15"), _tyre("195/65R15"), _tyre("205/55R16"), _tyre("225/45R17"),
              _tyre("225/40R18"), _tyre("265/70R17")),
        pn=0.2, weight=9.0, demand=3.0),
    Kind(WHL, "Alloy Wheel", "Five-spoke alloy wheel, silver.",
        ("alloy wheel", "alloy", "rim", "alloys"), aliases=("rim", "aluminum wheel"),
        sizes=(_inches(16), _inches(17), _inches(18)), pn=0.3, weight=9.5, demand=1.0),
    Kind(WHL, "Wheel Nut Set", "Wheel nut set, 20 pieces.",
        ("wheel nuts", "lug nuts", "wheel bolts"), aliases=("lug nuts", "wheel bolts"),
        sizes=(("M12x1.5", ("m12x1.5", "m12 x 1.5", "12x1.5")),
               ("M14x1.5", ("m14x1.5", "m14 x 1.5", "14x1.5"))),
        pn=0.2, weight=1.2, demand=0.8),
    Kind(WHL, "Locking Wheel Nuts", "Locking wheel nut set with key.",
        ("locking wheel nuts", "wheel locks", "locking nuts"),
        aliases=("wheel locks", "anti-theft wheel nuts"),
        lay=("the special nuts that need a key",),
        pn=0.2, weight=0.4, demand=0.7),
    Kind(WHL, "TPMS Sensor", "Programmable tyre pressure monitoring sensor.",
        ("tpms sensor", "tyre pressure sensor", "tire pressure sensor"),
        aliases=("tire pressure sensor", "tyre pressure monitor sensor"),
        pn=0.4, weight=0.05, demand=0.7),
    Kind(WHL, "Wheel Trim Set", "Wheel trim set, 4 pieces.",
        ("wheel trims", "hubcaps", "hub caps"), aliases=("hubcaps", "wheel covers"),
        sizes=(_inches(15), _inches(16)), pn=0.1, weight=1.6, demand=0.7),
    Kind(WHL, "Tyre Valve", "Rubber snap-in tyre valve, pack of 4.",
        ("tyre valve", "valve stem", "tire valve"), aliases=("tire valve stem",),
        pn=0.1, weight=0.02, demand=0.4),
    Kind(WHL, "Spare Wheel", "Space-saver spare wheel.",
        ("spare wheel", "spare tyre", "space saver"), aliases=("spare tire", "space saver wheel"),
        lay=("the skinny emergency wheel",),
        fits=2, pn=0.5, weight=11.0, demand=0.5),
    # --- wipers
    Kind(WIP, "Wiper Blade", "Flat beam wiper blade, sold individually.",
        ("wiper blade", "wiper blades", "wipers"),
        aliases=("windshield wiper", "windscreen wiper", "flat wiper blade"),
        lay=("the rubber things that clean the windscreen", "the wipey things for the rain"),
        sizes=tuple(_inches(n) for n in (16, 18, 20, 22, 24, 26)), pn=0.3, weight=0.2, demand=2.8),
    Kind(WIP, "Rear Wiper Blade", "Rear wiper blade, sold individually.",
        ("rear wiper blade", "rear wiper", "back wiper"), aliases=("tailgate wiper blade",),
        sizes=tuple(_inches(n) for n in (10, 12, 14)), pn=0.3, weight=0.1, demand=1.2),
    Kind(WIP, "Wiper Motor", "Wiper motor.",
        ("wiper motor", "windscreen wiper motor"), aliases=("windshield wiper motor",),
        positions=FR, fits=1, pn=0.75, weight=1.8, demand=0.6),
    Kind(WIP, "Washer Pump", "Windshield washer pump.",
        ("washer pump", "screenwash pump", "washer motor"),
        aliases=("screen washer pump", "windshield washer pump"),
        fits=1, pn=0.6, weight=0.2, demand=0.6),
    Kind(WIP, "Screenwash", "Concentrated screenwash, -20C.",
        ("screenwash", "washer fluid", "windshield washer fluid"),
        aliases=("washer fluid", "windscreen washer fluid"),
        lay=("the blue stuff for cleaning the windscreen",),
        sizes=(_litres("2L"), _litres("5L")), pn=0.1, weight=2.5, demand=1.0),
    Kind(WIP, "Wiper Arm", "Wiper arm with cap.",
        ("wiper arm", "windscreen wiper arm"), aliases=("windshield wiper arm",),
        positions=FR, fits=1, pn=0.6, weight=0.5, demand=0.4),
)
# fmt: on

BRANDS = (
    "Norden",
    "Apex Motive",
    "Roadwise",
    "Ferrox",
    "Kestrel Parts",
    "Brightline",
    "Tarmac Pro",
    "Veloce",
)
AVAILABILITY = (("in_stock", 70), ("low_stock", 15), ("backorder", 10), ("out_of_stock", 5))


@dataclass(frozen=True)
class Part:
    sku: str
    kind: Kind
    position: str
    side: str
    size: Size | None
    vehicle: Vehicle | None
    part_number: str

    def record(self, name: str, description: str, attributes: dict[str, str]) -> dict[str, object]:
        return {
            "sku": self.sku,
            "name": name,
            "description": description,
            "aliases": list(self.kind.aliases),
            "attributes": attributes,
            "active": True,
        }


_UPPER = "ABCDEFGHJKLMNPRSTVWXZ"
_VW_PREFIXES = {"Golf": ("5Q0", "5G0", "1K0"), "Polo": ("6R0", "6Q0", "6C0")}


def _letters(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(_UPPER) for _ in range(n))


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _part_number(rng: random.Random, vehicle: Vehicle | None) -> str:
    """An OEM-looking number in the style of the vehicle's maker (aftermarket style otherwise)."""
    style = vehicle.pn_style if vehicle is not None else "aftermarket"
    if style == "toyota":
        return f"{_digits(rng, 5)}-{_digits(rng, 5)}"
    if style == "vw":
        assert vehicle is not None
        suffix = rng.choice(("", "", "A", "B", "C", "D", "AA", "AB", "AC", "BD"))
        return f"{rng.choice(_VW_PREFIXES[vehicle.model])}{_digits(rng, 6)}{suffix}"
    if style == "honda":
        code = f"{_letters(rng, 2)}{rng.choice('0123456789A')}"
        return f"{_digits(rng, 5)}-{code}-{rng.choice(('A01', 'A02', 'E01', '003'))}"
    if style == "bmw":
        return f"{rng.randint(11, 64)}{_digits(rng, 9)}"
    if style == "ford":
        middle = f"{_digits(rng, 1)}{_letters(rng, 1)}{_digits(rng, 3)}"
        return f"{_letters(rng, 2)}{_digits(rng, 2)}-{middle}-{_letters(rng, 2)}"
    if style == "nissan":
        tail = f"{_digits(rng, 1)}{_letters(rng, 2)}{_digits(rng, 1)}{_letters(rng, 1)}"
        return f"{rng.choice('D4')}{_digits(rng, 4)}-{tail}"
    if rng.random() < 0.5:
        return f"{_letters(rng, 3)}-{_letters(rng, 2)}{_digits(rng, 2)}"
    return f"0{_digits(rng, 9)}"


def _variants(kind: Kind, rng: random.Random) -> list[tuple[str, str, Size | None, Vehicle | None]]:
    positions: Sequence[str] = kind.positions or ("",)
    sides: Sequence[str] = ("left", "right") if kind.sided else ("",)
    sizes: Sequence[Size | None] = kind.sizes or (None,)
    vehicles: Sequence[Vehicle | None] = (None,)
    if kind.fits:
        pool = [v for v in VEHICLES if not kind.models or v.model in kind.models]
        vehicles = rng.sample(pool, min(kind.fits, len(pool)))
    return [(p, s, z, v) for v in vehicles for z in sizes for p in positions for s in sides]


def _display_name(
    kind: Kind, position: str, side: str, size: Size | None, vehicle: Vehicle | None
) -> str:
    name = kind.name
    if position and not name.lower().startswith(position):
        name = f"{position.title()} {name}"
    if side:
        name = f"{name}, {side.title()}"
    if size is not None:
        name = f"{name} {size[0]}"
    if vehicle is not None:
        name = f"{name} - {vehicle.label}"
    return name


def _description(
    kind: Kind, position: str, side: str, vehicle: Vehicle | None, part_number: str, brand: str
) -> str:
    sentences = [kind.blurb]
    where = " ".join(w for w in (position, side) if w)
    if where:
        sentences.append(f"Fitting position: {where}.")
    if vehicle is not None:
        sentences.append(f"For {vehicle.label}.")
    sentences.append(f"Brand: {brand}.")
    if part_number:
        sentences.append(f"OE number {part_number}.")
    return " ".join(sentences)


def _generate_parts(seed: int) -> list[tuple[Part, dict[str, object]]]:
    rng = random.Random(f"partmatch-catalog-{seed}")
    parts: list[tuple[Part, dict[str, object]]] = []
    counters: dict[str, int] = {}
    for kind in KINDS:
        for position, side, size, vehicle in _variants(kind, rng):
            # Real catalogs have gaps where parts were retired.
            counters[kind.code] = counters.get(kind.code, 0) + rng.choice((1, 1, 1, 2, 3))
            sku = f"PM-{kind.code}-{counters[kind.code]:04d}"
            part_number = _part_number(rng, vehicle) if rng.random() < kind.pn else ""
            brand = rng.choice(BRANDS)
            weight = kind.weight * rng.uniform(0.85, 1.15)
            attributes: dict[str, str] = {
                "category": kind.category,
                "brand": brand,
                "weight_kg": f"{weight:.2f}" if kind.weight < 1 else f"{weight:.1f}",
                "availability": rng.choices(
                    [a for a, _ in AVAILABILITY], [w for _, w in AVAILABILITY]
                )[0],
            }
            if position:
                attributes["position"] = position
            if side:
                attributes["side"] = side
            if size is not None:
                attributes["size"] = size[0]
            if vehicle is not None:
                attributes["make"] = vehicle.make
                attributes["model"] = vehicle.model
                attributes["years"] = f"{vehicle.first_year}-{vehicle.last_year}"
                attributes["fits"] = vehicle.label
            if part_number:
                attributes["part_number"] = part_number
            part = Part(sku, kind, position, side, size, vehicle, part_number)
            record = part.record(
                _display_name(kind, position, side, size, vehicle),
                _description(kind, position, side, vehicle, part_number, brand),
                attributes,
            )
            parts.append((part, record))
    return parts


def build_catalog(seed: int = DEFAULT_SEED) -> list[dict[str, object]]:
    """Return the sample catalog: about 300 car parts as ``catalog.jsonl`` records."""
    return [record for _, record in _generate_parts(seed)]


@dataclass(frozen=True)
class Pool:
    """Options for one dimension of a text; ``held`` ones never reach history."""

    shared: tuple[str, ...]
    held: tuple[str, ...] = ()

    def pick(self, rng: random.Random, heldout: bool) -> str:
        if heldout and self.held and rng.random() < HELDOUT_RATE:
            return rng.choice(self.held)
        return rng.choice(self.shared)


# Hand-laid-out like the other data tables.
# fmt: off
WRAPPERS = Pool(
    shared=(
        "{x}", "{x}", "{x}", "{x}", "hi do you have {x}", "need {x} asap", "looking for {x}",
        "price for {x}?", "{x} in stock?", "do you stock {x}", "can i get {x}",
        "hi, i need {x} please", "how much for {x}", "{x} pls", "quote for {x}", "have you got {x}",
        "want to order {x}", "{x} - how much?", "hello, do you sell {x}?", "need {x}", "{x} price",
        "after {x}", "got any {x}?",
    ),
    held=(
        "hello there, i am after {x}", "any chance you have {x} in stock", "{x} needed urgently",
        "could you check availability of {x}", "morning! {x}?", "trying to find {x}",
        "my mechanic says i need {x}", "wondering if you carry {x}", "{x}?? thanks",
        "is {x} available for collection today", "do u do {x}", "whats the cost of {x}",
    ),
)

NO_PART = Pool(
    shared=(
        "where is my order", "where is my order {order}", "has my order {order} shipped yet",
        "do you sell gift cards", "what are your opening hours", "what time do you close today",
        "are you open on {day}", "how much is delivery to {place}", "do you deliver to {place}",
        "can i return an item i bought last week", "i want to cancel my order {order}",
        "do you price match", "can i pay with {payment}", "do you have a discount code",
        "how do i track my parcel", "can i collect from the store",
        "is there a branch near {place}", "do you offer fitting",
        "i ordered parts for my {vehicle} and they havent arrived", "my refund hasnt come through",
        "do you do trade accounts", "thanks for your help", "hello", "can someone call me back",
        "what is your returns policy", "is my order {order} on its way",
    ),
    held=(
        "do you have a loyalty scheme", "can i change the delivery address on order {order}",
        "is click and collect available on {day}", "are you hiring",
        "my parcel says delivered but nothing came", "how long does shipping take to {place}",
        "do you buy scrap cars", "can i get a vat invoice for {order}",
        "wrong item arrived in order {order} what do i do", "do you do student discount",
        "hiya is anyone there", "can i book my {vehicle} in for a service",
        "the website wont let me check out", "need to speak to a manager about {order}",
    ),
)
DAYS = ("sunday", "saturday", "monday", "bank holiday monday", "christmas eve", "good friday")
PLACES = ("leeds", "glasgow", "cork", "manchester", "texas", "ohio", "the highlands",
          "northern ireland", "dublin")
PAYMENTS = ("paypal", "klarna", "apple pay", "amex", "cash on collection", "bank transfer")

VEHICLE_PHRASES = Pool(
    shared=(
        "for a {year} {nick}", "{yy} {nick}", "for my {nick}", "{year} {nick}", "{nick} {year}",
        "fits {nick}", "{nick}", "for {nick} {year}", "off a {year} {nick}", "for {make} {model}",
    ),
    held=(
        "on my {yy} {nick}", "{nick} ({year})", "to fit a {year} model {nick}",
        "car is a {year} {nick}", "{nick} {gen} {year}", "for the {nick} {yy} plate",
    ),
)
# Only these read naturally in front of the part name ("2012 golf front pads").
LEADING_VEHICLE = ("{year} {nick}", "{yy} {nick}", "{nick}", "{nick} {year}")

POSITION_FORMS: dict[str, Pool] = {
    "front": Pool(("front", "frt", "fr", "front", "front end"), ("frnt", "front axle")),
    "rear": Pool(("rear", "rr", "back", "rear", "rear end"), ("rear axle", "bk")),
    "upper": Pool(("upper", "top"), ("top side",)),
    "lower": Pool(("lower", "bottom"), ("btm",)),
    "upstream": Pool(("upstream", "pre cat", "front"), ("before cat",)),
    "downstream": Pool(("downstream", "post cat", "rear"), ("after cat",)),
    "inner": Pool(("inner", "inboard"), ("inside",)),
    "outer": Pool(("outer", "outboard"), ("outside",)),
}
POSITION_PHRASES: dict[str, Pool] = {
    "front": Pool(("at the front", "for the front", "front"), ("on the front axle",)),
    "rear": Pool(("at the back", "for the rear", "rear"), ("on the back axle",)),
}
SIDE_FORMS: dict[str, Pool] = {
    "left": Pool(("left", "lh", "l/h", "left hand", "driver side", "nearside", "left side"),
                 ("n/s", "drivers", "ls")),
    "right": Pool(("right", "rh", "r/h", "right hand", "passenger side", "offside", "right side"),
                  ("o/s", "pass side", "rs")),
}
SIDE_PHRASES: dict[str, Pool] = {
    "left": Pool(("on the left", "left side", "driver side"), ("on the drivers side",)),
    "right": Pool(("on the right", "right side", "passenger side"), ("on the passenger side",)),
}

# Whole-word abbreviations customers use; held ones only in valid/test.
ABBREVIATIONS: dict[str, Pool] = {
    "assembly": Pool(("assy",)),
    "headlight": Pool(("h/light",), ("hdlight",)),
    "battery": Pool(("batt",)),
    "transmission": Pool(("trans",), ("tranny",)),
    "suspension": Pool(("susp",)),
    "windscreen": Pool(("w/screen",)),
    "with": Pool(("w/",)),
    "catalytic": Pool(("cat",)),
    "kit": Pool(("kit",), ("kt",)),
    "bearing": Pool(("bearing",), ("brg",)),
    "sensor": Pool(("sensor",), ("sens",)),
    "radiator": Pool(("rad",)),
    "exhaust": Pool(("exhaust",), ("exh",)),
    "cylinder": Pool(("cyl",)),
    "power": Pool(("pwr",)),
    "steering": Pool(("steering",), ("str",)),
}

# Phonetic misspellings; the held dictionary is used only in valid/test.
PHONETIC_SHARED: dict[str, tuple[str, ...]] = {
    "brake": ("break",), "brakes": ("breaks",), "alternator": ("alternater", "alternatur"),
    "muffler": ("mufler", "muffer"), "exhaust": ("exaust", "exhast"),
    "radiator": ("radiater", "raditor"), "bearing": ("bearin", "baring"),
    "catalytic": ("catalitic", "cataletic"), "suspension": ("suspention",),
    "thermostat": ("thermastat", "thermostadt"), "headlight": ("headlite",),
    "headlights": ("headlites",), "sensor": ("senser", "sencer"), "injector": ("injecter",),
    "filter": ("filtre",), "axle": ("axel",), "gasket": ("gaskit",),
    "caliper": ("callipur", "calipur"), "absorber": ("absorbor", "absorba"), "clutch": ("cluch",),
    "starter": ("starta",), "tyre": ("tyer",), "tyres": ("tyers",), "coolant": ("coolent",),
    "wiper": ("wipper",), "wipers": ("wippers",), "silencer": ("silencor",),
}
PHONETIC_HELD: dict[str, tuple[str, ...]] = {
    "battery": ("battary", "batery"), "mirror": ("mirrer", "miror"),
    "steering": ("steerin", "stearing"), "ignition": ("ignishun", "ignision"),
    "cylinder": ("cilinder", "cylindar"), "bumper": ("bumber",), "indicator": ("indicater",),
    "regulator": ("regulater",), "converter": ("convertor", "converta"),
    "windscreen": ("winscreen",), "spark": ("sparc",), "brake": ("brak",), "pump": ("pumb",),
    "wheel": ("weel",), "bulb": ("bulp",), "alternator": ("altenator",), "filter": ("filtor",),
    "radiator": ("radiatior",), "suspension": ("suspenshun",), "shock": ("shok",),
}
TYPO_SHARED = ("swap", "drop", "phonetic", "phonetic")
TYPO_HELD = ("double", "neighbour", "phonetic_held", "phonetic_held")
KEYBOARD = {
    "a": "qsz", "b": "vgn", "c": "xdv", "d": "sfe", "e": "wrd", "f": "dgr", "g": "fht", "h": "gjy",
    "i": "uok", "j": "hku", "k": "jli", "l": "kop", "m": "nk", "n": "bmh", "o": "ipl", "p": "ol",
    "q": "wa", "r": "etf", "s": "adw", "t": "ryg", "u": "yij", "v": "cbf", "w": "qes", "x": "zcs",
    "y": "tuh", "z": "xa",
}
PN_FORMATS = Pool(
    shared=("{pn}", "{lower}", "{bare}", "{spaced}", "{bare_lower}"),
    held=("{dotted}", "#{bare}", "{grouped}"),
)
PN_PHRASES = Pool(
    shared=("{p}", "part no {p}", "oem {p}", "ref {p}", "p/n {p}", "part number {p}"),
    held=("oe {p}", "number {p}", "genuine {p}"),
)
# fmt: on

_TOKEN = re.compile(r"[a-z0-9]+")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


@dataclass
class TextGen:
    """Makes customer texts; ``heldout`` turns on options kept out of history."""

    rng: random.Random
    heldout: bool

    def part_text(self, part: Part) -> str:
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
        text = NO_PART.pick(rng, self.heldout).format(
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


def _popularity(parts: list[Part], seed: int) -> tuple[list[float], list[int]]:
    """Zipf-like weights over a seeded ranking, and the indices of cold parts."""
    rng = random.Random(f"partmatch-popularity-{seed}")
    order = list(range(len(parts)))
    rng.shuffle(order)
    weights = [0.0] * len(parts)
    for rank, idx in enumerate(order, start=1):
        # The shift keeps the head from swamping everything; the tail still thins out.
        weights[idx] = parts[idx].kind.demand * (rank + 8) ** -1.0
    n_cold = max(1, round(COLD_PART_SHARE * len(parts)))
    # Cold parts play newly listed stock, so they come from outside the popular head.
    cold = sorted(rng.sample(order[len(order) // 5 :], n_cold))
    return weights, cold


@dataclass
class _Seen:
    """Normalised forms and token sets of texts already used, for near-copy checks."""

    exact: set[str] = field(default_factory=set)
    bags: set[tuple[str, ...]] = field(default_factory=set)
    by_label: dict[str, list[frozenset[str]]] = field(default_factory=dict)

    def add(self, text: str, label: str) -> None:
        toks = _tokens(text)
        self.exact.add(" ".join(toks))
        self.bags.add(tuple(sorted(toks)))
        self.by_label.setdefault(label, []).append(frozenset(toks))

    def near(self, text: str, label: str) -> bool:
        toks = _tokens(text)
        if " ".join(toks) in self.exact or tuple(sorted(toks)) in self.bags:
            return True
        bag = frozenset(toks)
        for other in self.by_label.get(label, ()):
            if len(bag & other) >= NEAR_COPY_JACCARD * len(bag | other):
                return True
        return False


def _no_part_slots(rng: random.Random, n: int) -> set[int]:
    return set(rng.sample(range(n), round(NO_PART_SHARE * n)))


def _history(
    parts: list[Part], weights: list[float], cold: list[int], seed: int, size: int
) -> list[tuple[str, str]]:
    rng = random.Random(f"partmatch-history-{seed}")
    gen = TextGen(rng, heldout=False)
    cold_set = set(cold)
    hist_weights = [0.0 if i in cold_set else w for i, w in enumerate(weights)]
    index = list(range(len(parts)))
    no_part = _no_part_slots(rng, size)
    rows: list[tuple[str, str]] = []
    for slot in range(size):
        if slot in no_part:
            rows.append((gen.no_part_text(), ""))
        else:
            part = parts[rng.choices(index, hist_weights)[0]]
            rows.append((gen.part_text(part), part.sku))
    return rows


def _eval_split(
    parts: list[Part], weights: list[float], cold: list[int], stream: str, size: int, seen: _Seen
) -> list[tuple[str, str]]:
    """Draw like history but with held-out options, cold parts, and no near-copies of ``seen``."""
    rng = random.Random(stream)
    gen = TextGen(rng, heldout=True)
    index = list(range(len(parts)))
    no_part = _no_part_slots(rng, size)
    own = _Seen()
    rows: list[tuple[str, str]] = []

    def draw() -> Part:
        if rng.random() < COLD_TEST_SHARE:
            return parts[rng.choice(cold)]
        return parts[rng.choices(index, weights)[0]]

    for slot in range(size):
        part = None if slot in no_part else draw()
        for attempt in range(1, MAX_ATTEMPTS + 1):
            if part is None:
                text, label = gen.no_part_text(), ""
            else:
                text, label = gen.part_text(part), part.sku
            if not seen.near(text, label) and not own.near(text, label):
                break
            if part is not None and attempt % 20 == 0:
                # A popular part whose phrasings history has used up must not stall the loop.
                part = draw()
        else:
            raise RuntimeError(f"could not make a novel text for slot {slot} of {stream}")
        own.add(text, label)
        rows.append((text, label))
    for text, label in rows:
        seen.add(text, label)
    return rows


def _write_csv(path: pathlib.Path, rows: list[tuple[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(("text", "sku"))
        writer.writerows(rows)


def catalog_jsonl(records: list[dict[str, object]]) -> str:
    """Serialise catalog records exactly as ``catalog.jsonl`` stores them."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def write_sample_dataset(
    out_dir: pathlib.Path, seed: int = DEFAULT_SEED, history_size: int = DEFAULT_HISTORY_SIZE
) -> dict[str, int]:
    """Write catalog.jsonl, history.csv, valid.csv and test.csv; return row counts per file."""
    generated = _generate_parts(seed)
    parts = [p for p, _ in generated]
    records = [r for _, r in generated]
    weights, cold = _popularity(parts, seed)
    history = _history(parts, weights, cold, seed, history_size)
    seen = _Seen()
    for text, label in history:
        seen.add(text, label)
    # valid and test use disjoint seed streams; test is also kept clear of valid.
    valid = _eval_split(parts, weights, cold, f"partmatch-valid-{seed}", VALID_SIZE, seen)
    test = _eval_split(parts, weights, cold, f"partmatch-test-{seed}", TEST_SIZE, seen)

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / CATALOG_FILE).write_text(catalog_jsonl(records), encoding="utf-8", newline="")
    _write_csv(out_dir / HISTORY_FILE, history)
    _write_csv(out_dir / VALID_FILE, valid)
    _write_csv(out_dir / TEST_FILE, test)
    return {
        CATALOG_FILE: len(records),
        HISTORY_FILE: len(history),
        VALID_FILE: len(valid),
        TEST_FILE: len(test),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write partmatch's seeded sample catalog and customer texts."
    )
    parser.add_argument(
        "--out",
        type=pathlib.Path,
        default=pathlib.Path(__file__).resolve().parent.parent / "data" / "sample",
        help="output folder (default: data/sample)",
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="random seed (default: %(default)s)"
    )
    parser.add_argument(
        "--history-size",
        type=int,
        default=DEFAULT_HISTORY_SIZE,
        help="number of history texts (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    if args.history_size < 1:
        parser.error("--history-size must be positive")
    counts = write_sample_dataset(args.out, seed=args.seed, history_size=args.history_size)
    for name, count in counts.items():
        print(f"{args.out / name}: {count} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
