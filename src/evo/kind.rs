//! The catalog of change kinds: a stable kebab-case id, whether the change breaks existing
//! clients, a one-line description and (for breaking kinds) how to evolve without breaking.
//!
//! Every kind has a fixed classification: where the same edit breaks one direction and not the
//! other (a new enum value is harmless in a request and breaks a client reading a response),
//! the two directions are distinct kinds. Ids follow oasdiff's wording where one exists.

/// Where a schema sits, which decides whether narrowing or widening it breaks clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Flow {
    /// A parameter's schema: written by clients, like a request body.
    Parameter,
    /// A request body: written by clients, read by the server.
    Request,
    /// A response body or header: written by the server, read by clients.
    Response,
}

impl Flow {
    /// True when clients write the data (narrowing breaks them); false for responses
    /// (widening breaks them).
    pub fn client_writes(self) -> bool {
        !matches!(self, Flow::Response)
    }
}

/// What changed in a schema, before the [`Flow`] turns it into a [`ChangeKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaChange {
    TypeNarrowed,
    TypeWidened,
    TypeChanged,
    EnumValueAdded,
    EnumValueRemoved,
    ConstraintTightened,
    ConstraintRelaxed,
    FormatChanged,
    PatternChanged,
    DefaultChanged,
    PropertyRemoved,
    /// An optional property removed (in a response: possibly breaking).
    OptionalPropertyRemoved,
    RequiredPropertyAdded,
    OptionalPropertyAdded,
    PropertyBecameRequired,
    PropertyBecameOptional,
    VariantAdded,
    /// A `oneOf` variant added that may overlap another (possibly breaking in requests).
    VariantAddedOverlapping,
    VariantRemoved,
}

/// How a change affects clients written against the old version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// Such clients can fail.
    Breaking,
    /// They may fail, and the documents cannot tell: the accepted values cannot be compared
    /// exactly (a pattern or an unknown format changed), or correct clients survive while
    /// real ones often do not (an optional response property removed).
    PossiblyBreaking,
    /// They keep working.
    Compatible,
}

impl Class {
    /// `breaking`, `possibly-breaking` or `compatible`.
    pub fn id(self) -> &'static str {
        match self {
            Class::Breaking => "breaking",
            Class::PossiblyBreaking => "possibly-breaking",
            Class::Compatible => "compatible",
        }
    }
}

macro_rules! class {
    (B) => {
        Class::Breaking
    };
    (P) => {
        Class::PossiblyBreaking
    };
    (C) => {
        Class::Compatible
    };
}

macro_rules! kinds {
    ($( $(#[$doc:meta])* $variant:ident = $id:literal, $class:ident, $summary:literal, $help:literal; )*) => {
        /// A kind of change between two versions of an OpenAPI description (`ChangeKind`, not
        /// `Kind`: the EVO checks also name `crate::checks::Kind`, static or probe).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum ChangeKind {
            $( $(#[$doc])* $variant, )*
        }

        impl ChangeKind {
            /// Every kind, in catalog order.
            pub const ALL: &'static [ChangeKind] = &[$(ChangeKind::$variant),*];

            /// The stable kebab-case id, e.g. `response-property-removed`.
            pub fn id(self) -> &'static str {
                match self { $(ChangeKind::$variant => $id,)* }
            }

            /// How the change affects clients written against the old version.
            pub fn class(self) -> Class {
                match self { $(ChangeKind::$variant => class!($class),)* }
            }

            /// One line: what the change is.
            pub fn summary(self) -> &'static str {
                match self { $(ChangeKind::$variant => $summary,)* }
            }

            /// How to make the change without breaking clients (breaking kinds), or a note.
            pub fn help(self) -> &'static str {
                match self { $(ChangeKind::$variant => $help,)* }
            }
        }
    };
}

