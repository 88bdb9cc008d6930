"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 22:03:58.049165
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('app_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_user')),
    sa.UniqueConstraint('username', name=op.f('uq_app_user_username'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=True),
    sa.Column('before', sa.Text(), nullable=True),
    sa.Column('after', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)

    op.create_table('import_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('checksum', sa.String(length=64), nullable=False),
    sa.Column('imported_by', sa.String(length=64), nullable=False),
    sa.Column('imported_at', sa.DateTime(), nullable=False),
    sa.Column('rows_total', sa.Integer(), nullable=False),
    sa.Column('rows_loaded', sa.Integer(), nullable=False),
    sa.Column('rows_rejected', sa.Integer(), nullable=False),
    sa.Column('rows_duplicate', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batch'))
    )
    op.create_table('meta',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=255), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_meta'))
    )
    op.create_table('opd',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('short_name', sa.String(length=80), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('kecamatan', sa.String(length=40), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('asn_headcount', sa.Integer(), nullable=False),
    sa.Column('headcount_is_estimate', sa.Boolean(), nullable=False),
    sa.Column('venue_code', sa.String(length=64), nullable=True),
    sa.Column('qr_printed_on', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opd')),
    sa.UniqueConstraint('code', name=op.f('uq_opd_code')),
    sa.UniqueConstraint('venue_code', name=op.f('uq_opd_venue_code'))
    )
    op.create_table('checkin',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('opd_id', sa.Integer(), nullable=False),
    sa.Column('ts', sa.DateTime(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('hour', sa.SmallInteger(), nullable=False),
    sa.Column('visitor_type', sa.String(length=12), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('visitor_key', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batch.id'], name=op.f('fk_checkin_batch_id_import_batch')),
    sa.ForeignKeyConstraint(['opd_id'], ['opd.id'], name=op.f('fk_checkin_opd_id_opd')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkin')),
    sa.UniqueConstraint('opd_id', 'ts', 'visitor_key', name='uq_checkin_scan')
    )
    with op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.create_index('ix_checkin_opd_day', ['opd_id', 'day'], unique=False)

    op.create_table('rollup_daily',
    sa.Column('opd_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('visitor_type', sa.String(length=12), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('checkins', sa.Integer(), nullable=False),
    sa.Column('visitors', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['opd_id'], ['opd.id'], name=op.f('fk_rollup_daily_opd_id_opd')),
    sa.PrimaryKeyConstraint('opd_id', 'day', 'visitor_type', 'status', 'outcome', name=op.f('pk_rollup_daily'))
    )
    with op.batch_alter_table('rollup_daily', schema=None) as batch_op:
        batch_op.create_index('ix_rollup_daily_day', ['day', 'opd_id'], unique=False)

    op.create_table('rollup_hourly',
    sa.Column('opd_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('hour', sa.SmallInteger(), nullable=False),
    sa.Column('visitor_type', sa.String(length=12), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('checkins', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['opd_id'], ['opd.id'], name=op.f('fk_rollup_hourly_opd_id_opd')),
    sa.PrimaryKeyConstraint('opd_id', 'day', 'hour', 'visitor_type', 'outcome', name=op.f('pk_rollup_hourly'))
    )
    with op.batch_alter_table('rollup_hourly', schema=None) as batch_op:
        batch_op.create_index('ix_rollup_hourly_day', ['day', 'opd_id'], unique=False)

    op.create_table('rollup_visitors',
    sa.Column('opd_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('visitor_type', sa.String(length=12), nullable=False),
    sa.Column('visitors', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['opd_id'], ['opd.id'], name=op.f('fk_rollup_visitors_opd_id_opd')),
    sa.PrimaryKeyConstraint('opd_id', 'day', 'visitor_type', name=op.f('pk_rollup_visitors'))
    )
    with op.batch_alter_table('rollup_visitors', schema=None) as batch_op:
        batch_op.create_index('ix_rollup_visitors_day', ['day', 'opd_id'], unique=False)

    op.create_table('visit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opd_id', sa.Integer(), nullable=False),
    sa.Column('visited_on', sa.Date(), nullable=False),
    sa.Column('officer', sa.String(length=120), nullable=False),
    sa.Column('qr_posted', sa.Boolean(), nullable=False),
    sa.Column('scanning_enforced', sa.Boolean(), nullable=False),
    sa.Column('unscanned_entries', sa.Integer(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['opd_id'], ['opd.id'], name=op.f('fk_visit_opd_id_opd')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit'))
    )
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_opd_id'), ['opd_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_opd_id'))

    op.drop_table('visit')
    with op.batch_alter_table('rollup_visitors', schema=None) as batch_op:
        batch_op.drop_index('ix_rollup_visitors_day')

    op.drop_table('rollup_visitors')
    with op.batch_alter_table('rollup_hourly', schema=None) as batch_op:
        batch_op.drop_index('ix_rollup_hourly_day')

    op.drop_table('rollup_hourly')
    with op.batch_alter_table('rollup_daily', schema=None) as batch_op:
        batch_op.drop_index('ix_rollup_daily_day')

    op.drop_table('rollup_daily')
    with op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.drop_index('ix_checkin_opd_day')

    op.drop_table('checkin')
    op.drop_table('opd')
    op.drop_table('meta')
    op.drop_table('import_batch')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))

    op.drop_table('audit_log')
    op.drop_table('app_user')
