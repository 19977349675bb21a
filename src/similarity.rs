//! How alike two artifacts are: one measure for the validity checks (services carrying copied
//! contracts) and the instructor features (submissions that resemble each other).
//!
//! An artifact is reduced to a set of features (strings: `op GET /orders/{}`, `schema Order`,
//! a line of code...) and two sets are compared by their Jaccard index, |A ∩ B| / |A ∪ B|:
//! 1 for the same set, 0 for nothing in common. It is symmetric, ignores order and
//! duplicates, and is not fooled by padding one side with a few extra features.

use std::collections::BTreeSet;

/// A set of features of one artifact.
pub type Features = BTreeSet<String>;

/// Jaccard index of two feature sets; two empty sets are not alike (0).
pub fn jaccard(a: &Features, b: &Features) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 0.0;
    }
    let common = a.intersection(b).count();
    let union = a.len() + b.len() - common;
    common as f64 / union as f64
}

/// A path template with every `{parameter}` written `{}`, so `/orders/{id}` and
/// `/orders/{orderId}` are the same feature.
pub fn path_shape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push('{');
            }
            '}' => {
                in_param = false;
                out.push('}');
            }
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}

/// The pairs `(i, j, similarity)`, `i < j`, whose similarity reaches `threshold`.
pub fn similar_pairs(sets: &[Features], threshold: f64) -> Vec<(usize, usize, f64)> {
    let mut out = Vec::new();
    for i in 0..sets.len() {
        for j in i + 1..sets.len() {
            let s = jaccard(&sets[i], &sets[j]);
            if s >= threshold {
                out.push((i, j, s));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> Features {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn jaccard_bounds() {
        let a = set(&["a", "b", "c", "d"]);
        assert_eq!(jaccard(&a, &a), 1.0);
        assert_eq!(jaccard(&a, &set(&["x"])), 0.0);
        assert_eq!(jaccard(&a, &set(&["a", "b", "c", "e"])), 3.0 / 5.0);
        assert_eq!(jaccard(&set(&[]), &set(&[])), 0.0);
    }

    #[test]
    fn path_parameters_are_one_shape() {
        assert_eq!(path_shape("/orders/{orderId}/items/{id}"), "/orders/{}/items/{}");
        assert_eq!(path_shape("/health"), "/health");
    }

    #[test]
    fn pairs_over_threshold() {
        let sets = vec![set(&["a", "b"]), set(&["a", "b"]), set(&["c"])];
        assert_eq!(similar_pairs(&sets, 0.8), vec![(0, 1, 1.0)]);
    }
}
