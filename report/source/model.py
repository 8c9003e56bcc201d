"""The source format: validated, frozen models of a dossier.

These models are the single definition of the format: they validate the YAML and
generate the JSON Schema that editors use (``report schema``).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date as Date
from typing import Annotated, Any, Literal

from babel import Locale, UnknownLocaleError
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic_core import PydanticCustomError, core_schema

ID_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]*$"
_ID_RE = re.compile(ID_PATTERN)


@dataclass(frozen=True, order=True)
class PartialDate:
    """A date known to the year, the month or the day; sorts year < month < day."""

    year: int
    month: int = 0
    day: int = 0

    _RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")

    @property
    def precision(self) -> str:
        return "day" if self.day else "month" if self.month else "year"

    def isoformat(self) -> str:
        out = f"{self.year:04d}"
        if self.month:
            out += f"-{self.month:02d}"
        if self.day:
            out += f"-{self.day:02d}"
        return out

    def __str__(self) -> str:
        return self.isoformat()

    @classmethod
    def parse(cls, value: Any) -> PartialDate:
        if isinstance(value, PartialDate):
            return value
        if isinstance(value, Date):
            return cls(value.year, value.month, value.day)
        if not isinstance(value, str):
            raise PydanticCustomError("date_type", "expected a date as YYYY, YYYY-MM or YYYY-MM-DD")
        text = value.strip()
        if re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d", text):
            raise PydanticCustomError(
                "date_time", "'{value}' is a date and time; give a date (YYYY-MM-DD)", {"value": text}
            )
        match = cls._RE.match(text)
        if not match:
            raise PydanticCustomError(
                "date_format", "'{value}' is not a date: use YYYY, YYYY-MM or YYYY-MM-DD", {"value": text}
            )
        year, month, day = (int(g) if g else 0 for g in match.groups())
        if year == 0:  # no calendar in use has a year 0; every format we write holds 0001-9999
            raise PydanticCustomError(
                "date_value", "'{value}': there is no year 0000; years run from 0001 to 9999", {"value": text}
            )
        if match.group(2) and not 1 <= month <= 12:
            raise PydanticCustomError("date_value", "'{value}' has no month {month}", {"value": text, "month": month})
        if match.group(3):
            try:
                Date(year, month, day)
            except ValueError:
                raise PydanticCustomError(
                    "date_value", "'{value}' is not a day of the calendar", {"value": text}
                ) from None
        return cls(year, month, day)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(cls.parse, serialization=core_schema.to_string_ser_schema())

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: GetJsonSchemaHandler) -> dict:
        return {
            "type": "string",
            "pattern": r"^\d{4}(-\d{2}(-\d{2})?)?$",
            "description": "A date to the year, month or day: YYYY, YYYY-MM or YYYY-MM-DD.",
            "examples": ["2018", "2018-02", "2018-02-20"],
        }


def _full_date(value: Any) -> Any:
    parsed = PartialDate.parse(value)
    if parsed.precision != "day":
        raise PydanticCustomError("date_precision", "this date needs a day: YYYY-MM-DD")
    return Date(parsed.year, parsed.month, parsed.day)


def _text(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    return value


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _identifier(value: Any) -> Any:
    if isinstance(value, str) and not _ID_RE.match(value.strip()):
        raise PydanticCustomError(
            "id_format",
            "'{value}' is not a valid id: start with a letter, then letters, digits, '-' or '_'",
            {"value": value},
        )
    return value.strip() if isinstance(value, str) else value


# What may stand in an address: RFC 3986's characters, '%' escapes, and letters beyond ASCII
# (an IRI). Spaces, quotes, angle brackets, braces, backslashes and controls may not.
_URL_CHARACTERS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%\u00a0-\U0010ffff]+$")
_HOST = re.compile(r"^(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)*[^\W_](?:[\w-]{0,61}[^\W_])?\.?$|^\[[0-9A-Fa-f:.]+\]$")


def _url(value: Any) -> Any:
    """An http(s) address that every edition can print as a link (EPUBCheck checks each one)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    problem = _url_problem(text)
    if problem:
        raise PydanticCustomError("url", "'{value}' " + problem, {"value": text[:80]})
    return text


