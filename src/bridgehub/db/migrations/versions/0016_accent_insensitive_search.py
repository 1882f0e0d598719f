"""contact search ignores accents: "Jorg" finds "Jörg"

The search and the index of names and companies call one immutable function, fold_accents.
Where the server has PostgreSQL's unaccent extension (Debian's postgresql does) and the
migrating role may create it, fold_accents is unaccent with its default rules, which also
fold letters such as ø, ł and ß. The embedded server ships no such extension: there it is a
translate() of each letter Unicode writes as a Latin letter and accents into that letter.

Revision ID: 0016
Revises: 0015

"""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa
from alembic import op
from sqlalchemy.exc import DBAPIError

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_INDEX = "ix_contacts_words_expression"
_WORDS = "name || ' ' || coalesce(company, '')"
# Text all in ASCII has nothing to fold, and most names are: the test spares them the folding
# itself, which every contact written pays for through the index (translate() over the list
# of accented letters was two thirds of the time PostgreSQL took to write a page of contacts).
# A pattern rather than comparing octet and character lengths: those are equal in any
# single-byte encoding, accented letters included.
_FUNCTION = (
    "CREATE FUNCTION fold_accents(words text) RETURNS text"
    " LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS"
    " $$ SELECT CASE WHEN words ~ '^[\\x01-\\x7f]*$' THEN words ELSE {} END $$"
)
# Latin-1 Supplement through Latin Extended Additional: the accented Latin letters.
_LATIN_LETTERS = range(0xC0, 0x1F00)


def upgrade() -> None:
    schema = _unaccent_schema()
    if schema is None:
        accented, plain = _decomposed_letters()
        folded = f"translate(words, '{accented}', '{plain}')"
    else:
        # unaccent(text) is only stable (it reads the dictionary named in the search path
        # when called); naming the dictionary and its schema makes the wrapper immutable.
        folded = f"{schema}.unaccent('{schema}.unaccent'::regdictionary, words)"
    op.execute(_FUNCTION.format(folded))
    _index_words(f"fold_accents({_WORDS})")


def downgrade() -> None:
    _index_words(_WORDS)
    op.execute("DROP FUNCTION fold_accents(text)")
    # The unaccent extension stays: it may have been there before, and other queries of the
    # database may use it.


def _unaccent_schema() -> str | None:
    """The schema of the unaccent extension, created here when the server has it and the
    role may create it; None otherwise."""
    connection = op.get_bind()
    available = connection.scalar(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'unaccent'")
    )
    if not available:
        return None
    try:
        with connection.begin_nested():
            connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS unaccent"))
    except DBAPIError:  # a role without the right to create it: translate() folds instead
        return None
    schema: str = connection.scalar(
        sa.text(
            "SELECT quote_ident(extnamespace::regnamespace::text) FROM pg_extension "
            "WHERE extname = 'unaccent'"
        )
    )
    return schema


def _decomposed_letters() -> tuple[str, str]:
    """translate()'s two lists: each accented Latin letter whose canonical decomposition is
    an ASCII letter and combining marks, and that letter."""
    accented, plain = [], []
    for code in _LATIN_LETTERS:
        letter = chr(code)
        decomposed = unicodedata.normalize("NFD", letter)
        base, marks = decomposed[0], decomposed[1:]
        if base.isascii() and base.isalpha() and marks and all(map(unicodedata.combining, marks)):
            accented.append(letter)
            plain.append(base)
    return "".join(accented), "".join(plain)


def _index_words(expression: str) -> None:
    op.drop_index(_INDEX, table_name="contacts", postgresql_using="gin")
    op.create_index(
        _INDEX,
        "contacts",
        [sa.literal_column(f"to_tsvector('simple', {expression})")],
        postgresql_using="gin",
    )
