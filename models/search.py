"""Full-text search of a project's documents (titles and texts), in corpus order.

The query language (``parse``): words, ``"quoted phrases"``, ``prefix*`` (a word, or the
last word of a phrase), ``-excluded`` words or phrases. A document matches when it has every
term that is not excluded and none of the excluded ones. A word that the tokenizer cuts in
several tokens (``l'Élysée``, ``Jean-Pierre``) is a phrase of them. The user's text never
reaches MATCH or to_tsquery as syntax: every term is quoted, so no query is a syntax error.

Matching works on tokens, like SQLite FTS5's ``unicode61 remove_diacritics 2`` tokenizer:
a token is a run of letters and digits (with the combining accents it folds away), compared
without case and without diacritics on Latin letters (``elysee`` finds ``Élysée``). The same
matcher (``Query.spans``) finds the offsets to highlight in a document.

Both databases answer from an index which documents have every word of the query and none
of its excluded words (``candidates``); the order of a phrase's words is then checked on
those candidates by the matcher (``Query.accepts``), in corpus order until a page is full.

SQLite: ``documents_fts`` (migration 0003), an FTS5 index with ``detail=none``: no
positions (7 % of the database instead of 48 %), hence the check. Without phrases the total
comes from the index; with phrases every candidate must be checked (seconds for a common
phrase at 100,000 documents), so ``search`` leaves the total to ``count_job``, which a
worker runs off the GUI thread and can stop between two steps.

PostgreSQL (team mode): a GIN index on ``to_tsvector('simple', glose_fold(title || ' ' ||
text))``, read through the SQL function ``glose_matches`` (migrations 0003 and 0005), with
``plainto_tsquery`` / ``to_tsquery`` of the ``simple`` configuration (no stemming, like
SQLite) over the query folded by the same ``glose_fold``: it removes the diacritics of
Latin letters with built-in functions (no ``unaccent`` extension needed), so ``elysee``
finds ``Élysée`` there too. PostgreSQL's own parser cuts the words.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache, reduce
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Row,
    TableValuedAlias,
    TextClause,
    column,
    exists,
    func,
    literal_column,
    select,
    table,
    text,
    true,
)
from sqlalchemy.orm import Session

from models.jobs import Job, run
from models.records import Progress
from models.schema import Document

if TYPE_CHECKING:
    from models.store import Store

# combining accents that unicode61 keeps inside a token and removes (its diacritic table)
_MARKS = "\u0300-\u0304\u0306-\u030c\u030f\u0311\u031b\u0323-\u0328\u032d\u032e\u0330\u0331"
_TOKEN_CHAR = rf"(?:[^\W_]|[{_MARKS}])"
_SEPARATOR = rf"(?:_|[^\w{_MARKS}])"
_TOKEN = re.compile(rf"{_TOKEN_CHAR}+")
_MARK = re.compile(rf"[{_MARKS}]")
_PIECE = re.compile(r'(?P<minus>-?)(?:"(?P<phrase>[^"]*)"?(?P<star>\*?)|(?P<word>[^\s"]+))')
_LATIN = (*range(0xC0, 0x250), *range(0x1E00, 0x1F00))  # where unicode61 folds diacritics
FEW_CANDIDATES = 5000  # see _sqlite_plan
DENSE = 8  # at least one document in DENSE has the words: see _sqlite_plan
CHECK_STEP = 1000  # candidates checked for phrases per step of a job
SNIPPET_BEFORE = 60  # characters of context before the first match
SNIPPET_LENGTH = 200


class QueryError(ValueError):
    """A query with nothing to search for; the message says why."""


def _latin_folds() -> dict[str, str]:
    """Latin letter with diacritics (either case) → its lowercase ASCII base letter."""
    folds = {}
    for code in _LATIN:
        letter = chr(code)
        base = "".join(
            c for c in unicodedata.normalize("NFKD", letter) if not unicodedata.combining(c)
        ).lower()
        if len(base) == 1 and base.isascii() and base.isalpha() and base != letter.lower():
            folds[letter] = base
    return folds


def _variants(folds: dict[str, str]) -> dict[str, str]:
    """ASCII letter → itself and every letter that folds to it."""
    variants: dict[str, str] = {}
    for letter, base in sorted(folds.items()):
        variants[base] = variants.get(base, base) + letter
    return variants


_FOLDS = _latin_folds()
_VARIANTS = _variants(_FOLDS)


def fold(token: str) -> str:
    """A token as the index compares it: lowercase, Latin diacritics removed."""
    lowered = _MARK.sub("", token.lower())
    return "".join(_FOLDS.get(char, char) for char in lowered)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


@dataclass(frozen=True, slots=True)
class Term:
    """One term of a query: a word or a phrase (``words``, as typed, in order)."""

    words: tuple[str, ...]
    prefix: bool = False  # the last word is a prefix
    excluded: bool = False
    text: str = ""  # the term as typed, for PostgreSQL's parser

    @property
    def canonical(self) -> str:
        sign, star = "-" if self.excluded else "", "*" if self.prefix else ""
        return f'{sign}"{" ".join(self.words)}"{star}'

    @property
    def phrase(self) -> bool:
        return len(self.words) > 1


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query (``parse``): its terms in the order typed."""

    terms: tuple[Term, ...]

    @property
    def positive(self) -> tuple[Term, ...]:
        return tuple(term for term in self.terms if not term.excluded)

    @property
    def excluded(self) -> tuple[Term, ...]:
        return tuple(term for term in self.terms if term.excluded)

    @property
    def canonical(self) -> str:
        """The query in a form ``parse`` reads back to the same terms."""
        return " ".join(term.canonical for term in self.terms)

    @property
    def has_prefix(self) -> bool:
        return any(term.prefix for term in self.terms)

    @property
    def has_phrases(self) -> bool:
        """The FTS5 index alone cannot decide it: candidates are checked by the matcher."""
        return any(term.phrase for term in self.terms)

    def accepts(self, title: str, body: str) -> bool:
        """The document has every positive term and no excluded one (title or text)."""

        def found(term: Term) -> bool:
            pattern = _pattern(term)
            return pattern.search(title) is not None or pattern.search(body) is not None

        return all(found(term) for term in self.positive) and not any(
            found(term) for term in self.excluded
        )

    def spans(self, body: str) -> list[tuple[int, int]]:
        """Every match of the positive terms in ``body``: sorted code point ranges, the
        overlapping ones merged."""
        found = sorted(
            match.span() for term in self.positive for match in _pattern(term).finditer(body)
        )
        merged: list[tuple[int, int]] = []
        for start, end in found:
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        return merged


