"""Satpol PP in the field: visit photos (cleaned JPEG, thumbnail, QR result), display names of
accounts, and server-side sign-in sessions that a reload can resume and the server can revoke

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# photos of up to 1.600 px: MariaDB's BLOB holds only 64 KB
Blob = sa.LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql", "mariadb")


def upgrade() -> None:
    op.add_column("app_user", sa.Column("display_name", sa.String(length=120), nullable=True))
    op.create_table(
        "visit_photo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("image", Blob, nullable=False),
        sa.Column("thumb", Blob, nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("qr_result", sa.String(length=24), nullable=False),
        sa.Column("qr_text", sa.String(length=255), nullable=True),
        sa.Column("qr_other_opd_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["visit_id"], ["visit.id"], name=op.f("fk_visit_photo_visit_id_visit")),
        sa.ForeignKeyConstraint(["qr_other_opd_id"], ["opd.id"], name=op.f("fk_visit_photo_qr_other_opd_id_opd")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_photo")),
    )
    op.create_index(op.f("ix_visit_photo_visit_id"), "visit_photo", ["visit_id"])
    op.create_table(
        "app_session",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_app_session")),
    )
    op.create_index(op.f("ix_app_session_username"), "app_session", ["username"])


def downgrade() -> None:
    op.drop_index(op.f("ix_app_session_username"), table_name="app_session")
    op.drop_table("app_session")
    op.drop_index(op.f("ix_visit_photo_visit_id"), table_name="visit_photo")
    op.drop_table("visit_photo")
    op.drop_column("app_user", "display_name")
