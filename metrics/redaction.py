"""Personal details taken out of customers' free-text comments before anything stores or shows them:
e-mail addresses, phone numbers, SSNs and other ID numbers, case numbers, street addresses, links
and names, each replaced by what it was ("[phone]", "[name]"). Comments are redacted when an input is
read (Warehouse.load, so the store never holds the raw text) and when an import writes them.

Microsoft Presidio's analyzer finds them, offline: its pattern recognizers and ours (case numbers,
ID numbers, street addresses). Names need a spaCy pipeline: the trained model CX_SPACY_MODEL names,
else `en_core_web_sm` when it is installed, else a blank English pipeline whose rules catch a name
after a title or an introduction ("Mr. Smith", "my name is ...", "me llamo ...")."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from contextlib import suppress
from functools import cache
from typing import Any

from metrics.errors import CxError

# What each kind of detail becomes in the text; a detail of a kind not listed becomes DEFAULT_LABEL.
LABELS = {
    "EMAIL_ADDRESS": "[email]",
    "PHONE_NUMBER": "[phone]",
    "PERSON": "[name]",
    "URL": "[link]",
    "IP_ADDRESS": "[link]",
    "STREET_ADDRESS": "[address]",
    "CASE_NUMBER": "[case number]",
    "US_SSN": "[ID number]",
    "US_ITIN": "[ID number]",
    "US_PASSPORT": "[ID number]",
    "CREDIT_CARD": "[ID number]",
    "ID_NUMBER": "[ID number]",
}
DEFAULT_LABEL = "[personal detail]"
# Presidio scores each finding from 0 to 1; weaker ones (a bare eight-letter word as a licence
# number) are left, as they are mostly ordinary words.
THRESHOLD = 0.35
MODEL_SETTING = "CX_SPACY_MODEL"
DEFAULT_MODEL = "en_core_web_sm"
_TITLES = ["mr", "mrs", "ms", "dr", "miss", "sr", "sra", "señor", "señora", "don", "doña"]
# Rules that find a name without a trained model: after a title, or after an introduction.
_NAME_RULES = [
    [
        {"LOWER": {"IN": _TITLES + [t + "." for t in _TITLES]}},
        {"IS_PUNCT": True, "OP": "?"},
        {"IS_TITLE": True, "OP": "+"},
    ],
    [{"LOWER": "name"}, {"LOWER": "is"}, {"IS_TITLE": True, "OP": "+"}],
    [{"LOWER": "me"}, {"LOWER": "llamo"}, {"IS_TITLE": True, "OP": "+"}],
    [{"LOWER": "nombre"}, {"LOWER": "es"}, {"IS_TITLE": True, "OP": "+"}],
    [
        {"LOWER": {"IN": ["ask", "asked", "agent", "officer", "thank", "thanks"]}},
        {"LOWER": {"IN": ["for", "to"]}, "OP": "?"},
        {"IS_TITLE": True},
        {"IS_TITLE": True},
    ],
]
# Our patterns (regular expressions), each with how sure a match is.
_PATTERNS = {
    "CASE_NUMBER": [
        (
            r"(?i)\b(?:case|application|receipt|file|claim|reference|ref)\s*(?:number|no\.?|#)?\s*[:#]?\s*[A-Z]{0,4}-?\d{5,}\b",
            0.7,
        ),
        (r"\b[A-Z]{2,4}-?\d{7,}\b", 0.6),
    ],
    "ID_NUMBER": [(r"\b\d(?:[ -]?\d){5,}\b", 0.38)],
    "STREET_ADDRESS": [
        (
            r"\b\d{1,6}\s+(?:[A-Z][a-z]+\s+){1,4}(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|"
            r"Drive|Dr|Court|Ct|Way|Place|Pl|Highway|Hwy|Parkway|Pkwy|Terrace|Circle)\b\.?"
            r"(?:\s+(?:NW|NE|SW|SE|N|S|E|W)\b)?(?:,?\s+(?:Apt|Suite|Unit)\.?\s*\w+)?",
            0.7,
        ),
        (
            r"(?i)\b(?:calle|avenida|av\.)\s+[A-ZÁÉÍÓÚÑ][\wáéíóúñ]+(?:\s+[A-ZÁÉÍÓÚÑ]?[\wáéíóúñ]+){0,3}\s+\d{1,6}\b",
            0.6,
        ),
    ],
}


def redact(texts: Sequence[str | None]) -> list[str | None]:
    """Return each text with its personal details replaced by what they were; None stays None."""
    redactor = _redactor()
    return [None if text is None else redactor(text) for text in texts]


def prepare() -> None:
    """Build the redactor on a thread of its own, ahead of the first comment: importing Presidio and
    spaCy takes a second and a half, which a build spends reading the inputs without comments."""
    threading.Thread(target=_prepared, name="cx-redactor", daemon=True).start()


def _prepared() -> None:
    with suppress(CxError):  # a missing dependency: said where a comment is redacted
        _redactor()


_building = threading.Lock()  # one build, however many threads ask at once


def _redactor() -> Any:
    with _building:
        return _built()


@cache
def _built() -> Any:
    """Build Presidio's analyzer and anonymizer once per process (loading spaCy takes a second)."""
    try:
        import tldextract
        import tldextract.tldextract as suffixes
        from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry
        from presidio_analyzer.nlp_engine import SpacyNlpEngine
        from presidio_anonymizer import AnonymizerEngine
        from presidio_anonymizer.entities import OperatorConfig
    except ImportError as error:  # the lock file installs them: a partial install says what is missing
        raise CxError(
            f"comments cannot be redacted: {error}; run `make run` to install the dependencies"
        ) from error

    # The e-mail recognizer asks tldextract for the public suffix list, which it would fetch over the
    # network: the copy it ships is used instead.
    suffixes.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=())

    class _Loaded(SpacyNlpEngine):
        """Presidio's spaCy engine over a pipeline built here rather than loaded by name."""

        def __init__(self, nlp: Any) -> None:
            super().__init__(models=[{"lang_code": "en", "model_name": nlp.meta.get("name", "blank")}])
            self.nlp = {"en": nlp}  # type: ignore[assignment]

        def load(self) -> None:
            pass

    engine = _Loaded(pipeline())
    registry = RecognizerRegistry()
    registry.load_predefined_recognizers(nlp_engine=engine)
    for entity, patterns in _PATTERNS.items():
        found = [Pattern(f"{entity.lower()}_{i}", regex, score) for i, (regex, score) in enumerate(patterns)]
        registry.add_recognizer(PatternRecognizer(supported_entity=entity, patterns=found))
    analyzer: Any = AnalyzerEngine(nlp_engine=engine, registry=registry, supported_languages=["en"])
    anonymizer: Any = AnonymizerEngine()  # type: ignore[no-untyped-call]
    operators = {
        "DEFAULT": OperatorConfig("replace", {"new_value": DEFAULT_LABEL}),
        **{entity: OperatorConfig("replace", {"new_value": label}) for entity, label in LABELS.items()},
    }
    entities = list(LABELS)

    def redactor(text: str) -> str:
        if not text.strip():
            return text
        found = analyzer.analyze(text, language="en", entities=entities, score_threshold=THRESHOLD)
        return str(anonymizer.anonymize(text, found, operators=operators).text) if found else text

    return redactor


def pipeline() -> Any:
    """Return the spaCy pipeline names are found with: the trained model CX_SPACY_MODEL names, else
    en_core_web_sm when installed, else blank English; each with the name rules before its own
    recogniser, so a title or an introduction always marks a name."""
    import spacy

    chosen = os.environ.get(MODEL_SETTING, "").strip()
    if chosen:
        try:
            nlp = spacy.load(chosen)
        except OSError as error:
            raise CxError(f"{MODEL_SETTING}={chosen}: no such spaCy model is installed ({error})") from None
    elif spacy.util.is_package(DEFAULT_MODEL):
        nlp = spacy.load(DEFAULT_MODEL)
    else:
        nlp = spacy.blank("en")
    ruler: Any = (
        nlp.add_pipe("entity_ruler", before="ner")
        if "ner" in nlp.pipe_names
        else nlp.add_pipe("entity_ruler")
    )
    ruler.add_patterns([{"label": "PERSON", "pattern": rule} for rule in _NAME_RULES])
    return nlp
