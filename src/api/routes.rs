//! A resource registered together with its documentation: each route takes its method and path
//! from the handler's `#[utoipa::path]` attribute, so the router and the OpenAPI document cannot
//! disagree.
//!
//! `utoipa-actix-web` collects the documentation of whatever is passed to its `service`; the
//! actix-web route macros it is made for (`#[get("/p")]`) put the method guard on the resource,
//! one resource per method, so a path's other methods would fall through to the default service
//! (404) instead of the 405 with an `Allow` header that one resource with several routes gives.
//! [`Documented`] keeps one resource per path and hands its routes' documentation to
//! `utoipa-actix-web`.

use actix_web::dev::{AppService, HttpServiceFactory};
use actix_web::http::Method;
use actix_web::{FromRequest, Handler, Resource, Responder, web};
use utoipa::openapi::RefOr;
use utoipa::openapi::path::{HttpMethod, Paths};
use utoipa::openapi::schema::Schema;
use utoipa_actix_web::OpenApiFactory;

/// One path: an actix-web resource and the documentation of its routes.
pub struct Documented {
    path: String,
    resource: Resource,
    paths: Paths,
    schemas: Vec<(String, RefOr<Schema>)>,
}

impl Documented {
    /// The resource at the path `doc` documents (relative to the scope), with its first route.
    pub fn route<D, F, Args>(doc: D, handler: F) -> Documented
    where
        D: utoipa::Path + OpenApiFactory,
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        let path = D::path();
        Documented {
            resource: web::resource(path.as_str()),
            path,
            paths: Paths::new(),
            schemas: Vec::new(),
        }
        .and(doc, handler)
    }

    /// Adds the route `doc` documents; it must document this resource's path.
    pub fn and<D, F, Args>(mut self, doc: D, handler: F) -> Documented
    where
        D: utoipa::Path + OpenApiFactory,
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        assert_eq!(D::path(), self.path, "one resource, one path");
        for method in D::methods() {
            self.resource = self
                .resource
                .route(web::method(actix_method(method)).to(handler.clone()));
        }
        self.paths.merge(doc.paths());
        doc.schemas(&mut self.schemas);
        self
    }

    /// Data for this resource's extractors (such as a larger body limit).
    pub fn app_data<U: 'static>(mut self, data: U) -> Documented {
        self.resource = self.resource.app_data(data);
        self
    }
}

fn actix_method(method: HttpMethod) -> Method {
    match method {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Options => Method::OPTIONS,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Trace => Method::TRACE,
    }
}

impl HttpServiceFactory for Documented {
    fn register(self, config: &mut AppService) {
        self.resource.register(config)
    }
}

impl OpenApiFactory for Documented {
    fn paths(&self) -> Paths {
        self.paths.clone()
    }

    fn schemas(&self, schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.extend(self.schemas.iter().cloned());
    }
}
