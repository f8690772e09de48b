"""Headings of the design classifications, so prompts and templates can name the product category.

Locarno classes (the international classification for industrial designs) and US design
classes (USPC D1-D99) are short codes in the metadata ("14-04", "D14/486"); a model, and a
reader, understands "recording, telecommunication or data processing equipment" better.
"""

from __future__ import annotations

from retrieval.ml.corpus_format import locarno_class_number, us_class_number

LOCARNO_CLASSES: dict[int, str] = {
    1: "foodstuffs",
    2: "articles of clothing and haberdashery",
    3: "travel goods, cases, parasols and personal belongings",
    4: "brushware",
    5: "textile piece goods and sheet material",
    6: "furnishing",
    7: "household goods",
    8: "tools and hardware",
    9: "packages and containers for the transport or handling of goods",
    10: "clocks, watches and measuring, checking and signalling instruments",
    11: "articles of adornment",
    12: "means of transport or hoisting",
    13: "equipment for production, distribution or transformation of electricity",
    14: "recording, telecommunication or data processing equipment",
    15: "machines",
    16: "photographic, cinematographic and optical apparatus",
    17: "musical instruments",
    18: "printing and office machinery",
    19: "stationery and office equipment, artists' and teaching materials",
    20: "sales and advertising equipment, signs",
    21: "games, toys, tents and sports goods",
    22: "arms, pyrotechnic articles, articles for hunting, fishing and pest killing",
    23: "fluid distribution, sanitary, heating, ventilation and air-conditioning equipment",
    24: "medical and laboratory equipment",
    25: "building units and construction elements",
    26: "lighting apparatus",
    27: "tobacco and smokers' supplies",
    28: "pharmaceutical and cosmetic products, toilet articles and apparatus",
    29: "devices and equipment against fire hazards, for accident prevention and for rescue",
    30: "articles for the care and handling of animals",
    31: "machines and appliances for preparing food or drink",
    32: "graphic symbols and logos, surface patterns, ornamentation",
}

US_DESIGN_CLASSES: dict[int, str] = {
    1: "edible products",
    2: "apparel and haberdashery",
    3: "travel goods, personal belongings and storage or carrying articles",
    4: "brushware",
    5: "textile or paper yard goods, sheet material",
    6: "furnishings",
    7: "equipment for preparing or serving food or drink",
    8: "tools and hardware",
    9: "packages and containers for goods",
    10: "measuring, testing or signalling instruments",
    11: "jewelry, symbolic insignia and ornaments",
    12: "transportation",
    13: "equipment for production, distribution or transformation of energy",
    14: "recording, communication or information retrieval equipment",
    15: "machines",
    16: "photography and optical equipment",
    17: "musical instruments",
    18: "printing and office machinery",
    19: "office supplies, artists' and teachers' materials",
    20: "sales and advertising equipment",
    21: "games, toys and sports goods",
    22: "arms, pyrotechnics, hunting and fishing equipment",
    23: "environmental heating and cooling, fluid handling and sanitary equipment",
    24: "medical and laboratory equipment",
    25: "building units and construction elements",
    26: "lighting",
    27: "tobacco and smokers' supplies",
    28: "cosmetic products and toilet articles",
    29: "equipment for safety, protection and rescue",
    30: "animal husbandry",
    32: "washing, cleaning or drying machines",
    34: "material or article handling equipment",
    99: "miscellaneous",
}


def locarno_heading(code: str) -> str:
    """The heading of a Locarno class code ("14-04" -> "recording, ..."); '' when unknown."""
    number = locarno_class_number(code)
    return LOCARNO_CLASSES.get(number, "") if number is not None else ""


def us_class_heading(code: str) -> str:
    """The heading of a US design class ("D14/486" or "D14" -> "recording, ..."); '' if unknown."""
    number = us_class_number(code)
    return US_DESIGN_CLASSES.get(number, "") if number is not None else ""
