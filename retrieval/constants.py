"""Limits and names shared by the retrieval app (the corpus format's are in retrieval.ml.corpus_format)."""

ALLOWED_IMAGE_FORMATS = {"PNG": "png", "JPEG": "jpg", "TIFF": "tif", "MPO": "jpg"}
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".pdf")
MAX_ERRORS_REPORTED = 200