def parse(query: str, *, typing: bool = False) -> Query:
    """The terms of a query; ``typing``: the query is being typed, so its last word (when
    not quoted and not followed by a space) is a prefix. Raises QueryError when there is
    nothing to search for."""
    terms = []
    for piece in _PIECE.finditer(query):
        raw = piece["phrase"] if piece["phrase"] is not None else piece["word"]
        words = tuple(word for word in tokens(raw) if fold(word))  # not a lone accent
        if words:
            star = bool(piece["star"]) or raw.rstrip().endswith("*")
            terms.append(Term(words, star, bool(piece["minus"]), raw.strip(" *")))
    if not terms:
        what = "an empty query" if not query.strip() else f"no word in '{query.strip()}'"
        raise QueryError(f"nothing to search for: {what}")
    if all(term.excluded for term in terms):
        raise QueryError("a query needs a word to find, not only words to leave out")
    last = terms[-1]
    if typing and _open_word(query) and not last.excluded:
        terms[-1] = Term(last.words, True, False, last.text)
    return Query(tuple(terms))


def _open_word(query: str) -> bool:
    """The query ends in a bare word still being typed (no space or quote after it)."""
    return not query[-1].isspace() and query[-1] != '"' and query.count('"') % 2 == 0


@lru_cache(maxsize=256)
def _pattern(term: Term) -> re.Pattern[str]:
    """The regular expression of a term over raw text: token boundaries, case-insensitive,
    each folded letter standing for its accented variants, accents allowed after each."""

    def letter(char: str) -> str:
        variants = _VARIANTS.get(char)
        return f"[{variants}]" if variants else re.escape(char)

    marks = f"[{_MARKS}]*"
    words = ["".join(letter(c) + marks for c in fold(word)) for word in term.words]
    body = f"{_SEPARATOR}+".join(words) + (f"{_TOKEN_CHAR}*" if term.prefix else "")
    # the first letter leads (the regex engine scans for it fast: 3 to 4 times faster than
    # a leading lookbehind); the lookbehind then checks that it starts a token
    first = letter(fold(term.words[0])[0])
    start = rf"{first}(?<!{_TOKEN_CHAR}.)"
    return re.compile(rf"{start}{body[len(first) :]}(?!{_TOKEN_CHAR})", re.IGNORECASE)


