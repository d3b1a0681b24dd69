//! The HTTP layer's one error type, [`AppError`], and how it is answered.
//!
//! JSON API handlers return `Result<_, AppError>` and answer JSON
//! `{"error": code, "message": …, "errors": […]}`; page handlers wrap it in [`PageError`] and
//! answer an HTML page. Either way the client gets a precise status and a message a person
//! understands, and internals (database errors, causes) go only to the log.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use holdfast_store::StoreError;
use serde::Serialize;

use crate::pages;

/// One problem with a request, pointing at what caused it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Problem {
    /// The field (answer key) or path (in a definition) at fault.
    pub field: String,
    /// What is wrong, for a person.
    pub message: String,
}

/// Everything a handler can answer instead of success.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 404: the thing does not exist (or is not yours to see).
    #[error("{0}")]
    NotFound(String),
    /// 401: a missing or wrong admin token. Says nothing about what exists.
    #[error("a valid admin token is required")]
    Unauthorized,
    /// 400: the request cannot be read.
    #[error("{0}")]
    BadRequest(String),
    /// 409: the request conflicts with what is stored.
    #[error("{0}")]
    Conflict(String),
    /// 413: the body is over the configured limit.
    #[error(
        "the request body is larger than this server accepts (the limit is set with --body-limit, 1 MiB by default)"
    )]
    PayloadTooLarge,
    /// 422: the request is well-formed but its content is invalid.
    #[error("{message}")]
    Unprocessable {
        /// A summary.
        message: String,
        /// Every problem, each with what it is about.
        problems: Vec<Problem>,
    },
    /// 503: the service cannot answer now (the database cannot be reached); try again.
    #[error("{0}")]
    Unavailable(String),
    /// 500: a bug or an unexpected failure. Logged; the client only learns that it happened.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Seconds a client is asked to wait before retrying a 503.
pub const RETRY_AFTER_SECONDS: u64 = 5;

impl AppError {
    /// A 422 about one field.
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        let message = message.into();
        AppError::Unprocessable {
            message: format!("{field}: {message}"),
            problems: vec![Problem { field, message }],
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The machine-readable code in JSON answers.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound(_) => "not_found",
            AppError::Unauthorized => "unauthorized",
            AppError::BadRequest(_) => "bad_request",
            AppError::Conflict(_) => "conflict",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::Unprocessable { .. } => "invalid",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    /// The message a client may see.
    pub fn public_message(&self) -> String {
        match self {
            AppError::Internal(_) => {
                "something went wrong on our side; nothing you sent was lost, please try again"
                    .to_owned()
            }
            other => other.to_string(),
        }
    }

    fn log(&self) {
        match self {
            AppError::Internal(cause) => tracing::error!(error = ?cause, "internal error"),
            AppError::Unavailable(message) => tracing::warn!(%message, "service unavailable"),
            _ => {}
        }
    }

    fn decorate(&self, response: &mut Response) {
        match self {
            AppError::Unauthorized => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"holdfast\""),
                );
            }
            AppError::Unavailable(_) => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
            }
            _ => {}
        }
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => AppError::NotFound("not found".to_owned()),
            StoreError::Conflict(what) => AppError::Conflict(format!("{what} already exists")),
            StoreError::Submitted => AppError::Conflict(
                "this session has been submitted and takes no more changes".to_owned(),
            ),
            error if error.is_unavailable() => AppError::Unavailable(format!(
                "the service is briefly unavailable ({error}); your answers are safe, try again shortly"
            )),
            error => AppError::Internal(anyhow::Error::new(error)),
        }
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    message: String,
    #[serde(skip_serializing_if = "<[Problem]>::is_empty")]
    errors: &'a [Problem],
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let problems: &[Problem] = match &self {
            AppError::Unprocessable { problems, .. } => problems,
            _ => &[],
        };
        let body = ErrorBody {
            error: self.code(),
            message: self.public_message(),
            errors: problems,
            retry_after: matches!(self, AppError::Unavailable(_)).then_some(RETRY_AFTER_SECONDS),
        };
        let mut response = (self.status(), axum::Json(body)).into_response();
        self.decorate(&mut response);
        response
    }
}

/// An [`AppError`] answered as an HTML page, for the end-customer runtime.
#[derive(Debug)]
pub struct PageError(pub AppError);

impl<E: Into<AppError>> From<E> for PageError {
    fn from(error: E) -> Self {
        PageError(error.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let error = self.0;
        error.log();
        let (title, message) = match &error {
            AppError::NotFound(_) => (
                "Page not found",
                "We could not find this page. If you followed a link, check that it is complete."
                    .to_owned(),
            ),
            AppError::Unavailable(_) => (
                "Back in a moment",
                "The service is briefly unavailable. Everything you entered is safe; please try again in a few seconds."
                    .to_owned(),
            ),
            AppError::Internal(_) => (
                "Something went wrong",
                "Something went wrong on our side. Everything you entered so far is safe; please try again."
                    .to_owned(),
            ),
            other => ("There is a problem", other.public_message()),
        };
        let mut response =
            (error.status(), Html(pages::message_page(title, &message))).into_response();
        error.decorate(&mut response);
        response
    }
}
