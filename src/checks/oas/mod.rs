//! OAS: API design, over the services' OpenAPI documents (Weeks 2, 4).
//!
//! Every check but OAS001 works on the JSON value of each service's current OpenAPI document
//! through [`walk::Api`] (references resolved, 3.0 and 3.1 alike) and exposes
//! `evaluate(api, params, tally)`, which the corpus test below runs on real documents.
pub mod body_on_bodiless_status;
pub mod body_without_schema;
pub mod collection_not_paginated;
pub mod deprecation_undocumented;
pub mod duplicate_operation_id;
pub mod duplicate_parameter;
pub mod enum_type_mismatch;
pub mod error_responses_undocumented;
pub mod example_invalid;
pub mod example_missing;
pub mod idempotency_key_missing;
pub mod inconsistent_error_model;
pub mod info_contact_missing;
pub mod invalid_status_code;
pub mod openapi_invalid;
pub mod operation_id_style;
pub mod operation_undescribed;
pub mod path_parameter_undeclared;
pub mod required_property_undefined;
pub mod reserved_header_parameter;
pub mod resource_naming;
pub mod response_header_undocumented;
pub mod security_not_applied;
pub mod servers_missing;
pub mod string_unbounded;
pub mod success_response_missing;
pub mod unresolved_ref;
pub mod untyped_object;
pub mod unused_component;
pub mod unversioned_api;
pub mod walk;
pub mod webhook_unsecured;

use super::{Check, Typed};

/// The checks of this area (the registry sorts them by id).
pub static CHECKS: &[&dyn Check] = &[
    &Typed::<openapi_invalid::OpenapiInvalid>::new(),
    &Typed::<unresolved_ref::UnresolvedRef>::new(),
    &Typed::<duplicate_operation_id::DuplicateOperationId>::new(),
    &Typed::<path_parameter_undeclared::PathParameterUndeclared>::new(),
    &Typed::<invalid_status_code::InvalidStatusCode>::new(),
    &Typed::<unversioned_api::UnversionedApi>::new(),
    &Typed::<error_responses_undocumented::ErrorResponsesUndocumented>::new(),
    &Typed::<inconsistent_error_model::InconsistentErrorModel>::new(),
    &Typed::<body_without_schema::BodyWithoutSchema>::new(),
    &Typed::<untyped_object::UntypedObject>::new(),
    &Typed::<example_missing::ExampleMissing>::new(),
    &Typed::<collection_not_paginated::CollectionNotPaginated>::new(),
    &Typed::<resource_naming::ResourceNaming>::new(),
    &Typed::<security_not_applied::SecurityNotApplied>::new(),
    &Typed::<idempotency_key_missing::IdempotencyKeyMissing>::new(),
    &Typed::<deprecation_undocumented::DeprecationUndocumented>::new(),
    &Typed::<servers_missing::ServersMissing>::new(),
    &Typed::<unused_component::UnusedComponent>::new(),
    &Typed::<example_invalid::ExampleInvalid>::new(),
    &Typed::<success_response_missing::SuccessResponseMissing>::new(),
    &Typed::<body_on_bodiless_status::BodyOnBodilessStatus>::new(),
    &Typed::<required_property_undefined::RequiredPropertyUndefined>::new(),
    &Typed::<enum_type_mismatch::EnumTypeMismatch>::new(),
    &Typed::<duplicate_parameter::DuplicateParameter>::new(),
    &Typed::<reserved_header_parameter::ReservedHeaderParameter>::new(),
    &Typed::<operation_undescribed::OperationUndescribed>::new(),
    &Typed::<info_contact_missing::InfoContactMissing>::new(),
    &Typed::<response_header_undocumented::ResponseHeaderUndocumented>::new(),
    &Typed::<webhook_unsecured::WebhookUnsecured>::new(),
    &Typed::<operation_id_style::OperationIdStyle>::new(),
    &Typed::<string_unbounded::StringUnbounded>::new(),
];