# -- SQL ------------------------------------------------------------------------------
def _fts_term(term: Term) -> str:
    """FTS5 syntax of a term: its tokens, each quoted, all required (no positions)."""
    parts = [f'"{word}"' for word in term.words]
    if term.prefix:
        parts[-1] += "*"
    return parts[0] if len(parts) == 1 else f"({' AND '.join(parts)})"


def fts_expression(query: Query) -> str:
    """The FTS5 MATCH expression of the candidates: all positive tokens, minus the
    excluded single words (an excluded phrase is left to the matcher)."""
    expression = " AND ".join(_fts_term(term) for term in query.positive)
    for term in query.excluded:
        if not term.phrase:
            expression = f"({expression}) NOT {_fts_term(term)}"
    return expression


_FTS = table("documents_fts", column("rowid", Integer))
_SIMPLE: ColumnElement[Any] = literal_column("'simple'::regconfig")


def _match(query: Query) -> TextClause:
    return text("documents_fts MATCH :fts").bindparams(fts=fts_expression(query))


def _tsquery(term: Term) -> ColumnElement[Any]:
    """PostgreSQL's tsquery of a term, all its words and no phrase operator (the matcher
    checks the order): such a query is answered by the index alone."""
    if term.prefix:
        words = [f"'{word.lower()}'" for word in term.words]
        query = func.to_tsquery(_SIMPLE, func.glose_fold(" & ".join(words) + ":*"))
    else:
        query = func.plainto_tsquery(_SIMPLE, func.glose_fold(term.text or " ".join(term.words)))
    return func.tsquery_not(query) if term.excluded else query


def _matches(query: Query, project_id: int) -> TableValuedAlias:
    """``glose_matches`` (migration 0003): the candidates of a project on PostgreSQL."""
    terms = [*query.positive, *(term for term in query.excluded if not term.phrase)]
    tsquery = reduce(lambda a, b: a.op("&&")(b), [_tsquery(term) for term in terms])
    return func.glose_matches(tsquery, project_id).table_valued("id", "position")


def candidates(query: Query, dialect: str, project_id: int) -> ColumnElement[bool]:
    """A WHERE clause on ``documents``, through the index: the documents that have every
    word of the query and none of its excluded words (the project's on PostgreSQL). The
    order of a phrase's words is not checked: ``Query.accepts`` does it.

    On PostgreSQL the clause joins the rows of ``glose_matches`` (with ``IN`` the planner
    would expect 200 of them and look each one up: 600 ms for a common word at 100,000
    documents, 100 joined)."""
    if dialect == "sqlite":
        return Document.id.in_(select(_FTS.c.rowid).where(_match(query)))
    if dialect == "postgresql":
        return Document.id == _matches(query, project_id).c.id
    raise QueryError(f"full-text search is not available on {dialect}")


