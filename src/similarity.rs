//! How alike two artifacts are: one measure for the validity checks (services carrying copied
//! contracts) and the instructor features (submissions that resemble each other).
//!
//! An artifact is reduced to a set of features (strings: `op get /orders/{}`, `schema Order`,
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
}
