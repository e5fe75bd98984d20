//! `GET /openapi.json` (the OpenAPI document, generated from the handlers' `#[utoipa::path]`
//! attributes and the DTOs' `ToSchema` derives) and `GET /docs` (interactive docs by Swagger UI,
//! whose files are compiled into the binary: the page loads nothing from another origin, and a
//! `Content-Security-Policy` holds it to that).

use crate::api::routes::Documented;
use std::borrow::Cow;
use std::sync::{Arc, LazyLock};
use utoipa_actix_web::service_config::ServiceConfig;

use actix_web::dev::{ServiceFactory, ServiceRequest};
use actix_web::http::header::{self, HeaderValue};
use actix_web::{App, HttpResponse, web};
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{self, RefOr};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::Config;

use crate::api::{
    article_settings, articles, authors, comments, flags, legal, moderation, notes, privacy,
    report, rules, topics,
};
use crate::views::dto;

const DESCRIPTION: &str = "\
Kommentare unter den Artikeln der Website: Diskussionen, die nach 18 Monaten schließen, \
Meldungen durch Leserinnen und Leser und Moderation per E-Mail.

Comment threads under the website's articles: discussions that close once an article is older \
than `CLOSE_AFTER_MONTHS` (default 18) calendar months, reader flags, and moderation through the \
API or the action links emailed to the community team.

Every `/api/v1` route needs `Authorization: Bearer <token>` (a `service` or `moderator` token from \
`API_TOKENS`); moderation routes need a `moderator` token. Times are RFC 3339, output in UTC with \
a `Z`. Lists are paginated with `?limit=` (1..=100) and the opaque `?cursor=` from the previous \
page's `next_cursor`. Errors always have the shape \
`{\"error\": {\"code\": \"...\", \"message\": \"...\", \"details\": {...}}}` (see `ErrorBody`).";

/// The OpenAPI document of the service.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "comment-service",
        version = env!("CARGO_PKG_VERSION"),
        description = DESCRIPTION,
        license(name = "MIT", identifier = "MIT"),
    ),
    components(schemas(
        ErrorBody,
        ErrorDetail,
        Health,
        Readiness,
        dto::ArticleSummary,
        dto::TopicOverview,
        dto::Contact,
        dto::Notice,
        dto::Discussion,
        dto::Article,
        dto::ArticleSettings,
        article_settings::SettingsBody,
        crate::domain::states::ArticleLinkPolicy,
        dto::Topic,
        dto::Author,
        dto::Comment,
        dto::CommentPage,
        dto::ReplyPage,
        dto::ArticleList,
        crate::domain::states::CommentOrder,
        topics::TopicBody,
        articles::ArticleBody,
        articles::DiscussionBody,
        comments::AuthorBody,
        comments::NewCommentBody,
        comments::EditBody,
        comments::DeleteBody,
        flags::Reporter,
        flags::FlagBody,
        flags::FlagView,
        legal::AppealState,
        legal::DecisionView,
        legal::FlagDecision,
        legal::FlagStatusView,
        legal::AppealBody,
        legal::AppealView,
        moderation::FlagsView,
        moderation::QueueItem,
        moderation::QueuePage,
        moderation::DecisionBody,
        moderation::LogEntry,
        moderation::LogPage,
        moderation::NotificationView,
        moderation::NotificationPage,
        report::TransparencyReport,
        report::ReportPeriod,
        report::ReportFlags,
        report::ReportDecisions,
        report::TimeToDecision,
        report::ReportTimes,
        report::ReportAppeals,
        report::ReportAuthors,
        crate::moderation::Rules,
        crate::moderation::HistoryRule,
        crate::moderation::Detection,
        rules::RulesView,
        authors::AuthorStats,
        authors::AuthorView,
        authors::StatusBody,
        authors::AuthorComment,
        authors::AuthorCommentPage,
        notes::NoteBody,
        notes::NoteView,
        notes::NotePage,
        privacy::AuthorExport,
        privacy::ExportAuthor,
        privacy::ExportComment,
        privacy::ExportFlag,
        privacy::ExportDecision,
        privacy::ExportAppeal,
        privacy::ExportLogEntry,
        privacy::ErasureView,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "topics", description = "Topics (the \"Themenübersicht\") and their current articles."),
        (name = "articles", description = "Articles and their discussion: registration, reads, a moderator's close/reopen."),
        (name = "comments", description = "Comment threads: post, list, replies, edit and delete by the author."),
        (name = "flags", description = "Readers flag comments; thresholds email the community team."),
        (name = "moderation", description = "The moderation queue, decisions, the audit log, the email outbox and the transparency report (moderator tokens)."),
        (name = "legal", description = "What the website tells authors and reporters (EU Digital Services Act): statements of reasons, the outcome of flags, appeals."),
        (name = "authors", description = "Authors: what moderation knows about an author id, their status (premod, suspended, banned) and their comments (moderator tokens)."),
        (name = "personal data", description = "An author's personal data (GDPR): the export of everything stored about an author id, and its erasure (service tokens)."),
        (name = "email actions", description = "The HTML pages behind the signed action links in the community team's emails (no token; the link is the credential)."),
        (name = "operations", description = "Health, readiness and this documentation (no token)."),
    )
)]
pub struct ApiDoc;