kinds! {
    // --- Document ---------------------------------------------------------------------------
    InfoVersionChanged = "info-version-changed", C,
        "`info.version` changed", "";
    OpenapiVersionChanged = "openapi-version-changed", C,
        "the OpenAPI version of the document changed (e.g. 3.0.3 to 3.1.0)", "";
    ServerRemoved = "server-removed", B,
        "a server URL was removed",
        "keep serving the old URL (or redirect it) until a new major version retires it";
    ServerAdded = "server-added", C,
        "a server URL was added", "";
    ServerUrlChanged = "server-url-changed", B,
        "a server URL changed",
        "add the new URL next to the old one and keep the old one working until a new major version";

    // --- Paths and operations ----------------------------------------------------------------
    PathRemoved = "path-removed", B,
        "a path and all its operations were removed",
        "keep the path and mark its operations `deprecated: true`; remove it only in a new major version (or under a new /vN prefix)";
    PathAdded = "path-added", C,
        "a path was added", "";
    PathParameterRenamed = "path-parameter-renamed", C,
        "a path parameter was renamed in the path template (the URL is unchanged)", "";
    OperationRemoved = "operation-removed", B,
        "an operation (method of a path) was removed",
        "keep the operation and mark it `deprecated: true`; remove it only in a new major version";
    OperationAdded = "operation-added", C,
        "an operation was added", "";
    OperationIdChanged = "operation-id-changed", B,
        "an operationId changed or was removed (generated clients and `uses` in submission.toml name it)",
        "keep the operationId stable: it is the method name in generated clients";
    OperationIdAdded = "operation-id-added", C,
        "an operation got an operationId", "";
    OperationDeprecated = "operation-deprecated", C,
        "an operation was marked deprecated", "";
    WebhookRemoved = "webhook-removed", B,
        "a webhook was removed: subscribers stop receiving it",
        "keep sending the webhook (deprecated) until a new major version";
    WebhookAdded = "webhook-added", C,
        "a webhook was added", "";
    ComponentSchemaRemoved = "component-schema-removed", C,
        "a schema was removed from `components` (names are not on the wire: what referred to it is compared where it is used)", "";

    // --- Parameters --------------------------------------------------------------------------
    RequiredParameterAdded = "required-parameter-added", B,
        "a new required parameter: existing calls do not send it",
        "make the new parameter optional with a server-side default";
    OptionalParameterAdded = "optional-parameter-added", C,
        "a new optional parameter", "";
    ParameterRemoved = "parameter-removed", B,
        "a parameter was removed: clients still send it and expect it to take effect",
        "keep accepting the parameter (deprecated: true) until a new major version";
    ParameterBecameRequired = "parameter-became-required", B,
        "an optional parameter became required",
        "keep it optional and apply a default when it is missing";
    ParameterBecameOptional = "parameter-became-optional", C,
        "a required parameter became optional", "";
    ParameterLocationChanged = "parameter-location-changed", B,
        "a parameter moved (e.g. from query to header)",
        "accept the parameter in both places during a transition; drop the old place in a new major version";
    ParameterStyleChanged = "parameter-style-changed", B,
        "a parameter's serialization (style or explode) changed",
        "keep the serialization; add a new parameter with the new style if needed";

    // --- Request bodies ----------------------------------------------------------------------
    RequestBodyAdded = "request-body-added", C,
        "an optional request body was added", "";
    RequiredRequestBodyAdded = "required-request-body-added", B,
        "a required request body was added: existing calls send none",
        "make the body optional, or add a new operation that takes it";
    RequestBodyRemoved = "request-body-removed", B,
        "the request body was removed: what clients send is ignored",
        "keep accepting the body until a new major version";
    RequestBodyBecameRequired = "request-body-became-required", B,
        "an optional request body became required",
        "keep the body optional and apply defaults when it is missing";
    RequestBodyBecameOptional = "request-body-became-optional", C,
        "a required request body became optional", "";
    RequestMediaTypeRemoved = "request-media-type-removed", B,
        "a request media type is no longer accepted",
        "keep accepting the media type until a new major version";
    RequestMediaTypeAdded = "request-media-type-added", C,
        "a request media type was added", "";

    // --- Responses ---------------------------------------------------------------------------
    ResponseSuccessStatusRemoved = "response-success-status-removed", B,
        "a success (2xx/3xx) response status was removed: clients expect it",
        "keep returning the documented status; a new status is a new major version";
    ResponseErrorStatusRemoved = "response-error-status-removed", C,
        "an error (4xx/5xx/default) response was removed from the documentation", "";
    ResponseStatusAdded = "response-status-added", C,
        "a response status was added", "";
    ResponseMediaTypeRemoved = "response-media-type-removed", B,
        "a response media type is no longer produced",
        "keep producing the media type for clients that ask for it until a new major version";
    ResponseMediaTypeAdded = "response-media-type-added", C,
        "a response media type was added", "";
    ResponseHeaderRemoved = "response-header-removed", B,
        "a required response header was removed: clients that read it break",
        "keep sending the header (deprecated) until a new major version";
    ResponseOptionalHeaderRemoved = "response-optional-header-removed", P,
        "an optional response header was removed: correct clients survive its absence, but real ones often read it",
        "keep sending the header (deprecated) until a new major version";
    ResponseHeaderAdded = "response-header-added", C,
        "a response header was added", "";
    ResponseHeaderBecameOptional = "response-header-became-optional", B,
        "a required response header became optional: clients can no longer rely on it",
        "keep the header required";

    // --- Security ----------------------------------------------------------------------------
    SecurityAdded = "security-added", B,
        "an operation that needed no authentication now requires it",
        "keep the operation public in this major version, or accept anonymous calls (`{}`) as an alternative";
    SecurityRemoved = "security-removed", C,
        "an operation no longer requires authentication", "";
    SecurityAlternativeRemoved = "security-alternative-removed", B,
        "a way to authenticate (a security requirement alternative) was removed",
        "keep the old way to authenticate as an alternative until a new major version";
    SecurityAlternativeAdded = "security-alternative-added", C,
        "a new way to authenticate was added as an alternative", "";
    SecurityScopeAdded = "security-scope-added", B,
        "an operation requires an additional OAuth scope: existing tokens lack it",
        "do not require new scopes from existing operations; add a new operation or major version";
    SecurityScopeRemoved = "security-scope-removed", C,
        "an operation requires fewer OAuth scopes", "";
    SecuritySchemeChanged = "security-scheme-changed", B,
        "a security scheme changed its type, location, name or flows",
        "add a new security scheme as an alternative instead of changing the existing one";

    // --- Schemas: types ----------------------------------------------------------------------
    ParameterTypeNarrowed = "parameter-type-narrowed", B,
        "a parameter accepts fewer types (e.g. number to integer, nullable removed)",
        "keep accepting every value the old type allowed";
    ParameterTypeWidened = "parameter-type-widened", C,
        "a parameter accepts more types", "";
    ParameterTypeChanged = "parameter-type-changed", B,
        "a parameter's type changed",
        "keep the type; add a new parameter with the new type";
    RequestTypeNarrowed = "request-type-narrowed", B,
        "a request field accepts fewer types (e.g. nullable removed, number to integer)",
        "keep accepting every value the old type allowed";
    RequestTypeWidened = "request-type-widened", C,
        "a request field accepts more types", "";
    RequestTypeChanged = "request-type-changed", B,
        "a request field's type changed",
        "keep the field's type; add a new field with the new type";
    ResponseTypeNarrowed = "response-type-narrowed", C,
        "a response field returns fewer types (e.g. no longer null)", "";
    ResponseTypeWidened = "response-type-widened", B,
        "a response field may return more types (e.g. now nullable): clients may not handle them",
        "keep the field's type; add a new field for the wider value";
    ResponseTypeChanged = "response-type-changed", B,
        "a response field's type changed",
        "keep the field's type; add a new field with the new type and deprecate the old one";

    // --- Schemas: enums ----------------------------------------------------------------------
    ParameterEnumValueRemoved = "parameter-enum-value-removed", B,
        "a parameter no longer accepts an enum value",
        "keep accepting the value (map it to its replacement server-side)";
    ParameterEnumValueAdded = "parameter-enum-value-added", C,
        "a parameter accepts a new enum value", "";
    RequestEnumValueRemoved = "request-enum-value-removed", B,
        "a request field no longer accepts an enum value",
        "keep accepting the value (map it to its replacement server-side)";
    RequestEnumValueAdded = "request-enum-value-added", C,
        "a request field accepts a new enum value", "";
    ResponseEnumValueRemoved = "response-enum-value-removed", C,
        "a response field no longer returns an enum value", "";
    ResponseEnumValueAdded = "response-enum-value-added", B,
        "a response field may return a new enum value: clients with exhaustive handling break",
        "document enums as open (tell clients to tolerate unknown values) before adding values, or add the value in a new major version";

    // --- Schemas: constraints ----------------------------------------------------------------
    ParameterConstraintTightened = "parameter-constraint-tightened", B,
        "a parameter's constraints are stricter (max lowered, min raised, enum/format/length added)",
        "keep the old bounds; validate stricter rules only in a new major version";
    ParameterConstraintRelaxed = "parameter-constraint-relaxed", C,
        "a parameter's constraints are looser", "";
    RequestConstraintTightened = "request-constraint-tightened", B,
        "a request field's constraints are stricter (max lowered, min raised, enum/format added, additional properties forbidden)",
        "keep the old bounds; validate stricter rules only in a new major version";
    RequestConstraintRelaxed = "request-constraint-relaxed", C,
        "a request field's constraints are looser", "";
    ResponseConstraintTightened = "response-constraint-tightened", C,
        "a response field's constraints are stricter (clients see a subset of the old values)", "";
    ResponseConstraintRelaxed = "response-constraint-relaxed", B,
        "a response field's constraints are looser: clients may receive values they never had to handle",
        "keep the documented bounds of response fields; return wider values in a new field or major version";
    ParameterFormatChanged = "parameter-format-changed", P,
        "a parameter's format changed to an unrelated one (e.g. date to date-time), or a format validators do not know was added: whether old values still pass cannot be told",
        "keep the format; add a new parameter with the new format";
    RequestFormatChanged = "request-format-changed", P,
        "a request field's format changed to an unrelated one, or a format validators do not know was added",
        "keep the format; add a new field with the new format";
    ResponseFormatChanged = "response-format-changed", P,
        "a response field's format changed to an unrelated one, or a format validators do not know was removed",
        "keep the format; add a new field with the new format";
    ParameterPatternChanged = "parameter-pattern-changed", P,
        "a parameter's pattern changed: whether every old value still matches cannot be told",
        "keep accepting every value the old pattern matched";
    RequestPatternChanged = "request-pattern-changed", P,
        "a request field's pattern changed: whether every old value still matches cannot be told",
        "keep accepting every value the old pattern matched";
    ResponsePatternChanged = "response-pattern-changed", P,
        "a response field's pattern changed: whether every new value matches the old one cannot be told",
        "keep returning values that match the old pattern";
    ParameterDefaultChanged = "parameter-default-changed", B,
        "a parameter's default changed: calls that omit it now behave differently",
        "keep the default; clients that want the new behaviour can ask for it explicitly";
    RequestDefaultChanged = "request-default-changed", B,
        "a request field's default changed: requests that omit it now behave differently",
        "keep the default; clients that want the new behaviour can ask for it explicitly";

    // --- Schemas: properties -----------------------------------------------------------------
    RequestPropertyRemoved = "request-property-removed", B,
        "a request property was removed: clients still send it and expect it to take effect",
        "keep accepting the property (mark it `deprecated: true`) until a new major version";
    RequiredRequestPropertyAdded = "required-request-property-added", B,
        "a new required request property: existing requests do not send it",
        "make the new property optional with a server-side default";
    OptionalRequestPropertyAdded = "optional-request-property-added", C,
        "a new optional request property", "";
    RequestPropertyBecameRequired = "request-property-became-required", B,
        "an optional request property became required",
        "keep it optional and apply a default when it is missing";
    RequestPropertyBecameOptional = "request-property-became-optional", C,
        "a required request property became optional", "";
    ResponsePropertyRemoved = "response-property-removed", B,
        "a required response property was removed: clients that read it break",
        "keep returning the property (mark it `deprecated: true`) and remove it only in a new major version";
    ResponseOptionalPropertyRemoved = "response-optional-property-removed", P,
        "an optional response property was removed: correct clients survive its absence, but real ones often rely on it",
        "keep returning the property (mark it `deprecated: true`) and remove it only in a new major version";
    ResponsePropertyAdded = "response-property-added", C,
        "a response property was added (tolerant readers ignore it)", "";
    ResponsePropertyBecameOptional = "response-property-became-optional", B,
        "a required response property became optional: clients can no longer rely on it",
        "keep returning the property in every response";
    ResponsePropertyBecameRequired = "response-property-became-required", C,
        "an optional response property became required (always returned)", "";

    // --- Schemas: variants (oneOf / anyOf) ----------------------------------------------------
    RequestVariantRemoved = "request-variant-removed", B,
        "a request schema no longer accepts one of its oneOf/anyOf variants",
        "keep accepting the variant until a new major version";
    RequestVariantAdded = "request-variant-added", C,
        "a request schema accepts a new oneOf/anyOf variant", "";
    RequestVariantAddedOverlapping = "request-variant-added-overlapping", P,
        "a request `oneOf` (without a discriminator) gained a variant that accepts values of a type another variant accepts: a request that matched exactly one variant may now match two and be rejected",
        "add a `discriminator`, or make the new variant exclude the others (a distinct required property or `const`), or use `anyOf`";
    ResponseVariantAdded = "response-variant-added", B,
        "a response may be a new oneOf/anyOf variant: clients may not handle it",
        "return the new variant only to clients that opt in, or in a new major version";
    ResponseVariantRemoved = "response-variant-removed", C,
        "a response is no longer one of its oneOf/anyOf variants", "";
}

