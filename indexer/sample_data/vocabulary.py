"""How customers word their texts: templates, phrasings, abbreviations and misspellings.

Each dimension is a `Pool` of shared options, used everywhere, and held ones that only
valid/test texts use, so that the evaluation splits measure phrasings history never showed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# Chance that a held-out option is picked in valid/test where a dimension has
# one; the rest come from the shared pool, as in real traffic.
HELDOUT_RATE = 0.5


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

# Texts that name no part (orders, opening hours, returns), labelled with an empty SKU.
NO_PART_TEXTS = Pool(
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
