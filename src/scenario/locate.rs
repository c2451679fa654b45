//! `line:column` of a field in a YAML text. serde_yaml's `Value` keeps no positions, but an
//! error raised while deserializing carries the parser's position: walking the document with a
//! seed that fails exactly at the wanted key gives its location. One extra parse per problem
//! (the text is small and bounded by `read::MAX_FILE_BYTES`).

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_yaml::Value;

/// One step of a path into a document.
#[derive(Debug, Clone, PartialEq)]
pub enum Seg {
    Key(Value),
    Index(usize),
}

const MARK: &str = "meshup-locate-mark";

/// `(line, column)`, 1-based, of the key (or list item) the path ends at.
pub fn locate(text: &str, path: &[Seg]) -> Option<(usize, usize)> {
    if path.is_empty() {
        return None;
    }
    let de = serde_yaml::Deserializer::from_str(text);
    match (Find { path }).deserialize(de) {
        Err(e) if e.to_string().contains(MARK) => e.location().map(|l| (l.line(), l.column())),
        _ => None,
    }
}

struct Find<'p> {
    path: &'p [Seg],
}

impl<'de> DeserializeSeed<'de> for Find<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Find<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let want = match self.path.first() {
            Some(Seg::Key(k)) => Some(k),
            _ => None,
        };
        let last = self.path.len() == 1;
        while let Some(matched) = map.next_key_seed(KeySeed { want, last })? {
            if matched {
                map.next_value_seed(Find {
                    path: &self.path[1..],
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        loop {
            let found = matches!(self.path.first(), Some(Seg::Index(n)) if *n == i);
            let more = if found && self.path.len() == 1 {
                seq.next_element_seed(KeySeed {
                    want: None,
                    last: true,
                })?
                .map(|_| ())
            } else if found {
                seq.next_element_seed(Find {
                    path: &self.path[1..],
                })?
            } else {
                seq.next_element::<IgnoredAny>()?.map(|_| ())
            };
            if more.is_none() {
                return Ok(());
            }
            i += 1;
        }
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        // A tagged value (`!tag x`): nothing to look inside.
        let (IgnoredAny, variant) = data.variant::<IgnoredAny>()?;
        de::VariantAccess::newtype_variant::<IgnoredAny>(variant)?;
        Ok(())
    }
}

/// Reads a key (or, with `want: None`, any item) and says whether it is the wanted one. When
/// it is the path's last step, the error is raised inside the parser's visit of that node, so
/// serde_yaml gives it that node's position.
struct KeySeed<'w> {
    want: Option<&'w Value>,
    last: bool,
}

impl KeySeed<'_> {
    fn check<E: de::Error>(self, got: Value) -> Result<bool, E> {
        let hit = self.want.is_none_or(|w| *w == got);
        if hit && self.last {
            return Err(E::custom(MARK));
        }
        Ok(hit)
    }
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = bool;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        self.check(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
        self.check(Value::Number(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
        self.check(Value::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<bool, E> {
        self.check(Value::Number(v.into()))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        self.check(Value::String(v.to_string()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        self.check(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<bool, E> {
        self.check(Value::Null)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        if self.want.is_none() && self.last {
            return Err(de::Error::custom(MARK));
        }
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        if self.want.is_none() && self.last {
            return Err(de::Error::custom(MARK));
        }
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<bool, A::Error> {
        if self.want.is_none() && self.last {
            return Err(de::Error::custom(MARK));
        }
        let (IgnoredAny, variant) = data.variant::<IgnoredAny>()?;
        de::VariantAccess::newtype_variant::<IgnoredAny>(variant)?;
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> Seg {
        Seg::Key(Value::String(s.into()))
    }

    #[test]
    fn finds_keys_and_items() {
        let text = "a: 1\ncluster:\n  cpus: 4\n  cpu: 3\nlist:\n  - x\n  - y\n";
        assert_eq!(locate(text, &[key("cluster"), key("cpu")]), Some((4, 3)));
        assert_eq!(locate(text, &[key("cluster")]), Some((2, 1)));
        assert_eq!(locate(text, &[key("nope")]), None);
        assert_eq!(locate(text, &[key("list"), Seg::Index(1)]), Some((7, 5)));
        let num = "set:\n  a: 1\n  1: x\n";
        assert_eq!(
            locate(num, &[key("set"), Seg::Key(Value::Number(1.into()))]),
            Some((3, 3))
        );
    }
}
