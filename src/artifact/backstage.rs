//! Backstage catalog files (`catalog-info.yaml`): Components (services) with their owner,
//! `dependsOn` and `providesApis`, and Resources (datastores).

use serde_json::Value;

use super::document::Limits;
use super::stream::YamlStream;
use super::ArtifactProblem;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    /// `Component`, `Resource`, `API`, `System`, ...
    pub kind: String,
    pub name: String,
    /// `spec.type`, e.g. `service`, `website`, `database`.
    pub spec_type: Option<String>,
    pub owner: Option<String>,
    /// `dependsOn` references as written, e.g. `component:payments`, `resource:default/orders-db`.
    pub depends_on: Vec<String>,
    pub provides_apis: Vec<String>,
    /// 1-based line of `metadata.name`.
    pub line: usize,
}

/// The `kind` and name of an entity reference: `component:default/payments` -> ("component",
/// "payments"); a bare name takes `default_kind`.
pub fn parse_ref<'a>(reference: &'a str, default_kind: &'a str) -> (&'a str, &'a str) {
    let (kind, rest) = reference.split_once(':').unwrap_or((default_kind, reference));
    let name = rest.rsplit('/').next().unwrap_or(rest);
    (kind, name)
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn entity(stream: &YamlStream, part: usize) -> Option<Entity> {
    let v = &stream.parts.get(part)?.doc.value;
    let kind = v.get("kind")?.as_str()?.to_string();
    let name = v.get("metadata")?.get("name")?.as_str()?.to_string();
    let spec = v.get("spec");
    Some(Entity {
        kind,
        name,
        spec_type: spec
            .and_then(|s| s.get("type"))
            .and_then(Value::as_str)
            .map(str::to_string),
        owner: spec
            .and_then(|s| s.get("owner"))
            .and_then(Value::as_str)
            .map(str::to_string),
        depends_on: strings(spec.and_then(|s| s.get("dependsOn"))),
        provides_apis: strings(spec.and_then(|s| s.get("providesApis"))),
        line: stream.locate(part, "/metadata/name").line,
    })
}

/// Every entity of a catalog file (a multi-document YAML stream); the documents that do not
/// parse are returned as problems beside the entities that did load.
pub fn entities(name: &str, source: &str, limits: &Limits) -> (Vec<Entity>, Vec<ArtifactProblem>) {
    let stream = YamlStream::parse(name, source, limits);
    let out = (0..stream.parts.len()).filter_map(|i| entity(&stream, i)).collect();
    (out, stream.problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_components_and_resources() {
        let src = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: orders\nspec:\n  type: service\n  owner: team-ordering\n  dependsOn: [component:payments, resource:default/orders-db]\n  providesApis: [orders-api]\n---\napiVersion: backstage.io/v1alpha1\nkind: Resource\nmetadata:\n  name: orders-db\nspec:\n  type: database\n  owner: team-ordering\n";
        let (e, errors) = entities("catalog-info.yaml", src, &Limits::default());
        assert!(errors.is_empty());
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].owner.as_deref(), Some("team-ordering"));
        assert_eq!(e[0].depends_on, ["component:payments", "resource:default/orders-db"]);
        assert_eq!(e[1].line, 14);
        assert_eq!(
            parse_ref("resource:default/orders-db", "component"),
            ("resource", "orders-db")
        );
        assert_eq!(parse_ref("payments", "component"), ("component", "payments"));
    }
}
