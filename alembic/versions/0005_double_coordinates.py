"""opd.lat/lon as double precision (MariaDB's FLOAT is single precision: 112.7529 came back 112.753)

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return  # REAL is already double precision
    for col in ("lat", "lon"):
        op.alter_column("opd", col, type_=sa.Double(), existing_type=sa.Float(), existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for col in ("lat", "lon"):
        op.alter_column("opd", col, type_=sa.Float(), existing_type=sa.Double(), existing_nullable=False)