def listing_filter(search: str, dialect: str, project_id: int) -> ColumnElement[bool]:
    """The document list's filter box: ``search`` as it is being typed (its last word a
    prefix), through the index only: the list counts its rows on the GUI thread, and
    checking a phrase's word order in every candidate takes seconds at 100,000 documents
    (the corpus search does it). A query with nothing to search for shows every document."""
    try:
        return candidates(parse(search, typing=True), dialect, project_id)
    except QueryError:
        return true()


class _Candidates:
    """The documents of a project that have every word of a query and none of its excluded
    words, read through the index (phrases are checked by ``Query.accepts``)."""

    def __init__(self, session: Session, project_id: int, query: Query) -> None:
        self.session, self.project_id, self.query = session, project_id, query

    def page(self, after: int, limit: int) -> Sequence[Row[int, int]]:
        """(id, position) of the first ``limit`` after corpus position ``after``."""
        raise NotImplementedError

    def ids(self) -> list[int]:
        raise NotImplementedError

    def count(self) -> int:
        raise NotImplementedError

    def read_size(self, checked: int) -> int:
        """How many candidates to read when ``checked`` are to be checked next: as many on
        SQLite, where a read costs what it reads."""
        return checked


class _SqliteCandidates(_Candidates):
    """The index's own count (every project) picks the plan. A few candidates are looked
    up by id (``project_id + 0`` keeps SQLite off the corpus-order index) and sorted; many
    are kept in a temporary index while the corpus-order index is walked; and when most
    documents have the words, walking the corpus order and asking the index about each
    document stops soonest (not for prefixes: the index expands them at every question).
    At 100,000 documents the right plan takes 1 to 25 ms, a wrong one 10 to 2,000."""

    def __init__(self, session: Session, project_id: int, query: Query) -> None:
        super().__init__(session, project_id, query)
        match = _match(query)
        self.found = int(session.scalar(select(func.count()).select_from(_FTS).where(match)) or 0)
        in_index = Document.id.in_(select(_FTS.c.rowid).where(match))
        project = Document.project_id + 0 if self.found <= FEW_CANDIDATES else Document.project_id
        self.lookup: tuple[ColumnElement[bool], ...] = (project == project_id, in_index)
        self.walk: tuple[ColumnElement[bool], ...] = self.lookup
        if self.found > FEW_CANDIDATES and not query.has_prefix:
            largest = int(session.scalar(select(func.max(Document.id))) or 0)
            if self.found * DENSE >= largest:
                asked = exists().where(match, _FTS.c.rowid == Document.id)
                self.walk = (Document.project_id == project_id, asked)

    def page(self, after: int, limit: int) -> Sequence[Row[int, int]]:
        return self.session.execute(
            select(Document.id, Document.position)
            .where(*self.walk, Document.position > after)
            .order_by(Document.position)
            .limit(limit)
        ).all()

    def ids(self) -> list[int]:
        return list(self.session.scalars(select(Document.id).where(*self.lookup)))

    def count(self) -> int:
        if _alone(self.session, self.project_id):
            return self.found
        return int(self.session.scalar(select(func.count()).where(*self.lookup)) or 0)


class _PostgresqlCandidates(_Candidates):
    def __init__(self, session: Session, project_id: int, query: Query) -> None:
        super().__init__(session, project_id, query)
        self.matches = _matches(query, project_id)

    def page(self, after: int, limit: int) -> Sequence[Row[int, int]]:
        found = self.matches.c
        return self.session.execute(
            select(found.id, found.position)
            .where(found.position > after)
            .order_by(found.position)
            .limit(limit)
        ).all()

    def ids(self) -> list[int]:
        return list(self.session.scalars(select(self.matches.c.id)))

    def count(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(self.matches)) or 0)

    def read_size(self, checked: int) -> int:
        """``CHECK_STEP`` at least: each read scans the index (60 ms for common words at
        100,000 documents), whatever it returns."""
        return max(checked, CHECK_STEP)