/// Adds the `bearer` security scheme that the `/api/v1` operations require.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A token from `API_TOKENS` (`name:role:token`); role `service` (the website \
                         backend) or `moderator` (may do everything a service token may).",
                    ))
                    .build(),
            ),
        );
    }
}

/// Registers the routes on `app` (`api::configure`) and collects the document from them: each
/// route's operation comes from its handler's `#[utoipa::path]`.
pub fn collect<T>(app: App<T>) -> (App<T>, openapi::OpenApi)
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    let (app, mut document) = app
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::api::configure)
        .split_for_parts();
    SharedResponses.modify(&mut document);
    (app, document)
}

/// The document of the routes `api::configure` registers.
pub fn document() -> openapi::OpenApi {
    collect(App::new()).1
}

/// The document as JSON, served by `GET /openapi.json`.
pub struct DocumentJson(web::Bytes);

impl DocumentJson {
    pub fn new(document: &openapi::OpenApi) -> DocumentJson {
        let json = document
            .to_json()
            .expect("the OpenAPI document serializes to JSON");
        DocumentJson(json.into())
    }
}

/// The answers every operation that needs a token can give, whatever it does.
const SECURED_RESPONSES: [(&str, &str); 2] = [
    ("401", "`unauthorized`: no or an unknown token."),
    ("500", "`internal`."),
];

/// Gives every `/api/v1` operation the `bearer` security requirement (unless it names its own),
/// then adds [`SECURED_RESPONSES`] to every operation with a security requirement.
struct SharedResponses;

impl Modify for SharedResponses {
    fn modify(&self, openapi: &mut openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let secured = path.starts_with("/api/v1");
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                if secured && operation.security.is_none() {
                    operation.security = Some(vec![SecurityRequirement::new(
                        "bearer",
                        Vec::<String>::new(),
                    )]);
                }
                if operation.security.as_ref().is_none_or(Vec::is_empty) {
                    continue;
                }
                for (status, description) in SECURED_RESPONSES {
                    operation
                        .responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| error_response(description));
                }
            }
        }
    }
}

/// A response with an [`ErrorBody`].
fn error_response(description: &str) -> RefOr<openapi::Response> {
    openapi::ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            openapi::Content::new(Some(openapi::Ref::from_schema_name("ErrorBody"))),
        )
        .build()
        .into()
}

/// `403 forbidden` of the operations that need a moderator token.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // only documentation
pub enum ForModerators {
    /// `forbidden`: not a moderator token.
    #[response(status = 403)]
    Forbidden(ErrorBody),
}

/// `413 payload_too_large` of the operations that read a JSON body of the usual size.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // only documentation
pub enum JsonBody {
    /// `bad_request`: the body is not JSON of this shape.
    #[response(status = 400)]
    NotThisShape(ErrorBody),
    /// `payload_too_large`: the body is over 64 KiB.
    #[response(status = 413)]
    TooLarge(ErrorBody),
}