/// Runs every OAS rule's `evaluate` over one description; for the corpus test.
#[cfg(test)]
pub(crate) fn evaluate_all(api: &walk::Api<'_>) -> Vec<(&'static str, walk::Tally)> {
    fn one<P: Default>(
        id: &'static str,
        api: &walk::Api<'_>,
        f: fn(&walk::Api<'_>, &P, &mut walk::Tally),
    ) -> (&'static str, walk::Tally) {
        let mut t = walk::Tally::default();
        f(api, &P::default(), &mut t);
        (id, t)
    }
    vec![
        one("OAS002", api, unresolved_ref::evaluate),
        one("OAS003", api, duplicate_operation_id::evaluate),
        one("OAS004", api, path_parameter_undeclared::evaluate),
        one("OAS005", api, invalid_status_code::evaluate),
        one("OAS006", api, unversioned_api::evaluate),
        one("OAS007", api, error_responses_undocumented::evaluate),
        one("OAS008", api, inconsistent_error_model::evaluate),
        one("OAS009", api, body_without_schema::evaluate),
        one("OAS010", api, untyped_object::evaluate),
        one("OAS011", api, example_missing::evaluate),
        one("OAS012", api, collection_not_paginated::evaluate),
        one("OAS013", api, resource_naming::evaluate),
        one("OAS014", api, security_not_applied::evaluate),
        one("OAS015", api, idempotency_key_missing::evaluate),
        one("OAS016", api, deprecation_undocumented::evaluate),
        one("OAS017", api, servers_missing::evaluate),
        one("OAS018", api, unused_component::evaluate),
        one("OAS019", api, example_invalid::evaluate),
        one("OAS020", api, success_response_missing::evaluate),
        one("OAS021", api, body_on_bodiless_status::evaluate),
        one("OAS022", api, required_property_undefined::evaluate),
        one("OAS023", api, enum_type_mismatch::evaluate),
        one("OAS024", api, duplicate_parameter::evaluate),
        one("OAS025", api, reserved_header_parameter::evaluate),
        one("OAS026", api, operation_undescribed::evaluate),
        one("OAS027", api, info_contact_missing::evaluate),
        one("OAS028", api, response_header_undocumented::evaluate),
        one("OAS029", api, webhook_unsecured::evaluate),
        one("OAS030", api, operation_id_style::evaluate),
        one("OAS031", api, string_unbounded::evaluate),
    ]
}

#[cfg(test)]
mod corpus {
    use std::path::{Path, PathBuf};
    use std::time::{Duration, Instant};

    use crate::artifact::document::{Document, Limits};
    use crate::artifact::openapi::classify;
    use crate::artifact::Loaded;

    fn files(root: &Path) -> Vec<PathBuf> {
        crate::testing::files(root, crate::testing::DOCUMENTS, u64::MAX)
    }

    /// Every OAS rule over every OpenAPI document of the shared corpus: no panic, and
    /// findings render. Prints the time per document and in total.
    #[test]
    fn corpus_sweep_without_panic() {
        let Ok(root) = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/corpus/openapi")
            .canonicalize()
        else {
            println!("skipped: ../shared/corpus/openapi not found");
            return;
        };
        let start = Instant::now();
        let (mut checked, mut skipped) = (0, 0);
        let mut slowest = (Duration::ZERO, String::new());
        for path in files(&root) {
            let Ok(bytes) = std::fs::read(&path) else { continue };
            let rel = path
                .strip_prefix(&root)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            let Ok(doc) = Document::from_bytes(&rel, &bytes, &Limits::default()) else {
                skipped += 1;
                continue;
            };
            let Loaded::Ok(spec) = classify(doc) else {
                skipped += 1;
                continue;
            };
            let t0 = Instant::now();
            let ext = super::walk::external_docs(&root, &rel, &spec);
            let api = super::walk::Api::with_external(&root, &rel, &spec, &ext);
            let mut summary = Vec::new();
            for (id, mut tally) in super::evaluate_all(&api) {
                let findings = tally.findings();
                assert!(tally.good <= tally.total, "{rel} {id}");
                summary.push(format!("{id} {}/{} {}f", tally.good, tally.total, findings.len()));
            }
            let took = t0.elapsed();
            println!("{rel}: {} ({took:?})", summary.join(", "));
            if took > slowest.0 {
                slowest = (took, rel.clone());
            }
            checked += 1;
        }
        println!(
            "corpus sweep: {checked} OpenAPI documents checked by 30 rules, {skipped} files not OpenAPI, in {:?} \
             (slowest: {} in {:?})",
            start.elapsed(),
            slowest.1,
            slowest.0
        );
        assert!(checked > 0);
    }
}
