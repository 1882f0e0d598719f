"""task queue (procrastinate's schema)

Revision ID: 0005
Revises: 0004

The schema comes from the installed procrastinate, whose minor version the project pins;
moving to a newer minor version means a migration that applies its migration scripts.
"""

from __future__ import annotations

from alembic import op
from procrastinate.schema import SchemaManager

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Straight to the driver, so SQLAlchemy leaves the script's colons alone; the driver
    # still reads % as a placeholder, hence the doubling.
    op.get_bind().exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))


def downgrade() -> None:
    op.get_bind().exec_driver_sql(
        """
        DO $$
        DECLARE item record;
        BEGIN
            FOR item IN SELECT tablename FROM pg_tables
                        WHERE schemaname = current_schema() AND tablename LIKE 'procrastinate\\_%%'
            LOOP
                EXECUTE format('DROP TABLE IF EXISTS %%I CASCADE', item.tablename);
            END LOOP;
            FOR item IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
                        JOIN pg_namespace n ON n.oid = p.pronamespace
                        WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%%'
            LOOP
                EXECUTE format('DROP FUNCTION IF EXISTS %%s CASCADE', item.signature);
            END LOOP;
            FOR item IN SELECT t.typname FROM pg_type t
                        JOIN pg_namespace n ON n.oid = t.typnamespace
                        WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate\\_%%'
                          AND t.typtype IN ('e', 'c')
            LOOP
                EXECUTE format('DROP TYPE IF EXISTS %%I CASCADE', item.typname);
            END LOOP;
        END $$;
        """
    )