/// `404 not_found` of the operations on one comment.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // only documentation
pub enum NoSuchComment {
    /// `not_found`: no such comment.
    #[response(status = 404)]
    NotFound(ErrorBody),
}

/// `404 not_found` of the operations on one article.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // only documentation
pub enum NoSuchArticle {
    /// `not_found`: no such article.
    #[response(status = 404)]
    NotFound(ErrorBody),
}

/// `400 bad_request` of the paginated lists.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // only documentation
pub enum ListQuery {
    /// `bad_request`: a cursor this list did not give out, or a query parameter given twice.
    #[response(status = 400)]
    BadQuery(ErrorBody),
}

/// The docs page: Swagger UI's files, all served from this binary under `/docs/`. The paths are
/// relative, so the page also works behind a proxy that adds a prefix.
const DOCS_HTML: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>comment-service API</title>
<link rel="stylesheet" href="docs/swagger-ui.css">
<link rel="icon" type="image/png" href="docs/favicon-32x32.png" sizes="32x32">
</head><body><div id="swagger-ui"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script src="docs/swagger-ui-standalone-preset.js"></script>
<script src="docs/swagger-initializer.js"></script>
</body></html>"#;

/// Swagger UI reads the document from `/openapi.json` (relative to `/docs`), without the bar
/// that loads other documents and without the online validator.
static SWAGGER_CONFIG: LazyLock<Arc<Config<'static>>> = LazyLock::new(|| {
    Arc::new(
        Config::new(["openapi.json"])
            .use_base_layout()
            .validator_url("none"),
    )
});

/// The docs load only this service's own scripts, styles and document. Swagger UI sets inline
/// styles and shows `data:` images.
const DOCS_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// Registers `GET /openapi.json`, `GET /docs` and its files (no token needed).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(Documented::route(__path_openapi_json, openapi_json))
        .service(Documented::route(__path_docs, docs))
        .service(Documented::route(__path_docs_file, docs_file));
}

/// The OpenAPI document of this service.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    operation_id = "openapi_json",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document of this service.", content_type = "application/json", body = Object),
    )
)]
async fn openapi_json(document: web::Data<DocumentJson>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document.0.clone())
}

/// Interactive API documentation (Swagger UI)
///
/// Everything the page loads comes from this binary (`/docs/{file}`, `/openapi.json`).
#[utoipa::path(
    get,
    path = "/docs",
    tag = "operations",
    operation_id = "docs",
    responses(
        (status = 200, description = "An HTML page rendering this document.", content_type = "text/html", body = String),
    )
)]
async fn docs() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, DOCS_POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(DOCS_HTML)
}

/// A file of the documentation page (Swagger UI's scripts, styles and icons)
#[utoipa::path(
    get,
    path = "/docs/{file}",
    tag = "operations",
    operation_id = "docs_file",
    params(("file" = String, Path, description = "A file of Swagger UI, e.g. `swagger-ui-bundle.js`.")),
    responses(
        (status = 200, description = "The file.", content_type = "application/octet-stream", body = String),
        (status = 404, description = "`not_found`: no such file.", body = ErrorBody),
        (status = 500, description = "`internal`.", body = ErrorBody),
    )
)]
async fn docs_file(file: web::Path<String>) -> Result<HttpResponse, crate::error::ServiceError> {
    let not_found = || crate::error::ServiceError::NotFound(format!("no docs file `{file}`"));
    let found = utoipa_swagger_ui::serve(&file, SWAGGER_CONFIG.clone())
        .map_err(|e| crate::error::ServiceError::Internal(e.to_string().into()))?
        .ok_or_else(not_found)?;
    let mut response = HttpResponse::Ok();
    response
        .content_type(found.content_type.as_str())
        .insert_header((header::CONTENT_SECURITY_POLICY, DOCS_POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=3600"),
        ));
    if found.gzpipped {
        response.insert_header((header::CONTENT_ENCODING, "gzip"));
    }
    Ok(match found.bytes {
        Cow::Borrowed(bytes) => response.body(bytes),
        Cow::Owned(bytes) => response.body(bytes),
    })
}

