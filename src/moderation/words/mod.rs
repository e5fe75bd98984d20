//! Word lists that see through obfuscation.
//!
//! A [`WordMatcher`] is compiled once from a list of entries (banned or suspect words) and then
//! finds, in any text, the entries it contains as whole words. Readers who want to get past a word
//! list type `I.d.i.o.t`, `1d10t`, `Іdiоt` (Cyrillic letters), `Ｉｄｉｏｔ` (fullwidth) or
//! `Idiooot`; all of those match the entry `idiot`. German words that merely contain an entry
//! (`Analyse` for `anal`, `Therapist` for `rapist`, `Klassenarbeit` for `ass`) do not.
//!
//! # How a text is normalised
//!
//! Text and entries go through the same [`Normalized::new`], which turns them into a *stream* of
//! folded letters plus a record of what separated each letter from the one before it:
//!
//! 1. **Characters fold one by one** (after Unicode NFKC, which turns fullwidth and mathematical
//!    letters into plain ones): ASCII letters lower-case; `ä ö ü ß` (either case) become `ae oe ue
//!    ss`, so the German spellings `Auslaender` and `Ausländer` meet; other letters lose their
//!    diacritics (canonical decomposition, marks dropped); letters that are still not ASCII go
//!    through `decancer`'s homoglyph table (Cyrillic `і о а е р с`, Greek `ο ι α ε ρ κ`, letter-like
//!    CJK and so on). The umlauts are folded *before* decancer because decancer would turn `ß`
//!    into `b` and `ä` into `a`. Only letters go through decancer: it also maps emoji and currency
//!    signs to letters (`😀` → `o`), which would glue `Idiot😀` into one word. Combining marks
//!    (Zalgo, strike-through) and invisible format characters (soft hyphen, zero-width space)
//!    vanish without a trace; every other character is a separator (whitespace, or punctuation).
//! 2. **Chunks:** the letters and digits between separators form chunks. Between two chunks lies
//!    a *gap* of one of four kinds:
//!    - *spaced*: both chunks are a single character (`I d i o t`, `I.d.i.o.t`, `I-d-i-o-t`): the
//!      reader spelled one word out letter by letter, so the gap is inside a word;
//!    - *soft*: punctuation without whitespace between longer chunks (`Idi-ot`, `Idiot-Kommentar`):
//!      a word boundary, yet a match may also run across it;
//!    - *loose*: whitespace next to a single character (`Id i o t`): a word boundary that a match
//!      may run across;
//!    - *hard*: whitespace between two longer chunks: a real word boundary that no match crosses
//!      (`an alyse` never becomes `analyse`), unless the entry itself has a separator there
//!      (entries may be phrases: `dumme kuh`).
//! 3. **Digits for letters** (`0→o 1→i 3→e 4→a 5→s 7→t @→a $→s`) are read as letters only in a
//!    word that has a real letter (`1d10t`, `I d 1 o t`); a plain number (`45`, the score `4:5`)
//!    stays a number, so it never matches `ass`.
//! 4. **Repeated letters** collapse into one letter with a count (`Idiooot` → `idiot` with `o`×3),
//!    in the text and in the entries alike, within a word and across spaced gaps. An entry
//!    matches where the text has *at least* as many of each letter as the entry: `Idiooot`
//!    matches `idiot`, `Strasse` and `Straße` match `straße`, but `as` does not match `ass` and a
//!    lone `S` does not match `ss`.
//!
//! # How entries match
//!
//! All entries of a list go into one Aho-Corasick automaton over the collapsed letter streams;
//! the text's stream is scanned once for all overlapping hits, and each hit is accepted when:
//! it starts at a word boundary (the stream's start, a soft, loose or hard gap) unless the entry
//! starts with `*`; it ends at one unless the entry ends with `*`; no hard gap lies inside it
//! except where the entry has a separator; and the letter counts are at least the entry's.
//! Cost: linear in the text plus the hits, independent of the number of entries.
//!
//! Known limits: a word split by a plain space into longer parts (`Idi ot`) is two words, as
//! it is for any reader; a word made of symbols only (`@$$`) is not read as letters; `1` is
//! read as `i`, never as `l`.

mod normalize;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, MatchKind};

use normalize::Gap;
pub use normalize::Normalized;

/// The longest entry, in characters.
pub const MAX_ENTRY_CHARS: usize = 100;

/// Why an entry cannot be part of a word list.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {MAX_ENTRY_CHARS} characters")]
    TooLong,
    #[error("`*` may only stand at the start or the end")]
    InnerStar,
    #[error("must contain a letter or a digit")]
    NoLetters,
}