def _url_problem(text: str) -> str:
    """Why ``text`` is not an http(s) address to print as a link; empty if it is one."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(text)
        _ = parts.port  # a port that is not a number in 0-65535 raises ValueError
    except ValueError:
        return "is not a well-formed address"
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not text.lower().startswith(scheme + "://"):
        return "is not an http:// or https:// address"
    if not _URL_CHARACTERS.match(text):
        bad = next(ch for ch in text if not _URL_CHARACTERS.match(ch))
        shown = f"U+{ord(bad):04X}" if not bad.isprintable() or bad == " " else repr(bad)
        return f"is not a well-formed address: {shown} is not allowed in an address (write it %-encoded)"
    host = parts.netloc.rsplit("@", 1)[-1]
    if not host.endswith("]"):  # [IPv6] keeps its colons
        host = host.rsplit(":", 1)[0]
    if not parts.hostname or not _HOST.match(host):
        return "is not a well-formed address: it names no valid host"
    return ""


def _language(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    tag = value.strip()
    if not re.match(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$", tag):
        raise PydanticCustomError(
            "language", "'{value}' is not a BCP 47 language tag such as 'de' or 'en-GB'", {"value": tag}
        )
    try:
        Locale.parse(tag, sep="-")
    except (UnknownLocaleError, ValueError):
        raise PydanticCustomError("language", "unknown language '{value}'", {"value": tag}) from None
    return tag


Text = Annotated[str, BeforeValidator(_text), Field(min_length=1)]
Ident = Annotated[str, BeforeValidator(_identifier), Field(pattern=ID_PATTERN)]
EventDate = Annotated[PartialDate, Field(description="YYYY, YYYY-MM or YYYY-MM-DD")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Source(_Strict):
    """Where the facts of the dossier come from."""

    title: Text | None = Field(None, description="Title of the source.")
    publisher: Text | None = Field(None, description="Who published the source.")
    url: Annotated[Text, BeforeValidator(_url)] | None = Field(
        None, description="Address of the source, http:// or https:// (printed as a link, never fetched)."
    )


# CSL item types a source may have (https://docs.citationstyles.org/en/stable/specification.html#appendix-iii-types),
# and two plain words for the commonest kinds of evidence in a briefing.
SOURCE_TYPES = (
    "article",
    "article-journal",
    "article-magazine",
    "article-newspaper",
    "bill",
    "book",
    "broadcast",
    "chapter",
    "dataset",
    "document",
    "entry",
    "entry-dictionary",
    "entry-encyclopedia",
    "graphic",
    "interview",
    "legal_case",
    "legislation",
    "manuscript",
    "map",
    "motion_picture",
    "pamphlet",
    "personal_communication",
    "post",
    "post-weblog",
    "report",
    "song",
    "speech",
    "thesis",
    "treaty",
    "webpage",
)
SOURCE_TYPE_ALIASES = {
    "email": "personal_communication",
    "e-mail": "personal_communication",
    "court-filing": "legal_case",
    "filing": "legal_case",
    "website": "webpage",
}


def _source_type(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    word = value.strip()
    word = SOURCE_TYPE_ALIASES.get(word.lower(), word)
    if word not in SOURCE_TYPES:
        import difflib

        close = difflib.get_close_matches(word, SOURCE_TYPES, n=1)
        hint = (
            f" (did you mean '{close[0]}'?)"
            if close
            else " (a CSL type such as article-newspaper, personal_communication, legal_case, webpage, or email)"
        )
        raise PydanticCustomError("source_type", "'{value}' is not a source type{hint}", {"value": word, "hint": hint})
    return word


def _http_url(value: Any) -> Any:
    # printed as a link in every edition: a javascript: or file: address must never become one
    if isinstance(value, str) and not re.match(r"^https?://\S+$", value.strip(), re.IGNORECASE):
        raise PydanticCustomError("url", "'{value}' is not an http:// or https:// address", {"value": value[:80]})
    return value


SourceType = Annotated[
    str,
    BeforeValidator(_source_type),
    Field(json_schema_extra={"enum": list(SOURCE_TYPES) + list(SOURCE_TYPE_ALIASES)}),
]
Url = Annotated[str, BeforeValidator(_http_url), Field(min_length=1)]
Names = Annotated[list[Text], BeforeValidator(_one_or_many)]


class SourceEntry(_Strict):
    """A source the dossier cites: an article, an e-mail, a court filing, a book ..."""

    id: Ident = Field(
        description="Unique among the dossier's sources (and its bibliography file); "
        "cited as [@ID] in a body or `source: ID` on a quote or an event."
    )
    type: SourceType = Field(
        description="CSL type, e.g. article-newspaper, webpage, personal_communication "
        "(or email), legal_case (or court-filing), report, book."
    )
    title: Text = Field(description="Title of the source (of an e-mail: its subject).")
    title_short: Text | None = Field(None, description="A short title, used in the timeline and the quote index.")
    author: Names = Field(
        default_factory=list,
        description='Author(s): "Family, Given" for a person, any other text for an organisation; one name or a list.',
    )
    recipient: Names = Field(default_factory=list, description="Recipient(s) of a letter or an e-mail.")
    container: Text | None = Field(None, description="Where it appeared: newspaper, website, journal, book.")
    publisher: Text | None = Field(None, description="Publisher.")
    authority: Text | None = Field(None, description="Court or other issuing authority (court filings).")
    number: Text | None = Field(None, description="Docket, report or document number.")
    date: EventDate | None = Field(None, description="When it was published or sent: YYYY, YYYY-MM or YYYY-MM-DD.")
    url: Url | None = Field(None, description="http(s) address; printed and linked, never fetched.")
    accessed: EventDate | None = Field(None, description="When the URL was read: YYYY-MM-DD.")
    note: Text | None = Field(None, description="A remark printed with the entry (e.g. 'fictional example').")


class Event(_Strict):
    """A dated event for the timeline appendix."""

    date: EventDate = Field(description="When: YYYY, YYYY-MM or YYYY-MM-DD.")
    title: Text = Field(description="What happened, in a line.")
    text: Text | None = Field(None, description="More about the event (Markdown, inline).")
    id: Ident | None = Field(None, description="Anchor id, unique in the dossier.")
    source: Ident | None = Field(None, description="Id of the source the event is taken from.")
    locator: Text | None = Field(None, description="Where in the source: 'S. 12', 'p. 3', 'para. 4', or any text.")


class Quote(_Strict):
    """A quotation, word for word, with who said it."""

    id: Ident = Field(description="Unique in the dossier; a body places it with [[quote:ID]].")
    speaker: Annotated[list[Text], BeforeValidator(_one_or_many), Field(min_length=1)] = Field(
        description="Who said it: a name, or a list of names for a joint statement."
    )
    text: Text = Field(description="The words, exactly as said, without quotation marks.")
    date: EventDate | None = Field(None, description="When it was said.")
    context: Text | None = Field(None, description='Where it was said, e.g. "E-Mail an Greg Brockman".')
    source: Ident | None = Field(None, description="Id of the source the quotation is taken from.")
    locator: Text | None = Field(None, description="Where in the source: 'S. 12', 'p. 3', 'para. 4', or any text.")


class Change(_Strict):
    """One entry of the list of changes, printed in the imprint."""

    date: Annotated[Date, BeforeValidator(_full_date)] = Field(description="When the change was made (YYYY-MM-DD).")
    version: Text | None = Field(None, description="The version the change made, e.g. '1.1'.")
    text: Text = Field(description="What changed, in a sentence (Markdown, inline).")


KeyPoints = Annotated[
    list[Text],
    Field(description="The key points, each a sentence (Markdown, inline); set as a boxed summary at the start."),
]


class Chapter(_Strict):
    """One chapter file."""

    title: Text = Field(description="Chapter title.")
    id: Ident | None = Field(None, description="Anchor id; default: the file name without a leading number.")
    summary: Text | None = Field(None, description="A lead paragraph (Markdown, inline).")
    key_points: KeyPoints = Field(default_factory=list)
    body: Text = Field(
        description="The text: CommonMark with footnotes; [[quote:ID]] alone in a paragraph "
        "places a quote; [@ID], [@ID, p. 12], [@a; @b] and @ID cite sources."
    )
    events: list[Event] = Field(default_factory=list, description="Dated events for the timeline.")
    quotes: list[Quote] = Field(default_factory=list, description="Quotations for the text and the quote index.")


class DossierMeta(_Strict):
    """dossier.yaml: the dossier's metadata."""

    title: Text = Field(description="Title of the dossier.")
    subtitle: Text | None = Field(None, description="Subtitle.")
    language: Annotated[str, BeforeValidator(_language)] = Field(
        description="BCP 47 language tag of the content, e.g. 'de' or 'en'."
    )
    authors: list[Text] = Field(default_factory=list, description="Authors, in order.")
    publisher: Text | None = Field(None, description="Publisher.")
    date: Annotated[Date, BeforeValidator(_full_date)] | None = Field(
        None, description="Date of this edition (YYYY-MM-DD); also fixes reproducible timestamps."
    )
    description: Text | None = Field(None, description="A short description for catalogues.")
    identifier: Text | None = Field(
        None, description="Unique identifier (e.g. urn:uuid:...); default derived from the title."
    )
    source: Source | None = Field(None, description="Where the facts come from (printed in the imprint).")
    sources: list[SourceEntry] = Field(
        default_factory=list, description="Sources that quotes, events and bodies cite; listed in the sources appendix."
    )
    bibliography: Text | None = Field(
        None,
        description="A bibliography file in the dossier folder: CSL-JSON "
        "(.json) or BibTeX (.bib), e.g. exported from Zotero.",
    )
    citation_style: Text | None = Field(
        None,
        description="A CSL style file (.csl) in the dossier folder; default: "
        "the author-date style citeproc-py ships (Harvard, Cite Them Right).",
    )
    chapters: list[Text] | None = Field(
        None, description="Chapter file names in order; default: every other *.yaml, sorted by name."
    )
    cover: Text | None = Field(
        None, description="Cover image file in the dossier folder; default: a typographic cover."
    )
    sort_as: dict[str, Text] = Field(
        default_factory=dict,
        description="How a speaker is alphabetised in the quote index: name -> sort key, e.g. a reading "
        "in kana for a Japanese name (佐藤花子: さとう はなこ) or 'Gaulle, Charles de'.",
    )
    raw_html: bool = Field(
        False,
        description="Let raw HTML in Markdown through (sanitised). Default false: raw HTML is shown as text.",
    )
    layout: Literal["briefing", "book"] = Field(
        "briefing",
        description="PDF layout: 'briefing' (default; for the screen and single-sided print: chapters on a new "
        "page, no blank pages, 'page x of y') or 'book' (duplex: chapters on right-hand pages, "
        "mirrored margins). `report build --layout` overrides it.",
    )
    classification: Text | None = Field(
        None,
        description="A marking printed on every page and at the top of every edition, in your words: "
        "e.g. 'Vertraulich', 'Internal', 'TLP:AMBER'. Also in the files' metadata.",
    )
    status: Literal["draft", "final"] = Field(
        "final",
        description="'draft' sets a watermark on every PDF page and marks every edition as a draft; "
        "'final' (default) has none.",
    )
    version: Text | None = Field(
        None,
        description="Version of this edition, e.g. '1.2': on the cover, in the imprint and the metadata.",
    )
    changes: list[Change] = Field(default_factory=list, description="List of changes, printed in the imprint.")
    key_points: KeyPoints = Field(default_factory=list)

    def stable_identifier(self) -> str:
        """The given identifier, or one derived from the title (never random)."""
        if self.identifier:
            return self.identifier
        return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'report-dossier:' + self.title)}"
