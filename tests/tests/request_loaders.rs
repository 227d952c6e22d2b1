//! A request's loaders are made when the request first uses them, and a request that changes data turns their
//! caches off: loaders made before and after that must both read the rows as they are now.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step must fail the test")]

use govgraph::request::RequestData;
use govgraph_tests::{Fixture, TestServer, admin_viewer};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

async fn rename(db: &DatabaseConnection, id: i64, name: &str) {
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DatabaseBackend::Postgres => "UPDATE region SET name = $1 WHERE id = $2",
        _ => "UPDATE region SET name = ? WHERE id = ?",
    };
    db.execute_raw(Statement::from_sql_and_values(backend, sql, [name.into(), id.into()])).await.unwrap();
}

async fn name_read_by(request: &RequestData, id: i64) -> String {
    request.regions().region_by_id(id).await.unwrap().expect("the region is in scope").0.name
}

#[tokio::test]
async fn loaders_read_fresh_rows_once_caching_is_off_whenever_they_were_made() {
    let server = TestServer::start(Fixture::Demo(0.001)).await;
    server
        .in_server(|side| async move {
            let backend = side.db.get_database_backend();
            let row = side
                .db
                .query_one_raw(Statement::from_string(
                    backend,
                    "SELECT id, name FROM region WHERE level = 'GRID' ORDER BY id LIMIT 1",
                ))
                .await
                .unwrap()
                .unwrap();
            let id: i64 = row.try_get("", "id").unwrap();
            let original: String = row.try_get("", "name").unwrap();

            // A reading request caches what its loaders load: the test can tell a cache from none.
            let reading =
                RequestData::new(side.db.clone(), admin_viewer("admin-loaders"), side.events.clone());
            // A writing request whose loaders are made before it turns caching off …
            let made_before =
                RequestData::new(side.db.clone(), admin_viewer("admin-loaders"), side.events.clone());
            assert_eq!(name_read_by(&made_before, id).await, original);
            made_before.disable_caching();
            // … and one whose loaders are made after.
            let made_after =
                RequestData::new(side.db.clone(), admin_viewer("admin-loaders"), side.events.clone());
            made_after.disable_caching();

            assert_eq!(name_read_by(&reading, id).await, original);
            assert_eq!(name_read_by(&made_after, id).await, original);
            rename(&side.db, id, "改名网格").await;

            assert_eq!(name_read_by(&reading, id).await, original, "a reading request keeps its cache");
            assert_eq!(
                name_read_by(&made_before, id).await,
                "改名网格",
                "loaders made before caching was off"
            );
            assert_eq!(name_read_by(&made_after, id).await, "改名网格", "loaders made after caching was off");
            rename(&side.db, id, &original).await;
        })
        .await;
}
