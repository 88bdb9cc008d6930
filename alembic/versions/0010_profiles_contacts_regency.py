"""import_profile (saved column mappings of check-in exports); each OPD's contact person and
WhatsApp number; each OPD's regency (kabupaten), for registries beyond Bangkalan

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_profile",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("headers_key", sa.String(length=64), nullable=False),
        sa.Column("headers", sa.Text(), nullable=False),
        sa.Column("mapping", sa.Text(), nullable=False),
        sa.Column("sheet", sa.String(length=100), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_profile")),
        sa.UniqueConstraint("name", name=op.f("uq_import_profile_name")),
    )
    op.create_index(op.f("ix_import_profile_headers_key"), "import_profile", ["headers_key"])
    # plain ADD COLUMN (SQLite has it): a batch rebuild of opd would trip the check-ins' foreign keys
    op.add_column("opd", sa.Column("contact_name", sa.String(length=120), nullable=True))
    op.add_column("opd", sa.Column("contact_whatsapp", sa.String(length=20), nullable=True))
    op.add_column("opd", sa.Column("kabupaten", sa.String(length=60), nullable=False, server_default="Bangkalan"))


def downgrade() -> None:
    with op.batch_alter_table("opd") as batch:
        batch.drop_column("kabupaten")
        batch.drop_column("contact_whatsapp")
        batch.drop_column("contact_name")
    op.drop_index(op.f("ix_import_profile_headers_key"), table_name="import_profile")
    op.drop_table("import_profile")
