//! OAS: API design, over the services' OpenAPI documents (Weeks 2, 4).
//!
//! Every check but OAS001 works on the JSON value of each service's current OpenAPI document
//! through [`walk::Api`] (references resolved, 3.0 and 3.1 alike): its rule over one description,
//! `evaluate(api, params, tally)`, is its [`OasRule`] (`const OAS_RULE = Some(evaluate)`), which
//! the registry exposes as [`Check::evaluate_api`] and the corpus test below runs on real documents.
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
pub mod nullable_in_openapi_31;
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
    &Typed::<nullable_in_openapi_31::NullableInOpenapi31>::new(),
];

/// An OAS check's rule over one OpenAPI description: counts its units and records its problems
/// in the tally; the check's `run` applies it to every document with [`walk::check_apis`].
pub type OasRule<P> = fn(&walk::Api<'_>, &P, &mut walk::Tally);

#[cfg(test)]
mod corpus {
    use std::path::{Path, PathBuf};
    use std::time::{Duration, Instant};

    use crate::artifact::document::{Document, Limits};
    use crate::artifact::openapi::classify;
    use crate::artifact::Loaded;
    use crate::checks::{registry, Area};

    /// Every OAS check but OAS001 (which judges how the documents load) has a rule over one
    /// description, so that the sweep below runs every one the registry lists.
    #[test]
    fn every_oas_check_but_openapi_invalid_has_a_rule() {
        let spec = Document::from_bytes(
            "openapi.yaml",
            b"openapi: 3.1.0\ninfo: {title: T, version: 1.0.0}\npaths: {}\n",
            &Limits::default(),
        )
        .unwrap();
        let Loaded::Ok(spec) = classify(spec) else {
            panic!("not OpenAPI")
        };
        let ext = super::walk::external_docs(Path::new("."), "openapi.yaml", &spec);
        let api = super::walk::Api::with_external(Path::new("."), "openapi.yaml", &spec, &ext);
        for c in registry().iter().filter(|c| c.info().area == Area::Oas) {
            let id = c.info().id;
            assert_eq!(c.evaluate_api(&api).is_some(), id != "OAS001", "{id}: `const OAS_RULE`");
        }
    }

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
        let (mut checked, mut skipped, mut rules) = (0, 0, 0);
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
            for c in registry() {
                let Some(mut tally) = c.evaluate_api(&api) else {
                    continue;
                };
                let id = c.info().id;
                let findings = tally.findings();
                assert!(tally.good <= tally.total, "{rel} {id}");
                summary.push(format!("{id} {}/{} {}f", tally.good, tally.total, findings.len()));
            }
            rules = summary.len();
            let took = t0.elapsed();
            println!("{rel}: {} ({took:?})", summary.join(", "));
            if took > slowest.0 {
                slowest = (took, rel.clone());
            }
            checked += 1;
        }
        println!(
            "corpus sweep: {checked} OpenAPI documents checked by {rules} rules, {skipped} files not OpenAPI, in {:?} \
             (slowest: {} in {:?})",
            start.elapsed(),
            slowest.1,
            slowest.0
        );
        assert!(checked > 0);
    }
}
