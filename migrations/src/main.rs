//! `plenum-migrations status|up|down|fresh|…` for developers; `plenum migrate` does the same in
//! production. Reads `DATABASE_URL`.

use sea_orm_migration::prelude::*;

#[tokio::main]
async fn main() {
    cli::run_cli(plenum_migrations::Migrator).await;
}
