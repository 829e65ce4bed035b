//! JSON bodies are read as the document states them: after a body is deserialized into its
//! type, it is validated against that type's schema in `/openapi.json` (JSON Schema 2020-12,
//! formats checked), so a value the document refuses is refused even where the shared types'
//! parsers are more lenient (a currency `"usd "`, an amount `"+5"`, a grade `"10x"`, an array
//! where an object is expected). A problem names the deepest field at fault: of the branches of
//! a `oneOf`/`anyOf` (a rule's condition, a cost's currency), the one that fits best.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock},
};

use jsonschema::{ValidationError, Validator, error::ValidationErrorKind};
use serde_json::{Value, json};

use crate::{error::ApiError, problem::FieldError};

/// Validators by component name; `None` when the document has no such schema.
type Cache = Mutex<HashMap<String, Option<Arc<Validator>>>>;

fn validator(name: &str) -> Option<Arc<Validator>> {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Cache::default);
    let mut map = cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    map.entry(name.to_owned())
        .or_insert_with(|| {
            let components = &crate::openapi::spec()["components"];
            components["schemas"].get(name)?;
            let root = json!({
                "$ref": format!("#/components/schemas/{name}"),
                "components": components,
            });
            jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .should_validate_formats(true)
                .build(&root)
                .map_err(|e| tracing::error!(schema = name, error = %e, "a body schema does not compile"))
                .ok()
                .map(Arc::new)
        })
        .clone()
}

/// 422 naming each field of `body` that the component schema `name` refuses (none when the
/// document has no such schema).
pub(crate) fn check(name: &str, body: &Value) -> Result<(), ApiError> {
    let Some(v) = validator(name) else {
        return Ok(());
    };
    let mut errors: Vec<FieldError> = Vec::new();
    for e in v.iter_errors(body).take(8) {
        for f in deepest(&e) {
            if !errors.contains(&f) {
                errors.push(f);
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// The field errors of `e`: itself, or for a `oneOf`/`anyOf` that no branch fits, those of the
/// branch that fits best (the fewest mismatched constants, enums and `not`s, then the fewest
/// errors; the first of equals).
fn deepest(e: &ValidationError<'_>) -> Vec<FieldError> {
    let branches = match e.kind() {
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            context
        }
        _ => return vec![field_error(e)],
    };
    let discriminators = |errs: &Vec<ValidationError<'static>>| {
        errs.iter()
            .filter(|x| {
                matches!(
                    x.kind(),
                    ValidationErrorKind::Constant { .. }
                        | ValidationErrorKind::Enum { .. }
                        | ValidationErrorKind::Not { .. }
                )
            })
            .count()
    };
    match branches
        .iter()
        .filter(|b| !b.is_empty())
        .min_by_key(|b| (discriminators(b), b.len()))
    {
        Some(best) => best.iter().flat_map(deepest).collect(),
        None => vec![field_error(e)],
    }
}

/// A JSON pointer (`/condition/percent`) as a field path (`condition.percent`; `body` for the
/// whole).
fn field_error(e: &ValidationError<'_>) -> FieldError {
    let pointer = e.instance_path().to_string();
    let field = pointer.trim_start_matches('/').replace('/', ".");
    let field = if field.is_empty() {
        "body".to_owned()
    } else {
        field
    };
    FieldError::new(field, e.to_string())
}
