//! Function libraries (FUNCTION LOAD): each library's code and the functions it registered.
//! Replicated state like the data, kept in snapshots (so functions survive restarts), and
//! bounded in count and bytes.

use crate::limits::{LIBRARIES_BYTES_MAX, LIBRARIES_MAX};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Library {
    pub name: String,
    /// The whole payload FUNCTION LOAD was given, shebang line included.
    pub code: Bytes,
    pub functions: Vec<FunctionInfo>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionInfo {
    pub name: String,
    pub description: Option<String>,
    pub flags: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Libraries {
    libraries: BTreeMap<String, Library>,
    /// Library name by function name (lower case): function names are unique across
    /// libraries.
    owners: BTreeMap<String, String>,
    bytes: usize,
}

impl Libraries {
    pub fn get(&self, name: &str) -> Option<&Library> {
        self.libraries.get(name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Library> {
        self.libraries.values()
    }

    /// The library holding function `name`, and the function.
    /// Function names match in any letter case, as in Redis.
    pub fn function(&self, name: &str) -> Option<(&Library, &FunctionInfo)> {
        let library = self.libraries.get(self.owners.get(&name.to_ascii_lowercase())?)?;
        Some((library, library.functions.iter().find(|function| function.name.eq_ignore_ascii_case(name))?))
    }

    /// Adds `library`, replacing one of the same name when `replace`. The error is Redis's
    /// text (without its `ERR`).
    pub fn add(&mut self, library: Library, replace: bool) -> Result<(), String> {
        if self.libraries.contains_key(&library.name) && !replace {
            return Err(format!("Library '{}' already exists", library.name));
        }
        for function in &library.functions {
            if self.owners.get(&function.name.to_ascii_lowercase()).is_some_and(|owner| *owner != library.name) {
                return Err(format!("Function {} already exists", function.name));
            }
        }
        let freed = self.libraries.get(&library.name).map_or(0, |old| old.code.len());
        let replacing = usize::from(self.libraries.contains_key(&library.name));
        if self.libraries.len() - replacing >= LIBRARIES_MAX
            || self.bytes - freed + library.code.len() > LIBRARIES_BYTES_MAX
        {
            return Err(format!(
                "the function libraries are full ({LIBRARIES_MAX} libraries or {LIBRARIES_BYTES_MAX} bytes of code)"
            ));
        }
        self.remove(&library.name);
        self.bytes += library.code.len();
        for function in &library.functions {
            self.owners.insert(function.name.to_ascii_lowercase(), library.name.clone());
        }
        self.libraries.insert(library.name.clone(), library);
        Ok(())
    }

    pub fn remove(&mut self, name: &str) -> Option<Library> {
        let library = self.libraries.remove(name)?;
        self.bytes -= library.code.len();
        for function in &library.functions {
            self.owners.remove(&function.name.to_ascii_lowercase());
        }
        Some(library)
    }

    pub fn clear(&mut self) {
        *self = Libraries::default();
    }

    pub fn len(&self) -> usize {
        self.libraries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.libraries.is_empty()
    }

    pub fn functions_count(&self) -> usize {
        self.owners.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn library(name: &str, functions: &[&str]) -> Library {
        Library {
            name: name.into(),
            code: Bytes::from(format!("#!lua name={name}\n")),
            functions: functions
                .iter()
                .map(|f| FunctionInfo { name: f.to_string(), description: None, flags: Vec::new() })
                .collect(),
        }
    }

    #[test]
    fn function_names_are_unique_across_libraries() {
        let mut libraries = Libraries::default();
        libraries.add(library("a", &["f", "g"]), false).unwrap();
        assert_eq!(libraries.add(library("a", &["h"]), false).unwrap_err(), "Library 'a' already exists");
        assert_eq!(libraries.add(library("b", &["g"]), false).unwrap_err(), "Function g already exists");
        libraries.add(library("a", &["h"]), true).unwrap();
        assert!(libraries.function("f").is_none());
        assert_eq!(libraries.function("h").unwrap().0.name, "a");
        libraries.add(library("b", &["g"]), false).unwrap();
        assert_eq!(libraries.functions_count(), 2);
        assert!(libraries.remove("a").is_some());
        assert_eq!(libraries.len(), 1);
    }
}
