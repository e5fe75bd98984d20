//! Small steps the migrations repeat: indexes by name and columns, one column added or dropped
//! at a time (SQLite alters one column per statement), and lists of raw SQL statements.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// Creates the index `name` on `table` over `columns`, in that order.
pub async fn create_index(
    manager: &SchemaManager<'_>,
    name: &'static str,
    table: &'static str,
    columns: &[&'static str],
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(*column);
    }
    manager.create_index(index).await
}

/// Drops the index `name` on `table`.
pub async fn drop_index(
    manager: &SchemaManager<'_>,
    name: &'static str,
    table: &'static str,
) -> Result<(), DbErr> {
    manager
        .drop_index(Index::drop().name(name).table(table).to_owned())
        .await
}

/// Adds one column to `table`.
pub async fn add_column(
    manager: &SchemaManager<'_>,
    table: &'static str,
    column: impl IntoColumnDef,
) -> Result<(), DbErr> {
    alter_table(manager, Table::alter().table(table).add_column(column)).await
}

/// Drops one column of `table`.
pub async fn drop_column(
    manager: &SchemaManager<'_>,
    table: &'static str,
    column: &'static str,
) -> Result<(), DbErr> {
    alter_table(manager, Table::alter().table(table).drop_column(column)).await
}

/// Drops the columns of `table`, one at a time, in order.
pub async fn drop_columns(
    manager: &SchemaManager<'_>,
    table: &'static str,
    columns: &[&'static str],
) -> Result<(), DbErr> {
    for column in columns {
        drop_column(manager, table, column).await?;
    }
    Ok(())
}

/// Drops the tables, in order.
pub async fn drop_tables(
    manager: &SchemaManager<'_>,
    tables: &[&'static str],
) -> Result<(), DbErr> {
    for table in tables {
        manager
            .drop_table(Table::drop().table(*table).to_owned())
            .await?;
    }
    Ok(())
}

async fn alter_table(
    manager: &SchemaManager<'_>,
    statement: &mut TableAlterStatement,
) -> Result<(), DbErr> {
    manager.alter_table(statement.to_owned()).await
}

/// Creates a table.
pub async fn create_table(
    manager: &SchemaManager<'_>,
    table: &mut TableCreateStatement,
) -> Result<(), DbErr> {
    manager.create_table(table.to_owned()).await
}

/// A foreign key from `table.column` to `target.target_column`.
pub fn foreign_key(
    table: &'static str,
    column: &'static str,
    target: &'static str,
    target_column: &'static str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(target, target_column)
        .to_owned()
}

/// Runs raw SQL statements in order.
pub async fn execute_all(
    manager: &SchemaManager<'_>,
    statements: &[impl AsRef<str>],
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    for sql in statements {
        db.execute_unprepared(sql.as_ref()).await?;
    }
    Ok(())
}

/// Runs the raw SQL statements `postgres` in order on PostgreSQL, and `sqlite` elsewhere.
pub async fn execute_by_backend(
    manager: &SchemaManager<'_>,
    postgres: &[impl AsRef<str>],
    sqlite: &[impl AsRef<str>],
) -> Result<(), DbErr> {
    match manager.get_database_backend() {
        DbBackend::Postgres => execute_all(manager, postgres).await,
        _ => execute_all(manager, sqlite).await,
    }
}
