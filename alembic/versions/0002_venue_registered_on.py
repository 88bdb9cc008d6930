"""opd.venue_registered_on: when the PeduliLindungi venue code was recorded

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("opd") as batch:
        batch.add_column(sa.Column("venue_registered_on", sa.Date(), nullable=True))
    # codes recorded before this column existed: registered no later than printed
    op.execute("UPDATE opd SET venue_registered_on = qr_printed_on WHERE venue_code IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("opd") as batch:
        batch.drop_column("venue_registered_on")