/// Every error response: a stable `code`, a human-readable `message` and `details`.
#[derive(ToSchema)]
#[schema(example = json!({"error": {"code": "validation_failed", "message": "some fields are invalid", "details": {"fields": {"body": "must not be empty"}}}}))]
#[allow(dead_code)] // only a schema
pub struct ErrorBody {
    error: ErrorDetail,
}

/// The content of an error response.
#[derive(ToSchema)]
#[allow(dead_code)] // only a schema
pub struct ErrorDetail {
    #[schema(schema_with = error_code)]
    code: String,
    /// For people; never contains internals.
    message: String,
    /// `validation_failed`: `{"fields": {field: reason}}`; `discussion_closed`: `{"notice": Notice}`;
    /// `rate_limited`: `{"retry_after_seconds": n}`; `payload_too_large`: `{"limit_bytes": n}`;
    /// `state_conflict`: `{"current": state}`; otherwise `{}`.
    #[schema(value_type = Object)]
    details: serde_json::Value,
}

/// `GET /healthz`.
#[derive(ToSchema)]
#[schema(example = json!({"status": "ok"}))]
#[allow(dead_code)] // only a schema
pub struct Health {
    #[schema(schema_with = health_status)]
    status: String,
}

/// `GET /readyz`.
#[derive(ToSchema)]
#[schema(example = json!({"status": "ready", "database": "ok"}))]
#[allow(dead_code)] // only a schema
pub struct Readiness {
    #[schema(schema_with = readiness_status)]
    status: String,
    #[schema(schema_with = database_status)]
    database: String,
}

fn string_enum(description: &str, values: &[&str], nullable: bool) -> RefOr<Schema> {
    let schema_type = if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::from(Type::String)
    };
    let mut values: Vec<serde_json::Value> = values.iter().map(|v| (*v).into()).collect();
    if nullable {
        values.push(serde_json::Value::Null);
    }
    ObjectBuilder::new()
        .schema_type(schema_type)
        .description(Some(description))
        .enum_values(Some(values))
        .into()
}

/// Generates `schema_with` functions for string fields that take one of a few values.
macro_rules! string_enums {
    ($($name:ident($nullable:expr, $description:literal, [$($value:literal),+ $(,)?]);)+) => {
        $(
            pub(crate) fn $name() -> RefOr<Schema> {
                string_enum($description, &[$($value),+], $nullable)
            }
        )+
    };
}

string_enums! {
    error_code(false, "Stable error code: `bad_request` (400: malformed JSON, wrong types, bad \
        cursor), `unauthorized` (401: missing or unknown token), `forbidden` (403: the token lacks \
        the role, or the caller may not change this comment), `discussion_closed` (403: writing to \
        a closed discussion; `details.notice` holds the Notice), `not_found` (404), \
        `method_not_allowed` (405), `idempotency_conflict` (409: an `Idempotency-Key` reused with \
        another body), `state_conflict` (409: the action no longer fits the object's state, e.g. \
        restoring a comment its author deleted; `details.current` says the state), \
        `payload_too_large` (413: body over 64 KiB), `validation_failed` (422: \
        `details.fields` maps field to reason), `rate_limited` (429: see `Retry-After`), \
        `internal` (500); `author_banned` / `author_suspended` (403: the author may not post or \
        edit; `details.until`), `comment_rejected` (422: the content rules refuse the comment; \
        `details.rule`).",
        ["bad_request", "unauthorized", "forbidden", "discussion_closed", "not_found",
         "method_not_allowed", "idempotency_conflict", "state_conflict", "payload_too_large",
         "validation_failed", "rate_limited", "internal", "author_banned", "author_suspended",
         "comment_rejected"]);
    health_status(false, "Always `ok` while the process serves requests.", ["ok"]);
    readiness_status(false, "`ready` when the database answers.", ["ready", "not_ready"]);
    database_status(false, "Whether the database answered.", ["ok", "unreachable"]);
}
