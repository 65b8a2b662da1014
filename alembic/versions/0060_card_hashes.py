"""Issue 19: card tokens and short codes stored as keyed hashes, never in clear.

Each existing card's token and short code are replaced by their HMAC-SHA256 under the server
key (`app.services.security.server_key`: `DH_SECRET_KEY`, else `data/secret.key`), so cards
already handed out keep scanning. One way only: a downgrade cannot bring the clear values back
(the restored columns hold the hashes, and the cards must be reissued).

Revision ID: 0060_card_hashes
Revises: 0060_second_factor
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0060_card_hashes"
down_revision: str | None = "0060_second_factor"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString
# The purposes `app.services.cards` hashes under (kept here as data: a migration must not
# change meaning when the code moves on).
_TOKEN = "card-token"
_CODE = "card-code"


def upgrade() -> None:
    from app.services.security import keyed_hash, server_key

    with op.batch_alter_table("card", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_hash", _STR(length=64), nullable=True))
        batch_op.add_column(sa.Column("code_hash", _STR(length=64), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, token, short_code FROM card")).all()
    if rows:
        key = server_key()
        for card_id, token, code in rows:
            bind.execute(
                sa.text("UPDATE card SET token_hash = :t, code_hash = :c WHERE id = :i"),
                {"t": keyed_hash(_TOKEN, token, key=key), "c": keyed_hash(_CODE, code, key=key),
                 "i": card_id},
            )
    with op.batch_alter_table("card", schema=None, recreate="always") as batch_op:
        batch_op.alter_column("token_hash", existing_type=_STR(length=64), nullable=False)
        batch_op.alter_column("code_hash", existing_type=_STR(length=64), nullable=False)
        batch_op.drop_column("token")
        batch_op.drop_column("short_code")
        batch_op.create_unique_constraint("uq_card_token_hash", ["token_hash"])
        batch_op.create_unique_constraint("uq_card_code_hash", ["code_hash"])


def downgrade() -> None:
    with op.batch_alter_table("card", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token", _STR(length=64), nullable=True))
        batch_op.add_column(sa.Column("short_code", _STR(length=16), nullable=True))
    op.execute("UPDATE card SET token = token_hash, short_code = substr(code_hash, 1, 16)")
    with op.batch_alter_table("card", schema=None, recreate="always") as batch_op:
        batch_op.alter_column("token", existing_type=_STR(length=64), nullable=False)
        batch_op.alter_column("short_code", existing_type=_STR(length=16), nullable=False)
        batch_op.drop_constraint("uq_card_token_hash", type_="unique")
        batch_op.drop_constraint("uq_card_code_hash", type_="unique")
        batch_op.drop_column("token_hash")
        batch_op.drop_column("code_hash")
        batch_op.create_unique_constraint("uq_card_token", ["token"])
        batch_op.create_unique_constraint("uq_card_short_code", ["short_code"])
