use std::path::{Path, PathBuf};

use super::*;

/// Every built-in rule compiles, has examples, and each example matches (or not) as it says.
#[test]
fn rules_match_their_examples() {
    let rules = rules::built_in();
    assert!(rules.len() >= 15, "{} rules", rules.len());
    let mut ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), rules.len(), "duplicate rule ids");
    for r in &rules {
        assert!(!r.examples.is_empty(), "{} has no example", r.id);
        assert!(r.examples.iter().any(|e| e.matches), "{} has no matching example", r.id);
        for e in &r.examples {
            assert_eq!(example_matches(r, &e.code), e.matches, "{}: {}", r.id, e.code);
        }
    }
}

#[test]
fn bad_rules_are_refused_with_their_file() {
    let e = rules::parse(
        "x.toml",
        "id = 'x'\nlanguage = 'python'\nproves = 'db-write'\nsummary = 's'\n",
    )
    .unwrap_err();
    assert!(e.starts_with("x.toml: "), "{e}");
    let e = rules::parse(
        "y.toml",
        "id = 'y'\nlanguage = 'python'\nproves = 'db-write'\nsummary = 's'\ncalls = ['(']\n",
    )
    .unwrap_err();
    assert!(e.contains("pattern `(`"), "{e}");
    let e = rules::parse("z.toml", "id = 'z'\nlanguage = 'cobol'\n").unwrap_err();
    assert!(e.starts_with("z.toml: "), "{e}");
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("grade-evidence-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A write then a publish in one function, no outbox: a dual write; the same with an outbox
/// insert, or the write and the publish in different functions: none.
#[test]
fn dual_writes_are_found_function_by_function() {
    let d = tmp("dual");
    std::fs::write(
        d.join("svc.py"),
        r#"
def place(conn, producer, order):
    conn.execute("INSERT INTO orders (id) VALUES (%s)", (order.id,))
    conn.commit()
    producer.send("orders", order.to_json())

def place_with_outbox(conn, producer, order):
    conn.execute("INSERT INTO orders (id) VALUES (%s)", (order.id,))
    conn.execute("INSERT INTO outbox (payload) VALUES (%s)", (order.to_json(),))
    conn.commit()

def publish_first(conn, producer, order):
    producer.send("orders", order.to_json())
    conn.commit()

def relay(conn, producer):
    for row in conn.execute("SELECT * FROM outbox"):
        producer.send("orders", row.payload)
        conn.execute("DELETE FROM outbox WHERE id = %s", (row.id,))
"#,
    )
    .unwrap();
    let ev = scan(&d, "", &rules::built_in());
    assert_eq!(ev.files_read, 1);
    let names: Vec<&str> = ev.dual_writes.iter().map(|w| w.function.as_str()).collect();
    assert_eq!(names, ["place"], "{:#?}", ev.dual_writes);
    let w = &ev.dual_writes[0];
    assert_eq!((w.write.line, w.publish.line), (3, 5));
    assert_eq!(w.publish.file, "svc.py");
    assert!(ev.proving(Proof::OutboxWrite).count() >= 2);
    let _ = std::fs::remove_dir_all(&d);
}

/// Files that cannot be read are listed, the others still read.
#[test]
fn oversized_files_are_listed_not_read() {
    let d = tmp("big");
    std::fs::write(d.join("big.py"), "x = 1\n".repeat((MAX_FILE_BYTES as usize / 6) + 10)).unwrap();
    std::fs::write(d.join("ok.sql"), "CREATE TABLE outbox (id int);\n").unwrap();
    let ev = scan(&d, "", &rules::built_in());
    assert_eq!(ev.files_read, 1);
    assert_eq!(ev.unreadable.len(), 1);
    assert!(ev.unreadable[0].1.contains("larger than"), "{:?}", ev.unreadable);
    assert_eq!(ev.proving(Proof::OutboxTable).count(), 1);
    let _ = std::fs::remove_dir_all(&d);
}

fn corpus() -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/systems");
    if d.is_dir() {
        Some(d)
    } else {
        eprintln!("skipped: ../shared/corpus/systems is absent");
        None
    }
}

/// Systems nobody here wrote: Debezium's outbox example is an outbox with CDC, and no honest
/// system shows a dual write.
#[test]
fn real_systems_find_what_is_there_and_invent_nothing() {
    let Some(corpus) = corpus() else { return };
    let rules = rules::built_in();
    let outbox = scan(&corpus.join("debezium-examples/outbox"), "outbox", &rules);
    assert!(outbox.proving(Proof::OutboxRelay).count() >= 1, "{:#?}", outbox.facts);
    assert!(outbox.proving(Proof::CdcConnector).count() >= 1);
    assert!(
        outbox.proving(Proof::OutboxWrite).count() >= 1,
        "ExportedEvent in the order service"
    );
    for system in [
        "debezium-examples",
        "spring-petclinic-microservices",
        "microservices-demo",
    ] {
        let ev = scan(&corpus.join(system), system, &rules);
        let mut by_rule: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
        for f in &ev.facts {
            *by_rule.entry(f.rule.as_str()).or_default() += 1;
        }
        eprintln!("{system}: {} files read, facts by rule: {by_rule:?}", ev.files_read);
        if std::env::var_os("GRADE_SHOW_FACTS").is_some() {
            for f in &ev.facts {
                eprintln!("  {} {} {}", f.rule, f.at(), f.text);
            }
        }
        assert!(ev.files_read > 10, "{system}: {} files", ev.files_read);
        assert!(
            ev.dual_writes.is_empty(),
            "{system}: dual writes invented: {:#?}",
            ev.dual_writes
        );
        let in_dir = |proof: Proof, dir: &str| ev.proving(proof).filter(|f| f.file.contains(dir)).count();
        // None of the three handles an Idempotency-Key or sets a cache expiry in code (the
        // Boutique cart's Redis entries and PetClinic's `@Cacheable("vets")` have none).
        for proof in [Proof::IdempotencyKey, Proof::CacheTtl] {
            let found: Vec<String> = ev.proving(proof).map(|f| f.at()).collect();
            assert!(found.is_empty(), "{system}: {proof:?} invented at {found:?}");
        }
        match system {
            // Debezium's consumers remember the events they processed (a MessageLog of
            // ConsumedMessage rows, `alreadyProcessed(eventId)`); nothing else does.
            "debezium-examples" => {
                for dir in [
                    "outbox/shipment-service/",
                    "saga/customer-service/",
                    "saga/payment-service/",
                    "saga/order-service/",
                ] {
                    assert!(in_dir(Proof::ConsumerDedup, dir) >= 2, "{dir}");
                }
                let elsewhere: Vec<String> = ev
                    .proving(Proof::ConsumerDedup)
                    .filter(|f| !f.file.contains("/messagelog/") && !f.text.contains("alreadyProcessed"))
                    .map(|f| format!("{} {}", f.at(), f.text))
                    .collect();
                assert!(elsewhere.iter().all(|f| f.contains("SagaBase.java")), "{elsewhere:?}");
            }
            // PetClinic's gateway guards its calls to the customers and visits services with
            // Resilience4j: a reactive circuit breaker factory, a TimeLimiter, and the gateway's
            // CircuitBreaker and Retry route filters (application.yml).
            "spring-petclinic-microservices" => {
                let gw = "spring-petclinic-api-gateway/src/main/";
                assert!(
                    in_dir(Proof::OutboundCall, gw) >= 2,
                    "WebClient.builder, new RestTemplate"
                );
                assert!(in_dir(Proof::CircuitBreaker, gw) >= 3);
                assert!(in_dir(Proof::Timeout, gw) >= 1, "TimeLimiterConfig");
                assert!(in_dir(Proof::Retry, gw) >= 1, "the Retry route filter");
                assert_eq!(
                    ev.proving(Proof::UnboundedCall).count(),
                    0,
                    "nothing unbounded invented"
                );
                assert!(
                    ev.facts.iter().all(|f| !f.file.contains("/src/test/")),
                    "test code is not evidence"
                );
            }
            // Online Boutique's Go services dial gRPC; `mustConnGRPC` makes a 3 s deadline and
            // throws its context away (`_, cancel := context.WithTimeout(...)`): no timeout. The
            // checkout service bounds its tracing dial (`ctx, cancel := ...`), the frontend its
            // ad call (100 ms, rpc.go). The frontend reads the packaging service with `http.Get`
            // and proxies the assistant with `http.DefaultClient.Do`: no timeout, by construction.
            "microservices-demo" => {
                for dir in ["src/checkoutservice/", "src/frontend/", "src/productcatalogservice/"] {
                    assert!(in_dir(Proof::OutboundCall, dir) >= 1, "{dir}");
                }
                let timeouts: Vec<String> = ev.proving(Proof::Timeout).map(|f| f.at()).collect();
                assert_eq!(
                    timeouts,
                    [
                        "microservices-demo/src/checkoutservice/main.go:161",
                        "microservices-demo/src/frontend/rpc.go:120"
                    ]
                );
                let unbounded: Vec<String> = ev.proving(Proof::UnboundedCall).map(|f| f.at()).collect();
                assert_eq!(
                    unbounded,
                    [
                        "microservices-demo/src/frontend/handlers.go:472",
                        "microservices-demo/src/frontend/packaging_info.go:54"
                    ]
                );
                // The C# cart service writes carts to AlloyDB and Spanner (ExecuteNonQueryAsync;
                // its reads and Redis cache are not writes) and calls nobody.
                let csharp: Vec<String> = ev
                    .facts
                    .iter()
                    .filter(|f| f.rule.starts_with("csharp-"))
                    .map(|f| format!("{} {}", f.rule, f.at()))
                    .collect();
                let store = "csharp-db-write microservices-demo/src/cartservice/src/cartstore";
                assert_eq!(
                    csharp,
                    [
                        format!("{store}/AlloyDBCartStore.cs:92"),
                        format!("{store}/AlloyDBCartStore.cs:153"),
                        format!("{store}/SpannerCartStore.cs:93"),
                        format!("{store}/SpannerCartStore.cs:161"),
                    ]
                );
            }
            _ => {}
        }
    }
}

#[test]
fn names_split_into_words_like_actions() {
    assert_eq!(code::words("PaymentsClient void"), ["payment", "client", "void"]);
    assert_eq!(code::words("self.stock.release"), ["self", "stock", "release"]);
    assert_eq!(code::words("release_stock"), ["release", "stock"]);
    assert_eq!(code::words("ReleaseStock"), ["release", "stock"]);
    assert_eq!(code::words("address"), ["address"]);
}

/// Test code stands in for the system: it proves nothing about it.
#[test]
fn test_code_is_not_evidence() {
    for rel in [
        "services/orders/tests/test_client.py",
        "services/orders/src/test/java/a/ClientTest.java",
        "services/orders/handler_test.go",
        "services/orders/src/client.spec.ts",
        "services/orders/src/__tests__/client.ts",
        "services/orders/conftest.py",
        "services/orders/src/main/java/a/ClientIT.java",
        "services/orders/Orders.Tests/PaymentsClientTests.cs",
        "services/orders/Orders.UnitTests/Fakes.cs",
        "services/orders/src/PaymentsClientTest.cs",
        "services/orders/src/client_tests.rs",
        "services/orders/tests/client.rs",
    ] {
        assert!(is_test_code("services/orders", rel), "{rel}");
    }
    for rel in [
        "services/orders/src/client.py",
        "services/orders/src/main/java/a/Contest.java",
        "services/orders/latest.go",
        "services/orders/src/testing_utils.py",
        "services/orders/Orders.Api/PaymentsClient.cs",
        "services/orders/src/Latest.cs",
        "services/orders/src/contest.rs",
    ] {
        assert!(!is_test_code("services/orders", rel), "{rel}");
    }
    // The folder being read may itself sit below a folder named like a test folder.
    assert!(!is_test_code(
        "tests/sub/services/orders",
        "tests/sub/services/orders/client.py"
    ));
}

/// The ShopFlow reference services (fixtures/services/shopflow, Rust on std only) call each
/// other with a hand-written HTTP client: a TCP connection bounded by a deadline and a circuit
/// breaker per dependency (`BreakerState`), no retries, no database and no broker. The rules
/// find exactly that, in the client's file, and nothing else.
#[test]
fn shopflow_shows_its_hand_written_timeout_and_breaker_and_nothing_else() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/services/shopflow");
    let ev = scan(&dir, "fixtures/services/shopflow", &rules::built_in());
    if std::env::var_os("GRADE_SHOW_FACTS").is_some() {
        for f in &ev.facts {
            eprintln!("  {} {} {}", f.rule, f.at(), f.text);
        }
    }
    assert_eq!(ev.code_files, 6, "{:?}", ev.unreadable);
    let at = |proof: Proof| ev.proving(proof).map(|f| f.at()).collect::<Vec<_>>();
    let http = "fixtures/services/shopflow/src/http.rs";
    assert_eq!(
        at(Proof::OutboundCall),
        [format!("{http}:573"), format!("{http}:574")],
        "TcpStream::connect_timeout and TcpStream::connect"
    );
    assert_eq!(
        at(Proof::Timeout),
        [format!("{http}:573")],
        "TcpStream::connect_timeout"
    );
    let breakers = at(Proof::CircuitBreaker);
    // Where the client uses its breaker (`BreakerState::Open`...), not where it declares it.
    assert!(
        !breakers.contains(&format!("{http}:306")) && breakers.len() >= 3,
        "BreakerState used, not declared: {breakers:?}"
    );
    assert!(
        ev.proving(Proof::CircuitBreaker).all(|f| f.file == http),
        "the breaker lives in the client: {breakers:?}"
    );
    for proof in [
        Proof::UnboundedCall,
        Proof::Retry,
        Proof::DbWrite,
        Proof::BrokerPublish,
        Proof::OutboxWrite,
    ] {
        assert_eq!(at(proof), Vec::<String>::new(), "{proof:?} invented");
    }
    assert!(ev.dual_writes.is_empty());
    // The unit tests at the end of http.rs are not read.
    assert!(
        ev.facts.iter().all(|f| !(f.file == http && f.line > 678)),
        "{:#?}",
        ev.facts
    );
}

/// Rust unit tests sit in the file they test: a `#[cfg(test)]` module and `#[test]` functions
/// are left out, the rest of the file is read.
#[test]
fn rust_unit_tests_are_not_evidence() {
    let src = r#"
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_millis(300)).build().unwrap()
}

#[cfg(test)]
#[allow(unused)]
mod tests {
    fn breaker() -> failsafe::StateMachine<(), ()> { failsafe::Config::new().build() }
}

#[tokio::test]
async fn retries() { tokio_retry::Retry::spawn(s, op).await.unwrap(); }
"#;
    let (lang, grammar) = code::language_of("client.rs").unwrap();
    let rules = rules::built_in();
    let rules: Vec<&Rule> = rules.iter().filter(|r| r.language == lang).collect();
    let facts = code::facts("client.rs", src, lang, &grammar, &rules).unwrap();
    let found: Vec<(&str, usize)> = facts.iter().map(|f| (f.rule.as_str(), f.line)).collect();
    assert_eq!(found, [("rust-outbound-call", 3), ("rust-timeout", 3)], "{facts:#?}");
    assert_eq!(facts[1].function.as_ref().map(|f| f.1.as_str()), Some("client"));
}