def _candidates(session: Session, project_id: int, query: Query) -> _Candidates:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return _PostgresqlCandidates(session, project_id, query)
    if dialect == "sqlite":
        return _SqliteCandidates(session, project_id, query)
    raise QueryError(f"full-text search is not available on {dialect}")


def _alone(session: Session, project_id: int) -> bool:
    """No other project has documents (then the index's count is the project's)."""
    other = select(
        exists().where(Document.project_id < project_id),
        exists().where(Document.project_id > project_id),
    )
    return not any(session.execute(other).one())


def _documents(session: Session, ids: Sequence[int]) -> Sequence[Row[int, int, str, str]]:
    """Id, position, title and text of these documents, in corpus order."""
    return session.execute(
        select(Document.id, Document.position, Document.title, Document.text)
        .where(Document.id.in_(ids))
        .order_by(Document.position)
    ).all()


# -- results --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Hit:
    """One matching document: ``snippet`` is a line of its text around the first match,
    ``marks`` the matches in the snippet (offsets into it), ``matches`` their number in
    the whole text."""

    id: int
    position: int
    title: str
    snippet: str
    marks: tuple[tuple[int, int], ...]
    matches: int


@dataclass(frozen=True, slots=True)
class Found(Progress):
    """A step of a phrase search (``search_job``): the hits found since the last step."""

    hits: tuple[Hit, ...] = ()


@dataclass(frozen=True, slots=True)
class Page:
    """``total``: every matching document of the project, None when it was not counted
    (a query with a phrase: call ``count``)."""

    hits: list[Hit]
    total: int | None

    @property
    def last_position(self) -> int:
        """Where the next page starts (``after``)."""
        return self.hits[-1].position if self.hits else -1


def search(
    store: Store, project_id: int, query: Query, *, limit: int = 20, after: int = -1
) -> Page:
    """The first ``limit`` matching documents after corpus position ``after``."""
    return run(search_job(store, project_id, query, limit=limit, after=after))


def search_job(
    store: Store, project_id: int, query: Query, *, limit: int = 20, after: int = -1
) -> Job[Page]:
    """``search`` as a job, of one step without phrases. A phrase's candidates are checked
    in corpus order, more at each step (up to ``CHECK_STEP``), until the page is full; they
    are read as many at a time as suits the database (``read_size``). Two common words
    seldom side by side take most of a second at 100,000 documents, so each step gives the
    hits it found (``Found``) to show at once, and a worker can stop between two steps when
    the query changes. The page returned holds every hit, those given on the way
    included."""
    yield from ()
    if not query.has_phrases:
        with store.reading() as session:
            found = _candidates(session, project_id, query)
            rows = _documents(session, [row.id for row in found.page(after, limit)])
            return Page(_hits(query, rows), found.count())
    hits: list[Hit] = []
    size = 2 * limit  # candidates checked in a step; doubled at each step
    while True:
        with store.reading() as session:
            found = _candidates(session, project_id, query)
            wanted = found.read_size(size)
            batch = found.page(after, wanted)
        done = 0
        while done < len(batch):
            part = batch[done : done + size]
            done += len(part)
            with store.reading() as session:
                rows = _documents(session, [row.id for row in part])
            accepted = [row for row in rows if query.accepts(row.title, row.text)]
            new = _hits(query, accepted[: limit - len(hits)])
            hits += new
            if len(hits) >= limit or (done == len(batch) < wanted):
                return Page(hits, None)
            size = min(2 * size, CHECK_STEP)
            yield Found(len(hits), limit, "checking the phrases", tuple(new))
        if len(batch) < wanted:
            return Page(hits, None)  # no candidate left
        after = batch[-1].position


def count(store: Store, project_id: int, query: Query) -> int:
    """The number of documents of the project that match."""
    return run(count_job(store, project_id, query))


