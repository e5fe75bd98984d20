//! The ceiling a cached page is measured against: actix-web with no middleware, no state and no
//! database, answering every GET with the same bytes from memory, as JSON. `bench/load.sh` starts
//! it with the body the service gave for a cached page and drives it like the service, so the
//! cached page's figure can be read as a share of what actix-web does on this machine.
//!
//! `cargo run --release --example static_ceiling -- ADDR BODY-FILE`

use actix_web::{App, HttpResponse, HttpServer, web};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(addr), Some(file)) = (args.next(), args.next()) else {
        eprintln!("usage: static_ceiling ADDR BODY-FILE");
        std::process::exit(2);
    };
    let body = web::Bytes::from(std::fs::read(&file)?);
    HttpServer::new(move || {
        let body = body.clone();
        App::new().default_service(web::to(move || {
            let body = body.clone();
            async move {
                HttpResponse::Ok()
                    .content_type("application/json")
                    .body(body)
            }
        }))
    })
    .bind(addr)?
    .run()
    .await
}
