//! Secret-leak checks: no secret of a harness in any run's output or any database file.

use super::{ApiServer, Harness};

/// A value no output may contain, `label` naming it in failure messages.
pub struct Secret {
    pub var: String,
    pub value: String,
    pub label: String,
}

impl<S: ApiServer> Harness<S> {
    /// Adds `value` (read from `var`) to the secrets every check looks for.
    pub(super) fn guard(&mut self, var: &str, value: &str, label: String) {
        self.secrets.push(Secret {
            var: var.into(),
            value: value.into(),
            label,
        });
    }

    /// `value` in `env_var`: set for every run of a [`super::Scenario`] (pass
    /// [`Harness::secret_vars`] to the others); it may appear in no output or db file.
    pub fn secret(mut self, env_var: &str, value: &str) -> Self {
        self.guard(env_var, value, format!("secret {env_var}"));
        self
    }

    /// `(var, value)` of every secret, to set them all for a run.
    pub fn secret_vars(&self) -> Vec<(&str, Option<&str>)> {
        self.secrets
            .iter()
            .map(|s| (s.var.as_str(), Some(s.value.as_str())))
            .collect()
    }

    pub fn assert_no_secret_in(&self, text: &str, what: &str) {
        for secret in &self.secrets {
            assert!(
                !text.contains(secret.value.as_str()),
                "{what} contains {}:\n{text}",
                secret.label
            );
        }
    }

    /// Asserts no secret is in any file of the database (main file, WAL, journal).
    pub fn assert_db_has_no_secret(&self) {
        for entry in std::fs::read_dir(self.dir.path()).expect("read dir") {
            let path = entry.expect("dir entry").path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if !name.starts_with("out.db") {
                continue;
            }
            let bytes = std::fs::read(&path).expect("read db file");
            for secret in &self.secrets {
                let value = secret.value.as_bytes();
                assert!(
                    !bytes.windows(value.len()).any(|w| w == value),
                    "{} is stored in {}",
                    secret.label,
                    path.display()
                );
            }
        }
    }
}
