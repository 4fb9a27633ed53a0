"""Group admins: a login may administer one group (market, company).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ROLES = "role IN ('admin', 'operator', 'grid_worker', 'device')"
NEW_ROLES = "role IN ('admin', 'operator', 'grid_worker', 'device', 'group_admin')"


def upgrade() -> None:
    """Add users.group_id and the group_admin role."""
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("group_id", sa.String(64), nullable=True))
        batch.create_foreign_key(
            op.f("fk_users_group_id_groups"), "groups", ["group_id"], ["group_id"]
        )
        batch.drop_constraint(op.f("ck_users_role"), type_="check")
        batch.create_check_constraint(op.f("ck_users_role"), NEW_ROLES)


def downgrade() -> None:
    """Drop users.group_id and the group_admin role."""
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("ck_users_role"), type_="check")
        batch.create_check_constraint(op.f("ck_users_role"), OLD_ROLES)
        batch.drop_constraint(op.f("fk_users_group_id_groups"), type_="foreignkey")
        batch.drop_column("group_id")
