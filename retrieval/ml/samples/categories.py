"""The catalogue of article categories: names, aliases, classes, shape templates, frequency.

Categories are listed from most to least frequent; patents draw a category with probability
proportional to 1 / rank ** ZIPF_EXPONENT, so a few are common and most are rare, as in
real design-patent collections. Classes are plausible Locarno (class-subclass) and US design
classes for each article.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from retrieval.ml.corpus_format import us_class_main
from retrieval.ml.samples import shapes_devices as dev
from retrieval.ml.samples import shapes_furniture as fur
from retrieval.ml.samples import shapes_household as home
from retrieval.ml.samples import shapes_misc as misc
from retrieval.ml.samples.geometry import Mesh

ZIPF_EXPONENT = 1.0


@dataclass(frozen=True)
class Category:
    """One kind of article and how to build a random instance of it."""

    name: str  # the normalised object name, lower case
    titles: tuple[str, ...]  # patent titles used for it, the first most often
    synonyms: tuple[str, ...]  # other names for it
    locarno_class: str  # e.g. 07-01
    us_class: str  # e.g. D7/500
    build: Callable[[np.random.Generator], Mesh]

    @property
    def us_class_main(self) -> str:
        """The US main class, e.g. D7."""
        return us_class_main(self.us_class)


def _c(name: str, titles: str, synonyms: str, locarno: str, us: str,
       build: Callable[[np.random.Generator], Mesh]) -> Category:
    return Category(name, tuple(titles.split("|")), tuple(synonyms.split("|")), locarno, us,
                    build)


CATEGORIES: tuple[Category, ...] = (
    _c("chair", "Chair|Dining chair|Side chair|Armchair",
       "seat|side chair|dining chair|armchair", "06-01", "D6/334", fur.chair),
    _c("mobile phone", "Mobile phone|Smartphone|Cellular phone|Phone",
       "smartphone|cell phone|cellular telephone|handset", "14-03", "D14/138",
       dev.mobile_phone),
    _c("table lamp", "Table lamp|Lamp|Desk lamp|Lighting fixture",
       "lamp|desk lamp|bedside lamp|light fixture", "26-05", "D26/101", fur.table_lamp),
    _c("coffee mug", "Coffee mug|Mug|Drinking mug|Cup",
       "mug|cup|coffee cup|tea mug|drinking vessel", "07-01", "D7/500", home.mug),
    _c("bottle", "Bottle|Beverage bottle|Container|Flask",
       "beverage bottle|water bottle|flask|container", "09-01", "D9/500", home.bottle),
    _c("loudspeaker", "Loudspeaker|Speaker|Speaker cabinet|Audio speaker",
       "speaker|speaker box|audio speaker|monitor speaker", "14-01", "D14/209",
       dev.loudspeaker),
    _c("table", "Table|Dining table|Coffee table|Side table",
       "dining table|desk|coffee table|side table", "06-03", "D6/475", fur.table),
    _c("remote control", "Remote control|Remote controller|Remote|Controller",
       "remote|remote controller|TV remote|zapper", "14-03", "D14/218", dev.remote_control),
    _c("kettle", "Kettle|Electric kettle|Tea kettle|Water kettle",
       "electric kettle|tea kettle|teapot|water boiler", "07-02", "D7/316", home.kettle),
    _c("shoe sole", "Shoe sole|Outsole|Sole for footwear|Footwear sole",
       "outsole|sole|footwear bottom|tread", "02-04", "D2/947", misc.shoe_sole),
    _c("toy vehicle", "Toy vehicle|Toy car|Vehicle toy|Model car",
       "toy car|model car|miniature vehicle|toy automobile", "21-01", "D21/433",
       misc.toy_vehicle),
    _c("door handle", "Door handle|Lever handle|Door lever|Handle",
       "lever handle|door lever|door pull|handle", "08-06", "D8/300", fur.door_handle),
    _c("flashlight", "Flashlight|Torch|Portable light|Hand lamp",
       "torch|hand lamp|portable light|pocket lamp", "26-02", "D26/37", dev.flashlight),
    _c("stool", "Stool|Bar stool|Counter stool|Seat",
       "bar stool|counter stool|seat|tabouret", "06-01", "D6/349", fur.stool),
    _c("vase", "Vase|Flower vase|Decorative vase|Vessel",
       "flower vase|urn|vessel|jar", "11-02", "D11/143", home.vase),
    _c("computer mouse", "Computer mouse|Mouse|Mouse for a computer|Pointing device",
       "mouse|pointing device|optical mouse|wireless mouse", "14-02", "D14/402",
       dev.computer_mouse),
    _c("storage container", "Storage container|Storage box|Container with lid|Box",
       "storage box|box|bin|lidded container|tote", "09-03", "D9/424",
       home.storage_container),
    _c("faucet", "Faucet|Tap|Mixer tap|Kitchen faucet",
       "tap|spigot|mixer tap|sink faucet", "23-01", "D23/238", fur.faucet),
    _c("cabinet knob", "Cabinet knob|Knob|Drawer knob|Furniture knob",
       "knob|drawer pull|drawer knob|pull knob", "08-06", "D8/307", fur.cabinet_knob),
    _c("bowl", "Bowl|Serving bowl|Dish|Salad bowl",
       "dish|serving bowl|basin|salad bowl", "07-01", "D7/543", home.bowl),
    _c("wine glass", "Wine glass|Goblet|Drinking glass|Stemware",
       "goblet|stemware|drinking glass|glass", "07-01", "D7/524", home.wine_glass),
    _c("pen", "Pen|Writing instrument|Ballpoint pen|Stylus",
       "writing instrument|ballpoint|ball pen|stylus", "19-06", "D19/41", dev.pen),
    _c("wireless router", "Wireless router|Router|Network router|Access point",
       "router|access point|wifi router|modem", "14-03", "D14/230", misc.wireless_router),
    _c("bench", "Bench|Seating bench|Park bench|Outdoor bench",
       "seating bench|park bench|settee|form", "06-01", "D6/364", fur.bench),
    _c("flower pot", "Flower pot|Planter|Plant pot|Pot",
       "planter|plant pot|jardiniere|pot", "11-02", "D11/152", home.flower_pot),
    _c("toothbrush", "Toothbrush|Tooth brush|Brush|Toothbrush handle",
       "tooth brush|dental brush|brush", "04-02", "D4/104", dev.toothbrush),
    _c("shower head", "Shower head|Showerhead|Shower|Overhead shower",
       "showerhead|rain shower|shower rose|sprinkler head", "23-01", "D23/213",
       fur.shower_head),
    _c("smart speaker", "Smart speaker|Speaker|Wireless speaker|Voice assistant",
       "wireless speaker|voice assistant|bluetooth speaker|portable speaker", "14-01",
       "D14/216", dev.smart_speaker),
    _c("hair dryer", "Hair dryer|Hair drier|Blow dryer|Dryer",
       "hair drier|blow dryer|blow drier|hairdryer", "28-03", "D28/13", misc.hair_dryer),
    _c("dumbbell", "Dumbbell|Hand weight|Exercise weight|Weight",
       "hand weight|free weight|barbell|exercise weight", "21-02", "D21/682", dev.dumbbell),
    _c("candle holder", "Candle holder|Candlestick|Candleholder|Candelabrum",
       "candlestick|candleholder|taper holder|sconce", "26-04", "D26/9", home.candle_holder),
    _c("salt shaker", "Salt shaker|Shaker|Spice shaker|Pepper shaker",
       "shaker|spice shaker|pepper shaker|condiment dispenser", "07-01", "D7/592",
       home.salt_shaker),
    _c("clothes hanger", "Clothes hanger|Hanger|Coat hanger|Garment hanger",
       "hanger|coat hanger|garment hanger|coathanger", "06-08", "D6/315",
       fur.clothes_hanger),
    _c("usb flash drive", "USB flash drive|Flash drive|Memory stick|USB drive",
       "flash drive|memory stick|thumb drive|USB stick", "14-02", "D14/480",
       misc.usb_flash_drive),
)


def category_weights(exponent: float = ZIPF_EXPONENT) -> np.ndarray:
    """Probability of each category, proportional to 1 / rank ** exponent."""
    weights = 1.0 / np.arange(1, len(CATEGORIES) + 1, dtype=float) ** exponent
    return weights / float(weights.sum())


def sample_category(rng: np.random.Generator) -> Category:
    """A category drawn from the long-tailed distribution."""
    return CATEGORIES[int(rng.choice(len(CATEGORIES), p=category_weights()))]
