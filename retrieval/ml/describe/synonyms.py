"""A small table of product names and their aliases, for the offline composer.

Keys are lower-case article names as they appear in claims; a key matches an object name when
it occurs there as whole words (a trailing plural "s" allowed). The longest matching key wins,
then the one nearer the end (English puts the head noun last): "shoe midsole" takes the
aliases of "midsole", "shoe sole" those of "sole". Words after "for", "with", "of",
"including"... qualify the article and are not matched.
"""

from __future__ import annotations

import re

_QUALIFIER = re.compile(r"\s+(?:for|with|of|including|having|comprising)\s+")

SYNONYMS: dict[str, tuple[str, ...]] = {
    "chair": ("seat", "armchair", "side chair"),
    "sofa": ("couch", "settee", "divan"),
    "stool": ("bar stool", "seat", "tabouret"),
    "bench": ("seating bench", "settle", "park bench"),
    "table": ("desk", "dining table", "side table"),
    "lamp": ("light fixture", "luminaire", "lighting device"),
    "light": ("lamp", "luminaire", "lighting fixture"),
    "flashlight": ("torch", "hand lamp", "portable light"),
    "mobile phone": ("smartphone", "cell phone", "cellular handset"),
    "phone": ("telephone", "handset", "smartphone"),
    "tablet computer": ("tablet", "slate computer", "touchscreen tablet"),
    "computer mouse": ("mouse", "pointing device", "input device"),
    "keyboard": ("keypad", "input keyboard", "key panel"),
    "display screen": ("monitor", "screen", "display panel"),
    "graphical user interface": ("GUI", "user interface screen", "screen layout"),
    "icon": ("GUI icon", "display icon", "screen symbol"),
    "loudspeaker": ("speaker", "audio speaker", "speaker cabinet"),
    "speaker": ("loudspeaker", "audio speaker", "speaker box"),
    "microphone": ("mic", "audio pickup", "voice microphone"),
    "headphone": ("headset", "earphones", "ear speakers"),
    "earphone": ("earbud", "in-ear headphone", "earpiece"),
    "router": ("network router", "wireless access point", "modem"),
    "printer": ("printing device", "printing machine", "printer housing"),
    "charger": ("charging device", "power adapter", "charging stand"),
    "battery": ("battery pack", "power cell", "power pack"),
    "connector": ("plug connector", "terminal", "coupling"),
    "plug": ("connector plug", "electrical plug", "jack"),
    "coupling": ("connector", "fitting", "joint"),
    "mug": ("cup", "coffee cup", "drinking vessel"),
    "cup": ("mug", "drinking vessel", "beaker"),
    "bottle": ("flask", "beverage container", "water bottle"),
    "container": ("receptacle", "box", "vessel"),
    "box": ("case", "container", "enclosure"),
    "bowl": ("dish", "basin", "serving bowl"),
    "vase": ("flower vase", "vessel", "urn"),
    "kettle": ("electric kettle", "water boiler", "teakettle"),
    "bag": ("tote", "pouch", "carrier"),
    "handbag": ("purse", "pocketbook", "shoulder bag"),
    "shoe": ("footwear", "sneaker", "athletic shoe"),
    "footwear upper": ("shoe upper", "vamp", "footwear body"),
    "sole": ("shoe sole", "tread", "sole unit"),
    "outsole": ("shoe sole", "tread sole", "ground-contacting sole"),
    "midsole": ("shoe midsole", "cushioning sole", "sole layer"),
    "tire": ("tyre", "pneumatic tire", "wheel tire"),
    "tire tread": ("tread pattern", "tyre tread", "tire surface"),
    "wheel": ("rim", "road wheel", "hub wheel"),
    "faucet": ("tap", "spigot", "water faucet"),
    "shower head": ("showerhead", "shower sprayer", "shower nozzle"),
    "filter": ("strainer", "filter element", "filter cartridge"),
    "handle": ("grip", "knob", "pull"),
    "knob": ("handle", "pull", "dial"),
    "buckle": ("belt buckle", "clasp", "fastener"),
    "golf club head": ("club head", "golf club", "driver head"),
    "golf grip": ("club grip", "golf handle grip", "grip sleeve"),
    "razor": ("shaver", "shaving razor", "shaving device"),
    "blade cartridge": ("razor cartridge", "razor blade unit", "shaving head"),
    "eyeglasses": ("spectacles", "glasses", "eyewear frame"),
    "watch": ("wristwatch", "timepiece", "smartwatch"),
    "vehicle": ("automobile", "car", "motor vehicle"),
    "fascia": ("bumper cover", "front bumper", "fascia panel"),
    "toy": ("plaything", "toy figure", "toy model"),
    "toy vehicle": ("toy car", "model car", "miniature vehicle"),
    "game piece": ("game token", "playing piece", "game counter"),
    "pen": ("writing instrument", "ballpoint pen", "stylus"),
    "toothbrush": ("tooth brush", "dental brush", "oral care brush"),
    "brush": ("bristle brush", "brush head", "cleaning brush"),
    "dental abutment": ("implant abutment", "dental implant component", "tooth abutment"),
    "drone": ("unmanned aerial vehicle", "quadcopter", "UAV"),
    "bicycle": ("bike", "cycle", "pedal bicycle"),
}


def aliases_for(name: str) -> tuple[str, ...]:
    """Aliases of the longest table key found in ``name`` (whole words), minus ``name`` itself.

    Returns an empty tuple when no key matches.
    """
    text = " ".join(name.lower().split())
    head = _QUALIFIER.split(text, maxsplit=1)[0]  # "fastener for connectors" is a fastener
    matches = [key for key in SYNONYMS if re.search(rf"\b{re.escape(key)}s?\b", head)]
    if not matches:
        return ()
    best = max(matches, key=lambda key: (len(key), head.rfind(key)))  # ties: the head noun
    return tuple(alias for alias in SYNONYMS[best] if alias.lower() != text)
