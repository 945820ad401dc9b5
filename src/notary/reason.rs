//! Typed reasons: every notary error's stable code is a variant of one enum per module, and the
//! snake_case string (what reports, usage errors and the corpus tests read) is derived from the
//! variant in one place, [`reasons!`]'s `as_str`. Callers compare variants, never strings; verify
//! maps them to [`crate::finding::Code`] with `From`.

/// Declares a reason enum: each variant with the one string it serialises to.
macro_rules! reasons {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => $s:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every reason, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable snake_case string of this reason.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $s,)+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use reasons;

reasons! {
    /// A Notary validation category (the specification's names of the validations a signature
    /// goes through), which envelope, payload, certificate, crypto and timestamp-time errors
    /// report.
    pub enum Validation {
        /// Integrity: the envelope, its signature, payload or certificate rules.
        Integrity => "integrity",
        /// The envelope's expiry.
        Expiry => "expiry",
        /// A verification plugin is required (none runs offline).
        PluginRequired => "plugin_required",
        /// User metadata asked for does not match.
        UserMetadata => "user_metadata",
        /// The authentic timestamp (validity periods, the timestamp itself).
        AuthenticTimestamp => "authentic_timestamp",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_reason_has_a_distinct_snake_case_string() {
        let strings: std::collections::HashSet<_> =
            Validation::ALL.iter().map(|v| v.as_str()).collect();
        assert_eq!(strings.len(), Validation::ALL.len());
        for v in Validation::ALL {
            assert!(v
                .as_str()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_'));
            assert_eq!(v.to_string(), v.as_str());
        }
    }
}
