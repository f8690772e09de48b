"""Limits and names shared by the retrieval app."""

ALLOWED_IMAGE_FORMATS = {"PNG": "png", "JPEG": "jpg", "TIFF": "tif", "MPO": "jpg"}
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".pdf")
CORPUS_METADATA_FILE = "metadata.csv"
CORPUS_DESCRIPTIONS_FILE = "descriptions.jsonl"
REQUIRED_COLUMNS = ("image_file", "patent_id")
KNOWN_COLUMNS = (
    "image_file", "patent_id", "figure_id", "object_name", "title", "viewpoint", "caption",
    "locarno_class", "us_class", "us_class_main", "grant_date", "generated_caption",
    "is_front_page",
)
MAX_ERRORS_REPORTED = 200
