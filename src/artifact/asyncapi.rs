//! AsyncAPI event catalogs (2.6 and 3.0), loaded with positions.

use super::document::{Document, Limits};
use super::{read_bytes, ArtifactProblem, Loaded};
use crate::submission::ArtifactRef;

#[derive(Debug)]
pub struct AsyncApiDoc {
    pub doc: Document,
}

pub fn load(r: &ArtifactRef) -> Loaded<AsyncApiDoc> {
    let limits = Limits::default();
    let bytes = match read_bytes(r, &limits) {
        Loaded::Ok(b) => b,
        Loaded::Missing => return Loaded::Missing,
        Loaded::Invalid(p) => return Loaded::Invalid(p),
    };
    match Document::from_bytes(&r.rel, &bytes, &limits) {
        Ok(doc) => Loaded::Ok(AsyncApiDoc { doc }),
        Err(e) => Loaded::Invalid(ArtifactProblem {
            message: format!("the document does not parse: {e}"),
            location: e.location(),
            pointer: None,
            help: e.help(),
        }),
    }
}