def count_job(store: Store, project_id: int, query: Query) -> Job[int]:
    """``count`` as a job: with a phrase every candidate is checked (seconds for a common
    phrase at 100,000 documents), ``CHECK_STEP`` candidates a step, so that a worker can
    stop between two steps when the query changes."""
    yield from ()
    with store.reading() as session:
        found = _candidates(session, project_id, query)
        if not query.has_phrases:
            return found.count()
        ids = found.ids()
    total = 0
    for start in range(0, len(ids), CHECK_STEP):
        with store.reading() as session:
            rows = _documents(session, ids[start : start + CHECK_STEP])
        total += sum(query.accepts(row.title, row.text) for row in rows)
        yield Progress(start + len(rows), len(ids), f"{total} so far")
    return total


def _hits(query: Query, rows: Sequence[Row[int, int, str, str]]) -> list[Hit]:
    return [_hit(query, *row) for row in rows]


def _hit(query: Query, doc_id: int, position: int, title: str, body: str) -> Hit:
    spans = query.spans(body)
    snippet, marks = snippet_of(body, spans)
    return Hit(doc_id, position, title, snippet, marks, len(spans))


def snippet_of(body: str, spans: list[tuple[int, int]]) -> tuple[str, tuple[tuple[int, int], ...]]:
    """A one-line extract of ``body`` around the first span, cut at spaces, with "…" where
    it is cut, and the spans that fall inside it (offsets into the snippet)."""
    first = spans[0][0] if spans else 0
    start = max(first - SNIPPET_BEFORE, 0)
    if start > 0:
        space = body.find(" ", start, first)
        start = space + 1 if space >= 0 else start
    end = min(start + SNIPPET_LENGTH, len(body))
    if end < len(body):
        space = body.rfind(" ", max(first, start), end)
        end = space if space > first else end
    lead = "…" if start > 0 else ""
    tail = "…" if end < len(body) else ""
    line = re.sub(r"\s", " ", body[start:end])
    shift = len(lead) - start
    marks = tuple(
        (max(s, start) + shift, min(e, end) + shift) for s, e in spans if s < end and e > start
    )
    return lead + line + tail, marks


# -- output of ``glose search`` ---------------------------------------------------------
FORMATS = ("table", "json")
TITLE_WIDTH = 32
BOLD, PLAIN = "\033[1m", "\033[0m"


def hits_table(hits: Sequence[Hit], *, bold: bool = False, header: bool = True) -> str:
    """The hits as lines of a table: position, title, snippet (``bold`` matches, for a
    terminal), under a header line unless ``header`` is False; nothing without hits."""
    lines = [f"{'position':>8}  {'title':<{TITLE_WIDTH}}  snippet"] if hits and header else []
    for hit in hits:
        title = hit.title if len(hit.title) <= TITLE_WIDTH else hit.title[: TITLE_WIDTH - 1] + "…"
        snippet = _emphasised(hit) if bold else hit.snippet
        lines.append(f"{hit.position:>8}  {title:<{TITLE_WIDTH}}  {snippet}")
    return "".join(line + "\n" for line in lines)


def hits_summary(query: Query, shown: int, total: int) -> str:
    more = f" ({shown} shown)" if shown < total else ""
    return f"{total} document{'s' if total != 1 else ''} match {query.canonical}{more}"


def hits_json(query: Query, hits: list[Hit], total: int) -> str:
    """The query, the total and the hits as one JSON object."""
    return json.dumps(_json(query, hits, total), ensure_ascii=False, indent=2)


def _emphasised(hit: Hit) -> str:
    out, last = [], 0
    for start, end in hit.marks:
        out += [hit.snippet[last:start], BOLD, hit.snippet[start:end], PLAIN]
        last = end
    return "".join([*out, hit.snippet[last:]])


def _json(query: Query, hits: list[Hit], total: int) -> dict[str, Any]:
    return {
        "query": query.canonical,
        "total": total,
        "hits": [
            {
                "id": hit.id,
                "position": hit.position,
                "title": hit.title,
                "snippet": hit.snippet,
                "marks": [list(mark) for mark in hit.marks],
                "matches": hit.matches,
            }
            for hit in hits
        ],
    }