impl ChangeKind {
    /// True when clients written against the old version can break.
    pub fn breaking(self) -> bool {
        self.class() == Class::Breaking
    }

    /// The kind with this id.
    pub fn from_id(id: &str) -> Option<ChangeKind> {
        ChangeKind::ALL.iter().copied().find(|k| k.id() == id)
    }

    /// The kind of a schema change in a flow; `None` when it does not matter there (a
    /// response's default).
    pub fn of_schema(flow: Flow, what: SchemaChange) -> Option<ChangeKind> {
        use ChangeKind::*;
        use Flow::*;
        use SchemaChange as S;
        let k = match (what, flow) {
            (S::TypeNarrowed, Parameter) => ParameterTypeNarrowed,
            (S::TypeNarrowed, Request) => RequestTypeNarrowed,
            (S::TypeNarrowed, Response) => ResponseTypeNarrowed,
            (S::TypeWidened, Parameter) => ParameterTypeWidened,
            (S::TypeWidened, Request) => RequestTypeWidened,
            (S::TypeWidened, Response) => ResponseTypeWidened,
            (S::TypeChanged, Parameter) => ParameterTypeChanged,
            (S::TypeChanged, Request) => RequestTypeChanged,
            (S::TypeChanged, Response) => ResponseTypeChanged,
            (S::EnumValueAdded, Parameter) => ParameterEnumValueAdded,
            (S::EnumValueAdded, Request) => RequestEnumValueAdded,
            (S::EnumValueAdded, Response) => ResponseEnumValueAdded,
            (S::EnumValueRemoved, Parameter) => ParameterEnumValueRemoved,
            (S::EnumValueRemoved, Request) => RequestEnumValueRemoved,
            (S::EnumValueRemoved, Response) => ResponseEnumValueRemoved,
            (S::ConstraintTightened, Parameter) => ParameterConstraintTightened,
            (S::ConstraintTightened, Request) => RequestConstraintTightened,
            (S::ConstraintTightened, Response) => ResponseConstraintTightened,
            (S::ConstraintRelaxed, Parameter) => ParameterConstraintRelaxed,
            (S::ConstraintRelaxed, Request) => RequestConstraintRelaxed,
            (S::ConstraintRelaxed, Response) => ResponseConstraintRelaxed,
            (S::FormatChanged, Parameter) => ParameterFormatChanged,
            (S::FormatChanged, Request) => RequestFormatChanged,
            (S::FormatChanged, Response) => ResponseFormatChanged,
            (S::PatternChanged, Parameter) => ParameterPatternChanged,
            (S::PatternChanged, Request) => RequestPatternChanged,
            (S::PatternChanged, Response) => ResponsePatternChanged,
            (S::DefaultChanged, Parameter) => ParameterDefaultChanged,
            (S::DefaultChanged, Request) => RequestDefaultChanged,
            (S::DefaultChanged, Response) => return None,
            // Properties and variants of a parameter's (object) schema are request data.
            (S::PropertyRemoved | S::OptionalPropertyRemoved, Parameter | Request) => RequestPropertyRemoved,
            (S::PropertyRemoved, Response) => ResponsePropertyRemoved,
            (S::OptionalPropertyRemoved, Response) => ResponseOptionalPropertyRemoved,
            (S::RequiredPropertyAdded, Parameter | Request) => RequiredRequestPropertyAdded,
            (S::OptionalPropertyAdded, Parameter | Request) => OptionalRequestPropertyAdded,
            (S::RequiredPropertyAdded | S::OptionalPropertyAdded, Response) => ResponsePropertyAdded,
            (S::PropertyBecameRequired, Parameter | Request) => RequestPropertyBecameRequired,
            (S::PropertyBecameRequired, Response) => ResponsePropertyBecameRequired,
            (S::PropertyBecameOptional, Parameter | Request) => RequestPropertyBecameOptional,
            (S::PropertyBecameOptional, Response) => ResponsePropertyBecameOptional,
            (S::VariantAdded, Parameter | Request) => RequestVariantAdded,
            (S::VariantAddedOverlapping, Parameter | Request) => RequestVariantAddedOverlapping,
            (S::VariantAdded | S::VariantAddedOverlapping, Response) => ResponseVariantAdded,
            (S::VariantRemoved, Parameter | Request) => RequestVariantRemoved,
            (S::VariantRemoved, Response) => ResponseVariantRemoved,
        };
        Some(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_is_consistent() {
        let mut ids: Vec<&str> = ChangeKind::ALL.iter().map(|k| k.id()).collect();
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate kind ids");
        assert!(n >= 40, "{n} kinds");
        for k in ChangeKind::ALL {
            let id = k.id();
            assert!(
                id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{id} is not kebab-case"
            );
            assert_eq!(ChangeKind::from_id(id), Some(*k));
            assert!(!k.summary().is_empty(), "{id}");
            assert_eq!(
                k.class() != Class::Compatible,
                !k.help().is_empty(),
                "{id}: breaking and possibly breaking kinds say how to avoid them"
            );
        }
    }

    /// docs/diff.md lists every kind with its classification, and nothing else.
    #[test]
    fn docs_list_every_kind() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/diff.md");
        let docs = std::fs::read_to_string(&path).expect("docs/diff.md");
        let rows: Vec<&str> = docs
            .lines()
            .filter(|l| {
                l.starts_with("| `")
                    && (l.contains(" | **breaking** |")
                        || l.contains(" | *possibly breaking* |")
                        || l.contains(" | compatible |"))
            })
            .collect();
        for k in ChangeKind::ALL {
            let class = match k.class() {
                Class::Breaking => "**breaking**",
                Class::PossiblyBreaking => "*possibly breaking*",
                Class::Compatible => "compatible",
            };
            let row = format!("| `{}` | {class} |", k.id());
            assert!(rows.iter().any(|r| r.starts_with(&row)), "docs/diff.md lacks `{row}`");
        }
        assert_eq!(
            rows.len(),
            ChangeKind::ALL.len(),
            "docs/diff.md lists kinds that do not exist"
        );
    }
}
