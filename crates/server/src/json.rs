//! Reading JSON request bodies with errors that say exactly what is wrong.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::{AppError, Problem};

/// A request body within the size limit, read whole. Over the limit it is a 413 that says so.
pub struct Body(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Bytes::from_request(request, state).await {
            Ok(bytes) => Ok(Body(bytes)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(AppError::PayloadTooLarge)
            }
            Err(rejection) => Err(AppError::BadRequest(format!(
                "the request body could not be read: {}",
                rejection.body_text()
            ))),
        }
    }
}

/// Parses a JSON body. An empty body parses as `default` when one is given.
pub fn parse<T: DeserializeOwned>(body: &Bytes, default: Option<T>) -> Result<T, AppError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        if let Some(default) = default {
            return Ok(default);
        }
        return Err(AppError::BadRequest(
            "the request body is empty; a JSON object is expected".to_owned(),
        ));
    }
    // The whole body must be the one JSON value: trailing characters are refused too.
    serde_json::from_slice(body).map_err(|error| explain::<T>(body, error))
}

/// What is wrong with a body that did not parse: a body that is not JSON is a 400; JSON of
/// the wrong shape is a 422 naming where (it is parsed again, tracking the path, only then).
fn explain<T: DeserializeOwned>(body: &Bytes, error: serde_json::Error) -> AppError {
    use serde_json::error::Category;
    if error.classify() != Category::Data {
        return AppError::BadRequest(format!("the request body is not valid JSON: {error}"));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let path = match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
        Err(tracked) if tracked.path().to_string() != "." => tracked.path().to_string(),
        _ => String::new(),
    };
    let message = strip_position(&error.to_string());
    AppError::Unprocessable {
        message: if path.is_empty() {
            format!("the JSON body does not have the expected shape: {message}")
        } else {
            format!("{path}: {message}")
        },
        problems: vec![Problem {
            field: path,
            message,
        }],
    }
}

/// serde_json ends data errors with " at line 1 column 42", which means nothing to a client
/// that sent one line; the path says where the problem is.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}