/// One entry as the automaton checks it.
#[derive(Clone, Debug)]
struct Variant {
    entry: u32,
    runs: Box<[u16]>,
    /// Offsets in the collapsed entry where it has a separator (a phrase's word boundaries).
    breaks: Box<[u16]>,
    any_prefix: bool,
    any_suffix: bool,
}

/// An entry split into its wildcard flags and its word; checks the entry's syntax.
pub fn parse_entry(raw: &str) -> Result<(bool, &str, bool), EntryError> {
    let entry = raw.trim();
    if entry.is_empty() {
        return Err(EntryError::Empty);
    }
    if entry.chars().count() > MAX_ENTRY_CHARS {
        return Err(EntryError::TooLong);
    }
    let (any_prefix, rest) = match entry.strip_prefix('*') {
        Some(rest) => (true, rest),
        None => (false, entry),
    };
    let (any_suffix, word) = match rest.strip_suffix('*') {
        Some(word) => (true, word),
        None => (false, rest),
    };
    if word.contains('*') {
        return Err(EntryError::InnerStar);
    }
    if Normalized::new(word).is_empty() {
        return Err(EntryError::NoLetters);
    }
    Ok((any_prefix, word, any_suffix))
}

/// A compiled word list; cheap to share (`Send + Sync`), built once per rules version.
#[derive(Clone, Debug, Default)]
pub struct WordMatcher {
    automaton: Option<AhoCorasick>,
    /// Per automaton pattern, the entries that normalise to it.
    variants: Vec<Vec<Variant>>,
    entries: Vec<String>,
}

impl WordMatcher {
    /// Compiles the entries; the first bad one is reported with its index.
    pub fn new<S: AsRef<str>>(entries: &[S]) -> Result<WordMatcher, (usize, EntryError)> {
        let mut pattern_of: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut patterns: Vec<Vec<u8>> = Vec::new();
        let mut variants: Vec<Vec<Variant>> = Vec::new();
        for (index, raw) in entries.iter().enumerate() {
            let (any_prefix, word, any_suffix) =
                parse_entry(raw.as_ref()).map_err(|e| (index, e))?;
            let normalized = Normalized::new(word);
            let breaks = normalized.gaps[1..normalized.letters.len()]
                .iter()
                .enumerate()
                .filter(|(_, g)| g.is_word_boundary())
                .map(|(k, _)| (k + 1) as u16)
                .collect();
            let variant = Variant {
                entry: index as u32,
                runs: normalized.runs.into_boxed_slice(),
                breaks,
                any_prefix,
                any_suffix,
            };
            let id = *pattern_of
                .entry(normalized.letters.clone())
                .or_insert_with(|| {
                    patterns.push(normalized.letters);
                    variants.push(Vec::new());
                    patterns.len() - 1
                });
            variants[id].push(variant);
        }
        let automaton = if patterns.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .build(&patterns)
                    .map_err(|_| (0, EntryError::TooLong))?,
            )
        };
        Ok(WordMatcher {
            automaton,
            variants,
            entries: entries
                .iter()
                .map(|e| e.as_ref().trim().to_string())
                .collect(),
        })
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry at `index`, as it was given (trimmed).
    pub fn entry(&self, index: usize) -> &str {
        &self.entries[index]
    }

    /// The indexes of the entries the text contains, ascending, each once.
    pub fn find(&self, text: &Normalized) -> Vec<usize> {
        let Some(automaton) = &self.automaton else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for hit in automaton.find_overlapping_iter(&text.letters[..]) {
            for v in &self.variants[hit.pattern().as_usize()] {
                if accepts(text, v, hit.start(), hit.end()) {
                    found.push(v.entry as usize);
                }
            }
        }
        found.sort_unstable();
        found.dedup();
        found
    }

    /// The entries a raw text contains, as given.
    pub fn matches(&self, text: &str) -> Vec<&str> {
        self.find(&Normalized::new(text))
            .into_iter()
            .map(|i| self.entry(i))
            .collect()
    }
}

fn accepts(text: &Normalized, v: &Variant, start: usize, end: usize) -> bool {
    if !v.any_prefix && !text.gaps[start].is_word_boundary() {
        return false;
    }
    if !v.any_suffix && !text.gaps[end].is_word_boundary() {
        return false;
    }
    let inside_ok = (start + 1..end)
        .all(|i| text.gaps[i] != Gap::Hard || v.breaks.contains(&((i - start) as u16)));
    inside_ok
        && text.runs[start..end]
            .iter()
            .zip(v.runs.iter())
            .all(|(have, need)| have >= need)
}
